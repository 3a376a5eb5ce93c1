// .npz archives: NPY headers, a zip writer and a bounds-checked zip reader, CRC-32. Formats:
//   NPY:  https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//   zip:  PKWARE APPNOTE.TXT 6.3 (sections 4.3.7 local file header, 4.3.12 central directory header,
//         4.3.16 end of central directory record, 4.5.3 ZIP64 extended information extra field).
#include "xgrad/core/archive.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <random>
#include <set>

#include <xtensor/xmanipulation.hpp>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>  // fsync
#define XGRAD_ARCHIVE_FSYNC 1
#endif

namespace xgrad::tree::detail {

static_assert(std::numeric_limits<double>::is_iec559 && sizeof(double) == 8, "NPY '<f8' is IEEE 754 binary64");
static_assert(Array::static_layout == xt::layout_type::row_major, "Array's data() is in C order");

namespace {

// ---------------------------------------------------------------------------------------------------------------
// CRC-32, table-driven: one table lookup per byte.

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> crc_table = make_crc_table();

// ---------------------------------------------------------------------------------------------------------------
// Little-endian integers.

void put16(std::string& out, std::uint32_t v) {
  out += static_cast<char>(v & 0xFFu);
  out += static_cast<char>((v >> 8) & 0xFFu);
}
void put32(std::string& out, std::uint32_t v) {
  put16(out, v & 0xFFFFu);
  put16(out, v >> 16);
}
// Readers: the caller has checked that the bytes exist.
std::uint64_t get_le(std::string_view s, std::size_t off, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t k = n; k-- > 0;) v = (v << 8) | static_cast<unsigned char>(s[off + k]);
  return v;
}
std::uint32_t get16(std::string_view s, std::size_t off) { return static_cast<std::uint32_t>(get_le(s, off, 2)); }
std::uint32_t get32(std::string_view s, std::size_t off) { return static_cast<std::uint32_t>(get_le(s, off, 4)); }
// True when bytes [off, off + n) lie inside s (written so that nothing overflows).
bool inside(std::string_view s, std::uint64_t off, std::uint64_t n) { return off <= s.size() && n <= s.size() - off; }

std::string in_quotes(std::string_view s) { return "'" + std::string(s) + "'"; }
std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}
std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i ? std::string(sep) : std::string()) + parts[i];
  return out;
}

constexpr std::string_view npy_magic{"\x93NUMPY", 6};
constexpr std::string_view npy_suffix = ".npy";
constexpr std::uint32_t sig_local = 0x04034b50, sig_central = 0x02014b50, sig_end = 0x06054b50;
constexpr std::size_t local_size = 30, central_size = 46, end_size = 22;
constexpr std::uint32_t zip_version = 20;       // 2.0: the first version with stored entries and directories
constexpr std::uint32_t made_by_unix = 3 << 8;  // host system 3 = UNIX, so external attributes are a file mode
constexpr std::uint32_t dos_date_1980_01_01 = (0 << 9) | (1 << 5) | 1;  // years since 1980, month, day
constexpr std::uint32_t flag_utf8 = 1 << 11;    // general purpose bit 11: the name is UTF-8
constexpr std::uint64_t u16_max = 0xFFFF, u32_max = 0xFFFFFFFF;

// ---------------------------------------------------------------------------------------------------------------
// Writing.

// The NPY v1.0 header of a C-order '<f8' array: magic, version, header length, the dict, spaces, '\n'; the whole
// header a multiple of 64 bytes long.
std::string npy_header(const Shape& shape) {
  std::string dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (";
  for (std::size_t i = 0; i < shape.size(); ++i) dict += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) dict += ',';  // Python's spelling of a 1-tuple
  dict += "), }";
  const std::size_t prefix = npy_magic.size() + 2 + 2;  // magic, version 1.0, uint16 header length
  const std::size_t unpadded = prefix + dict.size() + 1;
  const std::size_t total = (unpadded + 63) / 64 * 64;
  std::string out(npy_magic);
  out += '\x01';
  out += '\x00';
  put16(out, static_cast<std::uint32_t>(total - prefix));
  out += dict;
  out.append(total - unpadded, ' ');
  out += '\n';
  return out;
}

