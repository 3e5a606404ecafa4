// Building the SELLER examples from a prepared dataset (rules in explain_examples.h).
#include "trainer/data/explain_examples.h"

#include <algorithm>
#include <numeric>

#include "trainer/data/synthetic/prng.h"

namespace seller::data {
namespace {

ExplainExample make_example(const Dataset& ds, uint32_t user, size_t k, size_t max_history) {
  const auto items = ds.history(user);
  ExplainExample e;
  e.user = user;
  e.item = items[k];
  const size_t from = k > max_history ? k - max_history : 0;
  e.history.assign(items.begin() + static_cast<std::ptrdiff_t>(from),
                   items.begin() + static_cast<std::ptrdiff_t>(k));
  e.explanation = std::string(ds.review(user, k));
  e.rating = ds.ratings(user)[k];
  e.feature = std::string(ds.feature(user, k));
  e.id = std::string(ds.user_id(user)) + ":" + std::string(ds.item_id(e.item));
  return e;
}

bool has_text(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") != std::string_view::npos;
}

}  // namespace

ExplainSplits build_explain_examples(const Dataset& ds, size_t max_history, size_t max_train,
                                     uint64_t seed) {
  ExplainSplits out;
  for (uint32_t u = 0; u < ds.num_users(); ++u) {
    const size_t n = ds.history_length(u);
    bool have_valid = false, have_test = false;
    for (size_t k = 0; k < n; ++k) {
      if (!has_text(ds.review(u, k))) continue;
      switch (ds.split(u, k)) {
        case SplitTag::kTrain:
          if (k >= 1) out.train.push_back(make_example(ds, u, k, max_history));
          break;
        case SplitTag::kValid:
          if (!have_valid) out.valid.push_back(make_example(ds, u, k, max_history));
          have_valid = true;
          break;
        case SplitTag::kTest:
          if (!have_test) out.test.push_back(make_example(ds, u, k, max_history));
          have_test = true;
          break;
      }
    }
  }
  if (max_train > 0 && out.train.size() > max_train) {
    // Seeded partial Fisher-Yates over indices, then the chosen ones in their original order
    // (users stay grouped, which keeps the subsample readable and deterministic).
    std::vector<size_t> idx(out.train.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    synthetic::Rng rng(seed ^ 0x5e11e7ULL);
    for (size_t i = 0; i < max_train; ++i) {
      const size_t j = i + static_cast<size_t>(rng.below(idx.size() - i));
      std::swap(idx[i], idx[j]);
    }
    idx.resize(max_train);
    std::sort(idx.begin(), idx.end());
    std::vector<ExplainExample> kept;
    kept.reserve(max_train);
    for (size_t i : idx) kept.push_back(std::move(out.train[i]));
    out.train = std::move(kept);
  }
  return out;
}

}  // namespace seller::data
