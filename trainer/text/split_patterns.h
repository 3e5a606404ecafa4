// Hand-written matchers for the pre-tokenizer regexes that Hugging Face tokenizer.json files use
// (std::regex has no \p{..}; no Unicode regex library is available on every machine we build on).
// A tokenizer.json names its pattern as a string; recognize_split_pattern maps the exact strings
// below to a matcher, and anything else is an error at load time. Invariants:
//   - matches are contiguous, non-empty and cover the whole input, in order (each of these
//     patterns matches at every position, so find_iter never leaves a gap);
//   - offsets are byte offsets into the input, on UTF-8 character boundaries;
//   - the input must be valid UTF-8 (the encoder replaces invalid bytes first).
//
// Patterns (leftmost-first alternation, greedy, as Oniguruma evaluates them):
//   kGpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   kLlama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|
//            ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+        (also GPT-4 cl100k)
//   kQwen2:  the same with \p{N} (one digit per piece): Qwen2, Qwen2.5, Qwen3.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace seller::text {

enum class SplitPattern { kGpt2, kLlama3, kQwen2 };

// The exact regex strings recognised.
std::string_view split_pattern_regex(SplitPattern pattern);
std::optional<SplitPattern> recognize_split_pattern(std::string_view regex);

// Appends the [begin, end) byte ranges of the successive matches of pattern in text.
void find_split_matches(SplitPattern pattern, std::string_view text,
                        std::vector<std::pair<uint32_t, uint32_t>>& matches);

}  // namespace seller::text
