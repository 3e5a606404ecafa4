// Review composition (see review.h). Every choice draws from the user's stream, so a review is a
// pure function of the seed, the user and the position in their history.
#include "trainer/data/synthetic/review.h"

#include <string_view>

namespace seller::data::synthetic {
namespace {

std::string_view pick(std::span<const std::string_view> words, Rng& rng) {
  return words[rng.below(words.size())];
}

void append_capitalised(std::string& out, std::string_view text) {
  if (text.empty()) return;
  const char first = text[0];
  out.push_back(first >= 'a' && first <= 'z' ? static_cast<char>(first - 'a' + 'A') : first);
  out.append(text.substr(1));
}

void append_lowercase(std::string& out, std::string_view text) {
  for (char c : text) out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
}

void append_opener(const ReviewInputs& in, std::string& out) {
  static constexpr std::string_view kOpeners[5][2] = {{"Would not buy this ", " again. "},
                                                      {"Not impressed with this ", ". "},
                                                      {"A decent ", " overall. "},
                                                      {"A very good ", ". "},
                                                      {"Absolutely love this ", ". "}};
  const auto& opener = kOpeners[in.rating - 1];
  out.append(opener[0]);
  append_lowercase(out, in.item->noun);
  out.append(opener[1]);
}

void append_focus(const ReviewInputs& in, Rng& rng, std::string& out) {
  const AspectWords& a = aspects()[in.item->aspects[in.focus]];
  const Sentiment s = sentiment_of(in.perceived[in.focus]);
  const uint64_t variant = rng.below(3);
  if (s == Sentiment::kNeutral || variant == 2) {
    out.append("The ").append(a.name).append(" is ").append(pick(sentiment_adjectives(s), rng));
    out.append(s == Sentiment::kNeutral && variant == 0 ? ", neither good nor bad." : ".");
    return;
  }
  const std::string_view predicate = s == Sentiment::kPositive ? a.good : a.bad;
  if (variant == 0) {
    out.append("The ").append(a.name).append(" ").append(predicate).append(".");
  } else {
    out.append(s == Sentiment::kPositive ? "Really happy with the " : "Disappointed with the ");
    out.append(a.name).append(": it ").append(predicate).append(".");
  }
}

void append_other(const ReviewInputs& in, uint32_t other, Rng& rng, std::string& out) {
  const AspectWords& a = aspects()[in.item->aspects[other]];
  const Sentiment focus = sentiment_of(in.perceived[in.focus]);
  const Sentiment s = sentiment_of(in.perceived[other]);
  if (s == focus) {
    out.append(" The ").append(a.name).append(" is ");
    out.append(pick(sentiment_adjectives(s), rng)).append(" too.");
  } else if (s == Sentiment::kNeutral) {
    out.append(" The ").append(a.name).append(" is ");
    out.append(pick(sentiment_adjectives(s), rng)).append(".");
  } else {
    out.append(" However, the ").append(a.name).append(" ");
    out.append(s == Sentiment::kPositive ? a.good : a.bad).append(".");
  }
}

void append_interest(const ReviewInputs& in, std::string& out) {
  const std::string_view top = aspects()[in.top_aspect].name;
  out.push_back(' ');
  if (in.top_aspect != in.item->aspects[in.focus]) {
    out.append("I usually look for ").append(top).append(", but this one is more about the ");
    out.append(aspects()[in.item->aspects[in.focus]].name).append(".");
    return;
  }
  append_capitalised(out, top);
  switch (sentiment_of(in.perceived[in.focus])) {
    case Sentiment::kPositive:
      out.append(" matters most to me, and this delivers.");
      break;
    case Sentiment::kNeutral:
      out.append(" matters most to me; this is just okay.");
      break;
    case Sentiment::kNegative:
      out.append(" matters most to me, so this is a letdown.");
      break;
  }
}

}  // namespace

Sentiment sentiment_of(double perceived_quality) {
  if (perceived_quality >= 0.6) return Sentiment::kPositive;
  if (perceived_quality < 0.4) return Sentiment::kNegative;
  return Sentiment::kNeutral;
}

void compose_review(const ReviewInputs& in, Rng& rng, std::string& review, std::string& summary) {
  review.clear();
  if (rng.bernoulli(0.35)) append_opener(in, review);
  append_focus(in, rng, review);
  if (in.item->aspect_count > 1 && rng.bernoulli(0.6)) {
    uint32_t other = static_cast<uint32_t>(rng.below(in.item->aspect_count - 1));
    if (other >= in.focus) ++other;
    append_other(in, other, rng, review);
  }
  if (rng.bernoulli(0.5)) append_interest(in, review);

  static constexpr std::string_view kSummaryWord[3] = {"Poor ", "Decent ", "Great "};
  summary.assign(kSummaryWord[static_cast<int>(sentiment_of(in.perceived[in.focus]))]);
  summary.append(aspects()[in.item->aspects[in.focus]].name);
}

}  // namespace seller::data::synthetic
