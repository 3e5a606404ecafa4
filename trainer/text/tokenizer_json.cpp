// Loading HfTokenizer from tokenizer.json, and from GPT-2's vocab.json + merges.txt. Every field
// is type-checked; any nlohmann::json type or parse error becomes seller::DataError naming the
// file, and an unsupported component names its JSON path and type.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "trainer/core/error.h"
#include "trainer/text/hf_tokenizer.h"
#include "trainer/text/unicode.h"

namespace seller::text {
namespace {

using nlohmann::json;

class JsonReader {
 public:
  explicit JsonReader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& where, const std::string& what) const {
    throw DataError(origin_ + ": " + where + ": " + what);
  }
  [[noreturn]] void unsupported(const std::string& where, const std::string& kind,
                                const std::string& type, const std::string& supported) const {
    fail(where, "unsupported " + kind + " type \"" + type + "\" (seller supports " + supported + ")");
  }
  const json& field(const json& obj, const char* key, const std::string& where) const {
    if (!obj.is_object()) fail(where, "expected an object");
    const auto it = obj.find(key);
    if (it == obj.end()) fail(where, std::string("missing field \"") + key + "\"");
    return *it;
  }
  std::string str(const json& obj, const char* key, const std::string& where) const {
    const json& v = field(obj, key, where);
    if (!v.is_string()) fail(where + "." + key, "expected a string");
    return v.get<std::string>();
  }
  std::string str_or(const json& obj, const char* key, const std::string& fallback) const {
    if (!obj.is_object()) return fallback;
    const auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : fallback;
  }
  bool flag_or(const json& obj, const char* key, bool fallback) const {
    if (!obj.is_object()) return fallback;
    const auto it = obj.find(key);
    return it != obj.end() && it->is_boolean() ? it->get<bool>() : fallback;
  }
  std::string type_of(const json& obj, const std::string& where) const {
    return str(obj, "type", where);
  }
  const std::string& origin() const { return origin_; }

