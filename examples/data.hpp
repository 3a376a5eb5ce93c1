#pragma once
// Shared by the examples: the datasets of examples/data/ (see its README.md) read into xgrad Arrays with xtensor's
// CSV reader. Not part of the library.
//
//   auto [X, y] = example::split_xy(example::load_csv(example::data_path("digits.csv")));
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>
#include <xtensor/xadapt.hpp>
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

/// A uint8 NumPy file (.npy version 1 or 2, C order, dtype '|u1') as an Array of doubles, with its shape. Throws
/// std::runtime_error naming the path when the file is missing, truncated or of another dtype or order.
inline xgrad::Array load_npy_u8(const std::string& path) {
  auto fail = [&](const std::string& why) { return std::runtime_error("load_npy_u8: " + path + ": " + why); };
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail("cannot open the file (missing or unreadable)");
  char magic[8];
  if (!in.read(magic, 8) || std::string(magic, 6) != "\x93NUMPY") throw fail("not a .npy file");
  std::uint32_t header_len = 0;
  unsigned char len[4] = {0, 0, 0, 0};
  if (!in.read(reinterpret_cast<char*>(len), magic[6] == 1 ? 2 : 4)) throw fail("truncated header");
  header_len = len[0] | (len[1] << 8) | (std::uint32_t(len[2]) << 16) | (std::uint32_t(len[3]) << 24);
  std::string header(header_len, ' ');
  if (header_len > (1u << 20) || !in.read(header.data(), header_len)) throw fail("truncated header");
  if (header.find("'descr': '|u1'") == std::string::npos) throw fail("dtype is not uint8 ('|u1')");
  if (header.find("'fortran_order': False") == std::string::npos) throw fail("not in C order");
  const auto open = header.find("'shape': ("), close = header.find(')', open);
  if (open == std::string::npos || close == std::string::npos) throw fail("no shape in the header");
  xgrad::Shape shape;
  std::size_t size = 1;
  for (std::size_t i = open + 10; i < close;) {
    if (!std::isdigit(static_cast<unsigned char>(header[i]))) {
      ++i;
      continue;
    }
    std::size_t used = 0;
    const auto extent = std::stoull(header.substr(i), &used);
    if (extent > (std::size_t(1) << 40)) throw fail("an extent is too large");
    shape.push_back(extent);
    size *= extent;
    i += used;
  }
  if (size > (std::size_t(1) << 34)) throw fail("too large");
  std::vector<unsigned char> bytes(size);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)))
    throw fail("truncated data (" + std::to_string(size) + " bytes expected)");
  xgrad::Array out = xgrad::Array::from_shape(shape);
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

#ifdef XGRAD_MNIST_DIR
/// The 10 000 MNIST digits that scripts/fetch-mnist.sh installs (`make test` and `make demo` run it): images
/// (10000, 784) with grey levels in [0, 1], labels (10000,) in 0..9.
struct Mnist {
  xgrad::Array images, labels;
};
inline Mnist load_mnist() {
  const std::string dir = XGRAD_MNIST_DIR;
  try {
    Mnist m{load_npy_u8(dir + "/mnist_images_u8.npy") / 255.0, load_npy_u8(dir + "/mnist_labels_u8.npy")};
    if (m.images.dimension() != 2 || m.images.shape()[1] != 784 || m.labels.dimension() != 1 ||
        m.labels.size() != m.images.shape()[0])
      throw std::runtime_error("load_mnist: " + dir + ": expected images (n, 784) and labels (n,)");
    return m;
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(std::string(e.what()) + " (run scripts/fetch-mnist.sh, or make deps)");
  }
}

/// MNIST split at random (a fixed key) into four disjoint pools: meta-training (6000 digits), tuning (2000: the
/// baselines' learning-rate sweeps), held-out (1500: the evaluation tasks' minibatches) and test (500: the accuracy
/// of the networks the evaluation trains; no optimizer ever sees them).
struct MnistPools {
  Mnist meta, tuning, held_out, test;
};
inline MnistPools mnist_pools(const Mnist& all) {
  const auto order = xgrad::random::permutation(xgrad::random::key(28 * 28), all.labels.size());
  const std::size_t n = order.size(), a = n * 60 / 100, b = n * 80 / 100, c = n * 95 / 100;
  auto take = [&](std::size_t lo, std::size_t hi) {
    Mnist m{xgrad::Array::from_shape({hi - lo, 784}), xgrad::Array::from_shape({hi - lo})};
    for (std::size_t i = lo; i < hi; ++i) {
      std::copy_n(all.images.data() + order[i] * 784, 784, m.images.data() + (i - lo) * 784);
      m.labels(i - lo) = all.labels(order[i]);
    }
    return m;
  };
  return {take(0, a), take(a, b), take(b, c), take(c, n)};
}
#endif

#ifdef XGRAD_CO2_DIR
/// The Mauna Loa CO2 record that scripts/fetch-co2.sh installs (`make test` and `make demo` run it): monthly means
/// from March 1958 to April 2020 (741 months; a few are missing), t the middle of each month in years, ppm the
/// monthly mean CO2 mole fraction.
struct Co2 {
  xgrad::Array t, ppm;
};
inline Co2 load_co2() {
  const std::string file = std::string(XGRAD_CO2_DIR) + "/co2-concentration.csv";
  std::ifstream in(file);
  if (!in) throw std::runtime_error("load_co2: cannot open " + file + " (run scripts/fetch-co2.sh, or make deps)");
  std::string line;
  std::getline(in, line);  // Date,CO2,adjusted CO2
  std::vector<double> t, ppm;
  while (std::getline(in, line)) {
    int year = 0, month = 0, day = 0;
    double value = 0.0, adjusted = 0.0;
    if (std::sscanf(line.c_str(), "%d-%d-%d,%lf,%lf", &year, &month, &day, &value, &adjusted) != 5)
      throw std::runtime_error("load_co2: " + file + ": cannot read the line '" + line + "'");
    t.push_back(year + (month - 0.5) / 12.0);
    ppm.push_back(value);
  }
  const std::vector<std::size_t> shape{t.size()};
  return {xt::adapt(t, shape), xt::adapt(ppm, shape)};
}
#endif

}  // namespace example
