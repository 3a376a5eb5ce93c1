#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <functional>
#include <vector>

#include "optim/common.hpp"

using namespace xgrad;
using namespace xgrad::testing;
namespace opt = xgrad::optim;

namespace {

const Array x0{1.0, -2.0, 0.5};

// Reference: per-element update rule in plain doubles. `rule(i, k, g, x, mem)` returns the new x_i given the
// gradient g = c_i x_i at step k (1-based) and a per-element memory vector.
using Rule = std::function<double(std::size_t i, int k, double g, double x, std::vector<double>& mem)>;

template <class Opt>
void check_against_rule(const Opt& o, Rule rule, int steps = 3, double eps = 1e-12) {
  Tensor x(x0);
  auto state = o.init(x);
  std::vector<double> ref(x0.begin(), x0.end());
  std::vector<std::vector<double>> mem(ref.size(), std::vector<double>(4, 0.0));
  for (int k = 1; k <= steps; ++k) {
    Tensor g = grad(quadratic)(x);
    auto [u, s] = o.update(g, state, x);
    x = opt::apply_updates(x, u);
    state = s;
    for (std::size_t i = 0; i < ref.size(); ++i) ref[i] = rule(i, k, quad_c[i] * ref[i], ref[i], mem[i]);
    for (std::size_t i = 0; i < ref.size(); ++i) {
      INFO("step " << k << " element " << i);
      CHECK(at(x, i) == doctest::Approx(ref[i]).epsilon(eps));
    }
  }
}

}  // namespace

TEST_CASE("sgd: plain, momentum and nesterov against their formulas") {
  const double lr = 0.1;
  check_against_rule(opt::sgd(lr), [&](std::size_t, int, double g, double x, std::vector<double>&) { return x - lr * g; });
  check_against_rule(opt::sgd(lr, {.momentum = 0.9}), [&](std::size_t, int, double g, double x, std::vector<double>& m) {
    m[0] = 0.9 * m[0] + g;
    return x - lr * m[0];
  });
  check_against_rule(opt::sgd(lr, {.momentum = 0.9, .nesterov = true}),
                     [&](std::size_t, int, double g, double x, std::vector<double>& m) {
                       m[0] = 0.9 * m[0] + g;
                       return x - lr * (g + 0.9 * m[0]);
                     });
}

TEST_CASE("adam, adamw and nadam against optax's formulas") {
  const double lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  auto adam_rule = [&](double eps_root, double wd, bool nesterov) {
    return [=](std::size_t, int k, double g, double x, std::vector<double>& m) {
      m[0] = b1 * m[0] + (1 - b1) * g;
      m[1] = b2 * m[1] + (1 - b2) * g * g;
      const double mh = nesterov ? b1 * m[0] / (1 - std::pow(b1, k + 1)) + (1 - b1) * g / (1 - std::pow(b1, k))
                                 : m[0] / (1 - std::pow(b1, k));
      const double vh = m[1] / (1 - std::pow(b2, k));
      return x - lr * (mh / (std::sqrt(vh + eps_root) + eps) + wd * x);
    };
  };
  check_against_rule(opt::adam(lr), adam_rule(0.0, 0.0, false));
  check_against_rule(opt::adam(lr, {.eps_root = 1e-3}), adam_rule(1e-3, 0.0, false));
  check_against_rule(opt::adam(lr, {.nesterov = true}), adam_rule(0.0, 0.0, true));
  check_against_rule(opt::adamw(lr, {.weight_decay = 0.1}), adam_rule(0.0, 0.1, false));
  // the first Adam step is -lr * sign(g) up to eps
  Tensor x(x0);
  auto o = opt::adam(lr);
  auto r = o.update(grad(quadratic)(x), o.init(x), x);
  CHECK(at(r.updates, 0) == doctest::Approx(-lr));
  CHECK(at(r.updates, 1) == doctest::Approx(lr));
  CHECK(std::get<1>(r.state).count.item() == 1.0);
}

