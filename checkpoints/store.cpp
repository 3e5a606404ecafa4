// The commit protocol, retention and the resume scan (store.h).
#include "checkpoints/store.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "checkpoints/fault.h"
#include "checkpoints/verify.h"
#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"

namespace seller::ckpt {
namespace fs = std::filesystem;
namespace {

std::string random_suffix() {
  std::random_device rd;
  char buf[24];
  std::snprintf(buf, sizeof buf, "%08x%04x", rd(), rd() & 0xffffu);
  return buf;
}

std::string utc_now() {
  const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Writes and fsyncs a small file inside a folder that is not visible yet (no rename needed).
void write_synced(const fs::path& path, const std::string& text) {
  io::FileWriter w(path);
  w.write(text);
  w.sync();
  w.close();
}

// Removes `dir`, tolerating that it is already gone; errors are reported, never thrown, since
// cleanup runs on error paths.
void remove_quietly(const fs::path& dir) {
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace

std::optional<int64_t> parse_step_name(const std::string& name) {
  if (name.size() != 14 || name.rfind("step-", 0) != 0) return std::nullopt;
  int64_t v = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    v = v * 10 + (name[i] - '0');
  }
  return v;
}

CheckpointStore::CheckpointStore(fs::path root, StoreOptions options)
    : root_(std::move(root)), options_(std::move(options)) {
  auto& h = options_.hooks;
  if (!h.broadcast) h.broadcast = [](const std::string& v) { return v; };
  if (!h.gather) h.gather = [](const std::string& v) { return std::vector<std::string>{v}; };
  if (!h.barrier) h.barrier = [] {};
}

std::string CheckpointStore::step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step-%09lld", static_cast<long long>(step));
  return buf;
}

fs::path CheckpointStore::save(const SaveRequest& req) {
  fault_begin_save();
  const bool root_rank = options_.rank == 0;
  const auto name = step_name(req.step);
  const fs::path final_dir = root_ / name;
  const fs::path tmp =
      root_ / options_.hooks.broadcast(root_rank ? name + ".tmp-" + random_suffix() : "");
  try {
    if (root_rank) {
      fault_point(FaultPoint::kBeforeMkdir, root_);
      std::error_code ec;
      fs::create_directories(tmp, ec);
      SELLER_THROW_IF_NOT(!ec, DataError, tmp.string(),
                          ": cannot create checkpoint folder: ", ec.message());
    }
    options_.hooks.barrier();
    const auto file = chunk_file_name(options_.rank);
    fault_point(FaultPoint::kBeforeChunk, tmp / file);
    const auto entries = write_chunk_file(tmp / file, req.chunks);
    fault_point(FaultPoint::kAfterChunk, tmp / file);
    // This rank's contribution: its file and, per chunk, the tensor it belongs to.
    nlohmann::json mine = {{"rank", options_.rank},
                           {"file", file},
                           {"bytes", fs::file_size(tmp / file)},
                           {"chunks", nlohmann::json::array()}};
    size_t k = 0;
    for (const auto& c : req.chunks) {
      if (c.box.numel() == 0) continue;
      const auto& e = entries[k++];
      mine["chunks"].push_back({{"name", c.name},
                                {"dtype", io::dtype_name(c.dtype)},
                                {"global_shape", c.global_shape},
                                {"offset", e.offset},
                                {"shape", e.shape},
                                {"crc32", e.crc32},
                                {"bytes", e.bytes}});
    }
    const auto all = options_.hooks.gather(mine.dump());
    if (root_rank) {
      Manifest m;
      m.step = req.step;
      m.config_yaml = req.config_yaml;
      m.config_hash = config_hash(req.hash_yaml.empty() ? req.config_yaml : req.hash_yaml);
      m.layout = options_.layout;
      m.train_state = req.train_state;
      m.created = utc_now();
      std::map<std::string, TensorEntry> tensors;
      for (const auto& text : all) {
        const auto r = nlohmann::json::parse(text);
        m.files.push_back({r["file"], r["rank"], r["bytes"]});
        for (const auto& c : r["chunks"]) {
          auto& t = tensors[c["name"]];
          t.name = c["name"];
          t.dtype = *io::parse_dtype(c["dtype"].get<std::string>());
          t.shape = c["global_shape"].get<std::vector<int64_t>>();
          t.chunks.push_back({r["file"], c["offset"], c["shape"], c["crc32"], c["bytes"]});
        }
      }
      for (auto& [n, t] : tensors) {
        const auto problem = check_tiling(t.shape, t.chunks);
        SELLER_CHECK(problem.empty(), "tensor ", n, ": ", problem);
        m.tensors.push_back(std::move(t));
      }
      write_synced(tmp / kManifestName, m.to_json().dump(1) + "\n");
      io::sync_directory(tmp);
      fault_point(FaultPoint::kBeforeRename, tmp);
      // A committed step-N of the same step (a run resumed at its final checkpoint saves it
      // again) is moved aside, not deleted, until the new one is committed; an uncommitted one
      // is the debris of a crash and never resumed from.
      fs::path previous;
      if (fs::exists(final_dir)) {
        if (fs::exists(final_dir / kCommittedName)) {
          previous = root_ / (name + ".old-" + random_suffix());
          fs::rename(final_dir, previous);
        } else {
          remove_quietly(final_dir);
        }
      }
      fs::rename(tmp, final_dir);
      io::sync_directory(root_);
      write_synced(final_dir / kCommittedName,
                   detail::concat("step ", req.step, "\n", m.created, "\n"));
      io::sync_directory(final_dir);
      if (!previous.empty()) remove_quietly(previous);
      io::write_file_atomically(root_ / "latest", name + "\n");
    }
    options_.hooks.barrier();
  } catch (...) {
    if (root_rank) remove_quietly(tmp);
    throw;
  }
  if (root_rank) prune();
  return final_dir;
}

std::vector<CommittedCheckpoint> CheckpointStore::committed() const {
  std::vector<CommittedCheckpoint> out;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return out;
  for (const auto& e : fs::directory_iterator(root_)) {
    const auto step = parse_step_name(e.path().filename().string());
    if (step && fs::exists(e.path() / kCommittedName)) out.push_back({*step, e.path()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.step < b.step; });
  return out;
}

std::optional<CommittedCheckpoint> CheckpointStore::find_resumable(std::ostream* warn,
                                                                   bool checksums) const {
  std::vector<CommittedCheckpoint> all;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return std::nullopt;
  for (const auto& e : fs::directory_iterator(root_)) {
    const auto step = parse_step_name(e.path().filename().string());
    if (step) all.push_back({*step, e.path()});
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.step > b.step; });
  for (const auto& c : all) {
    const auto report = verify_checkpoint(c.dir, checksums);
    if (report.ok()) return c;
    if (warn)
      *warn << "warning: skipping checkpoint " << c.dir.string() << ": " << summarize(report)
            << "\n";
  }
  return std::nullopt;
}

void CheckpointStore::prune() const {
  const auto kept = committed();
  const auto keep = static_cast<size_t>(std::max<int64_t>(1, options_.keep));
  const int64_t newest = kept.empty() ? -1 : kept.back().step;
  for (size_t i = 0; i + keep < kept.size(); ++i) remove_quietly(kept[i].dir);
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_, ec)) {
    const auto n = e.path().filename().string();
    // Temporaries of saves that died (this process saves one at a time, and it just committed),
    // and uncommitted step folders older than the newest commit.
    if (n.rfind("step-", 0) == 0 &&
        (n.find(".tmp-") != std::string::npos || n.find(".old-") != std::string::npos))
      remove_quietly(e.path());
    const auto step = parse_step_name(n);
    if (step && *step < newest && !fs::exists(e.path() / kCommittedName)) remove_quietly(e.path());
  }
}

}  // namespace seller::ckpt
