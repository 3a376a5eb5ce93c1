#pragma once
// Pytrees: ordinary C++ values whose leaves are arrays, flattened generically (like jax.tree_util).
//
//   struct Linear { Tensor weight; Tensor bias; };          // any aggregate: no boilerplate
//   struct Model  { Linear l1, l2; int width = 8; };        // nested; `width` is static (carried, never a leaf)
//   tree::map([](const auto& w) { return 2.0 * w; }, model) // -> Model
//
// Leaves: `Array` here, `Tensor` once xgrad/ad is included; more via `leaf_traits` (the extension point).
// Nodes: aggregates (fields found by reflection, names included), std::vector, std::array, std::tuple,
// std::pair, std::optional, std::map<std::string, T>, and any class that opts in with XGRAD_TREE_FIELDS(...).
// Every other field type (sizes, names, callables) is static: copied along, never visited.
//
// All operations copy the first tree and assign its leaves, so static fields and container sizes always come
// from it and no type needs to be default-constructible.
#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/core/array.hpp"
#include "xgrad/core/error.hpp"

/// Opt a non-aggregate class into the pytree protocol, one line inside the class:
///   class Layer { ... XGRAD_TREE_FIELDS(weight, bias) };
#define XGRAD_TREE_FIELDS(...)                                                        \
  auto xgrad_tree_fields() { return std::tie(__VA_ARGS__); }                          \
  auto xgrad_tree_fields() const { return std::tie(__VA_ARGS__); }                    \
  static constexpr std::string_view xgrad_tree_names = #__VA_ARGS__;

namespace xgrad::tree {

// ---------------------------------------------------------------------------------------------------------------
// Leaves: the extension point. A leaf type specialises leaf_traits with is_leaf, to_array and from_array.

template <class T>
struct leaf_traits {
  static constexpr bool is_leaf = false;
};
template <>
struct leaf_traits<Array> {
  static constexpr bool is_leaf = true;
  static const Array& to_array(const Array& a) { return a; }
  static Array from_array(Array a) { return a; }
};
template <class T>
inline constexpr bool is_leaf_v = leaf_traits<std::remove_cvref_t<T>>::is_leaf;

/// Convert between leaf types through their array value (Array -> Tensor gives a constant). A temporary is moved,
/// not copied: tree::map's functions return fresh Arrays, and a copy of each would double the cost of a map.
template <class To, class From>
To leaf_cast(From&& x) {
  using F = std::remove_cvref_t<From>;
  if constexpr (std::is_same_v<To, F>)
    return std::forward<From>(x);
  else if constexpr (std::is_convertible_v<From&&, To> && !std::is_same_v<To, Array>)
    return To(std::forward<From>(x));
  else
    return leaf_traits<To>::from_array(Array(leaf_traits<F>::to_array(x)));
}
template <class L>
const Array& leaf_value(const L& x) {
  return leaf_traits<std::remove_cvref_t<L>>::to_array(x);
}

// ---------------------------------------------------------------------------------------------------------------
// Reflection of aggregates: field count by brace-initialisation, fields by structured bindings, field names
// from the compiler's spelling of a pointer to each field (the technique Boost.PFR uses; GCC >= 11, Clang).

namespace detail {

struct any_field {
  template <class U>
  operator U() const noexcept;  // never defined: only used in unevaluated checks
};
template <class T, std::size_t... I>
constexpr bool brace_constructible(std::index_sequence<I...>) {
  return requires { T{((void)I, any_field{})...}; };
}
inline constexpr std::size_t max_fields = 24;
template <class T, std::size_t N = 0>
constexpr std::size_t count_fields() {
  if constexpr (N >= max_fields || !brace_constructible<T>(std::make_index_sequence<N + 1>{}))
    return N;
  else
    return count_fields<T, N + 1>();
}

template <std::size_t N, class T>
constexpr auto tie_fields(T& t) {
  if constexpr (N == 0) return std::tuple<>{};
  else if constexpr (N == 1) { auto& [f0] = t; return std::tie(f0); }
  else if constexpr (N == 2) { auto& [f0, f1] = t; return std::tie(f0, f1); }
  else if constexpr (N == 3) { auto& [f0, f1, f2] = t; return std::tie(f0, f1, f2); }
  else if constexpr (N == 4) { auto& [f0, f1, f2, f3] = t; return std::tie(f0, f1, f2, f3); }
  else if constexpr (N == 5) { auto& [f0, f1, f2, f3, f4] = t; return std::tie(f0, f1, f2, f3, f4); }
  else if constexpr (N == 6) { auto& [f0, f1, f2, f3, f4, f5] = t; return std::tie(f0, f1, f2, f3, f4, f5); }
  else if constexpr (N == 7) { auto& [f0, f1, f2, f3, f4, f5, f6] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6); }
  else if constexpr (N == 8) { auto& [f0, f1, f2, f3, f4, f5, f6, f7] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7); }
  else if constexpr (N == 9) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8); }
  else if constexpr (N == 10) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9); }
  else if constexpr (N == 11) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10); }
  else if constexpr (N == 12) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11); }
  else if constexpr (N == 13) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12); }
  else if constexpr (N == 14) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13); }
  else if constexpr (N == 15) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14); }
  else if constexpr (N == 16) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15); }
  else if constexpr (N == 17) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16); }
  else if constexpr (N == 18) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17); }
  else if constexpr (N == 19) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18); }
  else if constexpr (N == 20) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19); }
  else if constexpr (N == 21) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20); }
  else if constexpr (N == 22) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21); }
  else if constexpr (N == 23) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22); }
  else if constexpr (N == 24) { auto& [f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23] = t; return std::tie(f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17, f18, f19, f20, f21, f22, f23); }
}

