// WordPiece tokenizer of BERT models. The normalizer works on code points (the tables of
// bert_unicode.h); WordPiece matches UTF-8 substrings of a word at character boundaries, longest
// first, and a word with no full cover becomes one [UNK], as tokenizers' WordPiece model does.
#include "trainer/text/wordpiece_tokenizer.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "trainer/core/error.h"
#include "trainer/io/json_strict.h"
#include "trainer/text/bert_unicode.h"
#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(detail::concat("cannot open ", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json read_json(const fs::path& path) {
  std::string error;
  auto parsed = io::parse_json_strict(read_file(path), &error);
  if (!parsed) throw DataError(detail::concat(path.string(), ": invalid JSON: ", error));
  return std::move(*parsed);
}

std::string to_utf8(const std::u32string& s, size_t begin, size_t end) {
  std::string out;
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) append_utf8(out, s[i]);
  return out;
}

// A string setting of a JSON object, or fallback when absent or null.
std::string string_or(const json& obj, const char* key, const std::string& fallback,
                      const fs::path& file) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  // transformers may store a token as {"content": "[UNK]", ...}.
  const json& v =
      obj[key].is_object() && obj[key].contains("content") ? obj[key]["content"] : obj[key];
  if (!v.is_string())
    throw DataError(
        detail::concat(file.string(), ": key '", key, "' must be a string, got ", v.dump()));
  return v.get<std::string>();
}

bool bool_or(const json& obj, const char* key, bool fallback, const fs::path& file) {
  if (!obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_boolean())
    throw DataError(detail::concat(file.string(), ": key '", key, "' must be a boolean, got ",
                                   obj[key].dump()));
  return obj[key].get<bool>();
}

}  // namespace

WordPieceTokenizer::WordPieceTokenizer(TokenMap vocab, WordPieceOptions options, std::string source)
    : options_(std::move(options)), source_(std::move(source)), token_to_id_(std::move(vocab)) {
  int32_t max_id = -1;
  for (const auto& [token, id] : token_to_id_) {
    if (id < 0 || id >= (1 << 24))
      throw DataError(
          detail::concat(source_, ": token '", token, "' has id ", id, " outside [0, 2^24)"));
    max_id = std::max(max_id, id);
  }
  id_to_token_.assign(static_cast<size_t>(max_id + 1), std::string());
  for (const auto& [token, id] : token_to_id_) id_to_token_[static_cast<size_t>(id)] = token;
  auto special = [&](const std::string& token) {
    const int32_t id = token_to_id(token);
    if (id < 0)
      throw DataError(
          detail::concat(source_, ": special token '", token, "' is not in the vocabulary"));
    specials_.add(AddedToken{token, id, /*special=*/true});
    return id;
  };
  unk_id_ = special(options_.unk_token);
  cls_id_ = special(options_.cls_token);
  sep_id_ = special(options_.sep_token);
  pad_id_ = special(options_.pad_token);
  if (token_to_id("[MASK]") >= 0) special("[MASK]");
  specials_.build();
}

WordPieceTokenizer WordPieceTokenizer::from_vocab_file(const fs::path& vocab_txt) {
  std::ifstream in(vocab_txt, std::ios::binary);
  if (!in) throw DataError(detail::concat("cannot open ", vocab_txt.string()));
  TokenMap vocab;
  std::string line;
  int32_t id = 0;
  while (std::getline(in, line)) {
    // transformers strips each line (trailing "\r" and spaces); duplicates keep the last id.
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    vocab[line] = id++;
  }
  WordPieceOptions options;
  const fs::path config_path = vocab_txt.parent_path() / "tokenizer_config.json";
  if (fs::exists(config_path)) {
    const json config = read_json(config_path);
    options.lowercase = bool_or(config, "do_lower_case", true, config_path);
    options.strip_accents = bool_or(config, "strip_accents", options.lowercase, config_path);
    options.handle_chinese_chars = bool_or(config, "tokenize_chinese_chars", true, config_path);
    options.unk_token = string_or(config, "unk_token", options.unk_token, config_path);
    options.cls_token = string_or(config, "cls_token", options.cls_token, config_path);
    options.sep_token = string_or(config, "sep_token", options.sep_token, config_path);
    options.pad_token = string_or(config, "pad_token", options.pad_token, config_path);
  }
  return WordPieceTokenizer(std::move(vocab), std::move(options), vocab_txt.string());
}

