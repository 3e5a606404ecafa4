// The components of a tokenizer.json pipeline that seller implements, as plain values built by
// the loader (tokenizer_json.cpp) and applied by HfTokenizer:
//   normalizers     NFC, Prepend, Replace (string pattern), Sequence (flattened)
//   pre-tokenizers  Split (recognised regex or literal string; all five behaviours; invert),
//                   ByteLevel (add_prefix_space, use_regex = GPT-2 pattern), Metaspace
//                   (prepend_scheme always/first/never, split), Sequence (flattened)
//   post-processors TemplateProcessing (single), ByteLevel (ids unchanged), Sequence
//   decoders        ByteLevel, Metaspace, Replace (string), ByteFallback, Fuse, Strip, Sequence
// Each function reproduces the corresponding tokenizers (Rust) component on the id level;
// offsets are not tracked. Anything else is refused at load time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "trainer/text/split_patterns.h"

namespace seller::text {

// --- normalizers
struct NfcNormalizer {};
struct PrependNormalizer {
  std::string prepend;
};
struct ReplaceNormalizer {
  std::string pattern, content;
};
using Normalizer = std::variant<NfcNormalizer, PrependNormalizer, ReplaceNormalizer>;

std::string apply_normalizers(const std::vector<Normalizer>& normalizers, std::string text);

// --- pre-tokenizers
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };
enum class PrependScheme { kAlways, kFirst, kNever };

struct SplitPreTokenizer {
  std::optional<SplitPattern> regex;  // else literal
  std::string literal;
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
};
struct ByteLevelPreTokenizer {
  bool add_prefix_space = false;
  bool use_regex = true;
};
struct MetaspacePreTokenizer {
  std::string replacement = "\xE2\x96\x81";  // U+2581
  PrependScheme prepend_scheme = PrependScheme::kAlways;
  bool split = true;
};
using PreTokenizer = std::variant<SplitPreTokenizer, ByteLevelPreTokenizer, MetaspacePreTokenizer>;

struct Piece {
  std::string text;
  bool at_text_start;  // starts at offset 0 of the original text (Metaspace "first")
};

// Runs the pre-tokenizers over pieces in place; empty pieces are dropped.
void apply_pre_tokenizers(const std::vector<PreTokenizer>& pre_tokenizers,
                          std::vector<Piece>& pieces);

// --- post-processor: the "single" template; ByteLevel contributes nothing on ids.
struct TemplateItem {
  bool is_sequence;              // the input sequence "A"
  std::vector<int32_t> special;  // ids of a SpecialToken item
};
struct PostProcessor {
  std::vector<TemplateItem> single;  // empty: ids unchanged
};

// --- decoders
struct ByteLevelDecoder {};
struct MetaspaceDecoder {
  std::string replacement = "\xE2\x96\x81";
  PrependScheme prepend_scheme = PrependScheme::kAlways;
};
struct ReplaceDecoder {
  std::string pattern, content;
};
struct ByteFallbackDecoder {};
struct FuseDecoder {};
struct StripDecoder {
  std::string content;  // one character
  size_t start = 0, stop = 0;
};
using Decoder = std::variant<ByteLevelDecoder, MetaspaceDecoder, ReplaceDecoder,
                             ByteFallbackDecoder, FuseDecoder, StripDecoder>;

// Runs the decoder chain and joins the result; without decoders tokens are joined with ' '.
std::string apply_decoders(const std::vector<Decoder>& decoders, std::vector<std::string> tokens);

}  // namespace seller::text
