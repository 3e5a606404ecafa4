// Random-access reader of the texts scratch file during the merge. Records arrive in (user, time)
// order, so their texts are scattered over the file; reading them with pread instead of through
// a mapping keeps them out of the resident set (a mapping's fault-around would pull in 64 KiB
// per record), which keeps peak RSS flat whatever the input size.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace seller::data::prepare {

class ScratchTexts {
 public:
  explicit ScratchTexts(const std::filesystem::path& path);
  ~ScratchTexts();
  ScratchTexts(const ScratchTexts&) = delete;
  ScratchTexts& operator=(const ScratchTexts&) = delete;

  // Reads `length` bytes at `offset` into `dst` (which must have room).
  void read(uint64_t offset, uint64_t length, char* dst) const;
  // Reads into an internal buffer valid until the next call on the same slot (0 or 1), so two
  // texts can be compared.
  std::string_view view(uint64_t offset, uint64_t length, int slot = 0) const;

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  mutable std::string buffers_[2];
};

}  // namespace seller::data::prepare