std::string npy_file(const Array& a) {
  std::string out = npy_header(shape_of(a));
  const std::size_t head = out.size();
  out.resize(head + 8 * a.size());
  const double* data = a.data();
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto bits = std::bit_cast<std::uint64_t>(data[i]);
    for (std::size_t k = 0; k < 8; ++k) out[head + 8 * i + k] = static_cast<char>((bits >> (8 * k)) & 0xFFu);
  }
  return out;
}

std::string random_suffix() {
  std::random_device rd;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%08x%08x", static_cast<unsigned>(rd()), static_cast<unsigned>(rd()));
  return buf;
}

// A file written under a temporary name next to `target`, renamed over it by commit(); removed if never committed.
class TempFile {
 public:
  explicit TempFile(std::string target) : target_(std::move(target)), path_(target_ + ".tmp-" + random_suffix()) {
    f_ = std::fopen(path_.c_str(), "wb");
    if (!f_) fail("cannot create " + in_quotes(path_));
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    if (f_) std::fclose(f_);
    if (!committed_) {
      std::error_code ec;
      std::filesystem::remove(path_, ec);
    }
  }
  void write(std::string_view bytes) {
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size())
      fail("cannot write " + in_quotes(path_));
  }
  void commit() {
    if (std::fflush(f_) != 0) fail("cannot write " + in_quotes(path_));
#ifdef XGRAD_ARCHIVE_FSYNC
    if (::fsync(fileno(f_)) != 0) fail("cannot flush " + in_quotes(path_) + " to disk");
#endif
    std::FILE* f = f_;
    f_ = nullptr;
    if (std::fclose(f) != 0) fail("cannot write " + in_quotes(path_));
    std::error_code ec;
    std::filesystem::rename(path_, target_, ec);
    if (ec)
      throw ValueError("xgrad::tree::save: cannot rename " + in_quotes(path_) + " to " + in_quotes(target_) + ": " +
                       ec.message());
    committed_ = true;
  }

 private:
  [[noreturn]] static void fail(const std::string& what) {
    const int err = errno;
    throw ValueError("xgrad::tree::save: " + what + (err ? std::string(": ") + std::strerror(err) : std::string()));
  }
  std::string target_, path_;
  std::FILE* f_ = nullptr;
  bool committed_ = false;
};

// ---------------------------------------------------------------------------------------------------------------
// Reading: the zip container.

struct Entry {
  std::string name;
  std::size_t data = 0;  // offset of the entry's bytes in the file
  std::size_t size = 0;
};

[[noreturn]] void corrupt(const std::string& file, const std::string& what) {
  throw ValueError("xgrad::tree::load: " + in_quotes(file) + " is truncated or corrupt: " + what);
}

std::string read_file(const std::string& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw ValueError("xgrad::tree::load: cannot open " + in_quotes(file) + ": " +
                     (std::filesystem::exists(file, ec) ? "not a regular file" : "no such file"));
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ValueError("xgrad::tree::load: cannot open " + in_quotes(file));
  std::string bytes;
  char buf[1 << 16];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) bytes.append(buf, static_cast<std::size_t>(in.gcount()));
  if (in.bad()) throw ValueError("xgrad::tree::load: cannot read " + in_quotes(file));
  return bytes;
}

