// write_synthetic_jsonl: the generator's records as normalised JSON lines (the `synthetic` input
// format of `seller data prepare`), gzip-compressed when the name ends in ".gz". Records are
// serialised into a 1 MiB batch, compressed (zlib level 1: generation, not storage, is the point)
// and written to an io::AtomicFile, so memory stays constant and an interrupted run leaves no
// file under the final name.
#include <zlib.h>

#include <string>
#include <vector>

#include "trainer/core/error.h"
#include "trainer/data/readers/normalised_jsonl.h"
#include "trainer/data/synthetic/synthetic.h"
#include "trainer/io/atomic_file.h"

namespace seller::data {
namespace {

constexpr size_t kBatchBytes = 1 << 20;

// Streaming gzip onto a FileWriter.
class GzipStream {
 public:
  explicit GzipStream(io::FileWriter& out) : out_(out), chunk_(kBatchBytes) {
    // 15 + 16: a gzip header and trailer around the deflate stream.
    SELLER_CHECK(deflateInit2(&z_, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  }
  ~GzipStream() { deflateEnd(&z_); }
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  void write(const std::string& data) { run(data.data(), data.size(), Z_NO_FLUSH); }
  void finish() { run(nullptr, 0, Z_FINISH); }

 private:
  void run(const char* data, size_t size, int flush) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    z_.avail_in = static_cast<uInt>(size);
    int rc = Z_OK;
    do {
      z_.next_out = reinterpret_cast<Bytef*>(chunk_.data());
      z_.avail_out = static_cast<uInt>(chunk_.size());
      rc = deflate(&z_, flush);
      SELLER_CHECK(rc != Z_STREAM_ERROR, "deflate failed");
      out_.write(chunk_.data(), chunk_.size() - z_.avail_out);
    } while (z_.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
  }

  io::FileWriter& out_;
  z_stream z_{};
  std::vector<char> chunk_;
};

bool ends_with_gz(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  return name.size() >= 3 && name.compare(name.size() - 3, 3, ".gz") == 0;
}

}  // namespace

SyntheticStats write_synthetic_jsonl(const SyntheticOptions& options,
                                     const std::filesystem::path& out) {
  validate(options);  // before creating anything on disk
  if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
  io::AtomicFile file(out);
  const bool gzip = ends_with_gz(out);
  std::string batch;
  batch.reserve(kBatchBytes + 4096);
  if (gzip) {
    GzipStream gz(file.writer());
    const SyntheticStats stats =
        generate_synthetic(options, [&](const Record& r, const SourcePosition&) {
          append_record_jsonl(r, batch);
          if (batch.size() >= kBatchBytes) gz.write(batch), batch.clear();
        });
    gz.write(batch);
    gz.finish();
    file.commit();
    return stats;
  }
  const SyntheticStats stats =
      generate_synthetic(options, [&](const Record& r, const SourcePosition&) {
        append_record_jsonl(r, batch);
        if (batch.size() >= kBatchBytes) file.write(batch), batch.clear();
      });
  file.write(batch);
  file.commit();
  return stats;
}

}  // namespace seller::data
