// Implementation of the utility run (see utility_eval.h).
#include "eval/utility/utility_eval.h"

#include <cmath>

#include "trainer/core/error.h"

namespace seller::eval {
namespace {

struct PairFields {
  std::optional<std::string> user, item;
  std::optional<double> rating;
  std::string where;  // ref file:line (id ...)
};

// The reference's fields, each falling back to the first system file that has it.
std::vector<PairFields> pair_fields(const std::vector<std::string>& ids,
                                    const std::filesystem::path& ref_file,
                                    const std::vector<UtilitySystem>& systems) {
  const auto refs = read_utility_fields(ref_file);
  std::vector<std::unordered_map<std::string, UtilityFields>> preds;
  for (const auto& s : systems) preds.push_back(read_utility_fields(s.file));
  std::vector<PairFields> out(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    PairFields& p = out[i];
    const auto it = refs.find(ids[i]);
    SELLER_CHECK(it != refs.end(), "joined id ", ids[i], " not in ", ref_file.string());
    p.where = ref_file.string() + ":" + std::to_string(it->second.line) + " (id " + ids[i] + ")";
    p.user = it->second.user;
    p.item = it->second.item;
    p.rating = it->second.rating;
    for (const auto& m : preds) {
      const auto jt = m.find(ids[i]);
      if (jt == m.end()) continue;
      if (!p.user) p.user = jt->second.user;
      if (!p.item) p.item = jt->second.item;
      if (!p.rating) p.rating = jt->second.rating;
    }
  }
  return out;
}

// All or nothing: returns false when no pair has the field, throws naming the first pair
// without it when only some have it.
template <class Has>
bool all_or_none(const std::vector<PairFields>& f, const Has& has, const char* field,
                 const char* metric) {
  size_t count = 0;
  const PairFields* first_missing = nullptr;
  for (const auto& p : f) {
    if (has(p)) {
      ++count;
    } else if (!first_missing) {
      first_missing = &p;
    }
  }
  if (count == 0) return false;
  SELLER_THROW_IF_NOT(count == f.size(), DataError, first_missing->where, ": no ", field, " while ",
                      count, " of ", f.size(), " pairs have one (", metric,
                      " needs it on every pair)");
  return true;
}

UtilityBlock make_block(std::string name, std::string method, std::vector<UtilityMetric> metrics,
                        const std::vector<std::string>& conditions,
                        const std::vector<UtilityTest>& tests) {
  UtilityBlock b;
  b.name = std::move(name);
  b.method = std::move(method);
  b.metrics = std::move(metrics);
  b.conditions = conditions;
  b.tests = tests;
  return b;
}

}  // namespace

UtilityRun run_utility(const std::vector<std::string>& ids, const std::vector<std::string>& refs,
                       const std::filesystem::path& ref_file,
                       const std::vector<UtilitySystem>& systems, const UtilityData* data,
                       const UtilityOptions& options) {
  SELLER_CHECK(systems.size() == 1 || systems.size() == 2);
  UtilityRun run;
  const std::string lift_why =
      "needs a trained SELLER run's behaviour path: run `seller eval --lift RUN_DIR --out DIR` "
      "(LibTorch builds; docs/eval.md)";
  if (!data || ids.size() < 2) {
    const std::string why =
        !data ? "needs --data <prepared dataset>" : "needs at least 2 pairs (the shuffled control)";
    run.skipped = {{"identification", why}, {"rating", why}, {"lift", lift_why}};
    return run;
  }
  const std::vector<PairFields> fields = pair_fields(ids, ref_file, systems);

  // Conditions: the system(s), then the controls; shuffled = a seeded derangement of a system.
  std::vector<std::string> names;
  std::vector<std::vector<std::string>> texts;
  std::vector<UtilityTest> tests;
  const std::vector<size_t> perm = seeded_derangement(ids.size(), options.shuffle_seed);
  const auto shuffled = [&](const std::vector<std::string>& t) {
    std::vector<std::string> s(t.size());
    for (size_t i = 0; i < t.size(); ++i) s[i] = t[perm[i]];
    return s;
  };
  for (const auto& s : systems) {
    names.push_back(s.name);
    texts.push_back(*s.texts);
  }
  names.push_back("real_review");
  texts.push_back(refs);
  for (const auto& s : systems) {
    names.push_back(systems.size() == 1 ? "shuffled" : "shuffled_" + s.name);
    texts.push_back(shuffled(*s.texts));
  }
  names.push_back("no_text");
  texts.push_back(std::vector<std::string>(ids.size()));
  if (systems.size() == 1) {
    tests = {{2, 0}, {3, 0}, {0, 1}};  // beats shuffled, beats no text, real review beats it
  } else {
    tests = {{0, 1}, {3, 0}, {4, 1}};  // B vs A, each system vs its own shuffle
  }

  // Identification.
  if (all_or_none(
          fields, [](const PairFields& p) { return p.item.has_value(); }, "\"item\"",
          "identification")) {
    std::vector<uint32_t> targets;
    for (const auto& p : fields) {
      const auto it = data->item_index.find(*p.item);
      SELLER_THROW_IF_NOT(it != data->item_index.end(), DataError, p.where, ": item \"", *p.item,
                          "\" is not an item of the dataset ", data->source);
      targets.push_back(it->second);
    }
    const TextEmbedder embedder = options.make_embedder ? options.make_embedder(data->item_texts)
                                                        : make_tfidf_embedder(data->item_texts);
    const CosineIndex items(embedder.embed(data->item_texts));
    auto block = std::make_unique<UtilityBlock>(make_block(
        "identification",
        "similarity `" + embedder.name +
            "`: cosine between the text and each candidate item's text (title, category, "
            "description and the item's training reviews); candidates: " +
            candidates_description(static_cast<uint32_t>(items.size()), options.identification) +
            "; pessimistic ties",
        identification_metrics(), names, tests));
    block->encoder = embedder.name;
    for (const auto& t : texts)
      block->values.push_back(identification_values(
          identification_ranks(embedder, t, targets, items, options.identification)));
    run.blocks.push_back(std::move(block));
  } else {
    run.skipped.push_back({"identification", "no pair carries \"item\""});
  }

  // Rating consistency: the reference's rating, else the dataset's rating of (user, item).
  std::vector<double> truth(fields.size(), NAN);
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& p = fields[i];
    if (p.rating) {
      truth[i] = *p.rating;
    } else if (p.user && p.item && data->rating_of) {
      if (auto r = data->rating_of(*p.user, *p.item); r && std::isfinite(*r)) truth[i] = *r;
    }
  }
  std::vector<PairFields> with_truth = fields;
  for (size_t i = 0; i < fields.size(); ++i)
    with_truth[i].rating = std::isfinite(truth[i]) ? std::optional<double>(truth[i]) : std::nullopt;
  std::vector<std::string> train_texts;
  std::vector<double> train_ratings;
  for (size_t i = 0; i < data->train_reviews.size(); ++i)
    if (std::isfinite(data->train_ratings[i]) && !data->train_reviews[i].empty()) {
      train_texts.push_back(data->train_reviews[i]);
      train_ratings.push_back(data->train_ratings[i]);
    }
  if (!all_or_none(
          with_truth, [](const PairFields& p) { return p.rating.has_value(); },
          "\"rating\" (nor a dataset rating for its user and item)", "rating consistency")) {
    run.skipped.push_back({"rating",
                           "no pair has a rating (\"rating\", or \"user\" and \"item\" "
                           "rated in the dataset)"});
  } else if (train_texts.empty()) {
    run.skipped.push_back({"rating", "the dataset has no rated training review to fit on"});
  } else {
    const RatingModel model(train_texts, train_ratings, options.rating);
    auto block = std::make_unique<UtilityBlock>(make_block(
        "rating", "predicts the pair's real rating from the text: " + model.description(),
        rating_metrics(), names, tests));
    for (const auto& t : texts)
      block->values.push_back(rating_values(model, t, truth, options.identification.threads));
    run.blocks.push_back(std::move(block));
  }
  run.skipped.push_back({"lift", lift_why});
  for (const auto& b : run.blocks)
    run.summaries.push_back(summarize_utility(*b, options.bootstrap));
  return run;
}

}  // namespace seller::eval
