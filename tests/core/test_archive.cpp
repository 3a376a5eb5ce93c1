#include <doctest/doctest.h>

#include <xgrad/core/archive.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

using namespace xgrad;
namespace fs = std::filesystem;

namespace arch {
struct Linear {
  Array weight;
  Array bias;
};
struct Ridge {
  Array alpha;
  Linear model;
};
struct RidgeWithOffset {
  Array alpha;
  Linear model;
  Array offset;
};
struct Block {
  Linear lin;
  std::vector<Array> layers;
  std::map<std::string, Array> named;
  std::optional<Array> maybe;
  std::tuple<Array, int, Array> tup;
  int width = 4;
  std::string name = "block";
};
struct Model {
  Array scale;
  Block block;
  std::vector<Linear> heads;
  double lr = 0.1;
};
struct One {
  Array w;
};
}  // namespace arch

namespace {

// A fresh directory under the system's temporary directory, removed with its contents at scope exit.
struct TempDir {
  fs::path dir;
  TempDir() {
    std::random_device rd;
    dir = fs::temp_directory_path() / ("xgrad_test_archive_" + std::to_string(rd()) + std::to_string(rd()));
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (dir / name).string(); }
  std::size_t count() const { return static_cast<std::size_t>(std::distance(fs::directory_iterator(dir), {})); }
};

std::string read_bytes(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
void write_bytes(const std::string& file, const std::string& bytes) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// An array of the given shape holding distinct, non-round values (so that any lost bit shows).
Array values(const Shape& shape, double start) {
  Array a = Array::from_shape(shape);
  for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = start + static_cast<double>(i) / 3.0;
  return a;
}
// Same shape and the same bits in every element (so NaN and -0.0 compare as saved).
bool same_bits(const Array& a, const Array& b) {
  if (a.shape() != b.shape()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::bit_cast<std::uint64_t>(a.data()[i]) != std::bit_cast<std::uint64_t>(b.data()[i])) return false;
  return true;
}
template <class T>
bool same_leaves(const T& a, const T& b) {
  bool same = true;
  tree::for_each([&](const Array& x, const Array& y) { same = same && same_bits(x, y); }, a, b);
  return same;
}

arch::Model sample_model() {
  arch::Model m;
  m.scale = Array(0.5);  // 0-d
  m.block.lin = {values({2, 3}, 1.0), values({3}, -2.0)};
  m.block.layers = {Array::from_shape({0}), Array::from_shape({2, 0}), values({2, 1, 3}, 7.0)};
  m.block.named = {{"b", values({1}, 3.0)}, {"a", values({4}, -1.0)}};
  m.block.maybe = values({2, 2}, 0.25);
  m.block.tup = {values({5}, 11.0), 42, Array(-0.0)};
  m.block.width = 8;
  m.block.name = "saved";
  m.heads = {{values({1, 2}, 0.0), values({1}, 1.0)}, {values({1, 2}, 2.0), values({1}, 3.0)}};
  m.lr = 0.01;
  return m;
}

// Little-endian fields, for archives assembled by hand below.
std::string le(std::uint64_t v, int bytes) {
  std::string out;
  for (int k = 0; k < bytes; ++k) out += static_cast<char>((v >> (8 * k)) & 0xFF);
  return out;
}
// A minimal stored zip of (name, bytes) entries; `zip64_local` adds a ZIP64 extra field with 0xFFFFFFFF sizes to
// each local header, as Python's zipfile (and so np.savez) does.
std::string zip_of(const std::vector<std::pair<std::string, std::string>>& entries, bool zip64_local = false) {
  std::string body, central;
  for (const auto& [name, data] : entries) {
    const auto crc = tree::detail::crc32(data);
    const std::string extra = zip64_local ? le(1, 2) + le(16, 2) + le(data.size(), 8) + le(data.size(), 8) : "";
    const std::uint64_t size32 = zip64_local ? 0xFFFFFFFF : data.size();
    central += le(0x02014b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) +
               le(data.size(), 4) + le(data.size(), 4) + le(name.size(), 2) + le(0, 2) + le(0, 2) + le(0, 2) +
               le(0, 2) + le(0, 4) + le(body.size(), 4) + name;
    body += le(0x04034b50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(crc, 4) + le(size32, 4) +
            le(size32, 4) + le(name.size(), 2) + le(extra.size(), 2) + name + extra + data;
  }
  return body + central + le(0x06054b50, 4) + le(0, 4) + le(entries.size(), 2) + le(entries.size(), 2) +
         le(central.size(), 4) + le(body.size(), 4) + le(0, 2);
}
// An NPY v1.0 file with the given header dict and raw data, padded as numpy pads.
std::string npy_of(const std::string& dict, const std::string& data) {
  const std::size_t total = (10 + dict.size() + 1 + 63) / 64 * 64;
  return std::string("\x93NUMPY\x01\x00", 8) + le(total - 10, 2) + dict + std::string(total - 11 - dict.size(), ' ') +
         "\n" + data;
}

}  // namespace

TEST_CASE("CRC-32 matches the standard check values") {
  using tree::detail::crc32;
  CHECK(crc32("") == 0u);
  CHECK(crc32("123456789") == 0xCBF43926u);  // the catalogue's check value for CRC-32/ISO-HDLC
  CHECK(crc32("The quick brown fox jumps over the lazy dog") == 0x414FA339u);
  CHECK(crc32("56789", crc32("1234")) == 0xCBF43926u);  // continues across calls
}

TEST_CASE("round trip of nested structs and containers: values exact, static fields from `like`") {
  TempDir tmp;
  const std::string file = tmp.file("model.npz");
  const arch::Model saved = sample_model();
  tree::save(file, saved);
  CHECK(tmp.count() == 1);  // the temporary file was renamed, not left behind

  // One entry per leaf, named by its key path.
  const auto entries = tree::detail::read_npz(file);
  const auto paths = tree::paths(saved);
  CHECK(paths.size() == 15);
  REQUIRE(entries.size() == paths.size());
  for (const auto& p : paths) CHECK_MESSAGE(entries.count(p) == 1, p);
  CHECK(entries.count("block.named['a']") == 1);
  CHECK(entries.count("block.tup[2]") == 1);
  CHECK(entries.at("scale").dimension() == 0);
  CHECK(entries.at("block.layers[1]").shape() == Array::shape_type{2, 0});

  // `like` has the structure and shapes, other values and other static fields.
  arch::Model like = tree::zeros_like(saved);
  like.block.width = 99;
  like.block.name = "like";
  std::get<1>(like.block.tup) = -1;
  like.lr = 1.0;
  const arch::Model back = tree::load(file, like);
  CHECK(same_leaves(back, saved));
  CHECK(tree::repr(back) == tree::repr(like));
  CHECK(back.block.width == 99);
  CHECK(back.block.name == "like");
  CHECK(std::get<1>(back.block.tup) == -1);
  CHECK(back.lr == 1.0);
  CHECK(std::signbit(std::get<2>(back.block.tup)()));  // -0.0 stays -0.0
  CHECK(back.block.lin.weight(1, 2) == saved.block.lin.weight(1, 2));
}

TEST_CASE("special values survive bit for bit; saving is deterministic and overwrites") {
  TempDir tmp;
  const std::string file = tmp.file("special.npz");
  arch::One one{Array{0.1, -0.0, std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                      std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max(),
                      std::numeric_limits<double>::quiet_NaN()}};
  tree::save(file, one);
  const std::string first = read_bytes(file);
  CHECK(same_bits(tree::load(file, arch::One{Array::from_shape({7})}).w, one.w));
  tree::save(file, arch::One{Array{1.0}});  // overwrite with something else
  CHECK(read_bytes(file) != first);
  tree::save(file, one);
  CHECK(read_bytes(file) == first);
  CHECK(tmp.count() == 1);
  CHECK_THROWS_WITH_AS(tree::save(tmp.file("no/such/dir.npz"), one), doctest::Contains("cannot create"), ValueError);

  // A tree that is a single leaf, and a tree with no leaves.
  tree::save(file, Array(3.0));
  CHECK(tree::detail::read_npz(file).count("") == 1);
  CHECK(tree::load(file, Array(0.0))() == 3.0);
  tree::save(file, std::vector<Array>{});
  CHECK(read_bytes(file).size() == 22);  // only the end-of-central-directory record
  CHECK(tree::load(file, std::vector<Array>{}).empty());
}

TEST_CASE("golden bytes of a one-leaf archive, derived by hand from the NPY and zip specifications") {
  TempDir tmp;
  const std::string file = tmp.file("one.npz");
  tree::save(file, arch::One{Array{1.0, 2.0}});

  // NPY v1.0: magic "\x93NUMPY", version 1 0, HEADER_LEN as uint16 LE, then the dict. The dict
  // "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }" is 57 characters; 10 + 57 + 1 ('\n') = 68,
  // padded to 128 with 60 spaces, so HEADER_LEN = 128 - 10 = 118 = 0x76.
  const std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
  REQUIRE(dict.size() == 57);
  const std::string header =
      std::string("\x93NUMPY\x01\x00\x76\x00", 10) + dict + std::string(60, ' ') + "\n";
  REQUIRE(header.size() == 128);
  // 1.0 = 0x3FF0000000000000 and 2.0 = 0x4000000000000000, little-endian.
  const std::string data = std::string("\0\0\0\0\0\0\xF0\x3F", 8) + std::string("\0\0\0\0\0\0\0\x40", 8);
  const std::string npy = header + data;  // 144 = 0x90 bytes
  const std::string crc = le(tree::detail::crc32(npy), 4);

  // Local file header (30 bytes + "w.npy"): signature, version 2.0, flags 0, stored, time 0, date 1980-01-01
  // (0x0021), CRC, sizes 0x90 twice, name length 5, extra length 0.
  const std::string local = std::string("PK\x03\x04\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00", 14) + crc +
                            std::string("\x90\0\0\0\x90\0\0\0\x05\0\0\0", 12) + "w.npy";
  // Central directory header at 35 + 144 = 179 (46 bytes + name): made by UNIX 2.0 (0x0314), needs 2.0, the same
  // fields, comment length 0, disk 0, internal attributes 0, external 0100644 << 16, local header offset 0.
  const std::string central = std::string("PK\x01\x02\x14\x03\x14\x00\x00\x00\x00\x00\x00\x00\x21\x00", 16) + crc +
                              std::string("\x90\0\0\0\x90\0\0\0\x05\0\0\0\0\0\0\0\0\0\0\0\xA4\x81\0\0\0\0", 26) +
                              "w.npy";
  // End of central directory: disks 0, 1 entry twice, directory size 51 (0x33) at offset 179 (0xB3), no comment.
  const std::string end = std::string("PK\x05\x06\0\0\0\0\x01\0\x01\0\x33\0\0\0\xB3\0\0\0\0\0", 22);

  const std::string bytes = read_bytes(file);
  CHECK(bytes.size() == 252);
  CHECK(bytes.substr(35, 128) == header);
  CHECK(bytes == local + npy + central + end);
}

TEST_CASE("NPY headers: 0-d, 2-d and empty shapes") {
  TempDir tmp;
  const std::string file = tmp.file("shapes.npz");
  tree::save(file, std::make_tuple(Array(1.0), values({2, 3}, 0.0), Array::from_shape({2, 0})));
  const std::string bytes = read_bytes(file);
  auto header_of = [&](const std::string& name) {
    const std::size_t at = bytes.find(name) + name.size();  // the first occurrence is the local header's name
    return bytes.substr(at, 128);
  };
  // "(), }" closes the dict at 55 characters: 66 -> 128, 62 spaces. "(2, 3), }" at 59: 70 -> 128, 58 spaces.
  CHECK(header_of("[0].npy") == std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                                    "{'descr': '<f8', 'fortran_order': False, 'shape': (), }" +
                                    std::string(62, ' ') + "\n");
  CHECK(header_of("[1].npy") == std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                                    "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }" +
                                    std::string(58, ' ') + "\n");
  CHECK(header_of("[2].npy").find("'shape': (2, 0), }") != std::string::npos);
}

TEST_CASE("mismatches name the key path and what differs") {
  TempDir tmp;
  const std::string file = tmp.file("ridge.npz");
  tree::save(file, arch::Ridge{Array(1.0), {values({2, 3}, 0.0), values({2}, 0.0)}});

  SUBCASE("shape") {
    arch::Ridge like{Array(0.0), {Array::from_shape({1, 10}), Array::from_shape({2})}};
    CHECK_THROWS_WITH_AS(tree::load(file, like),
                         doctest::Contains("'model.weight' has shape (2,3) in the archive, (1,10) expected"),
                         ValueError);
    like = {Array::from_shape({1}), {Array::from_shape({2, 3}), Array::from_shape({2})}};
    CHECK_THROWS_WITH_AS(tree::load(file, like),
                         doctest::Contains("'alpha' has shape () in the archive, (1) expected"), ValueError);
  }
  SUBCASE("missing entry") {
    arch::RidgeWithOffset like{Array(0.0), {Array::from_shape({2, 3}), Array::from_shape({2})}, Array(0.0)};
    CHECK_THROWS_WITH_AS(tree::load(file, like), doctest::Contains("missing entries 'offset'"), ValueError);
  }
  SUBCASE("extra entry") {
    tree::save(file, arch::RidgeWithOffset{Array(0.0), {values({2, 3}, 0.0), values({2}, 0.0)}, Array(0.0)});
    arch::Ridge like{Array(0.0), {Array::from_shape({2, 3}), Array::from_shape({2})}};
    CHECK_THROWS_WITH_AS(tree::load(file, like), doctest::Contains("extra entries 'offset'"), ValueError);
  }
  SUBCASE("every difference in one message") {
    std::map<std::string, Array> like{{"a", Array(0.0)}};
    CHECK_THROWS_WITH_AS(tree::load(file, like),
                         doctest::Contains("missing entries '['a']'; extra entries 'alpha', 'model.bias', "
                                           "'model.weight'"),
                         ValueError);
    std::vector<Array> longer{Array(0.0), Array(0.0)}, shorter{Array(0.0)};
    tree::save(file, longer);
    CHECK_THROWS_WITH_AS(tree::load(file, shorter), doctest::Contains("extra entries '[1]'"), ValueError);
    std::optional<Array> set = Array(0.0), unset;
    tree::save(file, unset);
    CHECK_THROWS_WITH_AS(tree::load(file, set), doctest::Contains("missing entries ''"), ValueError);
  }
}

TEST_CASE("files that are not archives, truncated or corrupt give ValueError") {
  TempDir tmp;
  const std::string file = tmp.file("c.npz");
  const arch::Ridge saved{Array(1.0), {values({2, 3}, 0.0), values({2}, 5.0)}};
  const arch::Ridge like = tree::zeros_like(saved);
  tree::save(file, saved);
  const std::string good = read_bytes(file);

  CHECK_THROWS_WITH_AS(tree::load(tmp.file("absent.npz"), like), doctest::Contains("no such file"), ValueError);
  CHECK_THROWS_WITH_AS(tree::load(tmp.dir.string(), like), doctest::Contains("not a regular file"), ValueError);
  write_bytes(file, "hello, world\n");
  CHECK_THROWS_WITH_AS(tree::load(file, like), doctest::Contains("not a zip"), ValueError);
  write_bytes(file, npy_of("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", le(0, 8)));
  CHECK_THROWS_WITH_AS(tree::load(file, like), doctest::Contains("single .npy file"), ValueError);

  SUBCASE("every truncation") {
    for (std::size_t n = 0; n < good.size(); ++n) {
      write_bytes(file, good.substr(0, n));
      CHECK_THROWS_AS(tree::load(file, like), ValueError);
    }
    write_bytes(file, good.substr(0, good.size() - 1));
    CHECK_THROWS_WITH_AS(tree::load(file, like), doctest::Contains("truncated or corrupt"), ValueError);
  }
  SUBCASE("a flipped data byte fails the CRC") {
    std::string bad = good;
    const std::size_t at = bad.find("alpha.npy") + 9 + 128;  // the first byte of alpha's value
    bad[at] = static_cast<char>(bad[at] ^ 0x01);
    write_bytes(file, bad);
    CHECK_THROWS_WITH_AS(tree::load(file, like), doctest::Contains("CRC-32 mismatch in entry 'alpha.npy'"),
                         ValueError);
  }
  SUBCASE("every flipped byte: an error or the exact values, never a crash") {
    for (std::size_t i = 0; i < good.size(); ++i) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ 0xFF);
      write_bytes(file, bad);
      std::optional<arch::Ridge> back;
      try {
        back = tree::load(file, like);
      } catch (const ValueError&) {
        continue;
      }
      CHECK_MESSAGE(same_leaves(*back, saved), "byte ", i);  // the flip hit a field that load does not use
    }
  }
  SUBCASE("random bytes after a zip signature") {
    std::mt19937 gen(7);
    for (int trial = 0; trial < 200; ++trial) {
      std::string junk = "PK\x03\x04";
      junk.resize(4 + gen() % 300);
      for (std::size_t i = 4; i < junk.size(); ++i) junk[i] = static_cast<char>(gen() & 0xFF);
      write_bytes(file, junk);
      CHECK_THROWS_AS(tree::load(file, like), ValueError);
    }
  }
}

