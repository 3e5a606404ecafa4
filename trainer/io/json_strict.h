// Strict JSON parsing for the files seller reads from untrusted sources (safetensors headers,
// shard indexes, Hugging Face config.json): nlohmann-json's parser (which rejects invalid UTF-8
// and trailing garbage) plus two checks it lacks: no object with a repeated key (Python keeps the
// last silently; a repeated tensor name would let two entries claim one name) and a nesting
// limit, so that hostile input cannot exhaust the stack.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace seller::io {

inline constexpr int kMaxJsonDepth = 64;

// The parsed value, or nullopt with a one-line reason in *error.
std::optional<nlohmann::json> parse_json_strict(std::string_view text, std::string* error);

}  // namespace seller::io