TEST_CASE("rmsprop: plain, centered, with momentum and without eps in the root") {
  const double lr = 0.01, d = 0.9, eps = 1e-8;
  check_against_rule(opt::rmsprop(lr), [&](std::size_t, int, double g, double x, std::vector<double>& m) {
    m[1] = d * m[1] + (1 - d) * g * g;
    return x - lr * g / std::sqrt(m[1] + eps);
  });
  check_against_rule(opt::rmsprop(lr, {.centered = true}), [&](std::size_t, int, double g, double x, std::vector<double>& m) {
    m[0] = d * m[0] + (1 - d) * g;
    m[1] = d * m[1] + (1 - d) * g * g;
    return x - lr * g / std::sqrt(m[1] - m[0] * m[0] + eps);
  });
  check_against_rule(opt::rmsprop(lr, {.eps_in_sqrt = false, .momentum = 0.5}),
                     [&](std::size_t, int, double g, double x, std::vector<double>& m) {
                       m[1] = d * m[1] + (1 - d) * g * g;
                       m[2] = 0.5 * m[2] - lr * g / (std::sqrt(m[1]) + eps);
                       return x + m[2];
                     });
  check_against_rule(opt::rmsprop(lr, {.initial_scale = 1.0, .bias_correction = true}),
                     [&](std::size_t, int k, double g, double x, std::vector<double>& m) {
                       if (k == 1) m[1] = 1.0;
                       m[1] = d * m[1] + (1 - d) * g * g;
                       return x - lr * g / std::sqrt(m[1] / (1 - std::pow(d, k)) + eps);
                     });
}

TEST_CASE("adagrad, adabelief, lion and sign_sgd against optax's formulas") {
  const double lr = 0.1;
  check_against_rule(opt::adagrad(lr), [&](std::size_t, int k, double g, double x, std::vector<double>& m) {
    if (k == 1) m[0] = 0.1;
    m[0] += g * g;
    return x - lr * g / std::sqrt(m[0] + 1e-7);
  });
  check_against_rule(opt::adabelief(lr), [&](std::size_t, int k, double g, double x, std::vector<double>& m) {
    const double b1 = 0.9, b2 = 0.999;
    m[0] = b1 * m[0] + (1 - b1) * g;
    m[1] = b2 * m[1] + (1 - b2) * (g - m[0]) * (g - m[0]) + 1e-16;
    const double mh = m[0] / (1 - std::pow(b1, k)), sh = m[1] / (1 - std::pow(b2, k));
    return x - lr * mh / (std::sqrt(sh) + 1e-16);
  });
  auto sgn = [](double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; };
  check_against_rule(opt::lion(lr), [&](std::size_t, int, double g, double x, std::vector<double>& m) {
    const double u = sgn(0.1 * g + 0.9 * m[0]);
    m[0] = 0.99 * m[0] + 0.01 * g;
    return x - lr * (u + 1e-3 * x);
  }, 6);
  check_against_rule(opt::sign_sgd(lr),
                     [&](std::size_t, int, double g, double x, std::vector<double>&) { return x - lr * sgn(g); });
}

namespace {
template <class Opt>
void check_reduces(const char* name, const Opt& o_quad, const Opt& o_rosen, double quad_factor, double rosen_factor) {
  INFO(std::string(name));
  Tensor xq(x0);
  const double q0 = quadratic(xq).item();
  const double q1 = quadratic(run(o_quad, xq, quadratic, 200)).item();
  CHECK(q1 < quad_factor * q0);
  Tensor xr(Array{-1.2, 1.0});
  const double r0 = rosenbrock(xr).item();
  const double r1 = rosenbrock(run(o_rosen, xr, rosenbrock, 2000)).item();
  CHECK(r1 < rosen_factor * r0);
}
}  // namespace

