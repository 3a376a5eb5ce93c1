// The backward rule of an implicit node: theta_bar = -(dF/dtheta)^T u with (dF/dz)^T u = z_bar.
#include "xgrad/implicit/custom_root.hpp"

#include <cstdio>

#include "xgrad/ad/custom.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad::implicit::detail {
namespace {

// Raise, warn or record, by policy.
void failure(const RootCore& c, const std::string& what) {
  const ImplicitOptions& opt = c.options;
  std::string msg = std::string("xgrad::") + c.caller + ": ";
  msg += what;
  if (opt.on_failure == OnFailure::raise) {
    msg += " (ImplicitOptions::on_failure = warn or ignore to go on anyway)";
    throw Error(msg);
  }
  if (opt.on_failure == OnFailure::warn) std::fprintf(stderr, "xgrad: warning: %s\n", msg.c_str());
}

std::vector<Tensor> constants(const std::vector<Tensor>& ts) {
  std::vector<Tensor> out;
  out.reserve(ts.size());
  for (const auto& t : ts) out.emplace_back(t.shared_value());
  return out;
}

Tensor zeros(std::size_t n) { return Tensor(Array(xt::zeros<double>({n}))); }

// F at (z, theta) on a fresh level that traces z: returns F's flat value; the level's backward gives (dF/dz)^T u.
Tensor traced_F(const RootCore& c, ad::Level& L, Tensor& zl, const Tensor& z, const std::vector<Tensor>& th) {
  zl = L.input(z);
  Tensor Fz = c.F(zl, th);
  L.end_forward();
  if (Fz.size() != z.size())
    throw ShapeError(std::string("xgrad::") + c.caller + ": the optimality condition F returned " +
                     std::to_string(Fz.size()) + " values for a solution of " + std::to_string(z.size()) +
                     " (F(x, theta) must have x's structure)");
  return Fz;
}

// (dF/dz)^T u, as a Tensor recorded on the live levels that trace u, z or theta.
Tensor transposed_jacobian_product(const RootCore& c, const Tensor& z, const std::vector<Tensor>& th,
                                   const Tensor& u) {
  ad::Level L;
  Tensor zl;
  const Tensor Fz = traced_F(c, L, zl, z, th);
  auto r = L.backward({Fz}, {u}, {zl});
  return r[0] ? L.output(*r[0]) : zeros(z.size());
}

// The value of the adjoint u with (dF/dz)^T u = g, F already evaluated as Fz on level L that traces zl: each matvec
// is one backward sweep of L. Records the solve in the report and applies the failure policy.
Array adjoint_values(const RootCore& c, const ad::Level& L, const Tensor& Fz, const Tensor& zl, const Array& g) {
  const std::size_t n = zl.size();
  FlatMatvec ATv = [&](const Array& v) {
    auto r = L.backward({Fz}, {Tensor(v)}, {zl});
    return r[0] ? r[0]->value() : Array(xt::zeros<double>({n}));
  };
  FlatMatvec Av;  // (A^T)^T v, by transposing ATv with one more level (normal_cg only)
  if (c.options.solver.method == Method::normal_cg)
    Av = [&](const Array& v) {
      ad::Level T;
      const Tensor w = T.input(zeros(n));
      auto r = L.backward({Fz}, {w}, {zl});
      if (!r[0]) return Array(xt::zeros<double>({n}));
      T.end_forward();
      auto t = T.backward({*r[0]}, {Tensor(v)}, {w});
      return t[0] ? t[0]->value() : Array(xt::zeros<double>({n}));
    };
  auto sol = solve_flat(c.options.solver.method, ATv, Av, g, Array(xt::zeros<double>({n})), c.options.solver.options);
  ImplicitReport& rep = *c.options.report;
  ++rep.adjoint_solves;
  rep.adjoint = sol.info;
  if (!sol.info.converged) {
    ++rep.adjoint_failures;
    std::string what = "the adjoint linear solve (";
    what += sol.info.method;
    what += ") did not converge: residual ";
    what += std::to_string(sol.info.residual);
    what += " > ";
    what += std::to_string(sol.info.tolerance);
    what += " after ";
    what += std::to_string(sol.info.iterations);
    what += " iterations; ";
    what += sol.info.message;
    failure(c, what);
  }
  return std::move(sol.x);
}

// The adjoint u with (dF/dz)^T u = g when the backward pass is itself recorded: u is returned as an implicit node
// of G(u; g, z, theta) = (dF/dz)^T u - g, so that its derivatives (higher order, forward mode) are linear solves too.
Tensor recorded_adjoint(const std::shared_ptr<const RootCore>& c, const Tensor& z, const std::vector<Tensor>& th,
                        const Tensor& g) {
  Array u;
  {
    ad::Level L;
    Tensor zl;
    const Tensor Fz = traced_F(*c, L, zl, Tensor(z.shared_value()), constants(th));
    u = adjoint_values(*c, L, Fz, zl, g.value());
  }

  auto c2 = std::make_shared<RootCore>();
  c2->options = c->options;
  c2->F = [c](const Tensor& uu, const std::vector<Tensor>& th2) {
    const std::vector<Tensor> theta(th2.begin() + 2, th2.end());
    return transposed_jacobian_product(*c, th2[1], theta, uu) - th2[0];
  };
  std::vector<Tensor> th2{g, z};
  th2.insert(th2.end(), th.begin(), th.end());
  return root_node(c2, std::move(u), std::move(th2));
}

}  // namespace

Tensor root_node(std::shared_ptr<const RootCore> core, Array z, std::vector<Tensor> theta) {
  auto rule = [core](const ad::Node& n, const Tensor& g, ad::Grads& d) {
    if (!core->inner_converged) {
      std::string what = "the inner solve ended with status '";
      what += core->inner_status;
      what += "', but the implicit derivative assumes F(x*, theta) = 0";
      failure(*core, what);
    }
    const std::vector<Tensor> th = n.inputs();
    // Recorded (higher order): u is a function of (g, z, theta) on the live levels, from its own implicit node.
    const bool recorded = d.recording();
    Tensor u = recorded ? recorded_adjoint(core, n.out(), th, g) : Tensor();
    // One level traces the theta that need a cotangent (data arguments: no work). At first order it also traces z,
    // so that F, evaluated once, gives both the adjoint's matvecs and theta_bar.
    ad::Level L;
    std::vector<Tensor> thl;
    thl.reserve(th.size());
    for (std::size_t i = 0; i < th.size(); ++i) {
      const Tensor t = recorded ? th[i] : Tensor(th[i].shared_value());
      thl.push_back(d.needs(i) ? L.input(t) : t);
    }
    Tensor Fz;
    if (recorded) {
      Fz = core->F(n.out(), thl);
      L.end_forward();
    } else {
      Tensor zl;
      Fz = traced_F(*core, L, zl, Tensor(n.out().shared_value()), thl);
      u = Tensor(adjoint_values(*core, L, Fz, zl, g.value()));
    }
    auto cts = L.backward({Fz}, {u}, thl);  // theta_bar = -(dF/dtheta)^T u
    for (std::size_t i = 0; i < th.size(); ++i)
      if (d.needs(i) && cts[i]) d(i, -L.output(*cts[i]));
  };
  return xgrad::detail::make_closure("custom_root", Tensor(std::move(z)), std::move(theta), std::move(rule));
}

}  // namespace xgrad::implicit::detail
