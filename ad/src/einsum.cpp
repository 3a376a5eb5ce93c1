// tensordot and einsum: contractions planned into one matmul (gemm, batched where the subscripts allow) between
// transposes and reshapes, so their derivatives are those of matmul, transpose and reshape, to any order.
#include <algorithm>
#include <string>
#include <vector>

#include "xgrad/ad/linalg.hpp"
#include "xgrad/ad/manipulation.hpp"
#include "xgrad/ad/reduction.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad {

namespace {

std::vector<std::ptrdiff_t> extents(const Shape& s, const std::vector<std::size_t>& axes) {
  std::vector<std::ptrdiff_t> out;
  for (auto a : axes) out.push_back(static_cast<std::ptrdiff_t>(s[a]));
  return out;
}

std::ptrdiff_t product(const std::vector<std::ptrdiff_t>& v) {
  std::ptrdiff_t p = 1;
  for (auto e : v) p *= e;
  return p;
}

// x with its axes permuted, skipping the copy when the permutation is the identity.
Tensor permute(const Tensor& x, const std::vector<std::size_t>& perm) {
  for (std::size_t i = 0; i < perm.size(); ++i)
    if (perm[i] != i) return transpose(x, perm);
  return x;
}

// An operand and the letter of each of its axes.
struct Labeled {
  Tensor x;
  std::string letters;
};

// Diagonals for letters repeated within the operand, then sums over letters no one else needs.
Labeled simplify(Labeled op, const std::string& keep) {
  for (bool again = true; again;) {
    again = false;
    for (std::size_t p = 0; p < op.letters.size() && !again; ++p) {
      const std::size_t q = op.letters.find(op.letters[p], p + 1);
      if (q == std::string::npos) continue;
      if (op.x.shape()[p] != op.x.shape()[q])
        throw ShapeError(std::string("xgrad::einsum: letter '") + op.letters[p] + "' labels axes of extents " +
                         std::to_string(op.x.shape()[p]) + " and " + std::to_string(op.x.shape()[q]) +
                         " in an operand of shape " + shape_str(op.x.shape()));
      const char c = op.letters[p];
      op.x = diagonal(op.x, 0, static_cast<std::ptrdiff_t>(p), static_cast<std::ptrdiff_t>(q));  // the diagonal is last
      op.letters.erase(q, 1);
      op.letters.erase(p, 1);
      op.letters.push_back(c);
      again = true;
    }
  }
  std::vector<std::ptrdiff_t> summed;
  std::string rest;
  for (std::size_t i = 0; i < op.letters.size(); ++i)
    if (keep.find(op.letters[i]) == std::string::npos)
      summed.push_back(static_cast<std::ptrdiff_t>(i));
    else
      rest.push_back(op.letters[i]);
  if (!summed.empty()) op = {sum(op.x, summed), rest};
  return op;
}

// Splits "ab,bc->ac" into its operands' subscripts and the output's, checking the letters.
struct Parsed {
  std::vector<std::string> inputs;
  std::string output;
};
Parsed parse(const std::string& subscripts, const std::vector<const Tensor*>& operands) {
  auto fail = [&](const std::string& why) {
    return ValueError("xgrad::einsum: subscripts \"" + subscripts + "\": " + why);
  };
  std::string s;
  for (char c : subscripts)
    if (c != ' ') s.push_back(c);
  const std::size_t arrow = s.find("->");
  const std::string lhs = s.substr(0, arrow);
  Parsed p;
  for (std::size_t start = 0;;) {
    const std::size_t comma = lhs.find(',', start);
    p.inputs.push_back(lhs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (p.inputs.size() != operands.size())
    throw fail(std::to_string(p.inputs.size()) + " operand subscripts for " + std::to_string(operands.size()) +
               " operands");
  std::string all;
  for (std::size_t i = 0; i < p.inputs.size(); ++i) {
    for (char c : p.inputs[i])
      if (!std::isalpha(static_cast<unsigned char>(c)))
        throw fail(c == '.' ? "the ellipsis (...) is not supported" : std::string("'") + c + "' is not a letter");
    if (p.inputs[i].size() != operands[i]->ndim())
      throw ShapeError("xgrad::einsum: subscripts \"" + p.inputs[i] + "\" for an operand of shape " +
                       shape_str(operands[i]->shape()) + " (one letter per axis)");
    all += p.inputs[i];
  }
  if (arrow == std::string::npos) {  // implicit: the letters that appear once, in alphabetical order
    for (char c : all)
      if (std::count(all.begin(), all.end(), c) == 1) p.output.push_back(c);
    std::sort(p.output.begin(), p.output.end());
  } else {
    p.output = s.substr(arrow + 2);
    for (std::size_t i = 0; i < p.output.size(); ++i) {
      const char c = p.output[i];
      if (!std::isalpha(static_cast<unsigned char>(c))) throw fail(std::string("'") + c + "' in the output is not a letter");
      if (p.output.find(c, i + 1) != std::string::npos) throw fail(std::string("'") + c + "' repeats in the output");
      if (all.find(c) == std::string::npos) throw fail(std::string("'") + c + "' of the output labels no input axis");
    }
  }
  return p;
}

// The extent each letter labels, checked to agree across operands.
std::size_t extent_of(char c, const std::vector<Labeled>& ops) {
  std::size_t e = 0;
  bool seen = false;
  for (const auto& op : ops)
    for (std::size_t i = 0; i < op.letters.size(); ++i)
      if (op.letters[i] == c) {
        if (seen && op.x.shape()[i] != e)
          throw ShapeError(std::string("xgrad::einsum: letter '") + c + "' labels axes of extents " +
                           std::to_string(e) + " and " + std::to_string(op.x.shape()[i]));
        e = op.x.shape()[i];
        seen = true;
      }
  return e;
}

// The axes of op labelled by the letters of `which`, in that order.
std::vector<std::size_t> axes_of(const Labeled& op, const std::string& which) {
  std::vector<std::size_t> out;
  for (char c : which) out.push_back(op.letters.find(c));
  return out;
}

// The operand with its axes ordered as `target` (a permutation of its letters).
Tensor arrange(const Labeled& op, const std::string& target) { return permute(op.x, axes_of(op, target)); }

}  // namespace

Tensor tensordot(const Tensor& a, const Tensor& b, std::size_t axes) {
  if (axes > a.ndim() || axes > b.ndim())
    throw ShapeError("xgrad::tensordot: " + std::to_string(axes) + " axes to contract for operands of shapes " +
                     shape_str(a.shape()) + " and " + shape_str(b.shape()));
  std::vector<std::ptrdiff_t> aa, bb;
  for (std::size_t i = 0; i < axes; ++i) {
    aa.push_back(static_cast<std::ptrdiff_t>(a.ndim() - axes + i));
    bb.push_back(static_cast<std::ptrdiff_t>(i));
  }
  return tensordot(a, b, aa, bb);
}

Tensor tensordot(const Tensor& a, const Tensor& b, const std::vector<std::ptrdiff_t>& axes_a,
                 const std::vector<std::ptrdiff_t>& axes_b) {
  if (axes_a.size() != axes_b.size())
    throw ShapeError("xgrad::tensordot: " + std::to_string(axes_a.size()) + " axes of a against " +
                     std::to_string(axes_b.size()) + " of b");
  std::vector<std::size_t> ca, cb;
  for (std::size_t i = 0; i < axes_a.size(); ++i) {
    ca.push_back(normalize_axis(axes_a[i], a.ndim(), "tensordot"));
    cb.push_back(normalize_axis(axes_b[i], b.ndim(), "tensordot"));
    if (a.shape()[ca.back()] != b.shape()[cb.back()])
      throw ShapeError("xgrad::tensordot: axis " + std::to_string(ca.back()) + " of a (shape " + shape_str(a.shape()) +
                       ") and axis " + std::to_string(cb.back()) + " of b (shape " + shape_str(b.shape()) +
                       ") differ in extent");
  }
  std::vector<std::size_t> fa, fb;
  for (std::size_t d = 0; d < a.ndim(); ++d)
    if (std::find(ca.begin(), ca.end(), d) == ca.end()) fa.push_back(d);
  for (std::size_t d = 0; d < b.ndim(); ++d)
    if (std::find(cb.begin(), cb.end(), d) == cb.end()) fb.push_back(d);
  const auto ea = extents(a.shape(), fa), eb = extents(b.shape(), fb), ek = extents(a.shape(), ca);
  std::vector<std::size_t> pa = fa, pb = cb;
  pa.insert(pa.end(), ca.begin(), ca.end());
  pb.insert(pb.end(), fb.begin(), fb.end());
  const Tensor m = matmul(reshape(permute(a, pa), {product(ea), product(ek)}),
                          reshape(permute(b, pb), {product(ek), product(eb)}));
  std::vector<std::ptrdiff_t> out = ea;
  out.insert(out.end(), eb.begin(), eb.end());
  return reshape(m, out);
}

Tensor einsum(const std::string& subscripts, const Tensor& a) {
  const Parsed p = parse(subscripts, {&a});
  const Labeled s = simplify({a, p.inputs[0]}, p.output);
  return arrange(s, p.output);
}

Tensor einsum(const std::string& subscripts, const Tensor& a, const Tensor& b) {
  const Parsed p = parse(subscripts, {&a, &b});
  // Each operand keeps the letters the output or the other operand needs.
  Labeled la = simplify({a, p.inputs[0]}, p.output + p.inputs[1]);
  Labeled lb = simplify({b, p.inputs[1]}, p.output + la.letters);
  std::string batch, contract, free_a, free_b;
  for (char c : la.letters) {
    const bool in_b = lb.letters.find(c) != std::string::npos, in_out = p.output.find(c) != std::string::npos;
    (in_b ? (in_out ? batch : contract) : free_a).push_back(c);
  }
  for (char c : lb.letters)
    if (la.letters.find(c) == std::string::npos) free_b.push_back(c);
  const std::vector<Labeled> ops{la, lb};
  auto sizes = [&](const std::string& letters) {
    std::vector<std::ptrdiff_t> e;
    for (char c : letters) e.push_back(static_cast<std::ptrdiff_t>(extent_of(c, ops)));
    return e;
  };
  const auto eb = sizes(batch), em = sizes(free_a), en = sizes(free_b), ek = sizes(contract);
  const std::ptrdiff_t B = product(eb), M = product(em), N = product(en), K = product(ek);
  Tensor prod;
  if (batch.empty())
    prod = matmul(reshape(arrange(la, free_a + contract), {M, K}), reshape(arrange(lb, contract + free_b), {K, N}));
  else
    prod = matmul(reshape(arrange(la, batch + free_a + contract), {B, M, K}),
                  reshape(arrange(lb, batch + contract + free_b), {B, K, N}));
  std::vector<std::ptrdiff_t> shape = eb;
  shape.insert(shape.end(), em.begin(), em.end());
  shape.insert(shape.end(), en.begin(), en.end());
  return arrange({reshape(prod, shape), batch + free_a + free_b}, p.output);
}

}  // namespace xgrad
