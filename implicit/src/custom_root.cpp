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

// F at (z, theta), evaluated once, as a pullback over the inputs (z, theta[0], theta[1], ...): traced in z when
// trace_z, and in theta[i] when trace_theta[i]. Checks that F has z's size.
ad::Pullback traced_F(const RootCore& c, const Tensor& z, bool trace_z, const std::vector<Tensor>& th,
                      const std::vector<bool>& trace_theta) {
  std::vector<Tensor> inputs{z};
  inputs.insert(inputs.end(), th.begin(), th.end());
  std::vector<bool> traced{trace_z};
  traced.insert(traced.end(), trace_theta.begin(), trace_theta.end());
  ad::Pullback pb(std::move(inputs), traced, [&c](const std::vector<Tensor>& in) {
    return c.F(in[0], std::vector<Tensor>(in.begin() + 1, in.end()));
  });
  const std::size_t n = pb.output().size();
  if (n != z.size())
    throw ShapeError(std::string("xgrad::") + c.caller + ": the optimality condition F returned " +
                     std::to_string(n) + " values for a solution of " + std::to_string(z.size()) +
                     " (F(x, theta) must have x's structure)");
  return pb;
}

// (dF/dz)^T u, as a Tensor recorded on the live levels that trace u, z or theta.
Tensor transposed_jacobian_product(const RootCore& c, const Tensor& z, const std::vector<Tensor>& th,
                                   const Tensor& u) {
  const ad::Pullback pb = traced_F(c, z, true, th, std::vector<bool>(th.size(), false));
  auto r = pb(u, {0});
  return r[0] ? *r[0] : zeros(z.size());
}

// The value of the adjoint u with (dF/dz)^T u = g, F already evaluated in `pb` (traced in z, its input 0): each
// matvec is one pullback, asking for z's cotangent only. Records the solve in the report and applies the failure
// policy.
Array adjoint_values(const RootCore& c, const ad::Pullback& pb, std::size_t n, const Array& g) {
  FlatMatvec ATv = [&](const Array& v) {
    auto r = pb(Tensor(v), {0});
    return r[0] ? r[0]->value() : Array(xt::zeros<double>({n}));
  };
  FlatMatvec Av;  // (A^T)^T v, by transposing ATv with one more pullback (normal_cg only)
  if (c.options.solver.method == Method::normal_cg)
    Av = [&](const Array& v) {
      const ad::Pullback T({zeros(n)}, {true}, [&](const std::vector<Tensor>& w) {
        auto r = pb(w[0], {0});
        return r[0] ? *r[0] : zeros(n);
      });
      auto t = T(Tensor(v), {0});
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
    const ad::Pullback pb =
        traced_F(*c, Tensor(z.shared_value()), true, constants(th), std::vector<bool>(th.size(), false));
    u = adjoint_values(*c, pb, z.size(), g.value());
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
    // One pullback traces the theta that need a cotangent (data arguments: no work). At first order it also traces
    // z, so that F, evaluated once, gives both the adjoint's matvecs and theta_bar.
    std::vector<Tensor> thv;
    std::vector<bool> needed;
    std::vector<std::size_t> which;  // pullback inputs (z is input 0) whose cotangents theta_bar needs
    thv.reserve(th.size());
    for (std::size_t i = 0; i < th.size(); ++i) {
      thv.push_back(recorded ? th[i] : Tensor(th[i].shared_value()));
      needed.push_back(d.needs(i));
      if (d.needs(i)) which.push_back(i + 1);
    }
    const Tensor x = recorded ? n.out() : Tensor(n.out().shared_value());
    const ad::Pullback pb = traced_F(*core, x, !recorded, thv, needed);
    if (!recorded) u = Tensor(adjoint_values(*core, pb, x.size(), g.value()));
    if (which.empty()) return;
    auto cts = pb(u, which);  // theta_bar = -(dF/dtheta)^T u
    for (std::size_t k = 0; k < which.size(); ++k)
      if (cts[k]) d(which[k] - 1, -*cts[k]);
  };
  return ad::make_closure("custom_root", Tensor(std::move(z)), std::move(theta), std::move(rule));
}

}  // namespace xgrad::implicit::detail