 private:
  std::string origin_;
};

// "▁" or a one-string pattern {"String": "..."}; regexes are refused.
std::string string_pattern(const JsonReader& r, const json& pattern, const std::string& where) {
  if (pattern.is_object() && pattern.contains("String") && pattern["String"].is_string()) {
    std::string s = pattern["String"].get<std::string>();
    if (s.empty()) r.fail(where, "empty pattern");
    return s;
  }
  if (pattern.is_object() && pattern.contains("Regex"))
    r.fail(where, "Regex patterns are only supported in the Split pre-tokenizer");
  r.fail(where, "expected {\"String\": ...}");
}

PrependScheme prepend_scheme(const JsonReader& r, const json& obj, const std::string& where) {
  if (obj.contains("prepend_scheme")) {
    const std::string s = r.str(obj, "prepend_scheme", where);
    if (s == "always") return PrependScheme::kAlways;
    if (s == "first") return PrependScheme::kFirst;
    if (s == "never") return PrependScheme::kNever;
    r.fail(where + ".prepend_scheme", "unknown value \"" + s + "\"");
  }
  return r.flag_or(obj, "add_prefix_space", true) ? PrependScheme::kAlways : PrependScheme::kNever;
}

std::string one_char(const JsonReader& r, const json& obj, const char* key, const std::string& where) {
  std::string s = r.str(obj, key, where);
  if (s.empty() || decode_utf8(s, 0).len != s.size() || !is_valid_utf8(s))
    r.fail(where + "." + key, "expected one character, got \"" + s + "\"");
  return s;
}

void parse_normalizer(const JsonReader& r, const json& n, const std::string& where,
                      std::vector<Normalizer>& out, int depth) {
  if (n.is_null()) return;
  if (depth > 16) r.fail(where, "nesting too deep");
  const std::string type = r.type_of(n, where);
  if (type == "NFC") {
    out.push_back(NfcNormalizer{});
  } else if (type == "Prepend") {
    out.push_back(PrependNormalizer{r.str(n, "prepend", where)});
  } else if (type == "Replace") {
    out.push_back(ReplaceNormalizer{string_pattern(r, r.field(n, "pattern", where), where + ".pattern"),
                                    r.str(n, "content", where)});
  } else if (type == "Sequence") {
    const json& list = r.field(n, "normalizers", where);
    if (!list.is_array()) r.fail(where + ".normalizers", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse_normalizer(r, list[i], where + ".normalizers[" + std::to_string(i) + "]", out, depth + 1);
  } else {
    r.unsupported(where, "normalizer", type, "NFC, Prepend, Replace, Sequence");
  }
}

void parse_pre_tokenizer(const JsonReader& r, const json& p, const std::string& where,
                         std::vector<PreTokenizer>& out, int depth) {
  if (p.is_null()) return;
  if (depth > 16) r.fail(where, "nesting too deep");
  const std::string type = r.type_of(p, where);
  if (type == "Split") {
    SplitPreTokenizer s;
    const json& pattern = r.field(p, "pattern", where);
    if (pattern.is_object() && pattern.contains("Regex")) {
      const std::string regex = r.str(pattern, "Regex", where + ".pattern");
      s.regex = recognize_split_pattern(regex);
      if (!s.regex)
        r.fail(where + ".pattern",
               "unsupported Split regex \"" + regex +
                   "\" (seller has hand-written matchers for the GPT-2, Llama-3/GPT-4 and "
                   "Qwen2/Qwen3 patterns only; see trainer/text/split_patterns.h)");
    } else {
      s.literal = string_pattern(r, pattern, where + ".pattern");
    }
    const std::string behavior = r.str(p, "behavior", where);
    if (behavior == "Removed") s.behavior = SplitBehavior::kRemoved;
    else if (behavior == "Isolated") s.behavior = SplitBehavior::kIsolated;
    else if (behavior == "MergedWithPrevious") s.behavior = SplitBehavior::kMergedWithPrevious;
    else if (behavior == "MergedWithNext") s.behavior = SplitBehavior::kMergedWithNext;
    else if (behavior == "Contiguous") s.behavior = SplitBehavior::kContiguous;
    else r.fail(where + ".behavior", "unknown split behavior \"" + behavior + "\"");
    s.invert = r.flag_or(p, "invert", false);
    out.push_back(s);
  } else if (type == "ByteLevel") {
    out.push_back(ByteLevelPreTokenizer{r.flag_or(p, "add_prefix_space", true),
                                        r.flag_or(p, "use_regex", true)});
  } else if (type == "Metaspace") {
    MetaspacePreTokenizer m;
    m.replacement = one_char(r, p, "replacement", where);
    m.prepend_scheme = prepend_scheme(r, p, where);
    m.split = r.flag_or(p, "split", true);
    out.push_back(m);
  } else if (type == "Sequence") {
    const json& list = r.field(p, "pretokenizers", where);
    if (!list.is_array()) r.fail(where + ".pretokenizers", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse_pre_tokenizer(r, list[i], where + ".pretokenizers[" + std::to_string(i) + "]", out,
                          depth + 1);
  } else {
    r.unsupported(where, "pre-tokenizer", type, "Split, ByteLevel, Metaspace, Sequence");
  }
}

void parse_post_processor(const JsonReader& r, const json& p, const std::string& where,
                          PostProcessor& out, int depth) {
  if (p.is_null()) return;
  if (depth > 16) r.fail(where, "nesting too deep");
  const std::string type = r.type_of(p, where);
  if (type == "ByteLevel") return;  // trims offsets only
  if (type == "Sequence") {
    const json& list = r.field(p, "processors", where);
    if (!list.is_array()) r.fail(where + ".processors", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse_post_processor(r, list[i], where + ".processors[" + std::to_string(i) + "]", out,
                           depth + 1);
    return;
  }
  if (type != "TemplateProcessing")
    r.unsupported(where, "post-processor", type, "TemplateProcessing, ByteLevel, Sequence");
  if (!out.single.empty()) r.fail(where, "more than one TemplateProcessing");
  const json& specials = r.field(p, "special_tokens", where);
  const json& single = r.field(p, "single", where);
  if (!single.is_array()) r.fail(where + ".single", "expected an array");
  for (size_t i = 0; i < single.size(); ++i) {
    const std::string at = where + ".single[" + std::to_string(i) + "]";
    const json& item = single[i];
    if (item.is_object() && item.contains("Sequence")) {
      out.single.push_back({true, {}});
    } else if (item.is_object() && item.contains("SpecialToken")) {
      const std::string name = r.str(item["SpecialToken"], "id", at);
      const json& entry = r.field(specials, name.c_str(), where + ".special_tokens");
      const json& ids = r.field(entry, "ids", where + ".special_tokens." + name);
      if (!ids.is_array()) r.fail(where + ".special_tokens." + name, "expected ids array");
      TemplateItem t{false, {}};
      for (const json& id : ids) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > BpeModel::kMaxId)
          r.fail(where + ".special_tokens." + name, "bad id");
        t.special.push_back(static_cast<int32_t>(id.get<int64_t>()));
      }
      out.single.push_back(std::move(t));
    } else {
      r.fail(at, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
  }
}

void parse_decoder(const JsonReader& r, const json& d, const std::string& where,
                   std::vector<Decoder>& out, int depth) {
  if (d.is_null()) return;
  if (depth > 16) r.fail(where, "nesting too deep");
  const std::string type = r.type_of(d, where);
  if (type == "ByteLevel") {
    out.push_back(ByteLevelDecoder{});
  } else if (type == "Metaspace") {
    out.push_back(MetaspaceDecoder{one_char(r, d, "replacement", where), prepend_scheme(r, d, where)});
  } else if (type == "Replace") {
    out.push_back(ReplaceDecoder{string_pattern(r, r.field(d, "pattern", where), where + ".pattern"),
                                 r.str(d, "content", where)});
  } else if (type == "ByteFallback") {
    out.push_back(ByteFallbackDecoder{});
  } else if (type == "Fuse") {
    out.push_back(FuseDecoder{});
  } else if (type == "Strip") {
    StripDecoder s;
    s.content = one_char(r, d, "content", where);
    const json& start = r.field(d, "start", where);
    const json& stop = r.field(d, "stop", where);
    if (!start.is_number_unsigned() || !stop.is_number_unsigned())
      r.fail(where, "start and stop must be non-negative integers");
    s.start = start.get<size_t>();
    s.stop = stop.get<size_t>();
    out.push_back(s);
  } else if (type == "Sequence") {
    const json& list = r.field(d, "decoders", where);
    if (!list.is_array()) r.fail(where + ".decoders", "expected an array");
    for (size_t i = 0; i < list.size(); ++i)
      parse_decoder(r, list[i], where + ".decoders[" + std::to_string(i) + "]", out, depth + 1);
  } else {
    r.unsupported(where, "decoder", type,
                  "ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence");
  }
}

TokenMap parse_vocab(const JsonReader& r, const json& vocab, const std::string& where) {
  if (!vocab.is_object()) r.fail(where, "expected an object of token -> id");
  TokenMap map;
  map.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer()) r.fail(where + "[\"" + it.key() + "\"]", "expected an integer id");
    const int64_t id = it.value().get<int64_t>();
    if (id < 0 || id > BpeModel::kMaxId)
      r.fail(where + "[\"" + it.key() + "\"]", "id " + std::to_string(id) + " out of range");
    map[it.key()] = static_cast<int32_t>(id);
  }
  return map;
}

std::pair<std::string, std::string> split_merge_line(const JsonReader& r, std::string_view line,
                                                     const std::string& where) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos)
    r.fail(where, "a merge must be two tokens separated by one space, got \"" + std::string(line) + "\"");
  return {std::string(line.substr(0, space)), std::string(line.substr(space + 1))};
}

