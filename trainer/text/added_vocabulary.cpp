// A scan with a per-first-byte candidate list (added vocabularies are small: tens to a few
// thousand strings), which gives the same leftmost-longest, non-overlapping matches as the
// Aho-Corasick automaton of tokenizers.
#include "trainer/text/added_vocabulary.h"

#include <algorithm>

#include "trainer/core/error.h"
#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

bool is_word_char(char32_t cp) {
  const CharClass c = char_class(cp);
  return c == CharClass::kLetter || c == CharClass::kNumber || cp == '_';
}

// Code point ending at byte `end` of s (end > 0), assuming valid UTF-8.
char32_t last_char(std::string_view s, size_t end) {
  size_t b = end - 1;
  while (b > 0 && (static_cast<uint8_t>(s[b]) & 0xC0) == 0x80) --b;
  return decode_utf8(s, b).cp;
}

}  // namespace

void AddedVocabulary::add(AddedToken token) {
  if (token.content.empty()) return;  // tokenizers ignores empty added tokens
  const auto found = by_content_.find(token.content);
  if (found != by_content_.end()) {
    AddedToken& old = tokens_[found->second];
    by_id_.erase(old.id);
    old = std::move(token);
    by_id_[old.id] = found->second;
  } else {
    by_id_[token.id] = tokens_.size();
    by_content_.emplace(token.content, tokens_.size());
    tokens_.push_back(std::move(token));
  }
  built_ = false;
}

void AddedVocabulary::build() {
  for (auto& table : starts_) table.assign(256, {});
  for (size_t i = 0; i < tokens_.size(); ++i) {
    auto& table = starts_[tokens_[i].normalized ? 1 : 0];
    table[static_cast<uint8_t>(tokens_[i].content[0])].push_back(i);
  }
  for (auto& table : starts_)
    for (auto& list : table)
      std::stable_sort(list.begin(), list.end(), [&](size_t a, size_t b) {
        return tokens_[a].content.size() > tokens_[b].content.size();
      });
  built_ = true;
}

bool AddedVocabulary::has_tokens(bool normalized) const {
  return std::any_of(tokens_.begin(), tokens_.end(),
                     [&](const AddedToken& t) { return t.normalized == normalized; });
}

const AddedToken* AddedVocabulary::by_id(int32_t id) const {
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::by_content(std::string_view content) const {
  const auto it = by_content_.find(content);
  return it == by_content_.end() ? nullptr : &tokens_[it->second];
}

bool AddedVocabulary::is_special(int32_t id) const {
  const AddedToken* t = by_id(id);
  return t && t->special;
}

void AddedVocabulary::split(std::string_view text, bool normalized,
                            std::vector<Segment>& out) const {
  SELLER_CHECK(built_, "AddedVocabulary::build() was not called");
  const auto& table = starts_[normalized ? 1 : 0];
  size_t emitted = 0;  // text[0, emitted) is already in out
  size_t pos = 0;
  while (!table.empty() && pos < text.size()) {
    const AddedToken* hit = nullptr;
    for (size_t idx : table[static_cast<uint8_t>(text[pos])]) {
      const AddedToken& t = tokens_[idx];
      if (text.compare(pos, t.content.size(), t.content) != 0) continue;
      size_t stop = pos + t.content.size();
      if (t.single_word) {
        const bool start_ok = pos == 0 || !is_word_char(last_char(text, pos));
        const bool stop_ok = stop == text.size() || !is_word_char(decode_utf8(text, stop).cp);
        if (!start_ok || !stop_ok) continue;
      }
      hit = &t;
      break;
    }
    if (!hit) {
      pos += decode_utf8(text, pos).len;
      continue;
    }
    size_t start = pos, stop = pos + hit->content.size();
    if (hit->lstrip) {
      while (start > emitted) {
        size_t b = start - 1;
        while (b > emitted && (static_cast<uint8_t>(text[b]) & 0xC0) == 0x80) --b;
        if (char_class(decode_utf8(text, b).cp) != CharClass::kSpace) break;
        start = b;
      }
    }
    if (hit->rstrip) {
      while (stop < text.size()) {
        const DecodedChar d = decode_utf8(text, stop);
        if (char_class(d.cp) != CharClass::kSpace) break;
        stop += d.len;
      }
    }
    if (start > emitted) out.push_back({text.substr(emitted, start - emitted), -1});
    out.push_back({text.substr(start, stop - start), hit->id});
    emitted = stop;
    pos = stop;
  }
  if (emitted < text.size()) out.push_back({text.substr(emitted), -1});
}

}  // namespace seller::text