template <class T>
struct fake_wrapper {
  const T value;
};
template <class T>
extern const fake_wrapper<T> fake_object;  // never defined: only its fields' addresses are named

template <auto P>
consteval std::string_view pretty_pointer() {
  return __PRETTY_FUNCTION__;
}
template <class T>
consteval std::string_view pretty_type() {
  return __PRETTY_FUNCTION__;
}
// "... value.ns::Ridge::alpha); ..." -> "alpha" (GCC); "...value.alpha]" -> "alpha" (Clang).
constexpr std::string_view trailing_identifier(std::string_view s) {
  std::size_t end = s.find("P = ");
  end = s.find_first_of(")]", end == std::string_view::npos ? 0 : end);
  std::size_t begin = end;
  while (begin > 0) {
    char c = s[begin - 1];
    if (!(c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) break;
    --begin;
  }
  return s.substr(begin, end - begin);
}
constexpr std::string_view type_from_pretty(std::string_view s) {
  std::size_t b = s.find("T = ");
  if (b == std::string_view::npos) return s;
  b += 4;
  std::size_t e = s.find_first_of(";]", b);
  return s.substr(b, e - b);
}

// consteval, so that nothing refers to fake_object at run time (UBSan's pointer checks would otherwise emit one).
template <class T, std::size_t N, std::size_t I>
consteval std::string_view field_name() {
  constexpr auto ptr = &std::get<I>(tie_fields<N>(fake_object<T>.value));
  return trailing_identifier(pretty_pointer<ptr>());
}

// Names listed in XGRAD_TREE_FIELDS(a, b) come as the text "a, b".
std::vector<std::string> split_names(std::string_view list);
// "ns::Linear" -> "Linear"; template arguments are kept whole.
std::string short_type_name(std::string_view full);

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_std_array : std::false_type {};
template <class T, std::size_t N>
struct is_std_array<std::array<T, N>> : std::true_type {};
template <class T>
struct is_tuple : std::false_type {};
template <class... T>
struct is_tuple<std::tuple<T...>> : std::true_type {};
template <class A, class B>
struct is_tuple<std::pair<A, B>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
template <class T>
struct is_string_map : std::false_type {};
template <class V, class C, class A>
struct is_string_map<std::map<std::string, V, C, A>> : std::true_type {};

template <class T>
concept opted_in = requires(T& t) {
  t.xgrad_tree_fields();
  T::xgrad_tree_names;
};
template <class T>
concept aggregate_node = std::is_class_v<T> && std::is_aggregate_v<T> && !opted_in<T> && !is_std_array<T>::value &&
                         !is_leaf_v<T>;

}  // namespace detail