WordPieceTokenizer WordPieceTokenizer::from_tokenizer_json(const fs::path& path) {
  const json root = read_json(path);
  const std::string file = path.string();
  if (!root.contains("model") || !root["model"].is_object() ||
      root["model"].value("type", "") != "WordPiece")
    throw DataError(
        detail::concat(file, ": model.type must be \"WordPiece\", got ",
                       root.contains("model") ? root["model"].value("type", "?") : "none"));
  const json& model = root["model"];
  WordPieceOptions options;
  options.unk_token = string_or(model, "unk_token", options.unk_token, path);
  options.continuing_prefix =
      string_or(model, "continuing_subword_prefix", options.continuing_prefix, path);
  if (model.contains("max_input_chars_per_word")) {
    if (!model["max_input_chars_per_word"].is_number_unsigned())
      throw DataError(detail::concat(file, ": model.max_input_chars_per_word must be a count, got ",
                                     model["max_input_chars_per_word"].dump()));
    options.max_input_chars_per_word = model["max_input_chars_per_word"].get<size_t>();
  }
  const json& norm = root.value("normalizer", json());
  if (norm.is_null()) {
    options.clean_text = options.handle_chinese_chars = false;
    options.lowercase = options.strip_accents = false;
  } else if (norm.value("type", "") == "BertNormalizer") {
    options.clean_text = bool_or(norm, "clean_text", true, path);
    options.handle_chinese_chars = bool_or(norm, "handle_chinese_chars", true, path);
    options.lowercase = bool_or(norm, "lowercase", true, path);
    options.strip_accents = bool_or(norm, "strip_accents", options.lowercase, path);
  } else {
    throw DataError(detail::concat(file, ": normalizer.type ", norm.value("type", "?"),
                                   " is not supported (BertNormalizer or none)"));
  }
  const json& pre = root.value("pre_tokenizer", json());
  if (!pre.is_object() || pre.value("type", "") != "BertPreTokenizer")
    throw DataError(
        detail::concat(file, ": pre_tokenizer must be BertPreTokenizer, got ", pre.dump()));
  // The [CLS]/[SEP] of the single-sequence template (TemplateProcessing or BertProcessing).
  const json& post = root.value("post_processor", json());
  if (post.is_object() && post.value("type", "") == "BertProcessing") {
    options.cls_token = post.at("cls").at(0).get<std::string>();
    options.sep_token = post.at("sep").at(0).get<std::string>();
  } else if (post.is_object() && post.value("type", "") == "TemplateProcessing") {
    const json& single = post.at("single");
    if (single.size() != 3 || !single[0].contains("SpecialToken") ||
        !single[2].contains("SpecialToken"))
      throw DataError(detail::concat(file, ": post_processor.single must be [CLS] $A [SEP], got ",
                                     single.dump()));
    options.cls_token = single[0]["SpecialToken"].at("id").get<std::string>();
    options.sep_token = single[2]["SpecialToken"].at("id").get<std::string>();
  }
  if (root.contains("padding") && root["padding"].is_object())
    options.pad_token = string_or(root["padding"], "pad_token", options.pad_token, path);
  TokenMap vocab;
  for (const auto& [token, id] : model.at("vocab").items()) {
    if (!id.is_number_integer())
      throw DataError(detail::concat(file, ": vocab id of '", token, "' is ", id.dump()));
    vocab[token] = id.get<int32_t>();
  }
  return WordPieceTokenizer(std::move(vocab), std::move(options), file);
}

WordPieceTokenizer WordPieceTokenizer::from_folder(const fs::path& dir) {
  if (fs::exists(dir / "tokenizer.json")) return from_tokenizer_json(dir / "tokenizer.json");
  if (fs::exists(dir / "vocab.txt")) return from_vocab_file(dir / "vocab.txt");
  throw DataError(detail::concat(dir.string(), ": no tokenizer.json or vocab.txt"));
}

