// The backward rule of an implicit node: theta_bar = -(dF/dtheta)^T u with (dF/dz)^T u = z_bar.
#include "xgrad/implicit/custom_root.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>

#include "xgrad/ad/custom.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/flat.hpp"

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
LinearSolution<Array> adjoint_solve(const RootCore& c, const ad::Pullback& pb, std::size_t n, const Array& g,
                                    const Array& x0, const SolveOptions& options) {
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
  auto sol = solve_flat(c.options.solver.method, ATv, Av, g, x0, options);
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
  return sol;
}

// The theta cotangents of pb for output cotangent w, as one flat Array (zeros where F does not depend on a leaf).
// The cotangents of pb for output cotangent w: of z (input 0, when with_z) and of the theta inputs `which`, the
// latter as one flat Array (zeros where F does not depend on a leaf). One backward pass.
struct Vjps {
  Array z, theta;
};
Vjps vjps(const ad::Pullback& pb, const Tensor& w, const std::vector<Tensor>& th, const std::vector<std::size_t>& which,
          bool with_z) {
  std::size_t total = 0;
  for (std::size_t i : which) total += th[i - 1].size();
  std::vector<std::size_t> inputs;
  if (with_z) inputs.push_back(0);
  inputs.insert(inputs.end(), which.begin(), which.end());
  auto cts = pb(w, inputs);
  Vjps out{Array(xt::zeros<double>({with_z ? w.size() : 0})), Array(xt::zeros<double>({total}))};
  std::size_t k = 0;
  if (with_z && cts[k++]) out.z = cts[0]->value();
  std::size_t off = 0;
  for (std::size_t i : which) {
    const std::size_t m = th[i - 1].size();
    if (cts[k]) std::copy(cts[k]->value().begin(), cts[k]->value().end(), out.theta.begin() + std::ptrdiff_t(off));
    ++k;
    off += m;
  }
  if (with_z) out.z.reshape({out.z.size()});
  return out;
}
Array theta_cotangents(const ad::Pullback& pb, const Tensor& w, const std::vector<Tensor>& th,
                       const std::vector<std::size_t>& which) {
  return vjps(pb, w, th, which, false).theta;
}

