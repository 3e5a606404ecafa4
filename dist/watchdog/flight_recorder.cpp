// FlightRecorder implementation: a fixed ring indexed by id % capacity (ids are consecutive, so
// the slot of id i holds i or a newer id, never an older one).
#include "dist/watchdog/flight_recorder.h"

#include <iomanip>
#include <sstream>

#include "trainer/core/error.h"

namespace seller::dist {

FlightRecorder::FlightRecorder(int rank, size_t capacity)
    : rank_(rank), capacity_(capacity), ring_(capacity) {
  SELLER_THROW_IF_NOT(capacity > 0, ConfigError, "watchdog: flight recorder capacity must be > 0");
}

uint64_t FlightRecorder::begin(std::string op, std::string group, uint64_t seq, int64_t bytes,
                               std::function<bool()> poll) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = next_id_++;
  Slot& slot = ring_[id % capacity_];
  slot.record = CollectiveRecord{
      id, std::move(op), std::move(group), seq, bytes, std::chrono::steady_clock::now(), {}, false};
  slot.poll = std::move(poll);
  return id;
}

FlightRecorder::Slot* FlightRecorder::find_locked(uint64_t id) {
  Slot& slot = ring_[id % capacity_];
  return slot.record.id == id ? &slot : nullptr;
}

void FlightRecorder::end(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (Slot* slot = find_locked(id); slot != nullptr && !slot->record.done) {
    slot->record.done = true;
    slot->record.end = std::chrono::steady_clock::now();
    slot->poll = nullptr;
  }
}

std::vector<CollectiveRecord> FlightRecorder::snapshot() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CollectiveRecord> out;
  uint64_t first = next_id_ > capacity_ ? next_id_ - capacity_ : 1;
  for (uint64_t id = first; id < next_id_; ++id) {
    Slot* slot = find_locked(id);
    if (slot == nullptr) continue;
    if (!slot->record.done && slot->poll) {
      bool finished = false;
      try {
        finished = slot->poll();
      } catch (...) {
        // A failed operation is reported as pending: the hang report is the place it shows.
      }
      if (finished) {
        slot->record.done = true;
        slot->record.end = std::chrono::steady_clock::now();
        slot->poll = nullptr;
      }
    }
    out.push_back(slot->record);
  }
  return out;
}

size_t FlightRecorder::pending() {
  size_t n = 0;
  for (const auto& r : snapshot()) n += r.done ? 0 : 1;
  return n;
}

std::string FlightRecorder::format(size_t last) {
  auto records = snapshot();
  auto now = std::chrono::steady_clock::now();
  size_t from = records.size() > last ? records.size() - last : 0;
  std::ostringstream os;
  os << std::fixed << std::setprecision(3);
  for (size_t i = from; i < records.size(); ++i) {
    const auto& r = records[i];
    double age = std::chrono::duration<double>(now - r.start).count();
    os << "[rank " << rank_ << "] group=" << r.group << " op=" << r.op << " seq=" << r.seq
       << " bytes=" << r.bytes << " age=" << age << "s state=";
    if (r.done) {
      os << "done in " << std::chrono::duration<double>(r.end - r.start).count() << "s";
    } else {
      os << "pending";
    }
    os << '\n';
  }
  if (records.empty()) os << "[rank " << rank_ << "] no communication recorded\n";
  return os.str();
}

}  // namespace seller::dist
