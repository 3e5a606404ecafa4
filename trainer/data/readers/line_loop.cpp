// Malformed-line policy, empty-input check and input folder listing. See line_loop.h.
#include "trainer/data/readers/line_loop.h"

#include <algorithm>
#include <system_error>

namespace seller::data {

namespace {
constexpr size_t kMaxSkippedExamples = 5;
}

void handle_malformed(const SourcePosition& position, std::string_view reason,
                      const ReadOptions& options, ReadStats& stats) {
  std::string message = detail::concat(position.file, ":", position.line, ": ", reason);
  if (!options.skip_malformed) throw DataError(message);
  ++stats.skipped;
  if (stats.skipped_examples.size() < kMaxSkippedExamples) {
    stats.skipped_examples.push_back(std::move(message));
  }
}

void require_records(const std::filesystem::path& input, const ReadStats& stats) {
  if (stats.records > 0) return;
  throw DataError(detail::concat(input.string(), ": empty input: no records in ", stats.lines,
                                 " lines", stats.skipped > 0 ? " (" : "",
                                 stats.skipped > 0 ? std::to_string(stats.skipped) : "",
                                 stats.skipped > 0 ? " skipped as malformed)" : ""));
}

std::vector<std::filesystem::path> list_input_files(
    const std::filesystem::path& dir, const std::function<bool(const std::string&)>& keep,
    std::string_view wanted) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    if (keep(it->path().filename().string())) files.push_back(it->path());
  }
  SELLER_THROW_IF_NOT(!ec, DataError, dir.string(), ": cannot list folder: ", ec.message());
  SELLER_THROW_IF_NOT(!files.empty(), DataError, dir.string(), ": no input files (expected ",
                      wanted, ")");
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.filename() < b.filename(); });
  return files;
}

}  // namespace seller::data