// The bound of ErrorBound (custom_root.hpp; derivation in docs/ARCHITECTURE.md, "Error bound"): from F's residual
// and the adjoint solve's, sigma_min from the Krylov spaces of that solve and of a rough solve for the error's
// direction, ||dF/dtheta|| by power iteration, and how the vjps of F with u change when x moves by the solution's
// error bound.
ErrorBound error_bound(const RootCore& c, const ad::Pullback& pb, const Tensor& x, const std::vector<Tensor>& th,
                       const std::vector<bool>& needed, const std::vector<std::size_t>& which, const Array& u,
                       const SolveInfo& adjoint) {
  const auto start = std::chrono::steady_clock::now();
  const std::size_t n = x.size();
  const Array zero = xt::zeros<double>({n});
  auto value_or_zero = [&](const std::optional<Tensor>& t) { return t ? t->value() : zero; };
  ErrorBound eb;
  const Array Fx = pb.output().value();
  eb.inner_residual = flat::norm2(Fx);
  eb.adjoint_residual = adjoint.residual;
  eb.sigma_min = adjoint.sigma_min;
  auto finish = [&] {
    eb.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return eb;
  };
  // v -> J^T v (one pullback) and v -> J v (its transpose, one more level).
  const FlatMatvec JTv = [&](const Array& v) { return value_or_zero(pb(Tensor(v), {0})[0]); };
  const FlatMatvec Jv = [&](const Array& v) {
    const ad::Pullback T({Tensor(zero)}, {true}, [&](const std::vector<Tensor>& w) {
      auto r = pb(w[0], {0});
      return r[0] ? *r[0] : Tensor(zero);
    });
    return value_or_zero(T(Tensor(v), {0})[0]);
  };

  // The error's direction: x_hat - x* ~ J^{-1} F(x_hat), solved roughly (a direction is all it gives; its Krylov
  // space is a second look at sigma_min). J^T = J for the symmetric methods.
  Array d = Fx;
  if (eb.inner_residual > 0.0) {
    const bool symmetric = c.options.solver.method == Method::cg || c.options.solver.method == Method::cholesky;
    const SolveOptions rough{.tol = 1e-2, .maxiter = static_cast<int>(std::min<std::size_t>(10 * n, 200))};
    auto sol = solve_flat(symmetric ? Method::cg : Method::gmres, symmetric ? JTv : Jv, {}, Fx, zero, rough);
    if (flat::all_finite(sol.x) && flat::norm2(sol.x) > 0.0) d = std::move(sol.x);
    d /= flat::norm2(d);
    if (sol.info.sigma_min > 0.0)  // this solve has no preconditioner: its estimate is J's
      eb.sigma_min = std::isfinite(eb.sigma_min) ? std::min(eb.sigma_min, sol.info.sigma_min) : sol.info.sigma_min;
  }
  // A warm-started solve may stop before any Krylov step: the last derivative's estimate stands in.
  const ErrorBound& prev = c.options.report->error_bound;
  if (!(eb.sigma_min > 0.0) && prev.sigma_min > 0.0 && std::isfinite(prev.sigma_min)) eb.sigma_min = prev.sigma_min;
  if (!(eb.sigma_min > 0.0) || !std::isfinite(eb.sigma_min)) {
    eb.note = "no estimate of sigma_min(dF/dx) from the adjoint solve (" + adjoint.method +
              (c.options.solver.options.preconditioner ? ", preconditioned" : "") + "): use cg, gmres, normal_cg, lu or cholesky";
    return finish();
  }
  eb.solution_error = eb.inner_residual / eb.sigma_min;

  // ||B||: power iteration on B B^T from u's direction (theta_bar's), B t by transposing t -> B^T t.
  const auto Bt = [&](const Array& w) { return theta_cotangents(pb, Tensor(w), th, which); };
  const auto B = [&](const Array& t) {
    const ad::Pullback T({Tensor(zero)}, {true}, [&](const std::vector<Tensor>& w) {
      auto cts = pb(w[0], which);
      std::vector<Tensor> parts;
      for (std::size_t k = 0; k < which.size(); ++k)
        parts.push_back(cts[k] ? reshape(*cts[k], {-1}) : Tensor(Array(xt::zeros<double>({th[which[k] - 1].size()}))));
      return parts.size() == 1 ? parts[0] : concatenate(parts, 0);
    });
    return value_or_zero(T(Tensor(t), {0})[0]);
  };
  std::size_t p = 0;
  for (std::size_t i : which) p += th[i - 1].size();
  Array w = flat::norm2(u) > 0.0 ? u : Array(xt::ones<double>({n}));
  w /= flat::norm2(w);
  if (p == 1) {  // B is one column: its norm, exactly
    eb.jacobian_theta_norm = flat::norm2(B(Array{1.0}));
  }
  for (int it = 0; it < 8 && p > 1; ++it) {  // until the estimate grows by less than 0.1 %
    const Array t = Bt(w);
    const double est = flat::norm2(t);
    const bool settled = it > 0 && est <= 1.001 * eb.jacobian_theta_norm;
    eb.jacobian_theta_norm = std::max(eb.jacobian_theta_norm, est);
    if (settled) break;
    w = B(t);
    const double nw = flat::norm2(w);
    if (!(nw > 0.0) || !std::isfinite(nw)) break;
    w /= nw;
  }
  eb.sensitivity = eb.jacobian_theta_norm / eb.sigma_min;

  // a and b: the change of ((dF/dx)^T u, (dF/dtheta)^T u) when x moves by eps_x, the larger over two directions:
  // the error's estimated one and u's (along which (dF/dtheta)^T u changes most when F is linear in x).
  if (eb.inner_residual > 0.0) {
    Array x0 = x.value();
    x0.reshape({n});
    const Vjps at_x = vjps(pb, Tensor(u), th, which, true);
    std::vector<Array> directions{d};
    if (flat::norm2(u) > 0.0) directions.push_back(u / flat::norm2(u));
    for (const Array& dir : directions) {
      const ad::Pullback pb2 = traced_F(c, Tensor(flat::axpy(x0, -eb.solution_error, dir)), true, th, needed);
      const Vjps at_x2 = vjps(pb2, Tensor(u), th, which, true);
      eb.adjoint_curvature = std::max(eb.adjoint_curvature, flat::norm2(flat::axpy(at_x.z, -1.0, at_x2.z)));
      eb.theta_curvature = std::max(eb.theta_curvature, flat::norm2(flat::axpy(at_x.theta, -1.0, at_x2.theta)));
    }
  }
  eb.bound = ErrorBound::safety * (eb.jacobian_theta_norm * (eb.adjoint_residual + eb.adjoint_curvature) /
                                       eb.sigma_min + eb.theta_curvature);
  if (!std::isfinite(eb.bound)) {
    eb.bound = std::numeric_limits<double>::infinity();
    eb.note = "a non-finite term";
  }
  return finish();
}