// The ZIP64 extended information extra field (id 1) holds, in this order, each of the uncompressed size,
// compressed size and local header offset whose 32-bit field is 0xFFFFFFFF. np.savez's entries carry it.
void apply_zip64(std::string_view extra, std::uint64_t& usize, std::uint64_t& csize, std::uint64_t& offset,
                 const std::string& file, const std::string& name) {
  std::size_t p = 0;
  while (p + 4 <= extra.size()) {
    const std::uint32_t id = get16(extra, p), len = get16(extra, p + 2);
    if (!inside(extra, p + 4, len)) corrupt(file, "an extra field of entry " + in_quotes(name) + " runs past its end");
    if (id == 1) {
      std::size_t q = p + 4;
      for (std::uint64_t* v : {&usize, &csize, &offset}) {
        if (*v != u32_max) continue;
        if (q + 8 > p + 4 + len) corrupt(file, "the ZIP64 field of entry " + in_quotes(name) + " is too short");
        *v = get_le(extra, q, 8);
        q += 8;
      }
      return;
    }
    p += 4 + len;
  }
}

std::vector<Entry> read_zip(std::string_view bytes, const std::string& file) {
  if (bytes.substr(0, npy_magic.size()) == npy_magic)
    throw ValueError("xgrad::tree::load: " + in_quotes(file) + " is a single .npy file, not a .npz archive");
  const bool zip_start = bytes.size() >= 4 && (get32(bytes, 0) == sig_local || get32(bytes, 0) == sig_end);
  if (!zip_start) throw ValueError("xgrad::tree::load: " + in_quotes(file) + " is not a zip (.npz) archive");

  // The end-of-central-directory record: the last 22 bytes, unless a comment (at most 65535 bytes) follows it.
  std::optional<std::size_t> end;
  if (bytes.size() >= end_size) {
    const std::size_t last = bytes.size() - end_size;
    const std::size_t first = last > u16_max ? last - u16_max : 0;
    for (std::size_t p = last + 1; p-- > first;) {
      if (get32(bytes, p) == sig_end && p + end_size + get16(bytes, p + 20) == bytes.size()) {
        end = p;
        break;
      }
    }
  }
  if (!end) corrupt(file, "no end-of-central-directory record");
  const std::size_t e = *end;
  const std::uint32_t disk = get16(bytes, e + 4), cd_disk = get16(bytes, e + 6);
  const std::uint32_t n_disk = get16(bytes, e + 8), n = get16(bytes, e + 10);
  const std::uint64_t cd_size = get32(bytes, e + 12), cd_offset = get32(bytes, e + 16);
  if (disk != 0 || cd_disk != 0 || n_disk != n)
    throw ValueError("xgrad::tree::load: " + in_quotes(file) + " is a multi-volume zip archive (not supported)");
  if (n == u16_max || cd_size == u32_max || cd_offset == u32_max)
    throw ValueError("xgrad::tree::load: " + in_quotes(file) + " is a ZIP64 archive (over 65535 entries or 4 GiB; "
                     "not supported)");
  if (cd_offset > e || cd_size > e - cd_offset)
    corrupt(file, "the central directory lies outside the file");

  std::vector<Entry> entries;
  std::set<std::string> names;
  const std::string_view cd = bytes.substr(cd_offset, cd_size);
  std::size_t p = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    if (!inside(cd, p, central_size) || get32(cd, p) != sig_central)
      corrupt(file, "central directory record " + std::to_string(i) + " is missing or damaged");
    const std::uint32_t flags = get16(cd, p + 8), method = get16(cd, p + 10), crc = get32(cd, p + 16);
    std::uint64_t csize = get32(cd, p + 20), usize = get32(cd, p + 24), offset = get32(cd, p + 42);
    const std::size_t name_len = get16(cd, p + 28), extra_len = get16(cd, p + 30), comment_len = get16(cd, p + 32);
    if (!inside(cd, p + central_size, name_len + extra_len + comment_len))
      corrupt(file, "central directory record " + std::to_string(i) + " runs past the directory");
    Entry entry;
    entry.name = std::string(cd.substr(p + central_size, name_len));
    apply_zip64(cd.substr(p + central_size + name_len, extra_len), usize, csize, offset, file, entry.name);
    p += central_size + name_len + extra_len + comment_len;

    const std::string what = "entry " + in_quotes(entry.name);
    if (!names.insert(entry.name).second) corrupt(file, what + " appears twice");
    if (flags & 1u) throw ValueError("xgrad::tree::load: " + in_quotes(file) + ": " + what + " is encrypted");
    if (method != 0)
      throw ValueError("xgrad::tree::load: " + in_quotes(file) + ": " + what + " is compressed (method " +
                       std::to_string(method) + "); only stored entries are read (np.savez, not np.savez_compressed)");
    if (csize != usize) corrupt(file, what + " is stored but its two sizes differ");
    if (!inside(bytes, offset, local_size) || get32(bytes, offset) != sig_local)
      corrupt(file, "the local header of " + what + " is missing or damaged");
    const std::size_t local_name = get16(bytes, offset + 26), local_extra = get16(bytes, offset + 28);
    const std::uint64_t data = offset + local_size + local_name + local_extra;
    if (!inside(bytes, offset + local_size, local_name) ||
        bytes.substr(offset + local_size, local_name) != entry.name)
      corrupt(file, "the local header of " + what + " names another entry");
    if (!inside(bytes, data, csize) || data + csize > cd_offset)
      corrupt(file, what + " runs past the end of its data");
    entry.data = data;
    entry.size = csize;
    const std::uint32_t actual = crc32(bytes.substr(entry.data, entry.size));
    if (actual != crc)
      corrupt(file, "CRC-32 mismatch in " + what + " (" + hex32(actual) + ", the archive says " + hex32(crc) + ")");
    entries.push_back(std::move(entry));
  }
  return entries;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading: NPY headers and data.

