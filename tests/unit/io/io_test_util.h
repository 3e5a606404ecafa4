// Helpers of the io tests: the Python oracle (scripts/oracles/safetensors_oracle.py, run by the
// Python that SELLER_PYTHON_OR_SKIP of test_support.h finds), and the same description of a safetensors file the oracle
// prints (name -> dtype, shape, byte count, CRC-32), computed by our reader.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <span>
#include <vector>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/io/safetensors.h"

namespace seller::io::test {

using ::seller::testing::in_ci;  // the Python lookup and SELLER_PYTHON_OR_SKIP: test_support.h

// Runs the oracle with `args` (already shell-quoted); the parsed JSON, or null after a failure.
inline nlohmann::json run_oracle(const std::string& python, const std::string& args) {
  testing::TempDir dir;
  const std::string script =
      std::string(SELLER_SOURCE_DIR) + "/scripts/oracles/safetensors_oracle.py";
  const auto err = (dir / "stderr.txt").string();
  const auto result =
      testing::run_command("( '" + python + "' '" + script + "' " + args + " 2>'" + err + "' )");
  if (result.exit_code != 0) {
    ADD_FAILURE() << "oracle " << args << " failed (" << result.exit_code << "): " << result.output
                  << testing::read_file(err);
    return nullptr;
  }
  return nlohmann::json::parse(result.output);
}

// Expects `stmt` to throw ErrorType with a message containing every listed part.
#define SELLER_EXPECT_ERROR(ErrorType, stmt, ...)                                        \
  try {                                                                                  \
    stmt;                                                                                \
    ADD_FAILURE() << "no " #ErrorType " from " #stmt;                                    \
  } catch (const ErrorType& seller_error_) {                                             \
    for (const std::string& seller_part_ : std::vector<std::string>{__VA_ARGS__}) {      \
      EXPECT_NE(std::string(seller_error_.what()).find(seller_part_), std::string::npos) \
          << "message lacks '" << seller_part_ << "': " << seller_error_.what();         \
    }                                                                                    \
  }
#define EXPECT_FORMAT_ERROR(stmt, ...) SELLER_EXPECT_ERROR(::seller::FormatError, stmt, __VA_ARGS__)
#define EXPECT_CONFIG_ERROR(stmt, ...) SELLER_EXPECT_ERROR(::seller::ConfigError, stmt, __VA_ARGS__)

inline std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

inline uint32_t crc32_of(std::span<const std::byte> bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths; feed large tensors in pieces.
  size_t done = 0;
  while (done < bytes.size()) {
    const size_t n = std::min<size_t>(bytes.size() - done, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(bytes.data() + done), static_cast<uInt>(n));
    done += n;
  }
  return static_cast<uint32_t>(crc);
}

inline nlohmann::json describe_tensor(const TensorView& t) {
  return {{"dtype", std::string(dtype_name(t.dtype))},
          {"shape", t.shape},
          {"nbytes", t.data.size()},
          {"crc32", crc32_of(t.data)}};
}

inline nlohmann::json describe(const SafetensorsFile& file) {
  nlohmann::json out = {{"tensors", nlohmann::json::object()}};
  for (const auto& t : file.tensors()) out["tensors"][t.name] = describe_tensor(t);
  out["metadata"] =
      file.metadata().empty() ? nlohmann::json(nullptr) : nlohmann::json(file.metadata());
  return out;
}

// Deterministic bytes for a tensor (valid BOOL values where needed).
inline std::vector<std::byte> pattern_bytes(DType dtype, size_t numel, uint32_t seed) {
  std::vector<std::byte> out(numel * dtype_size(dtype));
  uint32_t x = seed * 2654435761u + 12345u;
  for (auto& b : out) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    b = static_cast<std::byte>(dtype == DType::kBool ? (x & 1u) : (x & 0xffu));
  }
  return out;
}

// Tensors for the writers, with the bytes they point at (pattern_bytes of each dtype).
struct Owned {
  std::vector<std::vector<std::byte>> storage;
  std::vector<TensorView> views;
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape, uint32_t seed) {
    size_t numel = 1;
    for (auto d : shape) numel *= static_cast<size_t>(d);
    storage.push_back(pattern_bytes(dtype, numel, seed));
    views.push_back({name, dtype, std::move(shape), {}});
  }
  std::span<const TensorView> finish() {
    for (size_t i = 0; i < views.size(); ++i) views[i].data = storage[i];
    return views;
  }
};

}  // namespace seller::io::test
