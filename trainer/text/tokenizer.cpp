// Tokenizer::load: picks the loader from what the path holds, then reads tokenizer_config.json.
#include "trainer/text/tokenizer.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "trainer/core/error.h"
#include "trainer/text/hf_tokenizer.h"
#include "trainer/text/sentencepiece_tokenizer.h"

namespace seller::text {
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  SELLER_THROW_IF_NOT(in, DataError, path.string(), ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// bos from the post-processor template: the special ids before the sequence.
std::optional<int32_t> template_bos(const HfTokenizer& tok) {
  for (const TemplateItem& item : tok.pipeline().post_processor.single) {
    if (item.is_sequence) break;
    if (!item.special.empty()) return item.special.front();
  }
  return std::nullopt;
}

std::unique_ptr<Tokenizer> load_json(const fs::path& file) {
  auto tok = HfTokenizer::from_json(slurp(file), file.string());
  tok->set_special_ids(template_bos(*tok), std::nullopt, std::nullopt);
  const fs::path config = file.parent_path() / "tokenizer_config.json";
  if (fs::exists(config)) apply_tokenizer_config(*tok, config);
  return tok;
}

}  // namespace

void apply_tokenizer_config(Tokenizer& tokenizer, const fs::path& config) {
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(slurp(config));
  } catch (const nlohmann::json::exception& e) {
    throw DataError(config.string() + ": not valid JSON: " + e.what());
  }
  if (!root.is_object()) throw DataError(config.string() + ": expected a JSON object");
  const auto read = [&](const char* key, std::optional<int32_t>& slot) {
    const auto it = root.find(key);
    if (it == root.end()) return;
    const nlohmann::json* v = &*it;
    if (v->is_object() && v->contains("content")) v = &(*v)["content"];
    if (v->is_null()) {
      slot.reset();
    } else if (v->is_string()) {
      if (auto id = tokenizer.token_to_id(v->get<std::string>())) slot = id;
    }
  };
  read("bos_token", tokenizer.bos_id_);
  read("eos_token", tokenizer.eos_id_);
  read("pad_token", tokenizer.pad_id_);
}

std::unique_ptr<Tokenizer> Tokenizer::from_json_string(std::string_view json,
                                                       const std::string& origin) {
  auto tok = HfTokenizer::from_json(json, origin);
  tok->set_special_ids(template_bos(*tok), std::nullopt, std::nullopt);
  return tok;
}

std::unique_ptr<Tokenizer> Tokenizer::load(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    if (fs::exists(path / "tokenizer.json")) return load_json(path / "tokenizer.json");
    if (fs::exists(path / "vocab.json") && fs::exists(path / "merges.txt")) {
      auto tok = HfTokenizer::from_vocab_merges(path / "vocab.json", path / "merges.txt");
      if (fs::exists(path / "tokenizer_config.json"))
        apply_tokenizer_config(*tok, path / "tokenizer_config.json");
      return tok;
    }
    std::vector<fs::path> models;
    for (const auto& entry : fs::directory_iterator(path))
      if (entry.path().extension() == ".model") models.push_back(entry.path());
    SELLER_THROW_IF_NOT(models.size() <= 1, DataError, path.string(),
                        ": several *.model files; name the one to load");
    if (models.size() == 1) return load_sentencepiece(models.front());
    throw DataError(path.string() +
                    ": no tokenizer found (looked for tokenizer.json, vocab.json + merges.txt, "
                    "*.model)");
  }
  SELLER_THROW_IF_NOT(fs::exists(path, ec), DataError, path.string(), ": no such file or directory");
  if (path.extension() == ".json") return load_json(path);
  if (path.extension() == ".model") return load_sentencepiece(path);
  throw DataError(path.string() +
                  ": unknown tokenizer file (expected tokenizer.json, a *.model SentencePiece "
                  "file, or a directory)");
}

}  // namespace seller::text
