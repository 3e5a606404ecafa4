// generate_synthetic and validate (see synthetic.h for the model). Each user is simulated from
// its own PRNG stream (seed, user + 1) with only its own state alive, so memory does not grow with
// the number of interactions and users could be generated in parallel with identical output.
#include <cmath>
#include <string>
#include <vector>

#include "trainer/core/error.h"
#include "trainer/data/synthetic/catalog.h"
#include "trainer/data/synthetic/review.h"
#include "trainer/data/synthetic/synthetic.h"
#include "trainer/data/synthetic/vocabulary.h"

namespace seller::data {
namespace {

using synthetic::Catalog;
using synthetic::Rng;
using synthetic::SyntheticItem;

constexpr double kReversion = 0.05;        // pull of the walk back to the user's base preference
constexpr double kReinforce = 0.25;        // logit change per rating step above/below 3
constexpr double kPerceptionNoise = 0.12;  // std of perceived vs true aspect quality
constexpr double kRatingNoise = 0.3;
constexpr int kItemTries = 16;  // redraws before scanning for an unseen item
constexpr int64_t kStartSpreadSeconds = 3LL * 365 * 86400;
constexpr double kMaxGapSeconds = 90.0 * 86400;

// Open-addressing set of the items a user has seen; cleared per user in O(history).
class SeenItems {
 public:
  void reset(uint64_t expected) {
    uint64_t capacity = 16;
    while (capacity < 2 * expected) capacity *= 2;
    slots_.assign(capacity, kEmpty);
  }
  bool contains(uint32_t item) const {
    for (uint64_t i = hash(item);; i = (i + 1) & (slots_.size() - 1)) {
      if (slots_[i] == item) return true;
      if (slots_[i] == kEmpty) return false;
    }
  }
  void insert(uint32_t item) {
    uint64_t i = hash(item);
    while (slots_[i] != kEmpty && slots_[i] != item) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = item;
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX;
  uint64_t hash(uint32_t item) const {
    return (static_cast<uint64_t>(item) * 0x9E3779B97F4A7C15ull >> 32) & (slots_.size() - 1);
  }
  std::vector<uint32_t> slots_;
};

class UserSimulator {
 public:
  UserSimulator(const SyntheticOptions& options, const Catalog& catalog)
      : options_(options),
        catalog_(catalog),
        aspect_count_(options.aspects),
        base_(aspect_count_),
        pref_(aspect_count_),
        prob_(aspect_count_),
        item_used_(catalog.size(), false) {}

  // Items that appear in at least one interaction so far.
  uint64_t items_used() const { return items_used_; }

  // Streams the interactions of user `index`; returns how many.
  uint64_t run(uint64_t index, int id_width, uint64_t& line, Record& rec, const RecordSink& sink) {
    Rng rng(synthetic::derive_seed(options_.seed, index + 1));
    const uint64_t extra = 4 * (options_.mean_history - options_.min_history);
    const double u1 = rng.uniform();  // one draw per statement: C++ leaves the order of
    const double u2 = rng.uniform();  // evaluation within an expression unspecified
    uint64_t length =
        options_.min_history + static_cast<uint64_t>(static_cast<double>(extra) * u1 * u2);
    if (length > catalog_.size()) length = catalog_.size();
    init_preferences(rng);
    seen_.reset(length);
    same_time_ms_ = kNoTimestamp;
    same_time_reviews_.clear();
    int64_t time_ms =
        options_.start_ms + static_cast<int64_t>(rng.below(kStartSpreadSeconds)) * 1000;

    synthetic::format_id('u', index, id_width, rec.user);
    SourcePosition position{"synthetic", 0};
    for (uint64_t t = 0; t < length; ++t) {
      if (t > 0 && !rng.bernoulli(options_.tie_rate)) {
        const double u = rng.uniform();
        time_ms += (60 + static_cast<int64_t>(u * u * u * kMaxGapSeconds)) * 1000;
      }
      softmax();
      const uint32_t item_index = choose_item(rng);
      const SyntheticItem& item = catalog_.item(item_index);
      const int rating = interact(item, rng, rec);
      avoid_duplicate_review(time_ms, rec.review);
      rec.item = item.id;
      rec.rating = static_cast<float>(rating);
      rec.timestamp = time_ms;
      rec.title = item.title;
      rec.description = item.description;
      rec.category = synthetic::categories()[item.category].name;
      position.line = ++line;
      sink(rec, position);
      update_preferences(item, rating, rng);
    }
    return length;
  }