TEST_CASE("archives written elsewhere: np.savez's ZIP64 local headers, other dtypes, Fortran order") {
  TempDir tmp;
  const std::string file = tmp.file("foreign.npz");
  auto f8 = [](std::initializer_list<double> xs) {
    std::string out;
    for (double x : xs) out += le(std::bit_cast<std::uint64_t>(x), 8);
    return out;
  };

  // np.savez({"w": [[1, 2, 3], [4, 5, 6]]}) in Fortran order, with Python zipfile's ZIP64 extra fields.
  write_bytes(file, zip_of({{"w.npy", npy_of("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }",
                                             f8({1, 4, 2, 5, 3, 6}))}},
                           true));
  const Array w = tree::load(file, arch::One{Array::from_shape({2, 3})}).w;
  CHECK(same_bits(w, Array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}));

  // '<f4', '<i4', '<i8' and '>f8' convert exactly.
  const std::string f4 = le(std::bit_cast<std::uint32_t>(0.1f), 4) + le(std::bit_cast<std::uint32_t>(-2.5f), 4);
  write_bytes(file, zip_of({{"w.npy", npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4)}}));
  CHECK(same_bits(tree::load(file, arch::One{Array::from_shape({2})}).w,
                  Array{static_cast<double>(0.1f), -2.5}));
  write_bytes(file, zip_of({{"w.npy", npy_of("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                                             le(static_cast<std::uint32_t>(-7), 4) + le(9, 4))}}));
  CHECK(same_bits(tree::load(file, arch::One{Array::from_shape({2})}).w, Array{-7.0, 9.0}));
  const std::int64_t big = std::int64_t{1} << 53;
  write_bytes(file, zip_of({{"w.npy", npy_of("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
                                             le(static_cast<std::uint64_t>(-big), 8) + le(3, 8))}}));
  CHECK(same_bits(tree::load(file, arch::One{Array::from_shape({2})}).w, Array{-9007199254740992.0, 3.0}));
  write_bytes(file, zip_of({{"w.npy", npy_of("{'descr': '<i8', 'fortran_order': False, 'shape': (), }",
                                             le(static_cast<std::uint64_t>(big + 1), 8))}}));
  CHECK_THROWS_WITH_AS(tree::load(file, arch::One{Array(0.0)}), doctest::Contains("has no exact double"),
                       ValueError);
  std::string be8 = f8({1.5});
  std::reverse(be8.begin(), be8.end());
  write_bytes(file, zip_of({{"w.npy", npy_of("{'shape': (1,), 'fortran_order': False, 'descr': '>f8'}", be8)}}));
  CHECK(tree::load(file, arch::One{Array::from_shape({1})}).w(0) == 1.5);

  // Unsupported dtypes, malformed headers, short data and entries that are not .npy files are named.
  write_bytes(file, zip_of({{"w.npy", npy_of("{'descr': '<c16', 'fortran_order': False, 'shape': (), }",
                                             std::string(16, '\0'))}}));
  CHECK_THROWS_WITH_AS(tree::load(file, arch::One{Array(0.0)}), doctest::Contains("'w' has dtype '<c16'"),
                       ValueError);
  write_bytes(file, zip_of({{"w.npy", npy_of("{'descr': '<f8', 'fortran_order': False, 'shape': (3), }", f8({1}))}}));
  CHECK_THROWS_WITH_AS(tree::load(file, arch::One{Array(0.0)}), doctest::Contains("'w' has a malformed NPY header"),
                       ValueError);
  write_bytes(file, zip_of({{"w.npy", npy_of("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", f8({1}))}}));
  CHECK_THROWS_WITH_AS(tree::load(file, arch::One{Array::from_shape({2})}), doctest::Contains("needs 2 x 8 bytes"),
                       ValueError);
  write_bytes(file, zip_of({{"w.npy", npy_of("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", f8({1}))},
                            {"notes.txt", "hi"}}));
  CHECK_THROWS_WITH_AS(tree::load(file, arch::One{Array(0.0)}), doctest::Contains("extra entries 'notes.txt'"),
                       ValueError);
}

// ---------------------------------------------------------------------------------------------------------------
// A corpus of corrupted archives, built here from archives that save wrote (no binary files in the repository).
// The contract for every one: load throws ValueError, or returns exactly the saved values. Any other exception
// fails the check; a crash or an out-of-bounds read fails the ASan build.

namespace {

// What happened when loading one corrupted archive.
enum class Outcome { value_error, same_values, other };

// Unlinked first: ext4 flushes a file that is truncated and rewritten to disk on close (auto_da_alloc), which
// made the corpus wait on the disk tens of thousands of times.
void rewrite(const std::string& file, const std::string& bytes) {
  fs::remove(file);
  write_bytes(file, bytes);
}

template <class T>
Outcome try_load(const std::string& file, const T& saved, std::string& what) {
  try {
    const T back = tree::load(file, tree::zeros_like(saved));
    if (same_leaves(back, saved)) return Outcome::same_values;
    what = "loaded values that differ from the saved ones";
  } catch (const ValueError&) {
    return Outcome::value_error;
  } catch (const std::exception& e) {
    what = std::string("threw another exception: ") + e.what();
  } catch (...) {
    what = "threw a non-std exception";
  }
  return Outcome::other;
}

// The byte layout of an archive written by save: offsets of each local header, central header and the end record.
struct Layout {
  std::vector<std::size_t> local, central;
  std::size_t end = 0;
};
Layout layout_of(const std::string& zip) {
  auto get = [&](std::size_t at, int n) {
    std::uint64_t v = 0;
    for (int k = n; k-- > 0;) v = (v << 8) | static_cast<unsigned char>(zip[at + static_cast<std::size_t>(k)]);
    return static_cast<std::size_t>(v);
  };
  Layout out;
  out.end = zip.size() - 22;
  std::size_t p = get(out.end + 16, 4);
  for (std::size_t i = 0; i < get(out.end + 10, 2); ++i) {
    out.central.push_back(p);
    out.local.push_back(get(p + 42, 4));
    p += 46 + get(p + 28, 2);
  }
  return out;
}

// (offset, width) of every field of the zip records save writes (APPNOTE 4.3.7, 4.3.12, 4.3.16).
constexpr std::pair<std::size_t, int> local_fields[] = {{0, 4},  {4, 2},  {6, 2},  {8, 2},  {10, 2}, {12, 2},
                                                        {14, 4}, {18, 4}, {22, 4}, {26, 2}, {28, 2}};
constexpr std::pair<std::size_t, int> central_fields[] = {{0, 4},  {4, 2},  {6, 2},  {8, 2},  {10, 2}, {12, 2},
                                                          {14, 2}, {16, 4}, {20, 4}, {24, 4}, {28, 2}, {30, 2},
                                                          {32, 2}, {34, 2}, {36, 2}, {38, 4}, {42, 4}};
constexpr std::pair<std::size_t, int> end_fields[] = {{0, 4},  {4, 2},  {6, 2},  {8, 2},
                                                      {10, 2}, {12, 4}, {16, 4}, {20, 2}};

// Values a corrupt field might hold: zero, one, the original plus or minus one, and the extremes of its width.
std::vector<std::uint64_t> field_values(std::uint64_t original, int width) {
  const std::uint64_t max = width == 4 ? 0xFFFFFFFFull : 0xFFFFull, top = (max >> 1) + 1;
  return {0, 1, original - 1, original + 1, top - 1, top, max - 1, max};
}

// Runs every mutation of `good` (an archive of `saved`) and CHECKs the contract; returns how many were tried.
template <class T>
std::size_t check_corpus(const std::string& file, const std::string& good, const T& saved) {
  std::size_t tried = 0;
  auto check = [&](const std::string& bytes, const std::string& mutation) {
    rewrite(file, bytes);
    std::string what;
    const Outcome o = try_load(file, saved, what);
    CHECK_MESSAGE(o != Outcome::other, mutation, ": ", what);
    ++tried;
    return o;
  };
  REQUIRE(check(good, "none") == Outcome::same_values);

  for (std::size_t n = 0; n < good.size(); ++n) check(good.substr(0, n), "truncated to " + std::to_string(n));
  check(good + "x", "one byte appended");  // the end record must then be found by its comment length: not at all
  check(std::string(good.size(), '\0'), "zeros");

  for (unsigned char mask : {0x01, 0x80, 0xFF})
    for (std::size_t i = 0; i < good.size(); ++i) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      check(bad, "byte " + std::to_string(i) + " ^ " + std::to_string(mask));
    }

  const Layout lay = layout_of(good);
  auto set_field = [&](std::size_t at, int width, std::uint64_t v, const std::string& name) {
    std::string bad = good;
    bad.replace(at, static_cast<std::size_t>(width), le(v, width));
    return check(bad, name + " set to " + std::to_string(v));
  };
  auto original = [&](std::size_t at, int width) {
    std::uint64_t v = 0;
    for (int k = width; k-- > 0;) v = (v << 8) | static_cast<unsigned char>(good[at + static_cast<std::size_t>(k)]);
    return v;
  };
  for (std::size_t e = 0; e < lay.local.size(); ++e) {
    for (const auto& [off, width] : local_fields)
      for (std::uint64_t v : field_values(original(lay.local[e] + off, width), width))
        set_field(lay.local[e] + off, width, v, "entry " + std::to_string(e) + " local field +" + std::to_string(off));
    for (const auto& [off, width] : central_fields)
      for (std::uint64_t v : field_values(original(lay.central[e] + off, width), width))
        set_field(lay.central[e] + off, width, v,
                  "entry " + std::to_string(e) + " central field +" + std::to_string(off));
    // A wrong CRC in the central directory (the one load checks) must be an error.
    const std::uint64_t crc = original(lay.central[e] + 16, 4);
    CHECK(set_field(lay.central[e] + 16, 4, crc ^ 1, "entry " + std::to_string(e) + " CRC") == Outcome::value_error);
  }
  for (const auto& [off, width] : end_fields)
    for (std::uint64_t v : field_values(original(lay.end + off, width), width))
      set_field(lay.end + off, width, v, "end record field +" + std::to_string(off));

  // Flips inside each NPY header with both CRCs recomputed, so that the NPY parser (not the CRC) must catch them.
  for (std::size_t e = 0; e < lay.local.size(); ++e) {
    const std::size_t body = lay.local[e] + 30 + original(lay.local[e] + 26, 2);
    const std::size_t size = original(lay.local[e] + 18, 4);
    for (unsigned char mask : {0x01, 0x80})
      for (std::size_t i = body; i < body + std::min<std::size_t>(size, 128); ++i) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ mask);
        const std::string crc = le(tree::detail::crc32(std::string_view(bad).substr(body, size)), 4);
        bad.replace(lay.local[e] + 14, 4, crc);
        bad.replace(lay.central[e] + 16, 4, crc);
        check(bad, "NPY byte " + std::to_string(i - body) + " of entry " + std::to_string(e) + " ^ " +
                       std::to_string(mask) + " with a valid CRC");
      }
  }
  return tried;
}

}  // namespace

TEST_CASE("corrupted archives: every truncation, flipped bytes, bad CRCs and header fields give ValueError") {
  TempDir tmp;
  const std::string file = tmp.file("corpus.npz");
  std::size_t tried = 0;
  auto run = [&](const auto& saved) {
    tree::save(file, saved);
    const std::string good = read_bytes(file);
    tried += check_corpus(file, good, saved);
  };
  SUBCASE("a single 0-d leaf (entry '.npy')") { run(Array(2.5)); }
  SUBCASE("no leaves (only the end record)") { run(std::vector<Array>{}); }
  SUBCASE("empty arrays") { run(std::make_tuple(Array::from_shape({0}), Array::from_shape({3, 0, 2}), Array(1.0))); }
  SUBCASE("nested structs and containers") { run(sample_model()); }
  CHECK(tried > 100);
}

TEST_CASE("corrupted NPY headers: overflowing shapes, bad sizes, dtypes and versions give ValueError") {
  TempDir tmp;
  const std::string file = tmp.file("npy.npz");
  const std::string data = le(std::bit_cast<std::uint64_t>(1.0), 8) + le(std::bit_cast<std::uint64_t>(2.0), 8);
  const arch::One saved{Array{1.0, 2.0}};
  auto dict = [](const std::string& descr, const std::string& fortran, const std::string& shape) {
    return "{'descr': " + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  };
  // Both readers: load against the saved tree, and read_npz, which parses any shape (load first compares shapes).
  auto check = [&](const std::string& npy, const std::string& mutation) {
    rewrite(file, zip_of({{"w.npy", npy}}));
    std::string what;
    CHECK_MESSAGE(try_load(file, saved, what) != Outcome::other, mutation, ": ", what);
    try {
      const auto all = tree::detail::read_npz(file);
      // It takes the header's shape, which may differ from the saved one; the elements may not.
      const bool same = all.size() == 1 && all.count("w") && all.at("w").size() == 2 &&
                        same_bits(Array{all.at("w").data()[0], all.at("w").data()[1]}, saved.w);
      CHECK_MESSAGE(same, mutation, ": read_npz returned other values");
    } catch (const ValueError& e) {
      CHECK_MESSAGE(std::string(e.what()).find("'w") != std::string::npos, mutation, ": ", e.what());
    } catch (const std::exception& e) {
      FAIL_CHECK(mutation << ": read_npz threw another exception: " << e.what());
    }
  };

  using Strings = std::vector<std::string>;
  std::string many_dims = "(";  // 65 dimensions, one more than load accepts
  for (int i = 0; i < 65; ++i) many_dims += "1, ";
  many_dims += ")";
  for (const std::string& shape :
       Strings{"(4611686018427387905, 4)", "(4294967296, 4294967296)", "(0, 4611686018427387904, 4611686018427387904)",
               "(4611686018427387904, 4611686018427387904, 0)", "(2305843009213693952,)", "(2305843009213693953, 0, 8)",
               "(18446744073709551615,)", "(18446744073709551616,)", "(99999999999999999999999,)", "(-1, 4)", "(-2,)",
               "(2, -1)", "(3,)", "(1,)", "(2, 1)", "(0,)", "()", "(2)", "(2,,)", "(2.0,)", "(0x2,)", "(2, 0)", "[2]",
               "2", many_dims})
    check(npy_of(dict("'<f8'", "False", shape), data), "shape " + shape);
  for (const std::string& descr : Strings{"'<f16'", "'<f\xff'", "'|f8'", "'f8'", "'<u8'", "'<f2'", "'<c16'", "'O'",
                                          "''", "'<f8 '", "[('a', '<f8')]", "'<i\x80'", "'<f8"})
    check(npy_of(dict(descr, "False", "(2,)"), data), "descr " + descr);
  for (const std::string& fortran : Strings{"1", "'True'", "None", "true", ""})
    check(npy_of(dict("'<f8'", fortran, "(2,)"), data), "fortran_order " + fortran);
  for (const std::string& d : Strings{"{'descr': '<f8', 'shape': (2,), }", "{'descr': '<f8', 'fortran_order': False, }",
                                      "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                                      "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}", "{", "}", ""})
    check(npy_of(d, data), "dict " + d);
  for (std::size_t n : {0, 8, 15, 17, 24})
    check(npy_of(dict("'<f8'", "False", "(2,)"), (data + data).substr(0, n)), std::to_string(n) + " data bytes");

  // Versions, and header lengths that overrun the entry.
  const std::string good = npy_of(dict("'<f8'", "False", "(2,)"), data);
  for (int version : {0, 2, 3, 4, 255}) {
    std::string bad = good;
    bad[6] = static_cast<char>(version);
    check(bad, "version " + std::to_string(version));
  }
  for (std::uint64_t len : {0ull, 1ull, 0x7FFFull, 0xFFFFull}) {
    std::string bad = good;
    bad.replace(8, 2, le(len, 2));
    check(bad, "v1 header length " + std::to_string(len));
  }
  for (std::uint64_t len : {0ull, 0xFFFFull, 0x7FFFFFFFull, 0xFFFFFFFFull})
    check(std::string("\x93NUMPY\x02\x00", 8) + le(len, 4) + good.substr(10),
          "v2 header length " + std::to_string(len));
  for (std::size_t n = 0; n < good.size(); ++n) check(good.substr(0, n), "NPY truncated to " + std::to_string(n));

  // Valid spellings of the same values load them exactly.
  std::string be = data;
  std::reverse(be.begin(), be.begin() + 8);
  std::reverse(be.begin() + 8, be.end());
  for (const std::string& npy :
       {npy_of(dict("'>f8'", "False", "(2,)"), be), npy_of(dict("'<f8'", "True", "(2,)"), data),
        npy_of("{'shape':(2,),'descr':'<f8','fortran_order':False}", data)}) {
    rewrite(file, zip_of({{"w.npy", npy}}));
    CHECK(same_bits(tree::load(file, tree::zeros_like(saved)).w, saved.w));
  }

  // An overflowing product of extents is named with the entry (the key path and ".npy").
  rewrite(file, zip_of({{"w.npy", npy_of(dict("'<f8'", "False", "(0, 4611686018427387904, 4611686018427387904)"),
                                             "")}}));
  CHECK_THROWS_WITH_AS(
      tree::detail::read_npz(file),
      doctest::Contains("entry 'w.npy': shape (0,4611686018427387904,4611686018427387904) is too large"), ValueError);
}
