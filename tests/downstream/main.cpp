// Links against the installed package and checks a derivative: exits non-zero on any mismatch.
#include <cmath>
#include <cstdio>
#include <xgrad/xgrad.hpp>

struct Model {
  xgrad::Tensor w;
  xgrad::Tensor b;
};

int main() {
  using namespace xgrad;
  Model m{Tensor(Array{1.0, 2.0}), Tensor(0.5)};
  auto loss = [](const Model& p, const Tensor& x) { return sum(tanh(p.w * x + p.b)); };
  Tensor x(Array{0.3, -0.1});
  Model g = grad(loss)(m, x);
  const double z0 = 1.0 * 0.3 + 0.5, z1 = 2.0 * -0.1 + 0.5;
  const double want = (1 - std::tanh(z0) * std::tanh(z0)) * 0.3;
  const double hess = hessian([](const Tensor& t) { return sum(pow(t, 3.0)); })(Tensor(Array{2.0}))(0, 0);
  const bool ok = std::abs(g.w.value()(0) - want) < 1e-12 &&
                  std::abs(g.b.item() - (2 - std::pow(std::tanh(z0), 2) - std::pow(std::tanh(z1), 2))) < 1e-12 &&
                  std::abs(hess - 12.0) < 1e-12 && tree::repr(m) == "Model(w=f64[2], b=f64[])";
  std::printf("downstream: %s\n", ok ? "ok" : "MISMATCH");
  return ok ? 0 : 1;
}