TEST_CASE("every optimizer reduces a quadratic and the Rosenbrock function") {
  check_reduces("sgd", opt::sgd(0.1), opt::sgd(1e-3), 1e-6, 0.05);
  check_reduces("sgd momentum", opt::sgd(0.1, {.momentum = 0.9}), opt::sgd(1e-4, {.momentum = 0.9}), 1e-6, 0.05);
  check_reduces("sgd nesterov", opt::sgd(0.1, {.momentum = 0.9, .nesterov = true}),
                opt::sgd(1e-4, {.momentum = 0.9, .nesterov = true}), 1e-6, 0.05);
  check_reduces("adam", opt::adam(0.1), opt::adam(0.02), 1e-3, 0.05);
  check_reduces("adamw", opt::adamw(0.1), opt::adamw(0.02), 1e-3, 0.05);
  check_reduces("rmsprop", opt::rmsprop(0.05), opt::rmsprop(1e-3), 1e-3, 0.05);
  check_reduces("rmsprop centered", opt::rmsprop(0.01, {.centered = true}), opt::rmsprop(1e-3, {.centered = true}),
                1e-3, 0.05);
  check_reduces("adagrad", opt::adagrad(0.5), opt::adagrad(0.1), 1e-3, 0.05);
  check_reduces("adabelief", opt::adabelief(0.1), opt::adabelief(0.02), 1e-3, 0.05);
  check_reduces("lion", opt::lion(opt::exponential_decay(0.1, 50, 0.5)),
                opt::lion(opt::exponential_decay(0.01, 200, 0.5)), 1e-3, 0.05);
  check_reduces("sign_sgd", opt::sign_sgd(opt::exponential_decay(0.1, 20, 0.5)),
                opt::sign_sgd(opt::cosine_decay(3e-3, 2000)), 1e-3, 0.05);
}

TEST_CASE("a schedule as learning rate: sgd steps use lr(0), lr(1), ...") {
  auto lr = opt::piecewise_constant(0.1, {{1, 0.5}});
  check_against_rule(opt::sgd(lr), [&](std::size_t, int k, double g, double x, std::vector<double>&) {
    return x - (k == 1 ? 0.1 : 0.05) * g;
  });
}

TEST_CASE("meta-gradient: d(loss after 5 adam steps)/d(learning rate) matches central differences") {
  auto final_loss = [](const Tensor& lr) {
    auto o = opt::adam(lr, {.eps_root = 1e-8});
    Tensor x(x0);
    auto state = o.init(x);
    for (int k = 0; k < 5; ++k) {
      Tensor g = grad(quadratic)(x);
      auto [u, s] = o.update(g, state, x);
      x = opt::apply_updates(x, u);
      state = s;
    }
    return quadratic(x);
  };
  for (double lr0 : {0.05, 0.3}) {
    INFO("lr = " << lr0);
    auto [v, d] = value_and_grad(final_loss)(Tensor(lr0));
    const double h = 1e-6;
    const double fd = (final_loss(Tensor(lr0 + h)).item() - final_loss(Tensor(lr0 - h)).item()) / (2 * h);
    CHECK(v.item() == doctest::Approx(final_loss(Tensor(lr0)).item()));
    CHECK(std::isfinite(d.item()));
    CHECK(d.item() == doctest::Approx(fd).epsilon(1e-5));
  }
  CHECK(ad::tape_size() == 0);
}

TEST_CASE("meta-gradient through sgd with momentum and through rmsprop") {
  auto final_loss = [](const Tensor& lr, int which) {
    Tensor x(x0);
    if (which == 0) return quadratic(run(opt::sgd(lr, {.momentum = 0.9}), x, quadratic, 5));
    return quadratic(run(opt::rmsprop(lr, {.centered = true}), x, quadratic, 5));
  };
  for (int which : {0, 1}) {
    const double lr0 = 0.05, h = 1e-6;
    const double d = grad([&](const Tensor& lr) { return final_loss(lr, which); })(Tensor(lr0)).item();
    const double fd = (final_loss(Tensor(lr0 + h), which).item() - final_loss(Tensor(lr0 - h), which).item()) / (2 * h);
    CHECK(d == doctest::Approx(fd).epsilon(1e-5));
  }
}