std::u32string WordPieceTokenizer::normalize(std::string_view text) const {
  const std::string valid = is_valid_utf8(text) ? std::string(text) : to_valid_utf8(text);
  std::u32string out;
  out.reserve(valid.size());
  std::vector<char32_t> buf;
  for (size_t pos = 0; pos < valid.size();) {
    const DecodedChar d = decode_utf8(valid, pos);
    pos += d.len;
    char32_t cp = d.cp;
    const uint8_t flags = bert_flags(cp);
    if (options_.clean_text) {
      // Dropping comes first: U+000B..U+000C and U+0085 are both "other" and spaces.
      if (cp == 0 || cp == kReplacementChar || (flags & kBertOther)) continue;
      if (flags & kBertSpace) cp = U' ';
    }
    if (options_.handle_chinese_chars && is_bert_chinese_char(cp)) {
      out += U' ';
      out += cp;
      out += U' ';
    } else {
      out += cp;
    }
  }
  if (options_.strip_accents) {
    buf.clear();
    for (char32_t cp : out) append_canonical_decomposition(cp, buf);
    canonical_reorder(buf);
    out.clear();
    for (char32_t cp : buf)
      if (!(bert_flags(cp) & kBertMark)) out += cp;
  }
  if (options_.lowercase) {
    buf.clear();
    for (char32_t cp : out) append_lowercase(cp, buf);
    out.assign(buf.begin(), buf.end());
  }
  return out;
}

std::vector<std::u32string> WordPieceTokenizer::pre_tokenize(
    const std::u32string& normalized) const {
  std::vector<std::u32string> words;
  std::u32string word;
  for (char32_t cp : normalized) {
    const uint8_t flags = bert_flags(cp);
    if (flags & kBertSpace) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else if (flags & kBertPunctuation) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
      words.emplace_back(1, cp);
    } else {
      word += cp;
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

void WordPieceTokenizer::word_pieces(const std::u32string& word, std::vector<int32_t>& out) const {
  if (word.size() > options_.max_input_chars_per_word) {
    out.push_back(unk_id_);
    return;
  }
  const size_t first_piece = out.size();
  std::string candidate;
  for (size_t start = 0; start < word.size();) {
    int32_t found = -1;
    size_t end = word.size();
    for (; end > start; --end) {
      candidate = start > 0 ? options_.continuing_prefix : std::string();
      candidate += to_utf8(word, start, end);
      found = token_to_id(candidate);
      if (found >= 0) break;
    }
    if (found < 0) {  // no piece covers this position: the whole word is unknown
      out.resize(first_piece);
      out.push_back(unk_id_);
      return;
    }
    out.push_back(found);
    start = end;
  }
}

void WordPieceTokenizer::tokenize_plain(std::string_view text, std::vector<int32_t>& out) const {
  for (const auto& word : pre_tokenize(normalize(text))) word_pieces(word, out);
}

std::vector<int32_t> WordPieceTokenizer::tokenize(std::string_view text) const {
  const std::string valid = is_valid_utf8(text) ? std::string(text) : to_valid_utf8(text);
  std::vector<Segment> segments;
  specials_.split(valid, /*normalized=*/false, segments);
  std::vector<int32_t> ids;
  for (const Segment& s : segments) {
    if (s.id >= 0)
      ids.push_back(s.id);
    else
      tokenize_plain(s.text, ids);
  }
  return ids;
}

std::vector<std::string> WordPieceTokenizer::tokenize_to_strings(std::string_view text) const {
  std::vector<std::string> out;
  for (int32_t id : tokenize(text)) out.push_back(id_to_token(id));
  return out;
}

std::vector<int32_t> WordPieceTokenizer::encode(std::string_view text, size_t max_length) const {
  std::vector<int32_t> pieces = tokenize(text);
  if (max_length > 0) {
    const size_t keep = max_length >= 2 ? max_length - 2 : 0;
    if (pieces.size() > keep) pieces.resize(keep);
  }
  std::vector<int32_t> ids;
  ids.reserve(pieces.size() + 2);
  ids.push_back(cls_id_);
  ids.insert(ids.end(), pieces.begin(), pieces.end());
  ids.push_back(sep_id_);
  return ids;
}

int32_t WordPieceTokenizer::token_to_id(std::string_view token) const {
  const auto it = token_to_id_.find(token);
  return it == token_to_id_.end() ? -1 : it->second;
}

const std::string& WordPieceTokenizer::id_to_token(int32_t id) const {
  SELLER_CHECK(id >= 0 && static_cast<size_t>(id) < id_to_token_.size(), "token id ", id);
  return id_to_token_[static_cast<size_t>(id)];
}

}  // namespace seller::text
