// Implementation of ExternalSorter (see external_sort.h). Runs of one pass live back to back in
// one scratch file and are read with pread, so the number of runs never meets a limit on open
// file descriptors.
#include "trainer/data/prepare/external_sort.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "trainer/core/error.h"

namespace seller::data::prepare {
namespace fs = std::filesystem;

// A k-way merge of sorted runs in one scratch file, pulled record by record.
class RunMerger {
 public:
  struct Source {
    uint64_t next;       // next record index in the file to read
    uint64_t remaining;  // records not yet read into the buffer
    std::vector<SpillRecord> buffer;
    size_t pos = 0;
  };

  RunMerger(int fd, const fs::path& path, size_t buffer_records)
      : fd_(fd), path_(path), buffer_records_(buffer_records) {}

  void add_run(uint64_t first, uint64_t count) {
    if (count == 0) return;
    sources_.push_back(Source{first, count, {}, 0});
  }

  void start() {
    for (uint32_t i = 0; i < sources_.size(); ++i) {
      refill(sources_[i]);
      heap_.push_back(i);
    }
    std::make_heap(heap_.begin(), heap_.end(), Greater{this});
  }

  const SpillRecord* next() {
    if (pending_ != kNone) {  // advance the source whose record was handed out last
      Source& s = sources_[pending_];
      if (++s.pos == s.buffer.size()) refill(s);
      if (s.pos < s.buffer.size()) {
        heap_.push_back(pending_);
        std::push_heap(heap_.begin(), heap_.end(), Greater{this});
      }
      pending_ = kNone;
    }
    if (heap_.empty()) return nullptr;
    std::pop_heap(heap_.begin(), heap_.end(), Greater{this});
    pending_ = heap_.back();
    heap_.pop_back();
    const Source& s = sources_[pending_];
    return &s.buffer[s.pos];
  }

 private:
  static constexpr uint32_t kNone = ~0u;
  struct Greater {
    const RunMerger* m;
    bool operator()(uint32_t a, uint32_t b) const {
      const Source& sa = m->sources_[a];
      const Source& sb = m->sources_[b];
      return sort_before(sb.buffer[sb.pos], sa.buffer[sa.pos]);
    }
  };

  void refill(Source& s) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(s.remaining, buffer_records_));
    s.buffer.resize(n);
    s.pos = 0;
    char* dst = reinterpret_cast<char*>(s.buffer.data());
    size_t bytes = n * sizeof(SpillRecord);
    off_t offset = static_cast<off_t>(s.next * sizeof(SpillRecord));
    while (bytes > 0) {
      ssize_t got = ::pread(fd_, dst, bytes, offset);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        throw DataError(detail::concat("cannot read scratch file ", path_.string(), ": ",
                                       got < 0 ? std::strerror(errno) : "unexpected end"));
      }
      dst += got;
      bytes -= static_cast<size_t>(got);
      offset += got;
    }
    s.next += n;
    s.remaining -= n;
  }

  int fd_;
  fs::path path_;
  size_t buffer_records_;
  std::vector<Source> sources_;
  std::vector<uint32_t> heap_;
  uint32_t pending_ = kNone;
};

ExternalSorter::ExternalSorter(fs::path scratch_dir, uint64_t memory_bytes, size_t fan_in)
    : dir_(std::move(scratch_dir)), fan_in_(std::max<size_t>(fan_in, 2)) {
  capacity_ = static_cast<size_t>(std::max<uint64_t>(memory_bytes / sizeof(SpillRecord), 16));
  read_buffer_records_ = std::max<size_t>(capacity_ / fan_in_, 16);
  buffer_.reserve(capacity_);
}

ExternalSorter::~ExternalSorter() { remove_scratch(); }

void ExternalSorter::remove_scratch() {
  merger_.reset();
  if (read_fd_ >= 0) ::close(read_fd_);
  read_fd_ = -1;
  writer_ = io::FileWriter();
  std::error_code ec;
  if (!run_file_.empty()) fs::remove(run_file_, ec);
  run_file_.clear();
}

void ExternalSorter::spill() {
  if (buffer_.empty()) return;
  std::sort(buffer_.begin(), buffer_.end(), sort_before);
  if (!writer_.is_open()) {
    run_file_ = dir_ / ("sort-run-" + std::to_string(scratch_counter_++) + ".tmp");
    writer_ = io::FileWriter(run_file_, 4 << 20);
  }
  const uint64_t first = writer_.position() / sizeof(SpillRecord);
  writer_.write(buffer_.data(), buffer_.size() * sizeof(SpillRecord));
  runs_.push_back(Run{first, buffer_.size()});
  records_ += buffer_.size();
  ++runs_spilled_;
  buffer_.clear();
}

void ExternalSorter::finish() {
  if (runs_.empty()) {  // everything fit in memory: no scratch file at all
    std::sort(buffer_.begin(), buffer_.end(), sort_before);
    records_ = buffer_.size();
    runs_spilled_ = buffer_.empty() ? 0 : 1;
    in_memory_ = true;
    return;
  }
  spill();
  std::vector<SpillRecord>().swap(buffer_);  // give the run memory back to the merge buffers
  writer_.close();

  auto open_reader = [&] {
    read_fd_ = ::open(run_file_.c_str(), O_RDONLY | O_CLOEXEC);
    if (read_fd_ < 0) {
      throw DataError(detail::concat("cannot open scratch file ", run_file_.string(), ": ",
                                     std::strerror(errno)));
    }
  };
  open_reader();
  // Intermediate passes: merge groups of fan_in runs into longer runs in a new scratch file.
  while (runs_.size() > fan_in_) {
    ++merge_passes_;
    fs::path out_path = dir_ / ("sort-run-" + std::to_string(scratch_counter_++) + ".tmp");
    io::FileWriter out(out_path, 4 << 20);
    std::vector<Run> merged;
    std::vector<SpillRecord> chunk;
    chunk.reserve(read_buffer_records_);
    for (size_t g = 0; g < runs_.size(); g += fan_in_) {
      RunMerger m(read_fd_, run_file_, read_buffer_records_);
      uint64_t count = 0;
      for (size_t i = g; i < std::min(runs_.size(), g + fan_in_); ++i) {
        m.add_run(runs_[i].first, runs_[i].count);
        count += runs_[i].count;
      }
      m.start();
      merged.push_back(Run{out.position() / sizeof(SpillRecord), count});
      while (const SpillRecord* r = m.next()) {
        chunk.push_back(*r);
        if (chunk.size() == chunk.capacity()) {
          out.write(chunk.data(), chunk.size() * sizeof(SpillRecord));
          chunk.clear();
        }
      }
      out.write(chunk.data(), chunk.size() * sizeof(SpillRecord));
      chunk.clear();
    }
    out.close();
    ::close(read_fd_);
    read_fd_ = -1;
    std::error_code ec;
    fs::remove(run_file_, ec);
    run_file_ = out_path;
    runs_ = std::move(merged);
    open_reader();
  }
  merger_ = std::make_unique<RunMerger>(read_fd_, run_file_, read_buffer_records_);
  for (const Run& r : runs_) merger_->add_run(r.first, r.count);
  merger_->start();
}

const SpillRecord* ExternalSorter::next() {
  if (in_memory_) return memory_pos_ < buffer_.size() ? &buffer_[memory_pos_++] : nullptr;
  SELLER_CHECK(merger_ != nullptr, "ExternalSorter::next before finish");
  return merger_->next();
}

}  // namespace seller::data::prepare
