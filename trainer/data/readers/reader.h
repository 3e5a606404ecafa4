// Record readers for every input format, behind one dispatcher. Every reader streams: it holds
// one line (plus small per-format lookup tables: XRec explanations, S3-Rec attributes) in
// memory, never the whole input. Records reach the sink in input order.
//
// Error contract: a malformed line throws seller::DataError "<file>:<line>: <reason>" unless
// ReadOptions::skip_malformed, in which case it is counted in ReadStats::skipped (first five
// messages kept). I/O problems (missing file, unreadable or truncated gzip) and an input with
// no records always throw DataError naming the path, whatever skip_malformed says. Errors thrown
// by the sink propagate unchanged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "trainer/data/record.h"

namespace seller::data {

enum class InputFormat { kAmazon, kAmazon2023, kXRec, kS3Rec, kSynthetic };

// "amazon|amazon2023|xrec|s3rec|synthetic"; DataError listing the valid names otherwise.
InputFormat parse_input_format(std::string_view name);
std::string_view format_name(InputFormat f);

struct ReadOptions {
  bool skip_malformed = false;  // false: the first malformed line throws DataError
};

struct ReadStats {
  uint64_t records = 0;                       // records passed to the sink
  uint64_t skipped = 0;                       // malformed lines skipped (skip_malformed only)
  uint64_t lines = 0;                         // lines read, blank ones included, over all files
  uint64_t bytes = 0;                         // uncompressed bytes read, over all files
  std::vector<std::string> skipped_examples;  // first 5 "file:line: reason"
};

ReadStats read_records(InputFormat format, const std::filesystem::path& input,
                       const ReadOptions& options, const RecordSink& sink);

}  // namespace seller::data
