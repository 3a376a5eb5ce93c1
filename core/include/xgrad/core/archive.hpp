#pragma once
// Pytree archives: save any pytree of arrays to a `.npz` file that numpy reads, and load it back into a tree of
// the same type (like equinox's tree_serialise_leaves / tree_deserialise_leaves).
//
//   tree::save("ridge.npz", model);                  // np.load("ridge.npz")["model.weight"] in Python
//   Ridge back = tree::load("ridge.npz", model);     // `model` gives the structure, shapes and static fields
//
// The file is a zip archive of stored (uncompressed) entries, one per leaf, named `<key path>.npy` with the key
// paths of tree::paths ("alpha.npy", "model.weight.npy", "layers[0].npy", "named['a'].npy"; a tree that is a
// single leaf has the key path "" and the entry ".npy"). Each entry is an NPY v1.0 file: dtype '<f8', C order, the
// leaf's shape, header padded with spaces to a multiple of 64 bytes. Entries carry fixed timestamps (1980-01-01),
// so saving the same tree twice gives the same bytes. ZIP64 is not written: an archive is limited to 65535 leaves
// and 4 GiB, and save says so rather than write a file it cannot describe.
//
// load reads archives written by save and by np.savez (not np.savez_compressed: compressed entries are refused).
// It accepts NPY versions 1.0-3.0, C or Fortran order, and the dtypes f8 (exact), f4 and i4 (converted exactly)
// and i8 (converted when every value is exactly representable as a double, |v| <= 2^53, refused otherwise), in
// either byte order. Everything else is a ValueError that names the key path and what differs.
//
// Every failure throws xgrad::ValueError: an archive whose entries do not match the tree (missing or extra
// entries, other shapes, unsupported dtypes; all differences are listed in one message), a file that is not a
// zip archive, is truncated or corrupt (bounds are checked before every read; every entry's CRC-32 is checked),
// and I/O errors. save writes to a temporary file in the same directory, flushes it to disk and renames it over
// `file`, so a crash never leaves a partly written archive under that name.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "xgrad/core/array.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/tree.hpp"

namespace xgrad::tree {

namespace detail {

/// Write `leaves` (key path, value) as a .npz archive at `file` (temporary file, then rename).
void write_npz(const std::string& file, const std::vector<std::pair<std::string, const Array*>>& leaves);

/// Read the leaves `expected` (key path, shape) from the archive at `file`, in that order. Throws ValueError
/// listing every difference between the archive and `expected`, or naming what is wrong with the file.
std::vector<Array> read_leaves(const std::string& file, const std::vector<std::pair<std::string, Shape>>& expected);

/// Every entry of a .npz archive, keyed by its name without ".npy" (the key path for archives written by save).
std::map<std::string, Array> read_npz(const std::string& file);

/// CRC-32 as zip, gzip and PNG use it (reflected polynomial 0xEDB88320), continuing from `crc`:
/// crc32(b, crc32(a)) == crc32(a + b), crc32("123456789") == 0xCBF43926.
std::uint32_t crc32(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace detail

/// Save the leaves of `tree` to `file` as a .npz archive, one `<key path>.npy` entry per leaf.
template <class T>
void save(const std::string& file, const T& tree) {
  std::vector<std::pair<std::string, const Array*>> leaves;
  for_each_with_path([&](const std::string& path, const auto& leaf) { leaves.emplace_back(path, &leaf_value(leaf)); },
                     tree);
  detail::write_npz(file, leaves);
}

/// A tree of T's type whose leaves are read from the archive at `file`. `like` gives the structure, the leaf
/// shapes the archive must have, and every static field. The archive must hold exactly the leaves of `like`.
template <class T>
T load(const std::string& file, const T& like) {
  std::vector<std::pair<std::string, Shape>> expected;
  for_each_with_path([&](const std::string& path, const auto& leaf) {
    expected.emplace_back(path, shape_of(leaf_value(leaf)));
  }, like);
  std::vector<Array> values = detail::read_leaves(file, expected);
  T out = like;
  std::size_t i = 0;
  detail::Walk walk{"load", {}};
  auto assign = [&](const std::string&, auto& leaf) {
    leaf = leaf_traits<std::remove_cvref_t<decltype(leaf)>>::from_array(std::move(values[i++]));
  };
  walk(assign, out);
  return out;
}

}  // namespace xgrad::tree