// The adjoint u with (dF/dz)^T u = g when the backward pass is itself recorded: u is returned as an implicit node
// of G(u; g, z, theta) = (dF/dz)^T u - g, so that its derivatives (higher order, forward mode) are linear solves too.
Tensor recorded_adjoint(const std::shared_ptr<const RootCore>& c, const Tensor& z, const std::vector<Tensor>& th,
                        const Tensor& g) {
  Array u;
  {
    const ad::Pullback pb =
        traced_F(*c, Tensor(z.shared_value()), true, constants(th), std::vector<bool>(th.size(), false));
    u = adjoint_solve(*c, pb, z.size(), g.value(), Array(xt::zeros<double>({z.size()})), c->options.solver.options).x;
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


// theta_bar = -(dF/dtheta)^T u, from the pullback's cotangents (dF/dtheta)^T u of inputs `which`.
void accumulate(ad::Grads& d, const std::vector<std::size_t>& which, const std::vector<std::optional<Tensor>>& cts) {
  for (std::size_t k = 0; k < which.size(); ++k)
    if (cts[k]) d(which[k] - 1, -*cts[k]);
}

// theta_bar = -(dF/dtheta)^T u at first order: the adjoint solve (warm-started from the last adjoint when the
// tolerances are automatic), the error bound when asked, and the tolerance control of
// ImplicitOptions::hypergradient_tol: the adjoint solve goes on until its part of the bound is within half the
// target, and the next inner solve's tolerance is scaled by how far the inner part is from a quarter of it.
void first_order(const RootCore& c, const ad::Pullback& pb, const Tensor& x, const std::vector<Tensor>& thv,
                 const std::vector<bool>& needed, const std::vector<std::size_t>& which, const Array& g,
                 ad::Grads& d) {
  const std::size_t n = x.size();
  ImplicitReport& rep = *c.options.report;
  const bool automatic =
      c.options.hypergradient_tol > 0.0 || c.options.hypergradient_rtol > 0.0 || c.options.value_tol > 0.0;
  SolveOptions so = c.options.solver.options;
  Array x0 = xt::zeros<double>({n});
  if (automatic) {
    if (rep.last_adjoint.size() == n) x0 = rep.last_adjoint;
    const ErrorBound& prev = rep.error_bound;
    if (prev.target > 0.0 && prev.sigma_min > 0.0 && prev.jacobian_theta_norm > 0.0) {
      so.atol = 0.25 * prev.target * prev.sigma_min / (ErrorBound::safety * prev.jacobian_theta_norm);
      so.tol = 1e-13;  // the absolute threshold decides, down to about rounding
    }
  }
  auto sol = adjoint_solve(c, pb, n, g, x0, so);
  if (which.empty()) return;
  auto theta_bar = [&](const Array& u) { return pb(Tensor(u), which); };  // -theta_bar's pieces
  auto cts = theta_bar(sol.x);
  if (c.options.error_bound || automatic) {
    ErrorBound eb = error_bound(c, pb, x, thv, needed, which, sol.x, sol.info);
    if (automatic) {
      double norm_sq = 0.0;
      for (const auto& t : cts)
        if (t) norm_sq += flat::dot(t->value(), t->value());
      eb.target = std::max(c.options.hypergradient_tol, c.options.hypergradient_rtol * std::sqrt(norm_sq));
      const double adjoint_part =
          eb.sigma_min > 0.0 ? ErrorBound::safety * eb.jacobian_theta_norm * eb.adjoint_residual / eb.sigma_min : 0.0;
      if (std::isfinite(eb.bound) && adjoint_part > 0.5 * eb.target) {
        // Go on from u_hat to the residual that makes the adjoint part a quarter of the target.
        so.atol = 0.25 * eb.target * eb.sigma_min / (ErrorBound::safety * eb.jacobian_theta_norm);
        so.tol = 1e-13;
        const double seconds = eb.seconds;
        sol = adjoint_solve(c, pb, n, g, sol.x, so);
        cts = theta_bar(sol.x);
        const double target = eb.target;
        eb = error_bound(c, pb, x, thv, needed, which, sol.x, sol.info);
        eb.target = target;
        eb.seconds += seconds;
      }
      // The next inner solve: eps_x, a and b scale with the inner residual, so the residual that puts the inner part
      // at a quarter of the target is rho_F * target / (4 inner_part); and the outer value's error, about
      // ||x_bar|| eps_x, within value_tol. The solver's tol bounds the residual: it becomes the smaller.
      const double inner_part = std::max(0.0, eb.bound - ErrorBound::safety * eb.jacobian_theta_norm *
                                                              eb.adjoint_residual / eb.sigma_min);
      const double tol = rep.inner_tol;  // argmin, root and fixed_point set it from the solver's tol at first
      if (std::isfinite(eb.bound) && tol > 0.0) {
        double next = inner_part > 0.0 ? eb.inner_residual * 0.25 * eb.target / inner_part : 10.0 * tol;
        const double gnorm = flat::norm2(g);
        if (c.options.value_tol > 0.0 && gnorm > 0.0)
          next = std::min(next, 0.5 * c.options.value_tol * eb.sigma_min / gnorm);
        rep.inner_tol = std::clamp(std::clamp(next, 1e-6 * tol, 10.0 * tol), 1e-13, 1.0);
      }
      rep.last_adjoint = sol.x;
    }
    eb.cotangent_norm = flat::norm2(g);
    eb.within_target = automatic && eb.bound <= eb.target;
    rep.error_bound = eb;
  }
  accumulate(d, which, cts);
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
    if (!recorded) return first_order(*core, pb, x, thv, needed, which, g.value(), d);
    if (!which.empty()) accumulate(d, which, pb(u, which));
  };
  return ad::make_closure("custom_root", Tensor(std::move(z)), std::move(theta), std::move(rule));
}

}  // namespace xgrad::implicit::detail