/// Type name as written in code, namespaces dropped: tree::type_name<ns::Linear>() == "Linear".
template <class T>
std::string type_name() {
  return detail::short_type_name(detail::type_from_pretty(detail::pretty_type<T>()));
}

/// Number and names of the fields of an aggregate or opted-in class.
template <class T>
const std::vector<std::string>& field_names() {
  static const std::vector<std::string> names = [] {
    if constexpr (detail::opted_in<T>) {
      return detail::split_names(T::xgrad_tree_names);
    } else {
      constexpr std::size_t n = detail::count_fields<T>();
      return [&]<std::size_t... I>(std::index_sequence<I...>) {
        return std::vector<std::string>{std::string(detail::field_name<T, n, I>())...};
      }(std::make_index_sequence<n>{});
    }
  }();
  return names;
}

/// Fields of an aggregate or opted-in class as a tuple of references.
template <class T>
auto fields(T& t) {
  using U = std::remove_const_t<T>;
  if constexpr (detail::opted_in<U>)
    return t.xgrad_tree_fields();
  else
    return detail::tie_fields<detail::count_fields<U>()>(t);
}

// ---------------------------------------------------------------------------------------------------------------
// The walk: visits the leaves of `t` in a fixed order (fields in declaration order, containers in order, maps by
// key), in lockstep with any number of other trees whose structure must match; `path` is the key path.

namespace detail {

struct Walk {
  const char* op;
  std::string path;
  const char* ns = "tree::";

  [[noreturn]] void mismatch(const std::string& what) const {
    throw ShapeError(std::string("xgrad::") + ns + op + ": structure mismatch at '" +
                     (path.empty() ? std::string("<root>") : path) + "': " + what);
  }
  // Extend the path for one child, restoring it afterwards.
  template <class Fn>
  void child(std::string_view sep, std::string_view name, std::string_view close, Fn&& fn) {
    const std::size_t n = path.size();
    if (!(sep == "." && path.empty())) path += sep;
    path += name;
    path += close;
    fn();
    path.resize(n);
  }

  template <std::size_t I, class F, class T, class... Ts>
  void element(F& f, T& t, const Ts&... o) {
    child("[", std::to_string(I), "]", [&] { (*this)(f, std::get<I>(t), std::get<I>(o)...); });
  }
  template <std::size_t I, class F, class T, class... Ts>
  void field(F& f, T& t, const Ts&... o) {
    const auto& name = field_names<std::remove_const_t<T>>()[I];
    child(".", name, "", [&] { (*this)(f, std::get<I>(fields(t)), std::get<I>(fields(o))...); });
  }

  template <class F, class T, class... Ts>
  void operator()(F& f, T& t, const Ts&... o) {
    using U = std::remove_const_t<T>;
    if constexpr (is_leaf_v<U>) {
      f(std::as_const(path), t, o...);
    } else if constexpr (is_optional<U>::value) {
      if (((t.has_value() != o.has_value()) || ...)) mismatch("an optional is set in one tree and empty in another");
      if (t) (*this)(f, *t, *o...);
    } else if constexpr (is_vector<U>::value || is_std_array<U>::value) {
      if constexpr (sizeof...(Ts) > 0) {
        if (((t.size() != o.size()) || ...))
          mismatch("sequences of different lengths (" + std::to_string(t.size()) + " and " +
                   std::to_string(std::get<0>(std::tie(o...)).size()) + ")");
      }
      for (std::size_t i = 0; i < t.size(); ++i)
        child("[", std::to_string(i), "]", [&] { (*this)(f, t[i], o[i]...); });
    } else if constexpr (is_string_map<U>::value) {
      if (((t.size() != o.size()) || ...)) mismatch("maps with different keys");
      for (auto& [k, v] : t) {
        child("['", k, "']", [&, &k = k, &v = v] {
          auto find = [&](const auto& m) -> const auto& {
            auto it = m.find(k);
            if (it == m.end()) mismatch("key '" + k + "' is missing in another tree");
            return it->second;
          };
          (void)find;  // unused when there are no other trees
          (*this)(f, v, find(o)...);
        });
      }
    } else if constexpr (is_tuple<U>::value) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (element<I>(f, t, o...), ...);
      }(std::make_index_sequence<std::tuple_size_v<U>>{});
    } else if constexpr (opted_in<U> || aggregate_node<U>) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (field<I>(f, t, o...), ...);
      }(std::make_index_sequence<std::tuple_size_v<decltype(fields(t))>>{});
    }
    // anything else is static: not visited
  }
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------------
// The public operations.

