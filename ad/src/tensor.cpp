#include "xgrad/ad/tensor.hpp"

#include <string>

#include <xtensor/xio.hpp>

#include "xgrad/ad/access.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad {

namespace {
const std::shared_ptr<const Array>& shared_zero() {
  static const std::shared_ptr<const Array> zero = std::make_shared<Array>(0.0);
  return zero;
}
}  // namespace

// Every array is created non-const (make_shared<Array>), so that a backward pass may overwrite a cotangent it holds
// the only reference to (Sweep::add, the fused rules) without modifying a const object.
Tensor::Tensor() : value_(shared_zero()) {}
Tensor::Tensor(double v) : value_(std::make_shared<Array>(v)) {}
Tensor::Tensor(Array v) : value_(std::make_shared<Array>(std::move(v))) {}
Tensor::Tensor(std::shared_ptr<const Array> v) : value_(std::move(v)) {
  if (!value_) throw MisuseError("xgrad::Tensor: constructed from a null array pointer");
}

double Tensor::item() const {
  if (value_->size() != 1) {
    std::string msg = "xgrad::Tensor::item: the tensor has shape ";
    msg += shape_str(shape());
    msg += "; item() needs exactly one element";
    throw MisuseError(msg);
  }
  return *value_->data();
}

bool Tensor::is_traced() const { return ad::tensor_is_traced(*this); }

std::ostream& operator<<(std::ostream& os, const Tensor& t) {
  os << "Tensor(" << t.value();
  if (t.is_traced()) os << ", traced";
  return os << ")";
}

Tensor stop_gradient(const Tensor& x) { return Tensor(x.shared_value()); }

}  // namespace xgrad
