// Implementation of Dataset (see dataset.h): manifest parsing, cross-file validation, and
// per-user lookup by binary search over the shards' user ranges.
#include "trainer/data/dataset.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "trainer/core/error.h"
#include "trainer/data/shard/dataset_layout.h"
#include "trainer/data/shard/section_file.h"

namespace seller::data {
namespace fs = std::filesystem;
using shard::SectionFile;

namespace {
// A CSR text column: strings i in [0, n) are text[offsets[i], offsets[i+1]).
struct TextColumn {
  std::span<const uint64_t> offsets;
  std::string_view text;
  std::string_view get(uint64_t i) const {
    return text.substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

// Checks offsets: n+1 entries, from 0, nondecreasing, ending at `end`.
void check_offsets(const SectionFile& f, std::string_view name, std::span<const uint64_t> offsets,
                   uint64_t n, uint64_t end) {
  if (offsets.size() != n + 1) {
    f.fail(detail::concat("section \"", name, "\" has ", offsets.size(), " entries, expected ",
                          n + 1));
  }
  if (offsets[0] != 0) f.fail(detail::concat("section \"", name, "\" does not start at 0"));
  for (uint64_t i = 0; i < n; ++i) {
    if (offsets[i + 1] < offsets[i]) {
      f.fail(detail::concat("section \"", name, "\" decreases at entry ", i + 1));
    }
  }
  if (offsets[n] != end) {
    f.fail(detail::concat("section \"", name, "\" ends at ", offsets[n], ", expected ", end));
  }
}

TextColumn text_column(const SectionFile& f, const std::string& field, uint64_t n) {
  TextColumn c;
  c.offsets = f.get<uint64_t>(field + "_offsets");
  c.text = f.text(field + "_text");
  check_offsets(f, field + "_offsets", c.offsets, n, c.text.size());
  return c;
}

[[noreturn]] void manifest_error(const fs::path& path, const std::string& what) {
  throw FormatError(detail::concat(path.string(), ": ", what));
}

// Opens a file listed in the manifest and checks it is the very file the manifest describes.
SectionFile open_listed(const fs::path& dir, const fs::path& manifest_path,
                        const nlohmann::json& entry, const char* kind, bool verify) {
  const std::string name = entry.at("file").get<std::string>();
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    manifest_error(manifest_path, detail::concat("bad file name \"", name, "\""));
  }
  shard::OpenOptions options;
  options.verify_checksums = verify;
  options.expected_kind = kind;
  SectionFile f = SectionFile::open(dir / name, options);
  const uint32_t crc = entry.at("header_crc32").get<uint32_t>();
  if (f.header_crc32() != crc) {
    f.fail(detail::concat("header crc32 ", f.header_crc32(), " differs from the manifest's ", crc,
                          " (a file from another prepare run?)"));
  }
  return f;
}
}  // namespace

struct Dataset::Shard {
  SectionFile file;
  uint64_t first_user = 0;
  uint64_t num_users = 0;
  uint64_t first_interaction = 0;
  std::span<const uint64_t> user_offsets;
  std::span<const uint32_t> items;
  std::span<const int64_t> timestamps;
  std::span<const float> ratings;
  std::span<const uint8_t> split;
  TextColumn texts[3];  // review, summary, feature
};

struct Dataset::Impl {
  SectionFile users_file;
  SectionFile items_file;
  TextColumn user_ids;
  std::span<const uint64_t> interaction_offsets;
  TextColumn item_columns[4];  // id, title, description, category
  std::vector<Shard> shards;
  std::vector<uint64_t> shard_first_user;  // for the binary search
};

Dataset::Dataset() : impl_(std::make_unique<Impl>()) {}
Dataset::Dataset(Dataset&&) noexcept = default;
Dataset& Dataset::operator=(Dataset&&) noexcept = default;
Dataset::~Dataset() = default;

size_t Dataset::num_shards() const { return impl_->shards.size(); }

Dataset Dataset::open(const fs::path& dir, bool verify_checksums) {
  const fs::path manifest_path = dir / layout::kManifestFile;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw DataError(detail::concat("dataset folder ", dir.string(), " does not exist"));
  }
  std::ifstream in(manifest_path, std::ios::binary);
  if (!in) {
    throw DataError(detail::concat("not a prepared dataset: cannot read ", manifest_path.string()));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();

  Dataset d;
  d.dir_ = dir;
  d.manifest_json_ = buffer.str();
  Impl& m = *d.impl_;
  try {
    const nlohmann::json j = nlohmann::json::parse(d.manifest_json_);
    if (j.value("format", std::string()) != layout::kManifestFormat) {
      manifest_error(manifest_path,
                     "not a seller dataset manifest (format is not \"seller-dataset\")");
    }
    const uint32_t version = j.at("format_version").get<uint32_t>();
    if (version > layout::kManifestVersion) {
      manifest_error(manifest_path,
                     detail::concat("written by a newer seller: dataset format version ", version,
                                    ", this build reads version ", layout::kManifestVersion));
    }
    const auto& counts = j.at("counts");
    const uint64_t users = counts.at("users").get<uint64_t>();
    const uint64_t items = counts.at("items").get<uint64_t>();
    if (users >= UINT32_MAX || items >= UINT32_MAX) manifest_error(manifest_path, "bad counts");
    d.num_users_ = static_cast<uint32_t>(users);
    d.num_items_ = static_cast<uint32_t>(items);
    d.num_interactions_ = counts.at("interactions").get<uint64_t>();
    PrepareStats& s = d.stats_;
    s.users = users;
    s.items = items;
    s.interactions = d.num_interactions_;
    s.train = counts.value("train", uint64_t{0});
    s.valid = counts.value("valid", uint64_t{0});
    s.test = counts.value("test", uint64_t{0});
    const auto& st = j.at("stats");
    s.input_records = st.value("input_records", uint64_t{0});
    s.duplicates_removed = st.value("duplicates_removed", uint64_t{0});
    s.duplicate_user_item = st.value("duplicate_user_item", uint64_t{0});
    s.duplicate_user_time_text = st.value("duplicate_user_time_text", uint64_t{0});
    s.users_dropped = st.value("users_dropped", uint64_t{0});
    s.interactions_dropped = st.value("interactions_dropped", uint64_t{0});
    s.records_without_timestamp = st.value("records_without_timestamp", uint64_t{0});
    s.sort_runs = st.value("sort_runs", uint64_t{0});
    s.merge_passes = st.value("merge_passes", uint64_t{0});
    d.source_format_ = j.at("source").value("format", std::string());
    d.source_files_ = j.at("source").value("files", std::vector<std::string>());

    const auto& files = j.at("files");
    m.users_file =
        open_listed(dir, manifest_path, files.at("users"), layout::kUsersKind, verify_checksums);
    m.user_ids = text_column(m.users_file, "id", users);
    m.interaction_offsets = m.users_file.get<uint64_t>("interaction_offsets");
    check_offsets(m.users_file, "interaction_offsets", m.interaction_offsets, users,
                  d.num_interactions_);
    m.items_file =
        open_listed(dir, manifest_path, files.at("items"), layout::kItemsKind, verify_checksums);
    for (int f = 0; f < 4; ++f) {
      m.item_columns[f] = text_column(m.items_file, layout::kItemTextFields[f], items);
    }

    uint64_t next_user = 0, next_interaction = 0;
    for (const auto& entry : j.at("shards")) {
      Shard sh;
      sh.file = open_listed(dir, manifest_path, entry, layout::kInteractionsKind, verify_checksums);
      const SectionFile& f = sh.file;
      sh.first_user = entry.at("first_user").get<uint64_t>();
      sh.num_users = entry.at("num_users").get<uint64_t>();
      sh.first_interaction = entry.at("first_interaction").get<uint64_t>();
      const auto range = f.get<uint64_t>("user_range");
      if (range.size() != 2 || range[0] != sh.first_user || range[1] != sh.first_interaction ||
          sh.first_user != next_user || sh.first_interaction != next_interaction ||
          sh.num_users == 0 || sh.num_users > users - next_user) {
        f.fail(
            detail::concat("user range does not continue the previous shard (expected users "
                           "from ",
                           next_user, ", interactions from ", next_interaction, ")"));
      }
      sh.user_offsets = f.get<uint64_t>("user_offsets");
      sh.items = f.get<uint32_t>("items");
      sh.timestamps = f.get<int64_t>("timestamps");
      sh.ratings = f.get<float>("ratings");
      sh.split = f.get<uint8_t>("split");
      const uint64_t n = sh.items.size();
      check_offsets(f, "user_offsets", sh.user_offsets, sh.num_users, n);
      if (sh.timestamps.size() != n || sh.ratings.size() != n || sh.split.size() != n) {
        f.fail("items, timestamps, ratings and split differ in length");
      }
      for (uint64_t u = 0; u <= sh.num_users; ++u) {
        if (m.interaction_offsets[sh.first_user + u] - sh.first_interaction != sh.user_offsets[u]) {
          f.fail(detail::concat("user ", sh.first_user + u, "'s offsets disagree with ",
                                layout::kUsersFile));
        }
      }
      for (uint64_t k = 0; k < n; ++k) {
        if (sh.items[k] >= items) {
          f.fail(detail::concat("interaction ", k, " names item ", sh.items[k], " of ", items));
        }
        if (sh.split[k] > static_cast<uint8_t>(SplitTag::kTest)) {
          f.fail(detail::concat("interaction ", k, " has unknown split tag ", int{sh.split[k]}));
        }
      }
      for (int c = 0; c < 3; ++c)
        sh.texts[c] = text_column(f, layout::kInteractionTextFields[c], n);
      next_user += sh.num_users;
      next_interaction += n;
      m.shard_first_user.push_back(sh.first_user);
      m.shards.push_back(std::move(sh));
    }
    if (next_user != users || next_interaction != d.num_interactions_) {
      manifest_error(manifest_path, detail::concat("shards hold ", next_user, " users and ",
                                                   next_interaction, " interactions, counts say ",
                                                   users, " and ", d.num_interactions_));
    }
  } catch (const nlohmann::json::exception& e) {
    manifest_error(manifest_path, detail::concat("malformed manifest: ", e.what()));
  }
  return d;
}

const Dataset::Shard& Dataset::locate(uint32_t user, uint64_t& local) const {
  SELLER_CHECK(user < num_users_, "user ", user, " out of range (", num_users_, " users)");
  const auto& firsts = impl_->shard_first_user;
  const size_t s =
      static_cast<size_t>(std::upper_bound(firsts.begin(), firsts.end(), user) - firsts.begin()) -
      1;
  const Shard& sh = impl_->shards[s];
  local = user - sh.first_user;
  return sh;
}

#define SELLER_USER_SPAN(member)                                             \
  uint64_t local = 0;                                                        \
  const Shard& sh = locate(user, local);                                     \
  const uint64_t b = sh.user_offsets[local], e = sh.user_offsets[local + 1]; \
  return sh.member.subspan(b, e - b)

std::span<const uint32_t> Dataset::history(uint32_t user) const { SELLER_USER_SPAN(items); }
std::span<const int64_t> Dataset::timestamps(uint32_t user) const { SELLER_USER_SPAN(timestamps); }
std::span<const float> Dataset::ratings(uint32_t user) const { SELLER_USER_SPAN(ratings); }
std::span<const uint8_t> Dataset::split_tags(uint32_t user) const { SELLER_USER_SPAN(split); }
#undef SELLER_USER_SPAN

namespace {
std::string_view interaction_text(const TextColumn& c, std::span<const uint64_t> user_offsets,
                                  uint64_t local, size_t k) {
  const uint64_t b = user_offsets[local];
  SELLER_CHECK(k < user_offsets[local + 1] - b, "interaction ", k, " out of range");
  return c.get(b + k);
}
}  // namespace

std::string_view Dataset::review(uint32_t user, size_t k) const {
  uint64_t local = 0;
  const Shard& sh = locate(user, local);
  return interaction_text(sh.texts[0], sh.user_offsets, local, k);
}
std::string_view Dataset::summary(uint32_t user, size_t k) const {
  uint64_t local = 0;
  const Shard& sh = locate(user, local);
  return interaction_text(sh.texts[1], sh.user_offsets, local, k);
}
std::string_view Dataset::feature(uint32_t user, size_t k) const {
  uint64_t local = 0;
  const Shard& sh = locate(user, local);
  return interaction_text(sh.texts[2], sh.user_offsets, local, k);
}

std::string_view Dataset::user_id(uint32_t user) const {
  SELLER_CHECK(user < num_users_, "user ", user, " out of range");
  return impl_->user_ids.get(user);
}
uint64_t Dataset::interaction_offset(uint32_t user) const {
  SELLER_CHECK(user <= num_users_, "user ", user, " out of range");
  return impl_->interaction_offsets[user];
}

#define SELLER_ITEM_TEXT(fn, column)                                 \
  std::string_view Dataset::fn(uint32_t item) const {                \
    SELLER_CHECK(item < num_items_, "item ", item, " out of range"); \
    return impl_->item_columns[column].get(item);                    \
  }
SELLER_ITEM_TEXT(item_id, 0)
SELLER_ITEM_TEXT(item_title, 1)
SELLER_ITEM_TEXT(item_description, 2)
SELLER_ITEM_TEXT(item_category, 3)
#undef SELLER_ITEM_TEXT

}  // namespace seller::data