/// Call f(leaf, other_leaves...) for each leaf of t, in order, with `others` in lockstep (structure must match).
template <class F, class T, class... Ts>
void for_each(F&& f, const T& t, const Ts&... others) {
  detail::Walk w{"for_each", {}};
  auto g = [&](const std::string&, const auto& leaf, const auto&... rest) { f(leaf, rest...); };
  w(g, t, others...);
}

/// Call f(path, leaf) for each leaf; path is the key path, e.g. "model.weight" or "layers[1].bias".
template <class F, class T>
void for_each_with_path(F&& f, const T& t) {
  detail::Walk w{"for_each_with_path", {}};
  auto g = [&](const std::string& path, const auto& leaf) { f(path, leaf); };
  w(g, t);
}

/// A tree of the same type as `t` whose leaves are f(leaf, other_leaves...). Static fields come from `t`.
/// f's result is converted to each leaf's type (see leaf_cast).
template <class F, class T, class... Ts>
T map(F&& f, const T& t, const Ts&... others) {
  T out = t;
  detail::Walk w{"map", {}};
  auto g = [&](const std::string&, auto& leaf, const auto&... rest) {
    leaf = leaf_cast<std::remove_cvref_t<decltype(leaf)>>(f(std::as_const(leaf), rest...));
  };
  w(g, out, others...);
  return out;
}

/// Throws ShapeError unless `other` has the structure of `like` and each of its leaves exactly the shape of `like`'s
/// leaf there: a tangent, a cotangent, a gradient or an update has its primal's shape, never a broadcast of it. The
/// message names `op` (the user's call), `what`, the key path and both shapes.
template <class T, class U>
void check_like(const T& like, const U& other, const char* op, const char* what) {
  detail::Walk w{op, {}, ""};
  auto g = [&](const std::string& path, const auto& a, const auto& b) {
    const auto& sa = leaf_value(a).shape();
    const auto& sb = leaf_value(b).shape();
    if (std::equal(sa.begin(), sa.end(), sb.begin(), sb.end())) return;
    throw ShapeError(std::string("xgrad::") + op + ": the " + what + (path.empty() ? "" : " at '" + path + "'") + " has shape " +
                     shape_str(Shape(sb.begin(), sb.end())) + ", its primal has shape " +
                     shape_str(Shape(sa.begin(), sa.end())) + " (they must be equal)");
  };
  w(g, like, other);
}

/// Number of leaves.
template <class T>
std::size_t num_leaves(const T& t) {
  std::size_t n = 0;
  for_each([&](const auto&) { ++n; }, t);
  return n;
}

/// The leaves in order, converted to L (Array by default: their values).
template <class L = Array, class T>
std::vector<L> leaves(const T& t) {
  std::vector<L> out;
  for_each([&](const auto& leaf) { out.push_back(leaf_cast<L>(leaf)); }, t);
  return out;
}

/// Key paths of the leaves, in order: "alpha", "model.weight", "layers[0].w", "params['w']".
template <class T>
std::vector<std::string> paths(const T& t) {
  std::vector<std::string> out;
  for_each_with_path([&](const std::string& p, const auto&) { out.push_back(p); }, t);
  return out;
}

