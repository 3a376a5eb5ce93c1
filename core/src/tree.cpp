#include "xgrad/core/tree.hpp"

namespace xgrad::tree::detail {

std::vector<std::string> split_names(std::string_view list) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : list) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != ' ' && c != '\t' && c != '\n') {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string short_type_name(std::string_view full) {
  // Drop every "ns::" qualifier that is outside template arguments: "a::b::C<d::E>" -> "C<d::E>".
  int depth = 0;
  std::size_t start = 0;
  for (std::size_t i = 0; i < full.size(); ++i) {
    char c = full[i];
    if (c == '<' || c == '(') ++depth;
    if (c == '>' || c == ')') --depth;
    if (depth == 0 && c == ':' && i + 1 < full.size() && full[i + 1] == ':') start = i + 2;
  }
  return std::string(full.substr(start));
}

void print_leaf_shape(std::ostream& os, const Array& a) {
  os << "f64[";
  for (std::size_t i = 0; i < a.dimension(); ++i) os << (i ? "," : "") << a.shape()[i];
  os << ']';
}

}  // namespace xgrad::tree::detail
