// The fixed word lists of the synthetic dataset: product categories with their nouns, the aspect
// words (each belongs to one category) with a good and a bad predicate, title adjectives and
// sentiment adjectives. The lists are part of the output format: changing any entry or its order
// changes every generated dataset, so append rather than edit.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace seller::data::synthetic {

inline constexpr uint32_t kCategoryCount = 4;
inline constexpr uint32_t kMaxAspects = 32;
inline constexpr uint32_t kMinAspects = kCategoryCount;  // every category has at least one

struct CategoryWords {
  std::string_view name;                    // "Electronics"
  std::span<const std::string_view> nouns;  // "Wireless Earbuds", ...
};

struct AspectWords {
  std::string_view name;  // "battery life"
  uint32_t category;      // index into categories(); aspect i belongs to category i % 4
  std::string_view good;  // predicate of "The battery life ...": "lasts for days"
  std::string_view bad;   // "drains far too quickly"
  bool general = false;   // also plausible for items of other categories ("value", "design")
};

std::span<const CategoryWords> categories();
// All kMaxAspects aspects; a dataset with `aspects = K` uses the first K (interleaved across the
// categories, so any K >= kMinAspects covers every category).
std::span<const AspectWords> aspects();
std::span<const std::string_view> title_adjectives();

enum class Sentiment : uint8_t { kNegative = 0, kNeutral = 1, kPositive = 2 };
// Adjectives for "The <aspect> is <adjective>." by sentiment.
std::span<const std::string_view> sentiment_adjectives(Sentiment s);

}  // namespace seller::data::synthetic
