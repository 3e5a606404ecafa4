// Crash-safe outputs: a file or a whole folder is built under a temporary name next to its final
// place and renamed into place only at commit(), after fsync. An interrupted or failed writer
// leaves nothing under the final name; the destructor of an uncommitted writer removes its
// temporary. Temporary names are `<name>.tmp-<pid>` in the same folder (rename is atomic only
// within one file system). FileWriter is the buffered, fd-based writer both build on; it is also
// used directly for scratch files that live inside a temporary folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string_view>
#include <vector>

namespace seller::io {

// Buffered writer on a file descriptor. Errors throw seller::DataError naming the file.
class FileWriter {
 public:
  FileWriter() = default;
  // Creates or truncates `path`.
  explicit FileWriter(const std::filesystem::path& path, size_t buffer_bytes = 1 << 20);
  ~FileWriter();
  FileWriter(FileWriter&& other) noexcept;
  FileWriter& operator=(FileWriter&& other) noexcept;
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void write(const void* data, size_t bytes);
  void write(std::string_view text) { write(text.data(), text.size()); }
  // Writes zero bytes until position() is a multiple of `alignment`.
  void pad_to(uint64_t alignment);
  // Overwrites bytes already written (flushes the buffer first).
  void write_at(uint64_t offset, const void* data, size_t bytes);
  void flush();
  void sync();   // flush + fsync
  void close();  // flush + close; idempotent
  uint64_t position() const { return position_; }
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }
  bool is_open() const { return fd_ >= 0; }

 private:
  void write_all(const void* data, size_t bytes);

  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<char> buffer_;
  size_t used_ = 0;
  uint64_t position_ = 0;
};

// A file written under `<final>.tmp-<pid>` and renamed to `final` by commit().
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path final_path, size_t buffer_bytes = 1 << 20);
  ~AtomicFile();  // removes the temporary file unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  FileWriter& writer() { return writer_; }
  void write(const void* data, size_t bytes) { writer_.write(data, bytes); }
  void write(std::string_view text) { writer_.write(text); }
  uint64_t position() const { return writer_.position(); }
  // fsync, close, rename over `final_path`, fsync the folder.
  void commit();
  const std::filesystem::path& final_path() const { return final_path_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  FileWriter writer_;
  bool committed_ = false;
};

// Writes `content` to `path` atomically.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

// A folder built under `<final>.tmp-<pid>` (created fresh, parents created as needed) and moved
// to `final` by commit(). An existing `final` is replaced only at commit (atomically exchanged
// where the file system supports it, then removed). Without commit the temporary is removed.
class AtomicDir {
 public:
  explicit AtomicDir(std::filesystem::path final_path);
  ~AtomicDir();
  AtomicDir(const AtomicDir&) = delete;
  AtomicDir& operator=(const AtomicDir&) = delete;

  // The folder to write into until commit().
  const std::filesystem::path& path() const { return temp_path_; }
  const std::filesystem::path& final_path() const { return final_path_; }
  void commit();

 private:
  std::filesystem::path final_path_;
  std::filesystem::path temp_path_;
  bool committed_ = false;
};

// fsync of a folder, so that a rename inside it is durable.
void sync_directory(const std::filesystem::path& dir);

}  // namespace seller::io