 private:
  // Two reviews of one user with the same time and text count as one in `seller data prepare`
  // (Amazon repeats reviews that way), so a tie whose text repeats one at that time moves on by a
  // second: what is generated is exactly what prepare keeps. Texts are compared by a 64-bit hash;
  // a collision only moves a time by a second.
  void avoid_duplicate_review(int64_t& time_ms, const std::string& review) {
    uint64_t hash = 1469598103934665603ull;  // FNV-1a
    for (unsigned char c : review) hash = (hash ^ c) * 1099511628211ull;
    if (time_ms != same_time_ms_) same_time_ms_ = time_ms, same_time_reviews_.clear();
    for (const uint64_t seen : same_time_reviews_) {
      if (seen == hash) {
        time_ms += 1000;
        same_time_ms_ = time_ms;
        same_time_reviews_.clear();
        break;
      }
    }
    same_time_reviews_.push_back(hash);
  }

  void init_preferences(Rng& rng) {
    for (uint32_t a = 0; a < aspect_count_; ++a) base_[a] = 0.5 * rng.normal();
    // A favourite aspect of the user's main category, and a second favourite of any category.
    const uint64_t category = rng.below(synthetic::kCategoryCount);
    const uint64_t per_category =
        (aspect_count_ - category + synthetic::kCategoryCount - 1) / synthetic::kCategoryCount;
    base_[category + synthetic::kCategoryCount * rng.below(per_category)] += 2.0;
    base_[rng.below(aspect_count_)] += 1.0;
    pref_ = base_;
  }

  void softmax() {
    double max_logit = pref_[0];
    for (double p : pref_) max_logit = p > max_logit ? p : max_logit;
    double total = 0.0;
    for (uint32_t a = 0; a < aspect_count_; ++a) {
      prob_[a] = synthetic::portable_exp(options_.sharpness * (pref_[a] - max_logit));
      total += prob_[a];
    }
    for (double& p : prob_) p /= total;
  }

  uint32_t draw_item(Rng& rng) const {
    if (rng.bernoulli(options_.explore)) return catalog_.sample_popular(rng);
    double u = rng.uniform();
    uint32_t aspect = 0;
    while (aspect + 1 < aspect_count_ && u >= prob_[aspect]) u -= prob_[aspect++];
    return catalog_.sample_for_aspect(aspect, rng);
  }

  uint32_t choose_item(Rng& rng) {
    uint32_t item = draw_item(rng);
    for (int tries = 1; seen_.contains(item) && tries < kItemTries; ++tries) item = draw_item(rng);
    // Rare (a long history over a small catalog): the next unseen item after a random one.
    while (seen_.contains(item)) item = static_cast<uint32_t>((item + 1) % catalog_.size());
    seen_.insert(item);
    if (!item_used_[item]) item_used_[item] = true, ++items_used_;
    return item;
  }

  // Perceived qualities, rating, review and feature of one interaction; returns the rating.
  int interact(const SyntheticItem& item, Rng& rng, Record& rec) {
    synthetic::ReviewInputs in;
    in.item = &item;
    double affinity = 0.0, others = 0.0;
    for (uint32_t k = 0; k < item.aspect_count; ++k) {
      const double q = item.quality[k] + kPerceptionNoise * rng.normal();
      in.perceived[k] = q < 0.0 ? 0.0 : (q > 1.0 ? 1.0 : q);
      affinity += prob_[item.aspects[k]];
      if (prob_[item.aspects[k]] > prob_[item.aspects[in.focus]]) in.focus = k;
    }
    for (uint32_t k = 0; k < item.aspect_count; ++k)
      if (k != in.focus) others += in.perceived[k];
    others = item.aspect_count > 1 ? others / (item.aspect_count - 1) : in.perceived[in.focus];
    const double score = 0.6 * in.perceived[in.focus] + 0.25 * others + 0.15 * std::sqrt(affinity);
    const double latent = 1.0 + 4.0 * score + kRatingNoise * rng.normal();
    const double rounded = std::floor(latent + 0.5);
    in.rating = rounded < 1.0 ? 1 : (rounded > 5.0 ? 5 : static_cast<int>(rounded));
    for (uint32_t a = 1; a < aspect_count_; ++a)
      if (pref_[a] > pref_[in.top_aspect]) in.top_aspect = a;
    synthetic::compose_review(in, rng, rec.review, rec.summary);
    rec.feature = synthetic::aspects()[item.aspects[in.focus]].name;
    return in.rating;
  }

