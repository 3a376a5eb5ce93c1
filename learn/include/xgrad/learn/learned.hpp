#pragma once
// Learned optimizers (Andrychowicz et al. 2016, "Learning to learn by gradient descent by gradient descent"):
// the update rule is a small network g_phi applied to every coordinate of the parameters,
//
//   [u_k, h_{k+1}] = g_phi(grad_k, h_k),     x_{k+1} = x_k + u_k,
//
// with weights phi shared across coordinates and a hidden state h per coordinate. Each is an ordinary transform
// (init/update over any pytree), so it can replace adam anywhere:
//
//   auto phi = learn::init_lstm_optimizer(random::key(0));        // a pytree: tree::save(file, phi)
//   auto opt = learn::lstm_optimizer(phi);                        // init(params) / update(grads, state, params)
//
// All coordinates of all leaves form one batch: the gradient pytree is flattened into an (N, 1) column, the network
// runs on it as a (N, features) matrix (one matmul per layer, coordinates as rows), and the (N, 1) output is split back
// into the gradients' pytree. The state is a pytree of (N, hidden) Tensors, whatever the parameters' structure.
// Everything is computed with Tensor ops, so phi may be traced by an enclosing transform: that is how meta.hpp
// meta-trains it.
#include <cmath>
#include <cstddef>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/ad/elementwise.hpp"
#include "xgrad/ad/linalg.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/recurrent.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/optim/transform.hpp"

