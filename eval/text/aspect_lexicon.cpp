// Implementation of aspect-lexicon mining (see aspect_lexicon.h for the method). The word lists
// are fixed here (not read from a file) so that a lexicon depends only on the reviews and the
// options.
#include "eval/text/aspect_lexicon.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "eval/text/tokenize.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

// NLTK's English stop words, plus generic words of reviews that are never an aspect of an item
// (the item itself, buying, time, people, quantities, common verbs).
const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words = {
      "the",      "and",        "for",        "are",     "but",      "not",       "you",
      "all",      "any",        "can",        "had",     "her",      "was",       "one",
      "our",      "out",        "has",        "him",     "his",      "how",       "its",
      "may",      "new",        "now",        "old",     "see",      "two",       "who",
      "did",      "get",        "got",        "let",     "say",      "she",       "too",
      "use",      "way",        "off",        "own",     "yet",      "why",       "nor",
      "few",      "more",       "most",       "other",   "some",     "such",      "only",
      "same",     "than",       "very",       "just",    "don",      "should",    "now",
      "this",     "that",       "these",      "those",   "with",     "from",      "into",
      "during",   "before",     "after",      "above",   "below",    "over",      "under",
      "again",    "further",    "then",       "once",    "here",     "there",     "when",
      "where",    "what",       "which",      "while",   "whom",     "whose",     "been",
      "being",    "have",       "having",     "does",    "doing",    "would",     "could",
      "might",    "must",       "shall",      "will",    "they",     "them",      "their",
      "theirs",   "themselves", "your",       "yours",   "yourself", "ourselves", "myself",
      "itself",   "himself",    "herself",    "because", "until",    "about",     "against",
      "between",  "through",    "both",       "each",    "also",     "even",      "still",
      "much",     "many",       "every",      "either",  "neither",  "though",    "although",
      "however",  "else",       "ever",       "never",   "always",   "often",     "really",
      "quite",    "rather",     "enough",     "almost",  "maybe",    "perhaps",   "well",
      "back",     "down",       "around",     "since",   "without",  "within",    "along",
      "like",     "make",       "makes",      "made",    "making",   "take",      "takes",
      "took",     "come",       "comes",      "came",    "goes",     "going",     "went",
      "gone",     "give",       "gives",      "gave",    "keep",     "keeps",     "kept",
      "need",     "needs",      "want",       "wants",   "think",    "thought",   "know",
      "knew",     "said",       "says",       "seem",    "seems",    "look",      "looks",
      "feel",     "feels",      "felt",       "work",    "works",    "find",      "found",
      "try",      "tried",      "buy",        "buying",  "bought",   "purchase",  "purchased",
      "order",    "ordered",    "received",   "using",   "used",     "uses",      "put",
      "puts",     "lot",        "lots",       "bit",     "thing",    "things",    "something",
      "anything", "nothing",    "everything", "someone", "anyone",   "everyone",  "people",
      "person",   "product",    "products",   "item",    "items",    "one",       "ones",
      "time",     "times",      "day",        "days",    "week",     "weeks",     "month",
      "months",   "year",       "years",      "star",    "stars",    "review",    "reviews",
      "amazon",   "overall",    "matters",    "matter",  "others",   "another",   "first",
      "last",     "next",       "three",      "four",    "five",     "less",      "least",
      "able",     "sure",       "yes",        "okay",    "far",      "etc",       "wife",
      "husband",  "son",        "daughter",   "kids",    "mom",      "dad",       "friend",
      "friends",  "gift"};
  return words;
}

// Common opinion words of product reviews (adjectives, a few verbs of liking).
const std::unordered_set<std::string>& opinion_words() {
  static const std::unordered_set<std::string> words = {"good",
                                                        "great",
                                                        "bad",
                                                        "poor",
                                                        "nice",
                                                        "excellent",
                                                        "love",
                                                        "loved",
                                                        "loves",
                                                        "like",
                                                        "liked",
                                                        "perfect",
                                                        "awesome",
                                                        "amazing",
                                                        "terrible",
                                                        "horrible",
                                                        "awful",
                                                        "worst",
                                                        "best",
                                                        "better",
                                                        "worse",
                                                        "fine",
                                                        "decent",
                                                        "solid",
                                                        "cheap",
                                                        "sturdy",
                                                        "comfortable",
                                                        "uncomfortable",
                                                        "soft",
                                                        "smooth",
                                                        "easy",
                                                        "hard",
                                                        "difficult",
                                                        "beautiful",
                                                        "pretty",
                                                        "ugly",
                                                        "disappointed",
                                                        "disappointing",
                                                        "disappointment",
                                                        "letdown",
                                                        "happy",
                                                        "unhappy",
                                                        "satisfied",
                                                        "fantastic",
                                                        "wonderful",
                                                        "lovely",
                                                        "flimsy",
                                                        "weak",
                                                        "strong",
                                                        "durable",
                                                        "quick",
                                                        "fast",
                                                        "slow",
                                                        "superb",
                                                        "outstanding",
                                                        "mediocre",
                                                        "impressive",
                                                        "impressed",
                                                        "reliable",
                                                        "unreliable",
                                                        "useless",
                                                        "useful",
                                                        "helpful",
                                                        "worth",
                                                        "worthless",
                                                        "favorite",
                                                        "recommend",
                                                        "hate",
                                                        "hated",
                                                        "annoying",
                                                        "broken",
                                                        "broke",
                                                        "defective",
                                                        "faulty",
                                                        "sturdy",
                                                        "fragile",
                                                        "flawless",
                                                        "fabulous",
                                                        "gorgeous",
                                                        "incredible",
                                                        "lousy",
                                                        "crappy",
                                                        "junk",
                                                        "waste",
                                                        "pleasant",
                                                        "unpleasant",
                                                        "okay",
                                                        "ok",
                                                        "chore",
                                                        "adequate",
                                                        "acceptable",
                                                        "excellently",
                                                        "problem",
                                                        "problems",
                                                        "issue",
                                                        "issues"};
  return words;
}