struct Dtype {
  char kind = 'f';  // 'f' float, 'i' signed integer
  std::size_t size = 8;
  bool little = true;
};
// The dtypes load converts: f8 exactly, f4 and i4 exactly, i8 when |v| <= 2^53; either byte order.
std::optional<Dtype> parse_dtype(std::string_view descr) {
  if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '>')) return std::nullopt;
  const Dtype d{descr[1], static_cast<std::size_t>(descr[2] - '0'), descr[0] == '<'};
  if ((d.kind == 'f' || d.kind == 'i') && (d.size == 4 || d.size == 8)) return d;
  return std::nullopt;
}
constexpr std::string_view supported_dtypes = "'<f8' (also '<f4', '<i4', '<i8' and big-endian, converted exactly)";

struct Npy {
  std::string descr;
  bool fortran_order = false;
  Shape shape;
  std::string_view data;
};

// A parser for the header's Python literal: {'descr': <str>, 'fortran_order': <bool>, 'shape': <tuple of int>}.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, std::string where) : s_(text), where_(std::move(where)) {}

  Npy parse() {
    Npy out;
    std::set<std::string> seen;
    expect('{');
    while (!eat('}')) {
      const std::string key = string();
      expect(':');
      if (!seen.insert(key).second) fail("key '" + key + "' appears twice");
      if (key == "descr")
        out.descr = string();
      else if (key == "fortran_order")
        out.fortran_order = boolean();
      else if (key == "shape")
        out.shape = tuple();
      else
        fail("unexpected key '" + key + "'");
      if (!eat(',')) {
        expect('}');
        break;
      }
    }
    space();
    if (i_ != s_.size()) fail("text after the closing '}'");
    for (const char* key : {"descr", "fortran_order", "shape"})
      if (!seen.count(key)) fail(std::string("no '") + key + "' key");
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ValueError(where_ + " has a malformed NPY header: " + what + " (at byte " + std::to_string(i_) + ")");
  }
  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    space();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("'") + c + "' expected");
  }
  bool word(std::string_view w) {
    space();
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }
  std::string string() {
    space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail("a string expected");
    const char quote = s_[i_++];
    const std::size_t close = s_.find(quote, i_);
    if (close == std::string_view::npos) fail("unterminated string");
    std::string out(s_.substr(i_, close - i_));
    if (out.find('\\') != std::string::npos) fail("escapes in strings are not supported");
    i_ = close + 1;
    return out;
  }
  bool boolean() {
    if (word("True")) return true;
    if (word("False")) return false;
    fail("True or False expected");
  }
  std::size_t integer() {
    space();
    std::size_t v = 0, digits = 0;
    for (; i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9'; ++i_, ++digits) {
      const auto d = static_cast<std::size_t>(s_[i_] - '0');
      if (v > (std::numeric_limits<std::size_t>::max() - d) / 10) fail("a dimension too large");
      v = v * 10 + d;
    }
    if (digits == 0) fail("a non-negative integer expected");
    if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 longs, as old numpy wrote them
    return v;
  }
  Shape tuple() {
    expect('(');
    Shape out;
    if (eat(')')) return out;
    for (;;) {
      out.push_back(integer());
      if (out.size() > 64) fail("more than 64 dimensions");
      if (eat(',')) {
        if (eat(')')) return out;
        continue;
      }
      expect(')');
      if (out.size() == 1) fail("'(n)' is a number, not a shape: a 1-tuple is '(n,)'");
      return out;
    }
  }

  std::string_view s_;
  std::string where_;
  std::size_t i_ = 0;
};

