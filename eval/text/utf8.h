// UTF-8 helpers that reproduce Python's view of text, so that the tokenizers here split exactly
// where Python's str methods do: str.isspace() / str.split() whitespace and UTF-8 decoding.
// Invariant: invalid UTF-8 never throws here; each bad byte decodes to kInvalidCodePoint
// (callers that must reject bad input check is_valid_utf8 first).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace seller::eval {

inline constexpr char32_t kInvalidCodePoint = 0xFFFFFFFF;

// True when the bytes are well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view text);

// Decodes the code point that starts at text[pos]; sets `length` to the bytes it used (>= 1).
// A malformed sequence yields kInvalidCodePoint with length 1.
char32_t decode_utf8(std::string_view text, size_t pos, size_t& length);

// Python's str.isspace() for one code point (the 29 code points of Unicode White_Space plus
// the ASCII separators U+001C..U+001F that Python also counts).
bool is_python_space(char32_t cp);

// Python's str.split() with no argument: splits on runs of is_python_space, drops empties.
std::vector<std::string> split_python_whitespace(std::string_view text);

// Python's str.rstrip() with no argument.
std::string_view rstrip_python_whitespace(std::string_view text);

}  // namespace seller::eval
