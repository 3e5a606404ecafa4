// Item catalog generation (see catalog.h). Every random draw comes from one catalog stream of the
// seed, in item order, so the catalog does not depend on the number of users.
#include "trainer/data/synthetic/catalog.h"

#include "trainer/data/synthetic/vocabulary.h"

namespace seller::data::synthetic {
namespace {

constexpr uint64_t kCatalogStream = 0;  // user u uses stream u + 1

// Quality in [0, 1], skewed towards good (mean 5/8) like real review data.
// (Two statements: the order of two draws in one expression is unspecified in C++.)
double draw_quality(Rng& rng) {
  const double u = rng.uniform();
  return 1.0 - u * (0.5 + 0.5 * rng.uniform());
}

// Uniform pick among the first `aspect_count` aspects that are not yet in `taken` and belong to
// `category` (or are general, when `or_general`); returns false when there is none.
bool pick_aspect(Rng& rng, uint32_t aspect_count, uint32_t category, bool or_general,
                 const SyntheticItem& taken, uint32_t& out) {
  uint32_t candidates[kMaxAspects];
  uint32_t n = 0;
  for (uint32_t a = 0; a < aspect_count; ++a) {
    const bool fits = aspects()[a].category == category || (or_general && aspects()[a].general);
    if (fits && !taken.has_aspect(a)) candidates[n++] = a;
  }
  if (n == 0) return false;
  out = candidates[rng.below(n)];
  return true;
}

}  // namespace

int id_width(uint64_t n) {
  int width = 1;
  for (uint64_t v = n > 0 ? n - 1 : 0; v >= 10; v /= 10) ++width;
  return width;
}

void format_id(char prefix, uint64_t index, int width, std::string& out) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + index % 10);
    index /= 10;
  } while (index > 0);
  out.clear();
  out.push_back(prefix);
  for (int pad = n; pad < width; ++pad) out.push_back('0');
  while (n > 0) out.push_back(digits[--n]);
}

Catalog::Catalog(const SyntheticOptions& options)
    : aspect_count_(options.aspects),
      aspect_tables_(options.aspects),
      aspect_members_(options.aspects) {
  Rng rng(derive_seed(options.seed, kCatalogStream));
  items_.resize(options.items);
  const int width = id_width(options.items);
  for (uint64_t i = 0; i < options.items; ++i) generate_item(i, width, rng);

  std::vector<double> weights(items_.size());
  for (size_t i = 0; i < items_.size(); ++i) weights[i] = items_[i].popularity;
  popular_ = AliasTable(weights);

  for (size_t i = 0; i < items_.size(); ++i)
    for (uint32_t k = 0; k < items_[i].aspect_count; ++k)
      aspect_members_[items_[i].aspects[k]].push_back(static_cast<uint32_t>(i));
  for (uint32_t a = 0; a < aspect_count_; ++a) {
    const auto& members = aspect_members_[a];
    if (members.empty()) continue;
    weights.resize(members.size());
    for (size_t m = 0; m < members.size(); ++m) {
      const SyntheticItem& it = items_[members[m]];
      uint32_t k = 0;
      while (it.aspects[k] != a) ++k;
      weights[m] = it.popularity * (0.25 + it.quality[k]);
    }
    aspect_tables_[a] = AliasTable(weights);
  }
}

uint32_t Catalog::sample_for_aspect(uint32_t aspect, Rng& rng) const {
  const AliasTable& table = aspect_tables_[aspect];
  if (table.empty()) return sample_popular(rng);
  return aspect_members_[aspect][table.sample(rng)];
}

void Catalog::generate_item(uint64_t index, int width, Rng& rng) {
  SyntheticItem& it = items_[index];
  it.category = static_cast<uint32_t>(rng.below(kCategoryCount));
  const uint32_t wanted = rng.bernoulli(0.5) ? 3 : 2;
  // The first two main aspects come from the item's category, the third may also be a general
  // one (a blender praised for its "value"); when K is small, anything not taken yet.
  while (it.aspect_count < wanted) {
    uint32_t a = 0;
    if (!pick_aspect(rng, aspect_count_, it.category, it.aspect_count >= 2, it, a) &&
        !pick_aspect(rng, aspect_count_, it.category, true, it, a)) {
      // Only reachable for tiny K: fall back to any free aspect (K >= 4 > 3 guarantees one).
      a = static_cast<uint32_t>(rng.below(aspect_count_));
      while (it.has_aspect(a)) a = (a + 1) % aspect_count_;
    }
    it.quality[it.aspect_count] = draw_quality(rng);
    it.aspects[it.aspect_count++] = a;
  }
  it.popularity = portable_exp(rng.normal());

  const CategoryWords& category = categories()[it.category];
  const std::string_view noun = category.nouns[rng.below(category.nouns.size())];
  it.noun = noun;
  const std::string_view adjective = title_adjectives()[rng.below(title_adjectives().size())];
  format_id('i', index, width, it.id);
  it.title.reserve(adjective.size() + noun.size() + 9);
  it.title.append(adjective).append(" ").append(noun).append(" ");
  it.title.push_back(static_cast<char>('A' + rng.below(26)));
  it.title.push_back(static_cast<char>('A' + rng.below(26)));
  it.title.push_back('-');
  it.title.append(std::to_string(100 + rng.below(900)));

  it.description.append(noun).append(" built for ");
  for (uint32_t k = 0; k < it.aspect_count; ++k) {
    if (k > 0) it.description.append(k + 1 == it.aspect_count ? " and " : ", ");
    it.description.append(aspects()[it.aspects[k]].name);
  }
  it.description.append(".");
}

}  // namespace seller::data::synthetic