bool candidate(const std::string& w) {
  if (w.size() < 3) return false;
  for (char c : w)
    if (c < 'a' || c > 'z') return false;
  if (w.size() > 3 && w.compare(w.size() - 2, 2, "ly") == 0) return false;
  if (w.size() > 4 && w.compare(w.size() - 2, 2, "ed") == 0) return false;
  return !stop_words().contains(w) && !opinion_words().contains(w);
}

}  // namespace

bool is_opinion_word(const std::string& word) { return opinion_words().contains(word); }
bool is_aspect_stop_word(const std::string& word) { return stop_words().contains(word); }

FeatureVocabulary AspectLexicon::vocabulary() const {
  FeatureVocabulary v;
  for (const auto& w : words) v.insert(w.word);
  return v;
}

AspectLexicon mine_aspect_lexicon(const std::vector<std::string>& reviews,
                                  const AspectLexiconOptions& options) {
  SELLER_THROW_IF_NOT(!reviews.empty(), DataError, "aspect lexicon: no training review to mine");
  SELLER_THROW_IF_NOT(options.window >= 1, ConfigError, "aspect lexicon: window must be >= 1, got ",
                      options.window);
  SELLER_THROW_IF_NOT(options.max_words >= 1, ConfigError,
                      "aspect lexicon: max_words must be >= 1");
  struct Stat {
    int64_t df = 0, count = 0, near = 0;
  };
  std::unordered_map<std::string, Stat> stats;
  int64_t all_count = 0, all_near = 0;
  std::unordered_set<std::string> seen_here;
  for (const std::string& review : reviews) {
    std::vector<std::string> tokens = tokenize_peter(review);
    // Lowercase copies only for the opinion test: a capitalised "Great" is still an opinion.
    std::vector<char> opinion(tokens.size(), 0);
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string lower = tokens[i];
      for (char& c : lower)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      opinion[i] = opinion_words().contains(lower) ? 1 : 0;
    }
    // Prefix sums of opinion flags: "an opinion within the window" in O(1) per token.
    std::vector<int> prefix(tokens.size() + 1, 0);
    for (size_t i = 0; i < tokens.size(); ++i) prefix[i + 1] = prefix[i] + opinion[i];
    seen_here.clear();
    const auto w = static_cast<size_t>(options.window);
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (!candidate(tokens[i])) continue;
      const size_t lo = i >= w ? i - w : 0, hi = std::min(tokens.size(), i + w + 1);
      const bool near = prefix[hi] - prefix[lo] > 0;
      Stat& s = stats[tokens[i]];
      ++s.count;
      s.near += near;
      ++all_count;
      all_near += near;
      if (seen_here.insert(tokens[i]).second) ++s.df;
    }
  }
  AspectLexicon lexicon;
  lexicon.reviews = static_cast<int64_t>(reviews.size());
  if (all_near == 0) return lexicon;  // no opinion anywhere: no evidence for any aspect
  const double base = static_cast<double>(all_near) / static_cast<double>(all_count);
  for (const auto& [word, s] : stats) {
    if (s.df < options.min_document_frequency || s.near == 0) continue;
    AspectWord a;
    a.word = word;
    a.document_frequency = s.df;
    a.count = s.count;
    a.near_opinion = s.near;
    a.lift = (static_cast<double>(s.near) / static_cast<double>(s.count)) / base;
    if (a.lift <= options.min_lift) continue;
    a.score = static_cast<double>(s.df) * std::log(a.lift);
    lexicon.words.push_back(std::move(a));
  }
  std::sort(lexicon.words.begin(), lexicon.words.end(),
            [](const AspectWord& x, const AspectWord& y) {
              return x.score != y.score ? x.score > y.score : x.word < y.word;
            });
  if (lexicon.words.size() > options.max_words) lexicon.words.resize(options.max_words);
  return lexicon;
}

std::vector<std::vector<std::string>> lexicon_features(const std::vector<std::string>& texts,
                                                       const AspectLexicon& lexicon) {
  const FeatureVocabulary vocabulary = lexicon.vocabulary();
  std::vector<std::vector<std::string>> out;
  out.reserve(texts.size());
  for (const auto& t : texts) {
    std::vector<std::string> found;
    for (auto& token : tokenize_peter(t))
      if (vocabulary.contains(token)) found.push_back(std::move(token));
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    out.push_back(std::move(found));
  }
  return out;
}

}  // namespace seller::eval
