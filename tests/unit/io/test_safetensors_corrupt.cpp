// Hostile and broken safetensors files: every violation of the format is a FormatError naming
// the file and, where there is one, the tensor — never a crash or a read outside the file
// (the sanitizer and fuzz builds run the same code).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tests/support/test_support.h"
#include "tests/unit/io/io_test_util.h"
#include "trainer/core/error.h"
#include "trainer/io/safetensors.h"

namespace seller::io {
namespace {
using seller::testing::TempDir;

std::span<const std::byte> as_span(const std::string& s) {
  return std::as_bytes(std::span(s.data(), s.size()));
}

// A file with the given header text (padded) and `data_bytes` bytes of data.
std::string make_file(std::string header, size_t data_bytes, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  std::string out(8, '\0');
  const uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  out += header;
  out.append(data_bytes, '\x5a');
  return out;
}

SafetensorsHeader parse(const std::string& file) {
  return parse_safetensors_header(as_span(file), "test.safetensors");
}

std::string valid_file() {
  std::vector<std::byte> a(24), b(6);
  std::vector<TensorView> t = {{"a", DType::kF32, {2, 3}, a}, {"b", DType::kBF16, {3}, b}};
  const auto layout = plan_safetensors(t, {{"format", "pt"}}, "x");
  return layout.prefix + std::string(30, '\x11');
}

TEST(SafetensorsCorrupt, ValidBaseline) {
  const auto h = parse(valid_file());
  ASSERT_EQ(h.tensors.size(), 2u);
  EXPECT_EQ(h.tensors[0].name, "a");
  EXPECT_EQ(h.data_bytes, 30u);
}

TEST(SafetensorsCorrupt, TruncatedAtEveryLength) {
  const std::string file = valid_file();
  for (size_t n = 0; n < file.size(); ++n) {
    EXPECT_FORMAT_ERROR((void)parse(file.substr(0, n)), "test.safetensors");
  }
}

TEST(SafetensorsCorrupt, RealFileTruncatedAtManyLengths) {
  SELLER_SHARED_OR_SKIP(path, "models/stories260K-hf/model.safetensors");
  const auto map = MmapFile::open(path);
  const auto bytes = map.bytes();
  std::vector<size_t> lengths;
  for (size_t n = 0; n < 5000; n += 7) lengths.push_back(n);  // length field and header
  for (size_t n = 5000; n < bytes.size(); n += 4099) lengths.push_back(n);
  lengths.push_back(bytes.size() - 1);
  for (size_t n : lengths) {
    EXPECT_THROW((void)parse_safetensors_header(bytes.first(n), path.string()), FormatError) << n;
  }
  // And with one byte too many.
  std::string longer(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  longer += '\0';
  EXPECT_FORMAT_ERROR((void)parse(longer), "hole of 1 unreferenced bytes", "at the end");
  // Through the file API, a truncated copy names the file.
  TempDir tmp;
  testing::write_file(tmp / "cut.safetensors", longer.substr(0, bytes.size() / 2));
  EXPECT_FORMAT_ERROR((void)SafetensorsFile::open(tmp / "cut.safetensors"), "cut.safetensors");
}

TEST(SafetensorsCorrupt, HeaderLength) {
  std::string file = valid_file();
  uint64_t n = file.size();  // larger than what follows the length field
  std::memcpy(file.data(), &n, 8);
  EXPECT_FORMAT_ERROR((void)parse(file), "header length", "larger than");
  n = ~0ULL;
  std::memcpy(file.data(), &n, 8);
  EXPECT_FORMAT_ERROR((void)parse(file), "exceeds the limit");
  n = kMaxSafetensorsHeaderBytes + 1;
  std::memcpy(file.data(), &n, 8);
  EXPECT_FORMAT_ERROR((void)parse(file), "exceeds the limit");
  n = 0;
  std::memcpy(file.data(), &n, 8);
  EXPECT_FORMAT_ERROR((void)parse(file), "start with '{'");
  EXPECT_FORMAT_ERROR((void)parse(std::string(7, '\0')), "fewer than the 8");
}

struct Case {
  std::string header;
  size_t data_bytes;
  std::vector<std::string> parts;
};

TEST(SafetensorsCorrupt, HeaderViolations) {
  const std::string f32 = R"("dtype":"F32")";
  const std::vector<Case> cases = {
      // Not JSON / not an object / bad UTF-8.
      {"[1,2]", 0, {"start with '{'"}},
      {" {}", 0, {"start with '{'"}},
      {"{\"a\":", 0, {"not valid UTF-8 JSON"}},
      {"{} {}", 0, {"not valid UTF-8 JSON"}},
      {"{\"\xff\xfe\":{}}", 0, {"not valid UTF-8 JSON"}},
      {"{\"a\xc3\":{}}", 0, {"not valid UTF-8 JSON"}},         // truncated 2-byte sequence
      {"{\"\xed\xa0\x80\":{}}", 0, {"not valid UTF-8 JSON"}},  // UTF-16 surrogate
      {std::string("{\"a\":{}}\0\0", 10), 0, {"not valid UTF-8 JSON"}},  // NUL padding
      {R"({"x":1})", 0, {"'x'", "expected an object"}},
      // Tensor entries.
      {R"({"t":{"shape":[1],"data_offsets":[0,4]}})", 4, {"'t'", "missing 'dtype'"}},
      {R"({"t":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})",
       4,
       {"'t'", "unsupported dtype 'F33'"}},
      {R"({"t":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", 4, {"'t'", "not a string"}},
      {R"({"t":{"dtype":"F4","shape":[1],"data_offsets":[0,4]}})", 4, {"unsupported dtype 'F4'"}},
      {R"({"t":{)" + f32 + R"(,"data_offsets":[0,4]}})", 4, {"'t'", "missing 'shape'"}},
      {R"({"t":{)" + f32 + R"(,"shape":[-1],"data_offsets":[0,4]}})", 4, {"'t'", "non-negative"}},
      {R"({"t":{)" + f32 + R"(,"shape":[1.0],"data_offsets":[0,4]}})", 4, {"'t'", "non-negative"}},
      {R"({"t":{)" + f32 + R"(,"shape":[true],"data_offsets":[0,4]}})", 4, {"'t'", "non-negative"}},
      {R"({"t":{)" + f32 + R"(,"shape":"1","data_offsets":[0,4]}})", 4, {"'t'", "not an array"}},
      {R"({"t":{)" + f32 + R"(,"shape":[18446744073709551615],"data_offsets":[0,4]}})",
       4,
       {"'t'", "non-negative 64-bit"}},
      {R"({"t":{)" + f32 + R"(,"shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
       4,
       {"'t'", "overflows"}},
      {R"({"t":{)" + f32 + R"(,"shape":[4611686018427387904],"data_offsets":[0,4]}})",
       4,
       {"'t'", "element size overflows"}},
      {R"({"t":{)" + f32 + R"(,"shape":[1]}})", 4, {"'t'", "missing 'data_offsets'"}},
      {R"({"t":{)" + f32 + R"(,"shape":[1],"data_offsets":[0,4,8]}})", 4, {"'t'", "[begin, end]"}},
      {R"({"t":{)" + f32 + R"(,"shape":[1],"data_offsets":[-4,0]}})", 4, {"'t'", "non-negative"}},
      {R"({"t":{)" + f32 + R"(,"shape":[1],"data_offsets":[4,0]}})", 4, {"'t'", "end before"}},
      {R"({"t":{)" + f32 + R"(,"shape":[1],"data_offsets":[0,4],"extra":1}})",
       4,
       {"'t'", "unknown field"}},
      {R"({"t":{)" + f32 + R"(,"shape":[1],"data_offsets":[0,4],"dtype":"F32"}})",
       4,
       {"repeats the key \"dtype\""}},
      // Shape against offsets, offsets against the file.
      {R"({"t":{)" + f32 + R"(,"shape":[2],"data_offsets":[0,4]}})",
       8,
       {"'t'", "span 4 bytes", "need 8"}},
      {R"({"t":{)" + f32 + R"(,"shape":[],"data_offsets":[0,0]}})", 0, {"'t'", "need 4"}},
      {R"({"t":{)" + f32 + R"(,"shape":[1],"data_offsets":[0,4]}})",
       2,
       {"'t'", "past the data area of 2"}},
      {R"({"t":{)" + f32 + R"(,"shape":[1],"data_offsets":[1000000,1000004]}})",
       4,
       {"'t'", "past the data area"}},
      // Tiling of the data area.
      {R"({"a":{)" + f32 + R"(,"shape":[2],"data_offsets":[0,8]},"b":{)" + f32 +
           R"(,"shape":[1],"data_offsets":[4,8]}})",
       8,
       {"'b'", "overlap", "'a'"}},
      {R"({"a":{)" + f32 + R"(,"shape":[1],"data_offsets":[0,4]},"b":{)" + f32 +
           R"(,"shape":[1],"data_offsets":[0,4]}})",
       4,
       {"overlap"}},
      {R"({"a":{)" + f32 + R"(,"shape":[2],"data_offsets":[0,8]},"e":{)" + f32 +
           R"(,"shape":[0],"data_offsets":[4,4]}})",
       8,
       {"'e'", "overlap"}},
      {R"({"a":{)" + f32 + R"(,"shape":[1],"data_offsets":[0,4]},"b":{)" + f32 +
           R"(,"shape":[1],"data_offsets":[8,12]}})",
       12,
       {"'b'", "hole of 4", "[4, 8)"}},
      {R"({"a":{)" + f32 + R"(,"shape":[1],"data_offsets":[4,8]}})",
       8,
       {"'a'", "hole of 4", "[0, 4)"}},
      {R"({"a":{)" + f32 + R"(,"shape":[1],"data_offsets":[0,4]}})",
       9,
       {"hole of 5", "at the end", "'a'"}},
      {R"({})", 3, {"hole of 3", "at the end"}},
      {R"({"a":{)" + f32 + R"(,"shape":[1],"data_offsets":[0,4]},"a":{)" + f32 +
           R"(,"shape":[1],"data_offsets":[0,4]}})",
       4,
       {"repeats the key \"a\""}},
      // Metadata.
      {R"({"__metadata__":{"k":1}})", 0, {"__metadata__", "'k'", "not a string"}},
      {R"({"__metadata__":[]})", 0, {"__metadata__", "not an object"}},
      // Nesting bomb.
      {R"({"__metadata__":)" + std::string(200, '[') + std::string(200, ']') + "}",
       0,
       {"nested deeper"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    EXPECT_FORMAT_ERROR((void)parse(make_file(c.header, c.data_bytes)), c.parts[0],
                        c.parts.size() > 1 ? c.parts[1] : c.parts[0],
                        c.parts.size() > 2 ? c.parts[2] : c.parts[0], "test.safetensors");
  }
}

TEST(SafetensorsCorrupt, AcceptsWhatTheFormatAllows) {
  // Any key order, unpadded header, null metadata, zero-size tensors at the boundaries,
  // names with escapes and non-ASCII text.
  const std::string f32 = R"("dtype":"F32")";
  const auto h = parse(make_file(R"({"z":{"data_offsets":[4,8],"shape":[1],)" + f32 +
                                     R"(},"__metadata__":null,)"
                                     R"("e0":{"dtype":"U8","shape":[0],"data_offsets":[0,0]},)"
                                     R"("e1":{"dtype":"U8","shape":[3,0],"data_offsets":[8,8]},)"
                                     R"("\u00e9\n":{)" +
                                     f32 + R"(,"shape":[1],"data_offsets":[0,4]}})",
                                 8, /*pad=*/false));
  ASSERT_EQ(h.tensors.size(), 4u);
  EXPECT_EQ(h.tensors[0].name, "e0");
  EXPECT_EQ(h.tensors[1].name, "\xc3\xa9\n");
  EXPECT_EQ(h.tensors[3].name, "e1");
  EXPECT_TRUE(h.metadata.empty());
}

TEST(SafetensorsCorrupt, RandomMutationsNeverCrash) {
  const std::string base = valid_file();
  std::mt19937 rng(42);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string file = base;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t pos = rng() % file.size();
      switch (rng() % 3) {
        case 0:
          file[pos] = static_cast<char>(rng());
          break;
        case 1:
          file.erase(pos, 1);
          break;
        default:
          file.insert(pos, 1, "0123456789[]{},:\"-"[rng() % 18]);
          break;
      }
    }
    try {
      (void)parse(file);
      ++accepted;
    } catch (const FormatError&) {
    }
  }
  EXPECT_LT(accepted, 3000);
}

}  // namespace
}  // namespace seller::io