/// Print a tree: Ridge(alpha=f64[], model=Linear(weight=f64[1,10])). With shapes=false, leaves print as "*".
template <class T>
void print(std::ostream& os, const T& t, bool shapes = true);

/// The skeleton of a tree (node types, field names, container sizes; not leaf shapes), comparable with ==.
struct Structure {
  std::string repr;
  std::size_t num_leaves = 0;
  friend bool operator==(const Structure&, const Structure&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Structure& s) { return os << "PyTreeDef(" << s.repr << ")"; }
};
template <class T>
Structure structure(const T& t) {
  std::ostringstream os;
  print(os, t, false);
  return {os.str(), num_leaves(t)};
}

/// What unflatten needs to rebuild a T: a prototype (for static fields and sizes) and its structure.
template <class T>
struct TreeDef {
  T prototype;
  Structure structure;
  std::size_t num_leaves() const { return structure.num_leaves; }
};

/// Leaves (converted to L) and the definition to rebuild the tree.
template <class L = Array, class T>
std::pair<std::vector<L>, TreeDef<T>> flatten(const T& t) {
  return {leaves<L>(t), TreeDef<T>{t, structure(t)}};
}

/// Rebuild a T from leaves (any leaf type convertible to T's leaves). Throws ShapeError on a count mismatch.
template <class T, class L>
T unflatten(const TreeDef<T>& def, const std::vector<L>& leaves) {
  if (leaves.size() != def.num_leaves())
    throw ShapeError("xgrad::tree::unflatten: " + def.structure.repr + " has " + std::to_string(def.num_leaves()) +
                     " leaves, got " + std::to_string(leaves.size()));
  T out = def.prototype;
  std::size_t i = 0;
  detail::Walk w{"unflatten", {}};
  auto g = [&](const std::string&, auto& leaf) { leaf = leaf_cast<std::remove_cvref_t<decltype(leaf)>>(leaves[i++]); };
  w(g, out);
  return out;
}

/// All leaves concatenated into one flat Array, and the function that turns such an Array back into a T
/// (like jax.flatten_util.ravel_pytree). The function checks the size it is given.
template <class T>
std::pair<Array, std::function<T(const Array&)>> ravel(const T& t) {
  std::vector<Shape> shapes;
  std::size_t total = 0;
  for_each([&](const auto& leaf) {
    shapes.push_back(shape_of(leaf_value(leaf)));
    total += leaf_value(leaf).size();
  }, t);
  Array flat = Array::from_shape({total});
  std::size_t k = 0;
  for_each([&](const auto& leaf) {
    const Array& v = leaf_value(leaf);
    std::copy(v.begin(), v.end(), flat.begin() + static_cast<std::ptrdiff_t>(k));
    k += v.size();
  }, t);
  auto unravel = [proto = t, shapes = std::move(shapes), total](const Array& a) {
    if (a.size() != total)
      throw ShapeError("xgrad::tree::ravel: the unravel function expects " + std::to_string(total) +
                       " values, got an array of shape " + shape_str(shape_of(a)));
    std::vector<Array> parts;
    std::size_t off = 0;
    for (const auto& s : shapes) {
      Array p = Array::from_shape(s);
      std::copy(a.begin() + static_cast<std::ptrdiff_t>(off), a.begin() + static_cast<std::ptrdiff_t>(off + p.size()),
                p.begin());
      off += p.size();
      parts.push_back(std::move(p));
    }
    return unflatten(TreeDef<T>{proto, Structure{{}, parts.size()}}, parts);
  };
  return {std::move(flat), std::function<T(const Array&)>(unravel)};
}

/// A tree like t with every leaf replaced by zeros of its shape.
template <class T>
T zeros_like(const T& t) {
  return map([](const auto& leaf) { return Array(xt::zeros<double>(leaf_value(leaf).shape())); }, t);
}

/// The printed form as a string.
template <class T>
std::string repr(const T& t) {
  std::ostringstream os;
  print(os, t);
  return os.str();
}

// ---------------------------------------------------------------------------------------------------------------
// Printing.