// `label`: how errors name the entry, e.g. "xgrad::tree::load: 'a.npz': 'model.weight'".
Npy parse_npy(std::string_view bytes, const std::string& label) {
  if (bytes.size() < 10 || bytes.substr(0, npy_magic.size()) != npy_magic)
    throw ValueError(label + " is not an NPY file (no \\x93NUMPY magic)");
  const auto major = static_cast<unsigned char>(bytes[6]);
  std::size_t header_len = 0, start = 0;
  if (major == 1) {
    header_len = get16(bytes, 8);
    start = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) throw ValueError(label + " is a truncated NPY file");
    header_len = get32(bytes, 8);
    start = 12;
  } else {
    throw ValueError(label + " has NPY format version " + std::to_string(major) + " (1, 2 and 3 are read)");
  }
  if (!inside(bytes, start, header_len)) throw ValueError(label + " is a truncated NPY file (header)");
  Npy out = HeaderParser(bytes.substr(start, header_len), label).parse();
  out.data = bytes.substr(start + header_len);
  return out;
}

// The archive's values as an Array of `npy.shape`; throws when the data has the wrong length or (i8) a value is
// not exactly representable.
Array to_array(const Npy& npy, const Dtype& dtype, const std::string& label) {
  // The product of the nonzero extents must fit xtensor's signed strides (as numpy requires of npy_intp): with a
  // zero extent there is no data, but Array::from_shape still multiplies the others into the strides.
  std::size_t nonzero = 1;
  bool empty = false;
  for (std::size_t d : npy.shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    if (nonzero > static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max()) / d)
      throw ValueError(label + ": shape " + shape_str(npy.shape) + " is too large");
    nonzero *= d;
  }
  const std::size_t count = empty ? 0 : nonzero;
  if (count > npy.data.size() / dtype.size || npy.data.size() != count * dtype.size)
    throw ValueError(label + " is truncated or corrupt: shape " + shape_str(npy.shape) + " of '" + npy.descr +
                     "' needs " + std::to_string(count) + " x " + std::to_string(dtype.size) +
                     " bytes, the entry has " + std::to_string(npy.data.size()));
  Shape storage_shape = npy.shape;
  if (npy.fortran_order) std::reverse(storage_shape.begin(), storage_shape.end());
  Array a = Array::from_shape(storage_shape);
  double* out = a.data();
  for (std::size_t i = 0; i < count; ++i) {
    std::uint64_t bits = 0;
    for (std::size_t k = 0; k < dtype.size; ++k) {
      const auto byte = static_cast<unsigned char>(npy.data[i * dtype.size + k]);
      const std::size_t shift = dtype.little ? k : dtype.size - 1 - k;
      bits |= static_cast<std::uint64_t>(byte) << (8 * shift);
    }
    if (dtype.kind == 'f' && dtype.size == 8) {
      out[i] = std::bit_cast<double>(bits);
    } else if (dtype.kind == 'f') {
      out[i] = static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(bits)));
    } else if (dtype.size == 4) {
      out[i] = static_cast<double>(static_cast<std::int32_t>(static_cast<std::uint32_t>(bits)));
    } else {
      const auto v = static_cast<std::int64_t>(bits);
      constexpr std::int64_t exact = std::int64_t{1} << 53;
      if (v > exact || v < -exact)
        throw ValueError(label + ": the int64 value " + std::to_string(v) + " has no exact double");
      out[i] = static_cast<double>(v);
    }
  }
  if (npy.fortran_order) return Array(xt::transpose(a));
  return a;
}

