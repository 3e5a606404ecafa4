// The SELLER model on one process: batch layout and masking, the explanation loss against an
// independent computation on the same weights, gradients in every trained part and none in the
// frozen LLM, soft prompts that change the LLM's output, and a tiny run that overfits a handful
// of examples.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "tests/model/seller_fixture.h"
#include "trainer/core/config.h"
#include "trainer/model/llm/from_config.h"
#include "trainer/model/llm/lora.h"
#include "trainer/model/seller_model.h"
#include "trainer/train/seller_batch.h"

namespace seller::train {
namespace {

TEST(SellerBatch, LayoutAndMasks) {
  const auto f = fixture(4);
  const auto rows = all_rows(4);
  const auto b = make_batch(f.examples, f.tokens, rows, 0);
  ASSERT_EQ(b.input_ids.size(0), 4);
  ASSERT_EQ(b.input_ids.size(1), 7);  // longest: 2 prompt + 5 explanation
  for (int64_t i = 0; i < 4; ++i) {
    const auto& t = f.tokens[static_cast<size_t>(i)];
    const auto len = static_cast<int64_t>(t.prompt.size() + t.explanation.size());
    EXPECT_EQ(b.text_mask[i].sum().item<int64_t>(), len);
    for (int64_t j = 0; j < 7; ++j) {
      const int64_t label = b.labels[i][j].item<int64_t>();
      if (j < 2 || j >= len)
        EXPECT_EQ(label, -100) << i << "," << j;
      else
        EXPECT_EQ(label, t.explanation[static_cast<size_t>(j - 2)]);
    }
  }
  // History: left-padded tokens (item + 1), next targets shifted with the candidate last.
  const auto& e3 = f.examples[3];
  ASSERT_EQ(e3.history.size(), 4u);
  EXPECT_EQ(b.history[3][3].item<int64_t>(), e3.history[3] + 1);
  EXPECT_EQ(b.next_targets[3][3].item<int64_t>(), e3.item + 1);
  EXPECT_EQ(b.next_targets[3][0].item<int64_t>(), e3.history[1] + 1);
  EXPECT_EQ(b.history[0][0].item<int64_t>(), 0);  // example 0 has 1 history item: padded
  EXPECT_TRUE(std::isnan(b.ratings[0].item<float>()));
  // Controls: none empties the history, shuffled keeps the multiset.
  const auto none = make_batch(f.examples, f.tokens, rows, 0, HistoryControl::kNone);
  EXPECT_EQ(none.history.gt(0).sum().item<int64_t>(), 0);
  const auto sh = make_batch(f.examples, f.tokens, rows, 0, HistoryControl::kShuffled, 9);
  EXPECT_TRUE(std::get<0>(sh.history[3].sort()).equal(std::get<0>(b.history[3].sort())));
}

TEST(SellerBatch, HostFactsMatchTheTensors) {
  const auto f = fixture(7);
  const auto b = make_batch(f.examples, f.tokens, all_rows(7), 0);
  const auto labelled = b.labels.ne(-100).reshape({-1}).nonzero().squeeze(1);
  EXPECT_TRUE(b.label_index.equal(labelled));
  EXPECT_EQ(b.text_tokens, b.text_mask.sum().item<int64_t>());
  EXPECT_TRUE(b.rated_rows.equal(b.ratings.isnan().logical_not().nonzero().squeeze(1)));
  EXPECT_EQ(b.rated_rows.size(0), 4);  // rows 0, 3 and 6 have no rating
  EXPECT_TRUE(b.item_target_index.equal(b.next_targets.reshape({-1}).gt(0).nonzero().squeeze(1)));
  EXPECT_GT(b.item_target_index.size(0), 0);
  const auto none = make_batch(f.examples, f.tokens, all_rows(7), 0, HistoryControl::kNone);
  EXPECT_EQ(none.item_target_index.size(0), 0);
}

TEST(SellerModel, HostFactsGiveTheSameLossesAndGradientsAsDeviceMasks) {
  // The facts make_batch computes on the host replace boolean masks on the device; a batch
  // without them (as a caller may build) takes the mask path. Both must agree exactly.
  const auto f = fixture(7);
  const auto with = make_batch(f.examples, f.tokens, all_rows(7), 0);
  auto without = with;
  without.label_index = without.rated_rows = without.item_target_index = torch::Tensor();
  without.text_tokens = -1;
  std::vector<std::vector<torch::Tensor>> grads;
  std::vector<model::SellerLosses> losses;
  for (const model::SellerBatch* b : {&with, static_cast<const model::SellerBatch*>(&without)}) {
    torch::manual_seed(3);
    auto m = tiny_model("moe", /*learned=*/true);
    auto l = m->losses(*b, model::SellerLossWeights{});
    l.total.backward();
    std::vector<torch::Tensor> g;
    for (const auto& p : m->parameters()) g.push_back(p.grad().clone());
    grads.push_back(g);
    losses.push_back(l);
  }
  EXPECT_EQ(losses[0].explanation_tokens, losses[1].explanation_tokens);
  for (auto pick : {&model::SellerLosses::total, &model::SellerLosses::explanation,
                    &model::SellerLosses::item, &model::SellerLosses::rating})
    EXPECT_TRUE((losses[0].*pick).equal(losses[1].*pick));
  ASSERT_EQ(grads[0].size(), grads[1].size());
  for (size_t i = 0; i < grads[0].size(); ++i) EXPECT_TRUE(grads[0][i].equal(grads[1][i])) << i;
}

TEST(SellerModel, ExplanationLossEqualsIndependentComputation) {
  auto m = tiny_model();
  m->eval();
  const auto f = fixture(5);
  const auto rows = all_rows(5);
  const auto b = make_batch(f.examples, f.tokens, rows, 0);
  model::SellerLossWeights w;
  w.item = w.rating = w.moe = 0;
  torch::NoGradGuard g;
  const auto l = m->losses(b, w);
  // Oracle: run each example alone, unpadded: [prompts][prompt ids][explanation ids], and sum
  // -log p(explanation token | everything before it).
  double nll = 0;
  int64_t count = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto enc = m->encode(b.history.narrow(0, static_cast<int64_t>(i), 1),
                               b.candidates.narrow(0, static_cast<int64_t>(i), 1));
    std::vector<int64_t> ids = f.tokens[i].prompt;
    ids.insert(ids.end(), f.tokens[i].explanation.begin(), f.tokens[i].explanation.end());
    const auto emb = torch::cat({enc.prompts, m->llm->embed(torch::tensor(ids).unsqueeze(0))}, 1);
    model::DecoderInput in;
    in.inputs_embeds = emb;
    const auto logp = torch::log_softmax(m->llm->forward(in)[0], -1);
    const int64_t k = enc.prompts.size(1);
    const auto p = static_cast<int64_t>(f.tokens[i].prompt.size());
    for (size_t j = 0; j < f.tokens[i].explanation.size(); ++j) {
      const int64_t pos = k + p + static_cast<int64_t>(j) - 1;  // the state before the token
      nll -= logp[pos][f.tokens[i].explanation[j]].item<double>();
      ++count;
    }
  }
  EXPECT_EQ(l.explanation_tokens, count);
  EXPECT_NEAR(l.explanation.item<double>(), nll / count, 1e-5);
  // Padding does not matter: a different pad id gives the same loss.
  const auto b7 = make_batch(f.examples, f.tokens, rows, 7);
  EXPECT_NEAR(m->losses(b7, w).explanation.item<double>(), l.explanation.item<double>(), 1e-5);
}

TEST(SellerModel, GradientsReachEveryTrainedPartAndNotTheFrozenLlm) {
  for (const std::string mode : {"full", "frozen"}) {
    auto m = tiny_model("moe", /*learned=*/true);
    model::set_llm_training_mode(m->llm, mode);
    const auto f = fixture(6);
    const auto b = make_batch(f.examples, f.tokens, all_rows(6), 0);
    m->losses(b, model::SellerLossWeights{}).total.backward();
    for (const auto& p : m->named_parameters(true)) {
      const bool llm = p.key().rfind("llm.", 0) == 0;
      const bool has =
          p.value().grad().defined() && p.value().grad().abs().sum().item<double>() > 0;
      if (llm && mode == "frozen") {
        EXPECT_FALSE(p.value().requires_grad()) << p.key();
        EXPECT_FALSE(p.value().grad().defined()) << p.key();
      } else {
        EXPECT_TRUE(has) << mode << ": no gradient in " << p.key();
      }
    }
  }
}

TEST(SellerModel, FullAndSampledNextItemLoss) {
  // With negatives drawn from all items, a sampled softmax is a different estimator; but the
  // full-softmax path must equal SASRec's own loss on the same hidden states, and the sampled
  // path must give a finite loss with gradients into the item embeddings.
  auto full = tiny_model("dense", true, 0);
  full->eval();
  const auto f = fixture(6);
  const auto b = make_batch(f.examples, f.tokens, all_rows(6), 0);
  model::SellerLossWeights w;
  w.explanation = 0;
  w.rating = w.moe = 0;
  torch::Tensor own;
  {
    torch::NoGradGuard g;
    own = full->sasrec->loss(b.history, b.next_targets);
    EXPECT_NEAR(full->losses(b, w).item.item<double>(), own.item<double>(), 1e-6);
  }
  auto sampled = tiny_model("dense", true, 5);
  const auto l = sampled->losses(b, w);
  EXPECT_TRUE(std::isfinite(l.item.item<double>()));
  EXPECT_LT(l.item.item<double>(), own.item<double>());  // 6-way softmax vs 12-way
  l.total.backward();
  EXPECT_GT(sampled->sasrec->item_emb->weight.grad().abs().sum().item<double>(), 0);
}

TEST(SellerModel, TextTableIsAFrozenBufferNotAParameter) {
  auto m = tiny_model("dense", /*learned=*/false);
  ASSERT_TRUE(m->item_text.defined());
  for (const auto& p : m->named_parameters(true)) EXPECT_NE(p.key(), "item_text");
  const auto f = fixture(4);
  m->losses(make_batch(f.examples, f.tokens, all_rows(4), 0), model::SellerLossWeights{})
      .total.backward();
  EXPECT_FALSE(m->item_text.requires_grad());
  EXPECT_TRUE(m->adapter->fuse->weight.grad().defined());
}

TEST(SellerModel, SoftPromptsChangeTheLlmOutput) {
  auto m = tiny_model();
  m->eval();
  torch::NoGradGuard g;
  const auto f = fixture(4);
  const auto rows = all_rows(4);
  model::SellerLossWeights w;
  w.item = w.rating = w.moe = 0;
  const auto real = m->losses(make_batch(f.examples, f.tokens, rows, 0), w).explanation;
  const auto none =
      m->losses(make_batch(f.examples, f.tokens, rows, 0, HistoryControl::kNone), w).explanation;
  EXPECT_GT(std::abs(real.item<double>() - none.item<double>()), 1e-6);
  // Zeroing the adapter's output scale removes what the prompts say: the loss changes too.
  m->adapter->scale.zero_();
  const auto zeroed = m->losses(make_batch(f.examples, f.tokens, rows, 0), w).explanation;
  EXPECT_GT(std::abs(real.item<double>() - zeroed.item<double>()), 1e-6);
}

TEST(SellerModel, TinyRunOverfitsAHandfulOfExamples) {
  torch::set_num_threads(1);  // small tensors: threads only add contention on CI's 2 cores
  for (const std::string kind : {"moe", "dense"}) {
    auto m = tiny_model(kind);
    const auto f = fixture(8);
    const auto b = make_batch(f.examples, f.tokens, all_rows(8), 0);
    torch::optim::AdamW opt(m->parameters(), torch::optim::AdamWOptions(3e-3));
    model::SellerLossWeights w;
    double first = 0, last = 0;
    for (int step = 0; step < 300; ++step) {
      const auto l = m->losses(b, w);
      opt.zero_grad();
      l.total.backward();
      opt.step();
      if (step == 0) first = l.explanation.item<double>();
      last = l.explanation.item<double>();
    }
    EXPECT_GT(first, 2.0) << kind;
    EXPECT_LT(last, 0.05) << kind << ": explanation loss after 300 steps";
  }
}

}  // namespace
}  // namespace seller::train
