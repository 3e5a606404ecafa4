// Streaming line reader over plain or gzip files (zlib detects gzip by its magic bytes, so a
// plain file reads unchanged whatever its name). Invariants:
//   - lines come without their '\n' and without one trailing '\r' (CRLF files read like LF);
//   - a final line without '\n' is still returned; an empty file gives no line;
//   - line numbers are 1-based; bytes_read() counts uncompressed bytes consumed so far,
//     newlines included;
//   - a missing/unreadable file, a corrupt gzip stream and a truncated gzip file throw
//     seller::DataError naming the file; a truncated stream is detected when its end is reached,
//     after the complete lines before it were returned;
//   - memory is one buffer (1 MiB by default) that grows only for a longer line, up to
//     kMaxLineBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace seller::io {

class LineReader {
 public:
  static constexpr size_t kDefaultBufferBytes = size_t{1} << 20;
  static constexpr size_t kMaxLineBytes = size_t{1} << 30;

  explicit LineReader(const std::filesystem::path& path, size_t buffer_bytes = kDefaultBufferBytes);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // Sets line to the next line (valid until the next call) and returns true; false at the end.
  bool next(std::string_view& line);

  uint64_t line_number() const { return line_number_; }  // of the line last returned
  uint64_t bytes_read() const { return bytes_read_; }
  const std::filesystem::path& path() const { return path_; }
  bool is_gzip() const { return gzip_; }

 private:
  bool refill();  // false when nothing more can be read

  std::filesystem::path path_;
  void* file_ = nullptr;  // gzFile, kept opaque so that users need no zlib.h
  bool gzip_ = false;
  bool eof_ = false;
  std::vector<char> buffer_;
  size_t begin_ = 0;  // unread data is buffer_[begin_, end_)
  size_t end_ = 0;
  uint64_t line_number_ = 0;
  uint64_t bytes_read_ = 0;
};

}  // namespace seller::io