  void update_preferences(const SyntheticItem& item, int rating, Rng& rng) {
    for (uint32_t a = 0; a < aspect_count_; ++a)
      pref_[a] += kReversion * (base_[a] - pref_[a]) + options_.drift * rng.normal();
    const double liked = kReinforce * (rating - 3) * 0.5;
    for (uint32_t k = 0; k < item.aspect_count; ++k) pref_[item.aspects[k]] += liked;
  }

  const SyntheticOptions& options_;
  const Catalog& catalog_;
  uint32_t aspect_count_;
  std::vector<double> base_, pref_, prob_;
  SeenItems seen_;
  int64_t same_time_ms_ = kNoTimestamp;
  std::vector<uint64_t> same_time_reviews_;  // hashes of this user's reviews at same_time_ms_
  std::vector<bool> item_used_;
  uint64_t items_used_ = 0;
};

template <class T>
void require(bool ok, const char* key, const char* rule, const T& got) {
  SELLER_THROW_IF_NOT(ok, ConfigError, "synthetic.", key, " must be ", rule, ", got ", got);
}

}  // namespace

void validate(const SyntheticOptions& o) {
  require(o.users >= 1, "users", ">= 1", o.users);
  require(o.users <= (1ull << 40), "users", "<= 2^40", o.users);
  require(o.items >= 1, "items", ">= 1", o.items);
  require(o.items < UINT32_MAX, "items", "< 2^32 - 1", o.items);
  require(o.aspects >= synthetic::kMinAspects && o.aspects <= synthetic::kMaxAspects, "aspects",
          "between 4 and 32", o.aspects);
  require(o.min_history >= 1, "min_history", ">= 1", o.min_history);
  SELLER_THROW_IF_NOT(o.min_history <= o.items, ConfigError, "synthetic.min_history (",
                      o.min_history, ") must be <= synthetic.items (", o.items, ")");
  SELLER_THROW_IF_NOT(o.mean_history >= o.min_history, ConfigError, "synthetic.mean_history (",
                      o.mean_history, ") must be >= synthetic.min_history (", o.min_history, ")");
  require(o.mean_history <= 100000, "mean_history", "<= 100000", o.mean_history);
  require(std::isfinite(o.drift) && o.drift >= 0.0 && o.drift <= 5.0, "drift", "between 0 and 5",
          o.drift);
  require(std::isfinite(o.sharpness) && o.sharpness >= 0.0 && o.sharpness <= 20.0, "sharpness",
          "between 0 and 20", o.sharpness);
  require(o.explore >= 0.0 && o.explore <= 1.0, "explore", "between 0 and 1", o.explore);
  require(o.tie_rate >= 0.0 && o.tie_rate <= 1.0, "tie_rate", "between 0 and 1", o.tie_rate);
  require(o.start_ms >= 0 && o.start_ms <= 4102444800000, "start_ms",
          "between 0 and 4102444800000 (year 2100)", o.start_ms);
}

SyntheticStats generate_synthetic(const SyntheticOptions& options, const RecordSink& sink) {
  validate(options);
  const Catalog catalog(options);
  UserSimulator simulator(options, catalog);
  SyntheticStats stats;
  stats.users = options.users;
  Record rec;
  uint64_t line = 0;
  const int width = synthetic::id_width(options.users);
  for (uint64_t u = 0; u < options.users; ++u)
    stats.interactions += simulator.run(u, width, line, rec, sink);
  stats.items = simulator.items_used();
  return stats;
}

}  // namespace seller::data