bool is_npy_name(std::string_view name) {
  return name.size() >= npy_suffix.size() && name.substr(name.size() - npy_suffix.size()) == npy_suffix;
}
std::string key_of(std::string_view name) { return std::string(name.substr(0, name.size() - npy_suffix.size())); }

}  // namespace

std::uint32_t crc32(std::string_view bytes, std::uint32_t crc) {
  crc = ~crc;
  for (char c : bytes) crc = crc_table[(crc ^ static_cast<unsigned char>(c)) & 0xFFu] ^ (crc >> 8);
  return ~crc;
}

void write_npz(const std::string& file, const std::vector<std::pair<std::string, const Array*>>& leaves) {
  if (leaves.size() >= u16_max)
    throw ValueError("xgrad::tree::save: " + std::to_string(leaves.size()) +
                     " leaves; a zip archive without ZIP64 holds at most 65534");
  std::set<std::string> seen;
  for (const auto& [path, a] : leaves)
    if (!seen.insert(path).second)
      throw ValueError("xgrad::tree::save: two leaves have the key path " + in_quotes(path) +
                       "; entries need unique names");

  TempFile out(file);
  std::string central;
  std::uint64_t offset = 0;
  for (const auto& [path, a] : leaves) {
    const std::string name = path + std::string(npy_suffix);
    const std::string body = npy_file(*a);
    if (name.size() > u16_max) throw ValueError("xgrad::tree::save: the key path " + in_quotes(path) + " is too long");
    if (body.size() >= u32_max || offset >= u32_max)
      throw ValueError("xgrad::tree::save: the archive would exceed 4 GiB at leaf " + in_quotes(path) +
                       "; ZIP64 is not written");
    const std::uint32_t crc = crc32(body), size = static_cast<std::uint32_t>(body.size());
    const bool ascii =
        std::all_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    const std::uint32_t flags = ascii ? 0 : flag_utf8;

    std::string local;
    put32(local, sig_local);
    put16(local, zip_version);          // version needed to extract
    put16(local, flags);
    put16(local, 0);                    // method: stored
    put16(local, 0);                    // time 00:00:00
    put16(local, dos_date_1980_01_01);  // date
    put32(local, crc);
    put32(local, size);                 // compressed size
    put32(local, size);                 // uncompressed size
    put16(local, static_cast<std::uint32_t>(name.size()));
    put16(local, 0);                    // extra field length
    local += name;

    put32(central, sig_central);
    put16(central, made_by_unix | zip_version);
    put16(central, zip_version);
    put16(central, flags);
    put16(central, 0);
    put16(central, 0);
    put16(central, dos_date_1980_01_01);
    put32(central, crc);
    put32(central, size);
    put32(central, size);
    put16(central, static_cast<std::uint32_t>(name.size()));
    put16(central, 0);                  // extra field length
    put16(central, 0);                  // comment length
    put16(central, 0);                  // disk number
    put16(central, 0);                  // internal attributes: binary
    put32(central, 0100644u << 16);     // external attributes: a regular file, rw-r--r--
    put32(central, static_cast<std::uint32_t>(offset));
    central += name;

    out.write(local);
    out.write(body);
    offset += local.size() + body.size();
  }
  if (offset + central.size() >= u32_max)
    throw ValueError("xgrad::tree::save: the archive would exceed 4 GiB; ZIP64 is not written");

  std::string end;
  put32(end, sig_end);
  put16(end, 0);  // this disk
  put16(end, 0);  // disk of the central directory
  put16(end, static_cast<std::uint32_t>(leaves.size()));
  put16(end, static_cast<std::uint32_t>(leaves.size()));
  put32(end, static_cast<std::uint32_t>(central.size()));
  put32(end, static_cast<std::uint32_t>(offset));
  put16(end, 0);  // comment length
  out.write(central);
  out.write(end);
  out.commit();
}

