// GPT-2's reversible byte <-> character mapping used by byte-level BPE: every byte becomes one
// printable Unicode character (33..126, 161..172 and 174..255 map to themselves, the other 68
// bytes to U+0100 and up, in byte order), so that any byte string is a string of vocabulary
// characters. The mapping is a bijection on bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace seller::text {

char32_t byte_to_char(uint8_t byte);
std::optional<uint8_t> char_to_byte(char32_t cp);

// Each byte of bytes replaced by its character, as UTF-8.
std::string bytes_to_chars(std::string_view bytes);
void append_bytes_as_chars(std::string& out, std::string_view bytes);

}  // namespace seller::text