std::unique_ptr<BpeModel> parse_model(const JsonReader& r, const json& m, bool& byte_fallback) {
  const std::string where = "model";
  const std::string type = m.is_object() && m.contains("type") ? r.type_of(m, where) : "BPE";
  if (type != "BPE") r.unsupported(where, "model", type, "BPE");
  if (m.contains("dropout") && m["dropout"].is_number() && m["dropout"].get<double>() > 0.0)
    r.fail(where + ".dropout", "BPE dropout is not supported (it makes encoding random)");
  TokenMap vocab = parse_vocab(r, r.field(m, "vocab", where), where + ".vocab");
  const json& merges_json = r.field(m, "merges", where);
  if (!merges_json.is_array()) r.fail(where + ".merges", "expected an array");
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(merges_json.size());
  for (size_t i = 0; i < merges_json.size(); ++i) {
    const json& e = merges_json[i];
    const std::string at = where + ".merges[" + std::to_string(i) + "]";
    if (e.is_string()) {
      merges.push_back(split_merge_line(r, e.get<std::string>(), at));
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
    } else {
      r.fail(at, "expected \"a b\" or [\"a\", \"b\"]");
    }
  }
  BpeOptions o;
  if (m.contains("unk_token") && m["unk_token"].is_string()) o.unk_token = m["unk_token"].get<std::string>();
  o.continuing_subword_prefix = r.str_or(m, "continuing_subword_prefix", "");
  o.end_of_word_suffix = r.str_or(m, "end_of_word_suffix", "");
  o.fuse_unk = r.flag_or(m, "fuse_unk", false);
  o.byte_fallback = r.flag_or(m, "byte_fallback", false);
  o.ignore_merges = r.flag_or(m, "ignore_merges", false);
  byte_fallback = o.byte_fallback;
  return std::make_unique<BpeModel>(std::move(vocab), merges, std::move(o), r.origin());
}