namespace detail {
void print_leaf_shape(std::ostream& os, const Array& a);

template <class T>
void print_node(std::ostream& os, const T& t, bool shapes) {
  if constexpr (is_leaf_v<T>) {
    if (shapes)
      print_leaf_shape(os, leaf_value(t));
    else
      os << '*';
  } else if constexpr (is_optional<T>::value) {
    if (t)
      print_node(os, *t, shapes);
    else
      os << "None";
  } else if constexpr (is_vector<T>::value || is_std_array<T>::value) {
    os << '[';
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (i) os << ", ";
      print_node(os, t[i], shapes);
    }
    os << ']';
  } else if constexpr (is_string_map<T>::value) {
    os << '{';
    bool first = true;
    for (const auto& [k, v] : t) {
      os << (first ? "" : ", ") << '\'' << k << "': ";
      print_node(os, v, shapes);
      first = false;
    }
    os << '}';
  } else if constexpr (is_tuple<T>::value) {
    os << '(';
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((os << (I ? ", " : ""), print_node(os, std::get<I>(t), shapes)), ...);
    }(std::make_index_sequence<std::tuple_size_v<T>>{});
    os << ')';
  } else if constexpr (opted_in<T> || aggregate_node<T>) {
    auto ft = fields(t);
    const auto& names = field_names<T>();
    os << type_name<T>() << '(';
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((os << (I ? ", " : "") << names[I] << '=', print_node(os, std::get<I>(ft), shapes)), ...);
    }(std::make_index_sequence<std::tuple_size_v<decltype(ft)>>{});
    os << ')';
  } else if constexpr (std::is_arithmetic_v<T>) {
    os << t;
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    os << '\'' << std::string_view(t) << '\'';
  } else {
    os << "<static>";
  }
}
}  // namespace detail

template <class T>
void print(std::ostream& os, const T& t, bool shapes) {
  detail::print_node(os, t, shapes);
}

/// True for types the tree functions treat as a node (not a leaf, not static).
template <class T>
inline constexpr bool is_node_v = detail::is_vector<T>::value || detail::is_std_array<T>::value ||
                                  detail::is_tuple<T>::value || detail::is_optional<T>::value ||
                                  detail::is_string_map<T>::value || detail::opted_in<T> || detail::aggregate_node<T>;

namespace detail {
// Whether T has a leaf type anywhere inside it (decided from types alone).
template <class T>
constexpr bool contains_leaf();
template <class Tup, std::size_t... I>
constexpr bool any_field_has_leaf(std::index_sequence<I...>) {
  return (contains_leaf<std::remove_cvref_t<std::tuple_element_t<I, Tup>>>() || ...);
}
template <class T>
constexpr bool contains_leaf() {
  if constexpr (is_leaf_v<T>)
    return true;
  else if constexpr (is_vector<T>::value || is_std_array<T>::value || is_optional<T>::value)
    return contains_leaf<typename T::value_type>();
  else if constexpr (is_string_map<T>::value)
    return contains_leaf<typename T::mapped_type>();
  else if constexpr (is_tuple<T>::value || opted_in<T> || aggregate_node<T>) {
    using Tup = std::conditional_t<is_tuple<T>::value, T, decltype(fields(std::declval<T&>()))>;
    return any_field_has_leaf<Tup>(std::make_index_sequence<std::tuple_size_v<Tup>>{});
  } else
    return false;
}
}  // namespace detail

/// True for pytree node types that hold at least one leaf type (what xgrad::operator<< prints).
template <class T>
inline constexpr bool has_leaves_v = is_node_v<T> && detail::contains_leaf<T>();

}  // namespace xgrad::tree

namespace xgrad {
/// Printing of pytrees. Found by argument-dependent lookup for xgrad's own types and for containers of xgrad
/// leaves (std::vector<Tensor>, ...); for your own structs write `using xgrad::operator<<;` or use tree::repr.
template <class T>
  requires(tree::has_leaves_v<T> && !std::is_convertible_v<const T&, std::string_view>)
std::ostream& operator<<(std::ostream& os, const T& t) {
  tree::print(os, t);
  return os;
}
}  // namespace xgrad
