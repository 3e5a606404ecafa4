// Parsing and reading of JSON-lines formats whose wanted fields are all top-level keys of one
// object (Amazon 2014/2018 reviews, our normalised records): the parts those readers share, so
// that each reader only supplies its key lookup, its required keys and its file extension.
// Invariants: a parsed record has a non-empty user and item (else DataError naming the key);
// a folder input reads its *<ext> and *<ext>.gz files in name order; an input without records
// throws DataError (require_records).
#pragma once

#include <filesystem>
#include <string_view>

#include "trainer/data/readers/flat_record_sax.h"
#include "trainer/data/readers/reader.h"
#include "trainer/data/record.h"

namespace seller::data {

struct FlatJsonlFormat {
  json::FieldTarget (*lookup)(std::string_view key, Record& record);
  std::string_view user_key;   // the key filling record.user, for "missing or empty" messages
  std::string_view item_key;   // the key filling record.item
  std::string_view extension;  // ".json", ".jsonl": picks the files of a folder input
};

// Parses one line into record (cleared first); false for a blank line. Throws DataError with
// the reason only.
bool parse_flat_jsonl_line(std::string_view line, Record& record, const FlatJsonlFormat& format);

// Reads a file (any name) or a folder of format lines, passing each record to sink.
ReadStats read_flat_jsonl(const std::filesystem::path& input, const ReadOptions& options,
                          const RecordSink& sink, const FlatJsonlFormat& format);

}  // namespace seller::data
