// Implementation of FileWriter, AtomicFile and AtomicDir (see atomic_file.h).
#include "trainer/io/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2 (glibc >= 2.28)
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "trainer/core/error.h"

namespace seller::io {
namespace fs = std::filesystem;

namespace {
[[noreturn]] void fail(const char* what, const fs::path& path, int err) {
  throw DataError(detail::concat("cannot ", what, " ", path.string(), ": ", std::strerror(err)));
}

fs::path temp_sibling(const fs::path& final_path) {
  fs::path p = final_path;
  if (!p.has_filename()) p = p.parent_path();  // "out/" -> "out"
  return p.parent_path() / (p.filename().string() + ".tmp-" + std::to_string(::getpid()));
}
}  // namespace

// ---------------------------------------------------------------------------------------------
FileWriter::FileWriter(const fs::path& path, size_t buffer_bytes) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("create", path, errno);
  buffer_.resize(std::max<size_t>(buffer_bytes, 4096));
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);  // errors are ignored here: an unclosed writer is being discarded
}

FileWriter::FileWriter(FileWriter&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      used_(std::exchange(other.used_, 0)),
      position_(std::exchange(other.position_, 0)) {}

FileWriter& FileWriter::operator=(FileWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    fd_ = std::exchange(other.fd_, -1);
    buffer_ = std::move(other.buffer_);
    used_ = std::exchange(other.used_, 0);
    position_ = std::exchange(other.position_, 0);
  }
  return *this;
}

void FileWriter::write_all(const void* data, size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::write(fd_, p, bytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", path_, errno);
    }
    p += n;
    bytes -= static_cast<size_t>(n);
  }
}

void FileWriter::write(const void* data, size_t bytes) {
  SELLER_CHECK(fd_ >= 0, "write to a closed file ", path_.string());
  if (bytes == 0) return;  // an empty tensor's data may be a null pointer (memcpy forbids it)
  position_ += bytes;
  if (used_ + bytes <= buffer_.size()) {
    std::memcpy(buffer_.data() + used_, data, bytes);
    used_ += bytes;
    return;
  }
  flush();
  if (bytes >= buffer_.size()) {
    write_all(data, bytes);
  } else {
    std::memcpy(buffer_.data(), data, bytes);
    used_ = bytes;
  }
}

void FileWriter::pad_to(uint64_t alignment) {
  static constexpr char kZeros[256] = {};
  uint64_t rem = position_ % alignment;
  if (rem == 0) return;
  uint64_t pad = alignment - rem;
  while (pad > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(pad, sizeof(kZeros)));
    write(kZeros, n);
    pad -= n;
  }
}

void FileWriter::write_at(uint64_t offset, const void* data, size_t bytes) {
  SELLER_CHECK(offset + bytes <= position_, "write_at past the end of ", path_.string());
  flush();
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    ssize_t n = ::pwrite(fd_, p, bytes, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", path_, errno);
    }
    p += n;
    offset += static_cast<uint64_t>(n);
    bytes -= static_cast<size_t>(n);
  }
}

void FileWriter::flush() {
  if (used_ > 0) {
    write_all(buffer_.data(), used_);
    used_ = 0;
  }
}

void FileWriter::sync() {
  flush();
  if (::fsync(fd_) != 0) fail("fsync", path_, errno);
}

void FileWriter::close() {
  if (fd_ < 0) return;
  flush();
  int fd = std::exchange(fd_, -1);
  if (::close(fd) != 0) fail("close", path_, errno);
  buffer_ = {};
}

// ---------------------------------------------------------------------------------------------
AtomicFile::AtomicFile(fs::path final_path, size_t buffer_bytes)
    : final_path_(std::move(final_path)),
      temp_path_(temp_sibling(final_path_)),
      writer_(temp_path_, buffer_bytes) {}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    writer_ = FileWriter();  // closes the descriptor
    std::error_code ec;
    fs::remove(temp_path_, ec);
  }
}

void AtomicFile::commit() {
  SELLER_CHECK(!committed_, "commit twice of ", final_path_.string());
  writer_.sync();
  writer_.close();
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) fail("rename to", final_path_, errno);
  committed_ = true;
  fs::path parent = final_path_.parent_path();
  sync_directory(parent.empty() ? fs::path(".") : parent);
}

void write_file_atomically(const fs::path& path, std::string_view content) {
  AtomicFile file(path, std::min<size_t>(content.size() + 1, 1 << 20));
  file.write(content);
  file.commit();
}

void sync_directory(const fs::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: some file systems do not allow opening folders
  ::fsync(fd);
  ::close(fd);
}

// ---------------------------------------------------------------------------------------------
AtomicDir::AtomicDir(fs::path final_path)
    : final_path_(std::move(final_path)), temp_path_(temp_sibling(final_path_)) {
  if (!final_path_.has_filename()) final_path_ = final_path_.parent_path();
  std::error_code ec;
  fs::remove_all(temp_path_, ec);  // a stale leftover of a crashed run with our pid
  fs::path parent = temp_path_.parent_path();
  if (!parent.empty()) {
    fs::create_directories(parent, ec);
    if (ec) {
      throw DataError(detail::concat("cannot create folder ", parent.string(), ": ", ec.message()));
    }
  }
  if (!fs::create_directory(temp_path_, ec) || ec) {
    throw DataError(detail::concat("cannot create folder ", temp_path_.string(), ": ",
                                   ec ? ec.message() : std::string("already exists")));
  }
}

AtomicDir::~AtomicDir() {
  if (!committed_) {
    std::error_code ec;
    fs::remove_all(temp_path_, ec);
  }
}

void AtomicDir::commit() {
  SELLER_CHECK(!committed_, "commit twice of ", final_path_.string());
  // Make the contents durable before they become visible under the final name.
  for (const auto& entry : fs::directory_iterator(temp_path_)) {
    if (!entry.is_regular_file()) continue;
    int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      ::fsync(fd);
      ::close(fd);
    }
  }
  sync_directory(temp_path_);
  std::error_code ec;
  bool exists = fs::exists(fs::symlink_status(final_path_, ec));
  if (!exists) {
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      fail("rename to", final_path_, errno);
    }
  } else if (::renameat2(AT_FDCWD, temp_path_.c_str(), AT_FDCWD, final_path_.c_str(),
                         RENAME_EXCHANGE) == 0) {
    // temp_path_ now holds the old contents.
    committed_ = true;
    fs::remove_all(temp_path_, ec);
  } else {
    // No atomic exchange on this file system: move the old one aside, then move in the new one.
    fs::path old = final_path_.parent_path() /
                   (final_path_.filename().string() + ".old-" + std::to_string(::getpid()));
    fs::remove_all(old, ec);
    if (::rename(final_path_.c_str(), old.c_str()) != 0) fail("move aside", final_path_, errno);
    if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
      int err = errno;
      ::rename(old.c_str(), final_path_.c_str());  // put the old one back
      fail("rename to", final_path_, err);
    }
    fs::remove_all(old, ec);
  }
  committed_ = true;
  fs::path parent = final_path_.parent_path();
  sync_directory(parent.empty() ? fs::path(".") : parent);
}

}  // namespace seller::io
