// BPE merge loop and vocabulary checks; the algorithm mirrors tokenizers' Word::merge_all
// (binary heap of (rank, position), stale entries skipped when the pair at the position no
// longer produces the entry's id), which fixes the result where merges overlap.
#include "trainer/text/bpe_model.h"

#include <cstdio>
#include <queue>

#include "trainer/core/error.h"
#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

uint64_t pair_key(int32_t a, int32_t b) {
  return (uint64_t{static_cast<uint32_t>(a)} << 32) | static_cast<uint32_t>(b);
}

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  uint32_t len;  // 0 once merged into its left neighbour
};

struct QueuedMerge {
  int32_t rank;
  int32_t pos;
  int32_t new_id;
};

struct LaterMerge {  // priority_queue puts the lowest rank, then the lowest position, on top
  bool operator()(const QueuedMerge& a, const QueuedMerge& b) const {
    return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
  }
};

}  // namespace

BpeModel::BpeModel(TokenMap vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options, const std::string& origin)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab_) {
    SELLER_THROW_IF_NOT(id >= 0 && id <= kMaxId, DataError, origin, ": token id ", id, " of ",
                        "token '", token, "' is outside [0, ", kMaxId, "]");
    max_id = std::max(max_id, id);
  }
  SELLER_THROW_IF_NOT(static_cast<size_t>(max_id) < 8 * vocab_.size() + 4096, DataError, origin,
                      ": vocabulary ids are too sparse (", vocab_.size(), " tokens, largest id ",
                      max_id, ")");
  id_to_token_.assign(static_cast<size_t>(max_id + 1), nullptr);
  for (const auto& entry : vocab_) id_to_token_[static_cast<size_t>(entry.second)] = &entry.first;

  const std::string& prefix = options_.continuing_subword_prefix;
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const auto a = token_to_id(left);
    const auto b = token_to_id(right);
    SELLER_THROW_IF_NOT(a && b, DataError, origin, ": merge ", rank, " ('", left, "' '", right,
                        "') uses a token that is not in the vocabulary");
    std::string merged = left;
    merged += (!prefix.empty() && right.starts_with(prefix)) ? right.substr(prefix.size()) : right;
    const auto id = token_to_id(merged);
    SELLER_THROW_IF_NOT(id, DataError, origin, ": merge ", rank, " ('", left, "' '", right,
                        "') gives '", merged, "', which is not in the vocabulary");
    merges_[pair_key(*a, *b)] = MergeResult{static_cast<int32_t>(rank), *id};  // later wins
  }

  if (options_.unk_token) {
    unk_id_ = token_to_id(*options_.unk_token);
    SELLER_THROW_IF_NOT(unk_id_, DataError, origin, ": unk_token '", *options_.unk_token,
                        "' is not in the vocabulary");
  }
  if (options_.byte_fallback) {
    byte_ids_.assign(256, -1);
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      if (auto id = token_to_id(name)) byte_ids_[static_cast<size_t>(b)] = *id;
    }
  }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(token);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return nullptr;
  return id_to_token_[static_cast<size_t>(id)];
}

const BpeModel::MergeResult* BpeModel::find_merge(int32_t left, int32_t right) const {
  const auto it = merges_.find(pair_key(left, right));
  return it == merges_.end() ? nullptr : &it->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (options_.ignore_merges) {
    if (auto id = token_to_id(word)) {
      out.push_back(*id);
      return;
    }
  }
  const bool cacheable = word.size() < kMaxCachedWordBytes;
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    const auto it = cache_.find(word);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t start = out.size();
  tokenize_uncached(word, out);
  if (cacheable) {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kCacheCapacity)
      cache_.emplace(std::string(word), std::vector<int32_t>(out.begin() + start, out.end()));
  }
}

void BpeModel::tokenize_uncached(std::string_view word, std::vector<int32_t>& out) const {
  std::vector<Symbol> symbols;
  symbols.reserve(word.size());
  const auto add = [&](int32_t id, uint32_t len) {
    const auto n = static_cast<int32_t>(symbols.size());
    symbols.push_back(Symbol{id, n - 1, n + 1, len});
  };

  // Characters to initial symbols (tokenizers' BPE::merge_word).
  int32_t unk_pending = -1;  // pending unknown token id (-1: none) and its byte length
  uint32_t unk_len = 0;
  std::string piece;
  for (size_t i = 0; i < word.size();) {
    const uint32_t len = decode_utf8(word, i).len;
    const bool is_first = i == 0, is_last = i + len >= word.size();
    piece.clear();
    if (!is_first) piece += options_.continuing_subword_prefix;
    piece.append(word.substr(i, len));
    if (is_last) piece += options_.end_of_word_suffix;
    i += len;

    if (auto id = token_to_id(piece)) {
      if (unk_pending >= 0) {
        add(unk_pending, unk_len);
        unk_pending = -1;
      }
      add(*id, len);
      continue;
    }
    if (options_.byte_fallback) {
      bool all = true;
      for (char c : piece) all = all && byte_ids_[static_cast<uint8_t>(c)] >= 0;
      if (all) {
        for (char c : piece) add(byte_ids_[static_cast<uint8_t>(c)], 1);
        continue;
      }
    }
    if (unk_id_) {
      if (unk_pending >= 0 && options_.fuse_unk) {
        unk_len += len;
      } else {
        if (unk_pending >= 0) add(unk_pending, unk_len);
        unk_pending = *unk_id_;
        unk_len = len;
      }
    }
  }
  if (unk_pending >= 0) add(unk_pending, unk_len);
  if (symbols.empty()) return;
  symbols.back().next = -1;

  std::priority_queue<QueuedMerge, std::vector<QueuedMerge>, LaterMerge> queue;
  for (size_t i = 0; i + 1 < symbols.size(); ++i)
    if (const MergeResult* m = find_merge(symbols[i].id, symbols[i + 1].id))
      queue.push({m->rank, static_cast<int32_t>(i), m->new_id});

  const auto n = static_cast<int32_t>(symbols.size());
  while (!queue.empty()) {
    const QueuedMerge top = queue.top();
    queue.pop();
    Symbol& cur = symbols[static_cast<size_t>(top.pos)];
    if (cur.len == 0 || cur.next == -1) continue;
    const int32_t next_pos = cur.next;
    const Symbol right = symbols[static_cast<size_t>(next_pos)];
    const MergeResult* still = find_merge(cur.id, right.id);
    if (!still || still->new_id != top.new_id) continue;  // stale entry

    cur.id = top.new_id;
    cur.len += right.len;
    cur.next = right.next;
    symbols[static_cast<size_t>(next_pos)].len = 0;
    if (right.next >= 0 && right.next < n) symbols[static_cast<size_t>(right.next)].prev = top.pos;

    if (cur.prev >= 0) {
      const Symbol& prev = symbols[static_cast<size_t>(cur.prev)];
      if (const MergeResult* m = find_merge(prev.id, cur.id))
        queue.push({m->rank, cur.prev, m->new_id});
    }
    if (cur.next >= 0 && cur.next < n) {
      const Symbol& nxt = symbols[static_cast<size_t>(cur.next)];
      if (const MergeResult* m = find_merge(cur.id, nxt.id)) queue.push({m->rank, top.pos, m->new_id});
    }
  }
  for (const Symbol& s : symbols)
    if (s.len != 0) out.push_back(s.id);
}

}  // namespace seller::text
