// The normalised record format on disk ("synthetic" input format): one JSON object per line,
// plain or gzip, keys user, item, rating, timestamp, review, summary, title, description,
// category, feature. Invariants:
//   - user and item are always written (JSON strings) and are the only required keys on read;
//   - rating (number, shortest text that reads back to the same float) and timestamp (integer,
//     milliseconds since the epoch) are omitted when absent (NaN / kNoTimestamp);
//   - empty strings are omitted; a missing string key reads back as "";
//   - writing then parsing gives back the identical Record for valid UTF-8 text. Invalid UTF-8
//     bytes are written as U+FFFD so that the output is always valid JSON;
//   - unknown keys are rejected on read (the schema is ours, a typo should not pass silently);
//     `null` is accepted for any key except user and item and means "absent".
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "trainer/data/readers/reader.h"
#include "trainer/data/record.h"

namespace seller::data {

// Appends one JSON object and '\n' to out.
void append_record_jsonl(const Record& record, std::string& out);

// Parses one line of the format into record (cleared first). Returns false for a blank line.
// Throws seller::DataError whose message is the reason only (callers add "file:line: ").
bool parse_record_jsonl(std::string_view line, Record& record);

// Reads a .jsonl / .jsonl.gz file of normalised records (the `synthetic` input format).
ReadStats read_synthetic(const std::filesystem::path& input, const ReadOptions& options,
                         const RecordSink& sink);

}  // namespace seller::data
