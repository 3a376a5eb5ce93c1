#pragma once
// Shared by the examples: the datasets of examples/data/ (see its README.md) read into xgrad Arrays with xtensor's
// CSV reader. Not part of the library.
//
//   auto [X, y] = example::split_xy(example::load_csv(example::data_path("digits.csv")));
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <xgrad/xgrad.hpp>
#include <xtensor/xcsv.hpp>
#include <xtensor/xview.hpp>

// examples/CMakeLists.txt sets this to examples/data, so an example finds its data from any working directory.
#ifndef XGRAD_EXAMPLES_DATA
#error "XGRAD_EXAMPLES_DATA (the examples/data folder) is not defined: build the examples with examples/CMakeLists.txt"
#endif

namespace example {

/// The full path of a file in examples/data: data_path("digits.csv").
inline std::string data_path(const std::string& file) {
  std::string path = XGRAD_EXAMPLES_DATA;
  path += "/";
  path += file;
  return path;
}

/// A CSV file of numbers with one header line, as a 2-D Array (rows x columns). Throws std::runtime_error naming
/// the path when the file cannot be opened, has no data rows, or is not a table of numbers.
inline xgrad::Array load_csv(const std::string& path) {
  auto fail = [&](const std::string& why) {
    std::string msg = "load_csv: ";
    msg += path;
    msg += ": ";
    msg += why;
    return std::runtime_error(msg);
  };
  std::ifstream in(path);
  if (!in) throw fail("cannot open the file (missing or unreadable)");
  xgrad::Array table;
  try {
    table = xt::load_csv<double>(in, ',', 1);
  } catch (const std::exception& e) {  // std::stod's invalid_argument, or xtensor's "Inconsistent row lengths"
    std::string why = "not a CSV table of numbers after its header line (";
    why += e.what();
    why += ")";
    throw fail(why);
  }
  if (table.dimension() != 2 || table.shape()[0] == 0 || table.shape()[1] == 0) throw fail("no data rows");
  return table;
}

/// Features and target of a table whose last column is the target: X = all other columns, y = the last one.
struct Dataset {
  xgrad::Array X, y;
};
inline Dataset split_xy(const xgrad::Array& table) {
  if (table.dimension() != 2 || table.shape()[1] < 2) {
    std::string msg = "split_xy: need a 2-D table with at least two columns, got shape ";
    msg += xgrad::shape_str(xgrad::shape_of(table));
    throw std::runtime_error(msg);
  }
  const std::size_t last = table.shape()[1] - 1;
  return {xt::view(table, xt::all(), xt::range(0, last)), xt::view(table, xt::all(), last)};
}

/// Fraction of rows of `logits` (examples x classes) whose largest entry is at the column `labels` gives.
/// (A loop: GCC 12 warns inside xt::argmax(a, axis).)
inline double accuracy(const xgrad::Array& logits, const xgrad::Array& labels) {
  std::size_t right = 0;
  for (std::size_t i = 0; i < logits.shape()[0]; ++i) {
    std::size_t best = 0;
    for (std::size_t k = 1; k < logits.shape()[1]; ++k) best = logits(i, k) > logits(i, best) ? k : best;
    right += double(best) == labels(i);
  }
  return double(right) / double(labels.size());
}

}  // namespace example