std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  SELLER_THROW_IF_NOT(in, DataError, path.string(), ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::unique_ptr<HfTokenizer> HfTokenizer::from_json(std::string_view text, const std::string& origin) {
  const JsonReader r(origin);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::exception& e) {
    throw DataError(origin + ": not valid JSON: " + e.what());
  }
  try {
    if (!root.is_object()) r.fail("(root)", "expected an object");
    HfPipeline pipeline;
    parse_normalizer(r, root.value("normalizer", json()), "normalizer", pipeline.normalizers, 0);
    parse_pre_tokenizer(r, root.value("pre_tokenizer", json()), "pre_tokenizer",
                        pipeline.pre_tokenizers, 0);
    parse_post_processor(r, root.value("post_processor", json()), "post_processor",
                         pipeline.post_processor, 0);
    parse_decoder(r, root.value("decoder", json()), "decoder", pipeline.decoders, 0);
    bool byte_fallback = false;
    auto model = parse_model(r, r.field(root, "model", "(root)"), byte_fallback);

    AddedVocabulary added;
    if (root.contains("added_tokens") && !root["added_tokens"].is_null()) {
      const json& list = root["added_tokens"];
      if (!list.is_array()) r.fail("added_tokens", "expected an array");
      for (size_t i = 0; i < list.size(); ++i) {
        const std::string at = "added_tokens[" + std::to_string(i) + "]";
        const json& t = list[i];
        AddedToken a;
        a.content = r.str(t, "content", at);
        const json& id = r.field(t, "id", at);
        if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > BpeModel::kMaxId)
          r.fail(at + ".id", "expected an id in [0, 2^24)");
        a.id = static_cast<int32_t>(id.get<int64_t>());
        a.special = r.flag_or(t, "special", false);
        a.normalized = r.flag_or(t, "normalized", !a.special);
        a.lstrip = r.flag_or(t, "lstrip", false);
        a.rstrip = r.flag_or(t, "rstrip", false);
        a.single_word = r.flag_or(t, "single_word", false);
        added.add(std::move(a));
      }
    }
    bool byte_level = false;
    for (const auto& p : pipeline.pre_tokenizers)
      byte_level = byte_level || std::holds_alternative<ByteLevelPreTokenizer>(p);
    std::string description = std::string("tokenizer.json BPE") +
                              (byte_level ? " (byte-level)" : "") +
                              (byte_fallback ? " (byte fallback)" : "");
    auto tok = std::make_unique<HfTokenizer>(std::move(model), std::move(added),
                                             std::move(pipeline), std::move(description));
    // tokenizers would emit such ids as they are; an id without a token would later index past
    // an embedding table, so refuse the file here.
    for (const TemplateItem& item : tok->pipeline().post_processor.single)
      for (int32_t id : item.special)
        if (!tok->id_to_token(id))
          r.fail("post_processor.special_tokens",
                 "id " + std::to_string(id) + " is neither in the vocabulary nor an added token");
    return tok;
  } catch (const json::exception& e) {
    throw DataError(origin + ": unexpected JSON content: " + e.what());
  }
}

std::unique_ptr<HfTokenizer> HfTokenizer::from_vocab_merges(const std::filesystem::path& vocab_json,
                                                            const std::filesystem::path& merges_txt) {
  const JsonReader r(vocab_json.string());
  TokenMap vocab;
  try {
    vocab = parse_vocab(r, json::parse(read_whole_file(vocab_json)), "(root)");
  } catch (const json::exception& e) {
    throw DataError(vocab_json.string() + ": not valid JSON: " + e.what());
  }
  const JsonReader rm(merges_txt.string());
  std::vector<std::pair<std::string, std::string>> merges;
  std::istringstream lines(read_whole_file(merges_txt));
  size_t line_no = 0;
  for (std::string line; std::getline(lines, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.starts_with("#version") || line.empty()) continue;
    merges.push_back(split_merge_line(rm, line, "line " + std::to_string(line_no)));
  }
  auto model = std::make_unique<BpeModel>(std::move(vocab), merges, BpeOptions{},
                                          vocab_json.string() + " + " + merges_txt.string());
  AddedVocabulary added;
  const std::optional<int32_t> eot = model->token_to_id("<|endoftext|>");
  if (eot) added.add(AddedToken{"<|endoftext|>", *eot, true, false, false, false, false});
  HfPipeline pipeline;
  pipeline.pre_tokenizers.push_back(ByteLevelPreTokenizer{false, true});
  pipeline.decoders.push_back(ByteLevelDecoder{});
  auto tok = std::make_unique<HfTokenizer>(std::move(model), std::move(added), std::move(pipeline),
                                           "vocab.json + merges.txt BPE (byte-level, GPT-2)");
  tok->set_special_ids(eot, eot, std::nullopt);
  return tok;
}

}  // namespace seller::text
