// Reader of S3-Rec / P5 sequential files (`<name>.txt`, P5's `sequential_data.txt`): one user
// per line, "user item item ...", integer ids separated by spaces or tabs, items in
// chronological order. Emits one record per item, in line order, timestamp kNoTimestamp (the
// order is the history order). Ids are written in canonical decimal. When
// `<name>_item2attributes.json` ({"item": [attribute ids]}) sits beside the file, each record's
// category is its item's attribute ids joined by ','. A line with a non-integer token or a user
// without items is malformed; a broken attributes file is an error naming that file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

#include "trainer/data/readers/reader.h"
#include "trainer/data/record.h"

namespace seller::data {

// Parses one line; false for a blank line. Throws DataError with the reason only.
bool parse_s3rec_line(std::string_view line, uint64_t& user, std::vector<uint64_t>& items);

ReadStats read_s3rec(const std::filesystem::path& input, const ReadOptions& options,
                     const RecordSink& sink);

}  // namespace seller::data
