// The BPE model of Hugging Face `tokenizers` (model.type "BPE"): a word is split into characters
// (with the optional continuing-subword prefix and end-of-word suffix), characters missing from
// the vocabulary become <0xXX> byte tokens (byte_fallback) or the unknown token (fused when
// fuse_unk) or are dropped, and then pairs are merged by rank, lowest rank first and leftmost
// among equal ranks, with a priority queue over a linked list of symbols (the same order of
// merges as the library, so the same ids). Invariants:
//   - every id a BpeModel returns is an id of its vocabulary;
//   - results of words shorter than kMaxCachedWordBytes are cached (bounded, thread-safe), so
//     tokenize() is const and may be called from several threads;
//   - construction validates every merge (both sides and their concatenation in the vocabulary)
//     and throws seller::DataError naming the origin file otherwise.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace seller::text {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;  // empty: none
  std::string end_of_word_suffix;         // empty: none
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using TokenMap = std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>>;

class BpeModel {
 public:
  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr size_t kCacheCapacity = 200'000;
  // Ids may be sparse but must lie in [0, kMaxId].
  static constexpr int32_t kMaxId = (1 << 24) - 1;

  BpeModel(TokenMap vocab, const std::vector<std::pair<std::string, std::string>>& merges,
           BpeOptions options, const std::string& origin);

  // Appends the ids of word (already normalized and pre-tokenized; empty gives nothing).
  void tokenize(std::string_view word, std::vector<int32_t>& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // nullptr for an id that is not in the vocabulary.
  const std::string* id_to_token(int32_t id) const;
  size_t size() const { return vocab_.size(); }
  int32_t max_id() const { return static_cast<int32_t>(id_to_token_.size()) - 1; }
  const TokenMap& vocab() const { return vocab_; }

 private:
  struct MergeResult {
    int32_t rank;
    int32_t new_id;
  };
  void tokenize_uncached(std::string_view word, std::vector<int32_t>& out) const;
  const MergeResult* find_merge(int32_t left, int32_t right) const;

  TokenMap vocab_;
  std::vector<const std::string*> id_to_token_;
  std::unordered_map<uint64_t, MergeResult> merges_;
  BpeOptions options_;
  std::optional<int32_t> unk_id_;
  std::vector<int32_t> byte_ids_;  // <0xXX> ids, -1 where absent (byte_fallback only)

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>>
      cache_;
};

}  // namespace seller::text