namespace xgrad::learn {

/// How a learned optimizer sees each gradient coordinate g.
enum class Preprocess {
  none,      ///< one feature: g itself
  log_sign,  ///< two features (the paper's appendix A): (log|g| / k, sign g) if |g| >= e^-k, else (-1, e^k g)
};

/// Options shared by the coordinatewise learned optimizers.
struct LearnedOptions {
  Preprocess preprocess = Preprocess::log_sign;  ///< gradient preprocessing
  double k = 10.0;                               ///< the log_sign parameter (the paper's p)
  double output_scale = 0.1;                     ///< the network's output is multiplied by this to give the update
};

/// Shape of a coordinatewise LSTM optimizer.
struct LstmShape {
  std::size_t hidden = 20;  ///< units per layer
  std::size_t layers = 2;   ///< stacked LSTM layers
};

/// One LSTM layer (xgrad::lstm_cell): gates z = [x, h] w + b, split into (input, forget, cell, output) blocks of
/// `hidden` columns.
struct LstmLayer {
  Tensor w;  ///< (inputs + hidden, 4 hidden)
  Tensor b;  ///< (4 hidden)
};

/// The weights phi of a coordinatewise LSTM optimizer (a pytree: save it with tree::save).
struct LstmOptimizerParams {
  std::vector<LstmLayer> layers;  ///< stacked layers, first one fed by the preprocessed gradient
  Tensor w_out;                   ///< (hidden, 1): the linear read-out
  Tensor b_out;                   ///< (1)
};

/// Hidden and cell state of one LSTM layer, one row per coordinate, side by side as lstm_cell keeps them.
struct LstmCarry {
  Tensor hc;  ///< (N, 2 hidden): [h | c]
};

/// State of lstm_optimizer: the carry of every layer for the N coordinates of the parameters.
struct LstmOptimizerState {
  std::vector<LstmCarry> carry;  ///< one per layer
};

/// Shape of a coordinatewise MLP optimizer over hand-crafted features.
struct MlpShape {
  std::size_t hidden = 32;                     ///< units of the hidden (tanh) layer
  std::vector<double> decays = {0.5, 0.9, 0.99};  ///< momentum averages m_j = d_j m_j + (1 - d_j) g kept per coordinate
};

/// The weights phi of a coordinatewise MLP optimizer: features -> tanh hidden -> 1.
struct MlpOptimizerParams {
  Tensor w1;  ///< (features, hidden)
  Tensor b1;  ///< (hidden)
  Tensor w2;  ///< (hidden, 1)
  Tensor b2;  ///< (1)
  std::vector<double> decays = {0.5, 0.9, 0.99};  ///< static: the momentum decays the features use
};

/// State of mlp_optimizer: the momentum averages of every coordinate.
struct MlpOptimizerState {
  Tensor m;  ///< (N, number of decays)
};

namespace detail {

/// Number of features one raw input column gives after preprocessing.
inline std::size_t features_per_input(Preprocess p) { return p == Preprocess::log_sign ? 2 : 1; }

/// Preprocess a column block v (N, c) into (N, c) or (N, 2c) features, differentiably in v.
inline Tensor preprocess(const Tensor& v, const LearnedOptions& o) {
  if (o.preprocess == Preprocess::none) return v;
  if (!(o.k > 0.0)) throw ValueError("xgrad::optim::learned: log_sign preprocessing needs k > 0, got " +
                                     std::to_string(o.k));
  const double floor = std::exp(-o.k);
  // log(max(|v|, e^-k)) / k is exactly -1 below the threshold: no branch needed, and never log(0).
  const Tensor magnitude = log(maximum(abs(v), Tensor(floor))) / o.k;
  Array big = xt::where(xt::abs(v.value()) >= floor, 1.0, 0.0);
  const Tensor direction = where(std::move(big), Tensor(sign(v.value())), std::exp(o.k) * v);
  return concatenate({magnitude, direction}, 1);
}

/// All coordinates of a pytree as one (N, 1) column (leaves in tree order, each flattened in row-major order).
template <class G>
Tensor coordinates(const G& tree_) {
  std::vector<Tensor> cols;
  for (const Tensor& leaf : tree::leaves<Tensor>(tree_)) cols.push_back(reshape(leaf, {-1, 1}));
  if (cols.empty()) throw ValueError("xgrad::optim::learned: the parameters have no leaves");
  return cols.size() == 1 ? cols[0] : concatenate(cols, 0);
}

/// Number of coordinates of a pytree.
template <class P>
std::size_t num_coordinates(const P& params) {
  std::size_t n = 0;
  tree::for_each([&](const auto& leaf) { n += tree::leaf_value(leaf).size(); }, params);
  return n;
}

/// The (N, 1) column u split back into a pytree like `like`.
template <class G>
G uncoordinates(const Tensor& u, const G& like) {
  auto [leaves, def] = tree::flatten<Tensor>(like);
  std::vector<Tensor> out;
  out.reserve(leaves.size());
  std::ptrdiff_t offset = 0;
  for (const Tensor& leaf : leaves) {
    const auto n = static_cast<std::ptrdiff_t>(leaf.size());
    const Shape leaf_shape = leaf.shape();  // a fresh vector per call: take begin and end of one copy
    const std::vector<std::ptrdiff_t> shape(leaf_shape.begin(), leaf_shape.end());
    const Tensor part = leaves.size() == 1 ? u : slice(u, 0, offset, offset + n);
    out.push_back(reshape(part, shape));
    offset += n;
  }
  return tree::unflatten(def, out);
}

/// Zeros of shape (n, m).
inline Tensor zeros(std::size_t n, std::size_t m) { return Tensor(Array(xt::zeros<double>({n, m}))); }

/// Checks that a set of LSTM optimizer weights is consistent and returns the hidden size.
inline std::size_t lstm_hidden(const LstmOptimizerParams& p) {
  if (p.layers.empty()) throw ValueError("xgrad::learn::lstm_optimizer: no layers");
  const std::size_t H = p.w_out.shape().at(0);
  for (const auto& l : p.layers)
    if (l.w.ndim() != 2 || l.w.shape()[1] != 4 * H || l.b.shape() != Shape{4 * H})
      throw ShapeError("xgrad::learn::lstm_optimizer: a layer of shape " + shape_str(l.w.shape()) +
                       " does not match hidden size " + std::to_string(H));
  return H;
}

}  // namespace detail

/// Fresh weights for an LSTM optimizer: uniform(-1/sqrt(H), 1/sqrt(H)) (PyTorch's default), forget-gate bias 1,
/// read-out uniform(-1/sqrt(H), 1/sqrt(H)) and zero bias. The input width follows `o.preprocess`.
inline LstmOptimizerParams init_lstm_optimizer(random::Key key, const LearnedOptions& o = {}, LstmShape shape = {}) {
  if (shape.hidden == 0 || shape.layers == 0)
    throw ValueError("xgrad::learn::init_lstm_optimizer: hidden and layers must be positive");
  const std::size_t H = shape.hidden;
  const double a = 1.0 / std::sqrt(static_cast<double>(H));
  auto keys = random::split(key, shape.layers + 1);
  LstmOptimizerParams p;
  for (std::size_t l = 0; l < shape.layers; ++l) {
    const std::size_t inputs = l == 0 ? detail::features_per_input(o.preprocess) : H;
    Array b = xt::zeros<double>({4 * H});
    for (std::size_t j = H; j < 2 * H; ++j) b(j) = 1.0;  // remember by default
    p.layers.push_back({Tensor(random::uniform(keys[l], {inputs + H, 4 * H}, -a, a)), Tensor(std::move(b))});
  }
  p.w_out = Tensor(random::uniform(keys[shape.layers], {H, 1}, -a, a));
  p.b_out = Tensor(Array(xt::zeros<double>({1})));
  return p;
}

/// The coordinatewise LSTM optimizer with weights `phi` as a transform: update = output_scale * (h_L w_out + b_out),
/// where h_L is the top layer's hidden state after feeding it the preprocessed gradient. The state is
/// LstmOptimizerState (zeros at init), the updates have the gradients' type. Weights are captured by value: a traced
/// phi makes the updates differentiable with respect to it.
inline auto lstm_optimizer(LstmOptimizerParams phi, LearnedOptions o = {}) {
  const std::size_t H = detail::lstm_hidden(phi);
  const std::size_t in = detail::features_per_input(o.preprocess);
  if (phi.layers[0].w.shape()[0] != in + H)
    throw ShapeError("xgrad::learn::lstm_optimizer: the first layer has " + std::to_string(phi.layers[0].w.shape()[0]) +
                     " rows, the preprocessing gives " + std::to_string(in) + " features + " + std::to_string(H) +
                     " hidden units");
  return optim::make_transform(
      [phi, H](const auto& params) {
        const std::size_t n = detail::num_coordinates(params);
        LstmOptimizerState s;
        for (std::size_t l = 0; l < phi.layers.size(); ++l)
          s.carry.push_back({detail::zeros(n, 2 * H)});
        return s;
      },
      [phi, o](const auto& grads, const LstmOptimizerState& state, const auto&) {
        using G = std::remove_cvref_t<decltype(grads)>;
        if (state.carry.size() != phi.layers.size())
          throw ValueError("xgrad::learn::lstm_optimizer: the state has " + std::to_string(state.carry.size()) +
                           " layers, the weights " + std::to_string(phi.layers.size()));
        const Tensor g = detail::coordinates(grads);
        if (state.carry[0].hc.shape()[0] != g.shape()[0])
          throw ShapeError("xgrad::learn::lstm_optimizer: the state is for " +
                           std::to_string(state.carry[0].hc.shape()[0]) + " coordinates, the gradients have " +
                           std::to_string(g.shape()[0]));
        // Each layer is one fused lstm_cell; a layer reads the h half of the [h | c] below it, and the read-out
        // reads the top h through w_out padded with zeros for c (no copy of h).
        LstmOptimizerState next;
        Tensor x = detail::preprocess(g, o);
        for (std::size_t l = 0; l < phi.layers.size(); ++l) {
          next.carry.push_back({lstm_cell(x, state.carry[l].hc, phi.layers[l].w, phi.layers[l].b)});
          x = next.carry.back().hc;
        }
        const Tensor w_out = concatenate({phi.w_out, detail::zeros(phi.w_out.shape()[0], 1)}, 0);
        const Tensor u = o.output_scale * linear(x, w_out, phi.b_out);
        return optim::Updated<G, LstmOptimizerState>{detail::uncoordinates(u, grads), std::move(next)};
      });
}

/// Fresh weights for an MLP optimizer: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) weights, zero biases.
inline MlpOptimizerParams init_mlp_optimizer(random::Key key, const LearnedOptions& o = {}, MlpShape shape = {}) {
  if (shape.hidden == 0) throw ValueError("xgrad::learn::init_mlp_optimizer: hidden must be positive");
  const std::size_t F = (1 + shape.decays.size()) * detail::features_per_input(o.preprocess), H = shape.hidden;
  auto keys = random::split(key, 2);
  const double a1 = 1.0 / std::sqrt(static_cast<double>(F)), a2 = 1.0 / std::sqrt(static_cast<double>(H));
  return {Tensor(random::uniform(keys[0], {F, H}, -a1, a1)), Tensor(Array(xt::zeros<double>({H}))),
          Tensor(random::uniform(keys[1], {H, 1}, -a2, a2)), Tensor(Array(xt::zeros<double>({1}))), shape.decays};
}

/// The coordinatewise MLP optimizer as a transform. Per coordinate it keeps momentum averages
/// m_j = d_j m_j + (1 - d_j) g (one per decay d_j); its features are the preprocessed [g, m_1, ..., m_J] and
/// update = output_scale * (tanh(features w1 + b1) w2 + b2).
inline auto mlp_optimizer(MlpOptimizerParams phi, LearnedOptions o = {}) {
  const std::size_t J = phi.decays.size();
  if (phi.w1.ndim() != 2 || phi.w1.shape()[0] != (1 + J) * detail::features_per_input(o.preprocess))
    throw ShapeError("xgrad::learn::mlp_optimizer: w1 of shape " + shape_str(phi.w1.shape()) + " does not match " +
                     std::to_string(1 + J) + " inputs with this preprocessing");
  Array d = Array::from_shape({1, J}), one_minus_d = Array::from_shape({1, J});
  for (std::size_t j = 0; j < J; ++j) {
    d(0, j) = phi.decays[j];
    one_minus_d(0, j) = 1.0 - phi.decays[j];
  }
  const Tensor decay(std::move(d)), weight(std::move(one_minus_d));
  return optim::make_transform(
      [J](const auto& params) { return MlpOptimizerState{detail::zeros(detail::num_coordinates(params), J)}; },
      [phi, o, decay, weight](const auto& grads, const MlpOptimizerState& state, const auto&) {
        using G = std::remove_cvref_t<decltype(grads)>;
        const Tensor g = detail::coordinates(grads);
        if (state.m.shape()[0] != g.shape()[0])
          throw ShapeError("xgrad::learn::mlp_optimizer: the state is for " + std::to_string(state.m.shape()[0]) +
                           " coordinates, the gradients have " + std::to_string(g.shape()[0]));
        const Tensor m = decay * state.m + weight * g;  // (N, J), g broadcast over the decays
        const Tensor features = detail::preprocess(concatenate({g, m}, 1), o);
        const Tensor u = o.output_scale * (matmul(tanh(matmul(features, phi.w1) + phi.b1), phi.w2) + phi.b2);
        return optim::Updated<G, MlpOptimizerState>{detail::uncoordinates(u, grads), MlpOptimizerState{m}};
      });
}

}  // namespace xgrad::learn
