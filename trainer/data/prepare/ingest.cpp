// Implementation of the first prepare pass (see ingest.h).
#include "trainer/data/prepare/ingest.h"

#include <functional>
#include <limits>
#include <string_view>

#include "trainer/core/error.h"

namespace seller::data::prepare {

namespace {
[[noreturn]] void bad_record(const SourcePosition& pos, const std::string& what) {
  throw DataError(detail::concat(pos.file.empty() ? std::string("<input>") : pos.file, ":",
                                 pos.line, ": ", what));
}

uint32_t checked_length(const std::string& s, const char* field, const SourcePosition& pos) {
  if (s.size() > std::numeric_limits<uint32_t>::max()) {
    bad_record(pos, detail::concat(field, " is longer than 4 GiB"));
  }
  return static_cast<uint32_t>(s.size());
}
}  // namespace

Ingestor::Ingestor(const std::filesystem::path& scratch_dir, const PrepareOptions& options,
                   ExternalSorter& sorter)
    : options_(options),
      sorter_(sorter),
      texts_path_(scratch_dir / "texts.tmp"),
      item_texts_path_(scratch_dir / "item-texts.tmp"),
      texts_(texts_path_, 4 << 20),
      item_texts_(item_texts_path_, 1 << 20) {}

void Ingestor::add(const Record& r, const SourcePosition& pos) {
  if (r.user.empty()) bad_record(pos, "record has an empty user id");
  if (r.item.empty()) bad_record(pos, "record has an empty item id");
  bool new_user = false, new_item = false;
  const uint32_t user = users_.intern(r.user, new_user);
  const uint32_t item = items_.intern(r.item, new_item);
  if (new_item) item_meta_.emplace_back();

  ItemMeta& meta = item_meta_[item];
  const std::string* fields[3] = {&r.title, &r.description, &r.category};
  for (int f = 0; f < 3; ++f) {
    if (meta.length[f] == 0 && !fields[f]->empty()) {
      meta.offset[f] = item_texts_.position();
      meta.length[f] = checked_length(*fields[f], "item text", pos);
      item_texts_.write(*fields[f]);
    }
  }

  SpillRecord s;
  s.user = user;
  s.item = item;
  s.timestamp = r.timestamp;
  s.seq = seq_++;
  s.text_offset = texts_.position();
  s.review_len = checked_length(r.review, "review", pos);
  s.summary_len = checked_length(r.summary, "summary", pos);
  s.feature_len = checked_length(r.feature, "feature", pos);
  s.text_hash = (options_.dedup && !r.review.empty() && r.has_timestamp())
                    ? std::hash<std::string_view>{}(r.review)
                    : 0;
  s.rating = r.rating;
  texts_.write(r.review);
  texts_.write(r.summary);
  texts_.write(r.feature);
  if (!r.has_timestamp()) ++without_timestamp_;
  sorter_.add(s);
}

void Ingestor::finish() {
  texts_.close();
  item_texts_.close();
}

}  // namespace seller::data::prepare