std::vector<Array> read_leaves(const std::string& file, const std::vector<std::pair<std::string, Shape>>& expected) {
  const std::string bytes = read_file(file);
  const std::vector<Entry> entries = read_zip(bytes, file);

  std::map<std::string, const Entry*> by_key;
  std::vector<std::string> extra;
  for (const Entry& e : entries) {
    if (is_npy_name(e.name))
      by_key.emplace(key_of(e.name), &e);
    else
      extra.push_back(in_quotes(e.name));
  }
  std::set<std::string> wanted;
  std::vector<std::string> missing;
  for (const auto& [path, shape] : expected) {
    if (!wanted.insert(path).second)
      throw ValueError("xgrad::tree::load: two leaves of the tree have the key path " + in_quotes(path));
    if (!by_key.count(path)) missing.push_back(in_quotes(path));
  }
  for (const auto& [key, e] : by_key)
    if (!wanted.count(key)) extra.push_back(in_quotes(key));
  std::sort(extra.begin(), extra.end());

  std::vector<std::string> problems;
  if (!missing.empty()) problems.push_back("missing entries " + join(missing, ", "));
  if (!extra.empty()) problems.push_back("extra entries " + join(extra, ", "));
  std::vector<std::pair<Npy, Dtype>> found;
  for (const auto& [path, shape] : expected) {
    const auto it = by_key.find(path);
    if (it == by_key.end()) continue;
    const std::string label = "xgrad::tree::load: " + in_quotes(file) + ": " + in_quotes(path);
    Npy npy = parse_npy(std::string_view(bytes).substr(it->second->data, it->second->size), label);
    const std::optional<Dtype> dtype = parse_dtype(npy.descr);
    if (!dtype)
      problems.push_back(in_quotes(path) + " has dtype '" + npy.descr + "' in the archive; " +
                         std::string(supported_dtypes) + " expected");
    if (npy.shape != shape)
      problems.push_back(in_quotes(path) + " has shape " + shape_str(npy.shape) + " in the archive, " +
                         shape_str(shape) + " expected");
    if (dtype) found.emplace_back(std::move(npy), *dtype);
  }
  if (!problems.empty())
    throw ValueError("xgrad::tree::load: archive " + in_quotes(file) + " does not match the tree: " +
                     join(problems, "; "));

  std::vector<Array> out;
  out.reserve(expected.size());
  for (std::size_t i = 0; i < found.size(); ++i)
    out.push_back(to_array(found[i].first, found[i].second,
                           "xgrad::tree::load: " + in_quotes(file) + ": " + in_quotes(expected[i].first)));
  return out;
}

std::map<std::string, Array> read_npz(const std::string& file) {
  const std::string bytes = read_file(file);
  std::map<std::string, Array> out;
  for (const Entry& e : read_zip(bytes, file)) {
    const std::string label = "xgrad::tree::load: " + in_quotes(file) + ": entry " + in_quotes(e.name);
    if (!is_npy_name(e.name)) throw ValueError(label + " is not an .npy file");
    const Npy npy = parse_npy(std::string_view(bytes).substr(e.data, e.size), label);
    const std::optional<Dtype> dtype = parse_dtype(npy.descr);
    if (!dtype)
      throw ValueError(label + " has dtype '" + npy.descr + "'; " + std::string(supported_dtypes) + " expected");
    out.emplace(key_of(e.name), to_array(npy, *dtype, label));
  }
  return out;
}

}  // namespace xgrad::tree::detail
