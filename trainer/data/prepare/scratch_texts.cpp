// Implementation of ScratchTexts (see scratch_texts.h).
#include "trainer/data/prepare/scratch_texts.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "trainer/core/error.h"

namespace seller::data::prepare {

ScratchTexts::ScratchTexts(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) {
    throw DataError(
        detail::concat("cannot open scratch file ", path.string(), ": ", std::strerror(errno)));
  }
}

ScratchTexts::~ScratchTexts() {
  if (fd_ >= 0) ::close(fd_);
}

void ScratchTexts::read(uint64_t offset, uint64_t length, char* dst) const {
  while (length > 0) {
    const ssize_t got = ::pread(fd_, dst, length, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      throw DataError(detail::concat("cannot read scratch file ", path_.string(), ": ",
                                     got < 0 ? std::strerror(errno) : "unexpected end"));
    }
    dst += got;
    offset += static_cast<uint64_t>(got);
    length -= static_cast<uint64_t>(got);
  }
}

std::string_view ScratchTexts::view(uint64_t offset, uint64_t length, int slot) const {
  std::string& b = buffers_[slot];
  b.resize(length);
  read(offset, length, b.data());
  return b;
}

}  // namespace seller::data::prepare
