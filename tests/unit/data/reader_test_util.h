// Helpers shared by the reader tests (test_readers_*.cpp): the names they all use, a collector
// that keeps every record with its position, and the message of the DataError a call throws.
// Header-only: each test file is its own executable. Everything lives in
// seller::data::reader_test; a test file pulls it in with one using-directive.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/data/readers/reader.h"
#include "trainer/data/record.h"

namespace seller::data::reader_test {

using seller::DataError;
using seller::data::InputFormat;
using seller::data::ReadOptions;
using seller::data::ReadStats;
using seller::data::Record;
using seller::data::SourcePosition;
using seller::testing::TempDir;
using seller::testing::write_file;

struct Collected {
  std::vector<Record> records;
  std::vector<SourcePosition> positions;
  ReadStats stats;
};

// Reads input in format, keeping every record and its position in sink order.
inline Collected collect_records(InputFormat format, const std::filesystem::path& input,
                                 const ReadOptions& options = {}) {
  Collected c;
  c.stats = read_records(format, input, options, [&](const Record& r, const SourcePosition& p) {
    c.records.push_back(r);
    c.positions.push_back(p);
  });
  return c;
}

// The message of the DataError that call() throws, or "<no error>".
template <class Call>
std::string data_error_of(Call&& call) {
  try {
    std::forward<Call>(call)();
  } catch (const DataError& e) {
    return e.what();
  }
  return "<no error>";
}

}  // namespace seller::data::reader_test
