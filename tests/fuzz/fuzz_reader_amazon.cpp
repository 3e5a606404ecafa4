// libFuzzer target for the Amazon 2014/2018 review reader: every input line through
// parse_amazon_line, and the whole input written to a file and read back through the line
// reader (arbitrary bytes, gzip magic included, 64-byte buffer). seller::Error is an accepted
// outcome; anything else (crash, sanitizer report, other exception) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "trainer/core/error.h"
#include "trainer/data/readers/amazon_reader.h"
#include "trainer/io/line_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  seller::data::Record record;
  size_t start = 0;
  while (start <= input.size()) {
    size_t end = input.find('\n', start);
    if (end == std::string_view::npos) end = input.size();
    try {
      if (seller::data::parse_amazon_line(input.substr(start, end - start), record)) {
        if (record.user.empty() || record.item.empty()) __builtin_trap();
      }
    } catch (const seller::Error&) {
    }
    start = end + 1;
  }

  // One scratch file per process, removed at exit. Read back through a LineReader with a tiny
  // buffer so that refills and buffer growth happen on every input.
  static const struct Scratch {
    // tmpfs when there is one: a file write on a disk-backed /tmp costs milliseconds.
    std::filesystem::path dir = std::filesystem::is_directory("/dev/shm")
                                    ? std::filesystem::path("/dev/shm")
                                    : std::filesystem::temp_directory_path();
    std::string path =
        (dir / ("fuzz_reader_amazon." + std::to_string(getpid()) + ".json")).string();
    ~Scratch() { std::remove(path.c_str()); }
  } scratch;
  if (FILE* f = std::fopen(scratch.path.c_str(), "wb")) {
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    try {
      seller::io::LineReader reader(scratch.path, 64);
      std::string_view line;
      uint64_t bytes = 0;
      while (reader.next(line)) {
        bytes += line.size();
        try {
          seller::data::parse_amazon_line(line, record);
        } catch (const seller::DataError&) {
        }
      }
      if (!reader.is_gzip() && (reader.bytes_read() != size || bytes > size)) __builtin_trap();
    } catch (const seller::Error&) {
    }
  }
  return 0;
}
