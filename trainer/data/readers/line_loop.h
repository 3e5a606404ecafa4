// The loop every line-based reader runs: read lines, parse each into records, emit them to the
// sink, and apply the malformed-line policy. Invariants:
//   - a line's parse either succeeds completely or the line counts as malformed: records of a
//     line are emitted only after the whole line parsed (no half-emitted amazon2023 user);
//   - only errors of the parse step become "file:line: reason" (or a skip); I/O errors of the
//     line reader and errors thrown by the sink propagate unchanged;
//   - stats.lines and stats.bytes accumulate over every file read.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer/core/error.h"
#include "trainer/data/readers/reader.h"
#include "trainer/data/record.h"
#include "trainer/io/line_reader.h"

namespace seller::data {

// A line problem that makes the rest of the file unreadable (e.g. a bad CSV header): reported
// as "file:line: reason" even when skip_malformed is set.
class FatalLineError : public DataError {
 public:
  using DataError::DataError;
};

// Throws "file:line: reason" or counts the line as skipped, per options.
void handle_malformed(const SourcePosition& position, std::string_view reason,
                      const ReadOptions& options, ReadStats& stats);

// Throws DataError naming input when nothing was read from it.
void require_records(const std::filesystem::path& input, const ReadStats& stats);

// Files directly in dir whose name satisfies keep, sorted by name. Throws DataError naming dir
// and what was looked for when there is none.
std::vector<std::filesystem::path> list_input_files(
    const std::filesystem::path& dir, const std::function<bool(const std::string&)>& keep,
    std::string_view wanted);

// parse(std::string_view line) -> bool: true when the line produced records (false: blank);
// throws DataError(reason) when malformed. emit(const SourcePosition&) passes them on.
template <class Parse, class Emit>
void for_each_line(const std::filesystem::path& path, const ReadOptions& options, ReadStats& stats,
                   Parse&& parse, Emit&& emit) {
  io::LineReader reader(path);
  SourcePosition position;
  position.file = path.string();
  std::string_view line;
  while (reader.next(line)) {
    position.line = reader.line_number();
    bool produced = false;
    try {
      produced = parse(line);
    } catch (const FatalLineError& e) {
      throw DataError(detail::concat(position.file, ":", position.line, ": ", e.what()));
    } catch (const DataError& e) {
      handle_malformed(position, e.what(), options, stats);
      continue;
    } catch (const nlohmann::json::exception& e) {  // defensive: the SAX path reports via us
      handle_malformed(position, e.what(), options, stats);
      continue;
    }
    if (produced) emit(position);
  }
  stats.lines += reader.line_number();
  stats.bytes += reader.bytes_read();
}

// True when line holds only JSON whitespace.
inline bool is_blank(std::string_view line) {
  for (char c : line) {
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
  }
  return true;
}

}  // namespace seller::data
