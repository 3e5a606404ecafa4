// Whole-checkpoint verification (verify.h).
#include "checkpoints/verify.h"

#include <sstream>

#include "checkpoints/chunk_io.h"
#include "trainer/core/error.h"
#include "trainer/io/safetensors_reader.h"

namespace seller::ckpt {
namespace fs = std::filesystem;

VerifyReport verify_checkpoint(const fs::path& dir, bool checksums) {
  VerifyReport r;
  if (!fs::exists(dir / kCommittedName))
    r.problems.push_back((dir / kCommittedName).string() +
                         ": missing (the save did not finish: incomplete checkpoint)");
  Manifest m;
  try {
    m = read_manifest(dir);
  } catch (const Error& e) {
    r.problems.push_back(e.what());
    return r;
  }
  for (const auto& f : m.files) {
    const auto path = dir / f.name;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    if (ec) {
      r.problems.push_back(path.string() + ": missing chunk file");
      continue;
    }
    if (size != f.bytes)
      r.problems.push_back(detail::concat(path.string(), ": ", size, " bytes, the manifest says ",
                                          f.bytes, " (truncated or replaced)"));
    ++r.files;
    r.bytes += size;
  }
  if (!r.ok()) return r;
  ChunkReader reader(dir);
  for (const auto& t : m.tensors)
    for (const auto& c : t.chunks) {
      ++r.chunks;
      try {
        if (checksums) {
          reader.verify_chunk(t, c);
        } else {
          const auto f = io::SafetensorsFile::open(dir / c.file);  // structure only
          const auto v = f.find(t.name);
          if (!v || v->shape != c.shape || v->dtype != t.dtype)
            r.problems.push_back((dir / c.file).string() + ": chunk of '" + t.name +
                                 "' is missing or has another dtype or shape");
        }
      } catch (const Error& e) {
        r.problems.push_back(e.what());
      }
      if (r.problems.size() > 20) return r;
    }
  return r;
}

std::string summarize(const VerifyReport& report) {
  std::ostringstream os;
  for (size_t i = 0; i < report.problems.size() && i < 3; ++i)
    os << (i ? "; " : "") << report.problems[i];
  if (report.problems.size() > 3) os << "; and " << report.problems.size() - 3 << " more";
  return os.str();
}

}  // namespace seller::ckpt
