// Unicode Normalization Form C (canonical decomposition, canonical ordering, canonical
// composition; Hangul syllables algorithmically), as the Hugging Face `NFC` normalizer applies it.
// Input must be valid UTF-8 (callers run to_valid_utf8 first); output is valid UTF-8. Text that
// is pure ASCII is returned unchanged without decoding.
#pragma once

#include <string>
#include <string_view>

namespace seller::text {

std::string nfc_normalize(std::string_view utf8);

}  // namespace seller::text
