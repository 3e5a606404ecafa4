// LineReader: zlib gzread into one large buffer, memchr for newlines. See line_reader.h.
#include "trainer/io/line_reader.h"

#include <zlib.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <system_error>

#include "trainer/core/error.h"

namespace seller::io {
namespace {

gzFile as_gz(void* file) { return static_cast<gzFile>(file); }

}  // namespace

LineReader::LineReader(const std::filesystem::path& path, size_t buffer_bytes) : path_(path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  SELLER_THROW_IF_NOT(std::filesystem::exists(status), DataError, path.string(), ": no such file");
  SELLER_THROW_IF_NOT(!std::filesystem::is_directory(status), DataError, path.string(),
                      ": is a directory, expected a file");
  errno = 0;
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    throw DataError(detail::concat(
        path.string(), ": cannot open: ", errno != 0 ? std::strerror(errno) : "out of memory"));
  }
  file_ = file;
  // zlib's own input buffer; must be set before the first read.
  gzbuffer(file, static_cast<unsigned>(buffer_bytes < (1u << 16) ? (1u << 16) : buffer_bytes));
  buffer_.resize(buffer_bytes < 64 ? 64 : buffer_bytes);
  gzip_ = gzdirect(file) == 0;  // looks at the header now (after gzbuffer, as zlib requires)
}

LineReader::~LineReader() {
  if (file_ != nullptr) gzclose_r(as_gz(file_));
}

bool LineReader::refill() {
  if (eof_) return false;
  // Keep the partial line, move it to the front, then grow only if it fills the buffer.
  if (begin_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  if (end_ == buffer_.size()) {
    SELLER_THROW_IF_NOT(buffer_.size() < kMaxLineBytes, DataError, path_.string(), ":",
                        line_number_ + 1, ": line longer than ", kMaxLineBytes, " bytes");
    buffer_.resize(buffer_.size() * 2);
  }
  const size_t room = buffer_.size() - end_;
  const unsigned ask = room > static_cast<size_t>(INT_MAX) ? INT_MAX : static_cast<unsigned>(room);
  const int got = gzread(as_gz(file_), buffer_.data() + end_, ask);
  int errnum = Z_OK;
  const char* message = gzerror(as_gz(file_), &errnum);
  if (got < 0 || (errnum != Z_OK && errnum != Z_BUF_ERROR)) {
    throw DataError(detail::concat(path_.string(), ": cannot read",
                                   gzdirect(as_gz(file_)) ? "" : " (corrupt gzip data)", ": ",
                                   errnum == Z_ERRNO ? std::strerror(errno) : message));
  }
  if (got == 0) {
    // gzread reports a gzip stream cut short only through Z_BUF_ERROR at the end.
    if (errnum == Z_BUF_ERROR) {
      throw DataError(detail::concat(path_.string(),
                                     ": truncated gzip file (unexpected end of stream after ",
                                     bytes_read_ + (end_ - begin_), " uncompressed bytes)"));
    }
    eof_ = true;
    return false;
  }
  end_ += static_cast<size_t>(got);
  return true;
}

bool LineReader::next(std::string_view& line) {
  size_t scanned = begin_;  // bytes before this offset hold no '\n'
  for (;;) {
    const char* base = buffer_.data();
    const void* nl = std::memchr(base + scanned, '\n', end_ - scanned);
    if (nl != nullptr) {
      const size_t stop = static_cast<size_t>(static_cast<const char*>(nl) - base);
      size_t len = stop - begin_;
      if (len > 0 && base[begin_ + len - 1] == '\r') --len;
      line = std::string_view(base + begin_, len);
      bytes_read_ += stop + 1 - begin_;
      begin_ = stop + 1;
      ++line_number_;
      return true;
    }
    const size_t pending = end_ - begin_;
    if (!refill()) {
      if (begin_ == end_) return false;
      size_t len = end_ - begin_;
      if (buffer_[begin_ + len - 1] == '\r') --len;
      line = std::string_view(buffer_.data() + begin_, len);
      bytes_read_ += end_ - begin_;
      begin_ = end_;
      ++line_number_;
      return true;
    }
    scanned = begin_ + pending;  // refill moved the pending bytes to the front
  }
}

}  // namespace seller::io
