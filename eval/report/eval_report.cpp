// Implementation of the eval report (see eval_report.h).
#include "eval/report/eval_report.h"

#include <cstdio>
#include <sstream>

#include "eval/text/tokenize.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

constexpr const char* kPeterBleu = "PETER tokens, TF-NMT compute_bleu";
constexpr const char* kSacreBleu = "sacreBLEU 13a, exp smoothing";

MetricRow row(std::string key, std::string label, double scale, int decimals,
              bool higher_is_better = true) {
  MetricRow r;
  r.key = std::move(key);
  r.label = std::move(label);
  r.display_scale = scale;
  r.decimals = decimals;
  r.higher_is_better = higher_is_better;
  return r;
}

std::vector<MetricRow> resampled_templates(bool with_fmr) {
  std::vector<MetricRow> t;
  for (int n = 1; n <= 4; ++n)
    t.push_back(row("bleu" + std::to_string(n) + "_peter",
                    "BLEU-" + std::to_string(n) + " (" + kPeterBleu + ")", 1, 2));
  for (int n = 1; n <= 4; ++n)
    t.push_back(row("bleu" + std::to_string(n) + "_sacrebleu",
                    "BLEU-" + std::to_string(n) + " (" + kSacreBleu + ")", 1, 2));
  for (const char* variant : {"peter", "rouge_score"})
    for (const char* order : {"1", "2", "L"})
      for (const char* part : {"p", "r", "f"}) {
        std::string upper = part[0] == 'p' ? "P" : part[0] == 'r' ? "R" : "F";
        t.push_back(row(std::string("rouge") + order + "_" + part + "_" + variant,
                        std::string("ROUGE-") + order + " " + upper + " (" + variant + ", x100)",
                        100, 2));
      }
  if (with_fmr) t.push_back(row("fmr_peter", "FMR (PETER tokens)", 1, 4));
  return t;
}

double value_of(const TextQualityReport& r, const std::string& key) {
  for (int n = 1; n <= 4; ++n) {
    if (key == "bleu" + std::to_string(n) + "_peter")
      return r.bleu_peter[static_cast<size_t>(n - 1)];
    if (key == "bleu" + std::to_string(n) + "_sacrebleu")
      return r.bleu_sacrebleu[static_cast<size_t>(n - 1)];
  }
  for (const auto* scores : {&r.rouge_peter, &r.rouge_score}) {
    const std::string variant = scores == &r.rouge_peter ? "peter" : "rouge_score";
    const std::pair<const char*, const PrfScore*> orders[] = {
        {"1", &scores->rouge1}, {"2", &scores->rouge2}, {"L", &scores->rougeL}};
    for (const auto& [order, prf] : orders) {
      const std::string base = std::string("rouge") + order + "_";
      if (key == base + "p_" + variant) return prf->precision;
      if (key == base + "r_" + variant) return prf->recall;
      if (key == base + "f_" + variant) return prf->f;
    }
  }
  if (key == "fmr_peter") return r.fmr.value_or(0);
  SELLER_CHECK(false, "unknown metric key ", key);
  return 0;
}

// Metrics without an interval, from the library report.
std::vector<MetricRow> plain_rows(const TextQualityReport& r) {
  std::vector<MetricRow> rows;
  auto add = [&](std::string key, std::string label, double value, int decimals,
                 bool higher = true) {
    MetricRow m = row(std::move(key), std::move(label), 1, decimals, higher);
    m.value = value;
    rows.push_back(std::move(m));
  };
  add("usr_peter", "USR (PETER tokens)", r.usr.ratio, 4);
  add("usn_peter", "USN (PETER tokens)", static_cast<double>(r.usr.unique_count), 0);
  add("distinct1_peter", "distinct-1 (PETER tokens)", r.distinct1, 4);
  add("distinct2_peter", "distinct-2 (PETER tokens)", r.distinct2, 4);
  if (r.fcr) add("fcr_peter", "FCR (PETER tokens)", *r.fcr, 4);
  if (r.div) add("div_peter", "DIV (PETER tokens, lower = more diverse)", *r.div, 4, false);
  for (const auto* side : {&r.hyp_length, &r.ref_length}) {
    const std::string who = side == &r.hyp_length ? "pred" : "ref";
    add(who + "_tokens_mean_peter", who + " tokens, mean (PETER tokens)", side->mean, 2);
    add(who + "_tokens_median_peter", who + " tokens, median (PETER tokens)", side->median, 1);
    add(who + "_tokens_min_peter", who + " tokens, min (PETER tokens)",
        static_cast<double>(side->min), 0);
    add(who + "_tokens_max_peter", who + " tokens, max (PETER tokens)",
        static_cast<double>(side->max), 0);
  }
  return rows;
}

TextQualityInput text_input(const JoinedCorpus& c) {
  TextQualityInput in;
  in.hyps = c.hyps;
  in.refs = c.refs;
  if (!c.features.empty()) {
    for (const auto& fs : c.features)
      for (const auto& f : fs) in.feature_vocabulary.insert(f);
    in.ground_truth_features = c.features;
  }
  return in;
}

std::string fmt(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string shown(const MetricRow& m, double v) { return fmt(v * m.display_scale, m.decimals); }

std::string ci_text(const MetricRow& m, const ConfidenceInterval& ci) {
  return "[" + shown(m, ci.lower) + ", " + shown(m, ci.upper) + "]";
}

nlohmann::json ci_json(const ConfidenceInterval& ci) { return {ci.lower, ci.upper}; }

nlohmann::json context_json(const ReportContext& c) {
  return {{"n", c.n},
          {"ref", c.ref},
          {"missing_predictions", c.missing_predictions},
          {"bootstrap",
           {{"replicates", c.bootstrap.replicates},
            {"seed", c.bootstrap.seed},
            {"confidence", c.bootstrap.confidence},
            {"interval", "percentile"},
            {"resampled", "pairs, with replacement"}}}};
}

std::string header_markdown(const ReportContext& c) {
  std::ostringstream os;
  os << "# seller eval\n\n";
  for (size_t i = 0; i < c.systems.size(); ++i)
    os << (c.systems.size() == 1 ? "- predictions: `" : (i == 0 ? "- A: `" : "- B: `"))
       << c.systems[i] << "`\n";
  os << "- references: `" << c.ref << "`\n- pairs: " << c.n;
  if (c.missing_predictions > 0) os << " (" << c.missing_predictions << " references unpredicted)";
  os << "\n- bootstrap: " << c.bootstrap.replicates << " replicates, seed " << c.bootstrap.seed
     << ", " << fmt(c.bootstrap.confidence * 100, 0) << "% percentile intervals\n\n";
  return os.str();
}

}  // namespace

PairStatistics::PairStatistics(const JoinedCorpus& corpus) : n_(corpus.hyps.size()) {
  const TokenizedCorpus hyp_peter = tokenize_corpus(corpus.hyps, Tokenizer::kPeter);
  const TokenizedCorpus ref_peter = tokenize_corpus(corpus.refs, Tokenizer::kPeter);
  peter_ = bleu_pair_counts(hyp_peter, ref_peter, 4);
  sacre_ = bleu_pair_counts(tokenize_corpus(corpus.hyps, Tokenizer::kSacre13a),
                            tokenize_corpus(corpus.refs, Tokenizer::kSacre13a), 4);
  const bool with_fmr = !corpus.features.empty();
  templates_ = resampled_templates(with_fmr);
  std::vector<FeatureSet> detected;
  if (with_fmr) {
    FeatureVocabulary vocabulary;
    for (const auto& fs : corpus.features)
      for (const auto& f : fs) vocabulary.insert(f);
    detected = detect_features(hyp_peter, vocabulary);
  }
  per_pair_.resize(n_);
  for (size_t i = 0; i < n_; ++i) {
    auto& v = per_pair_[i];
    const RougeScores p = rouge_pair_tokens(hyp_peter[i], ref_peter[i], RougeVariant::kPeter);
    const RougeScores s = rouge_pair(corpus.hyps[i], corpus.refs[i], RougeVariant::kRougeScore);
    for (const RougeScores* r : {&p, &s})
      for (const PrfScore* x : {&r->rouge1, &r->rouge2, &r->rougeL}) {
        v.push_back(x->precision);
        v.push_back(x->recall);
        v.push_back(x->f);
      }
    if (with_fmr) v.push_back(feature_matching_ratio({detected[i]}, {corpus.features[i]}));
  }
}

std::vector<double> PairStatistics::weighted(const std::vector<uint32_t>& weights) const {
  SELLER_CHECK(weights.size() == n_);
  BleuCounts peter, sacre;
  peter.matches.assign(4, 0);
  peter.totals.assign(4, 0);
  sacre = peter;
  const size_t m = per_pair_.empty() ? 0 : per_pair_[0].size();
  std::vector<double> sums(m, 0.0);
  double total_weight = 0;
  const auto add = [](BleuCounts& into, const BleuCounts& c, int64_t w) {
    for (size_t k = 0; k < 4; ++k) {
      into.matches[k] += w * c.matches[k];
      into.totals[k] += w * c.totals[k];
    }
    into.hyp_length += w * c.hyp_length;
    into.ref_length += w * c.ref_length;
  };
  for (size_t i = 0; i < n_; ++i) {
    if (weights[i] == 0) continue;
    const auto w = static_cast<int64_t>(weights[i]);
    add(peter, peter_[i], w);
    add(sacre, sacre_[i], w);
    for (size_t k = 0; k < m; ++k) sums[k] += static_cast<double>(w) * per_pair_[i][k];
    total_weight += static_cast<double>(w);
  }
  std::vector<double> out;
  for (int n = 1; n <= 4; ++n)  // a replicate of only empty references scores 0, not an error
    out.push_back(peter.ref_length > 0 ? peter_bleu_from_counts(peter, n).bleu : 0.0);
  for (int n = 1; n <= 4; ++n) {
    SacreBleuOptions o;
    o.max_ngram_order = n;
    out.push_back(sacrebleu_bleu_from_counts(sacre, o).bleu);
  }
  for (double s : sums) out.push_back(s / total_weight);
  return out;
}

SystemReport evaluate_system(const JoinedCorpus& corpus, const BootstrapOptions& options) {
  SystemReport report;
  report.text = evaluate_text_quality(text_input(corpus));
  const PairStatistics stats(corpus);
  const auto cis = bootstrap_ci(
      stats.size(), [&](const std::vector<uint32_t>& w) { return stats.weighted(w); }, options);
  for (size_t i = 0; i < cis.size(); ++i) {
    MetricRow r = stats.metrics()[i];
    r.value = value_of(report.text, r.key);
    r.ci = cis[i];
    r.ci->estimate = r.value;
    report.rows.push_back(std::move(r));
  }
  for (auto& r : plain_rows(report.text)) report.rows.push_back(std::move(r));
  return report;
}

std::vector<ComparisonRow> compare_systems(const JoinedCorpus& a, const JoinedCorpus& b,
                                           const BootstrapOptions& options) {
  SELLER_THROW_IF_NOT(a.ids == b.ids, DataError,
                      "--compare: the two systems do not predict the same reference ids (",
                      a.ids.size(), " vs ", b.ids.size(), " pairs)");
  const TextQualityReport ta = evaluate_text_quality(text_input(a));
  const TextQualityReport tb = evaluate_text_quality(text_input(b));
  const PairStatistics sa(a), sb(b);
  std::vector<bool> higher;
  for (const auto& m : sa.metrics()) higher.push_back(m.higher_is_better);
  const auto tests = paired_bootstrap(
      sa.size(), [&](const std::vector<uint32_t>& w) { return sa.weighted(w); },
      [&](const std::vector<uint32_t>& w) { return sb.weighted(w); }, higher, options);
  std::vector<ComparisonRow> rows;
  for (size_t i = 0; i < tests.size(); ++i) {
    ComparisonRow r;
    r.a = r.b = sa.metrics()[i];
    r.a.value = value_of(ta, r.a.key);
    r.b.value = value_of(tb, r.b.key);
    r.test = tests[i];
    r.test->a.estimate = r.a.value;
    r.test->b.estimate = r.b.value;
    r.test->delta.estimate = r.b.value - r.a.value;
    r.a.ci = r.test->a;
    r.b.ci = r.test->b;
    rows.push_back(std::move(r));
  }
  const auto pa = plain_rows(ta), pb = plain_rows(tb);
  for (size_t i = 0; i < pa.size() && i < pb.size(); ++i) {
    if (pa[i].key != pb[i].key) continue;
    rows.push_back({pa[i], pb[i], std::nullopt});
  }
  return rows;
}

nlohmann::json report_json(const SystemReport& report, const ReportContext& context) {
  nlohmann::json j = context_json(context);
  j["pred"] = context.systems.empty() ? "" : context.systems[0];
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& r : report.rows) {
    nlohmann::json m{{"label", r.label}, {"value", r.value}};
    if (r.ci) m["ci"] = ci_json(*r.ci);
    metrics[r.key] = m;
  }
  j["metrics"] = metrics;
  j["text_quality"] = to_json(report.text);
  return j;
}

std::string report_markdown(const SystemReport& report, const ReportContext& context) {
  std::ostringstream os;
  os << header_markdown(context);
  os << "| metric | value | " << fmt(context.bootstrap.confidence * 100, 0)
     << "% CI |\n| --- | ---: | :---: |\n";
  for (const auto& r : report.rows)
    os << "| " << r.label << " | " << shown(r, r.value) << " | "
       << (r.ci ? ci_text(r, *r.ci) : std::string("-")) << " |\n";
  return os.str();
}

nlohmann::json comparison_json(const std::vector<ComparisonRow>& rows,
                               const ReportContext& context) {
  nlohmann::json j = context_json(context);
  j["a"] = context.systems.size() > 0 ? context.systems[0] : "";
  j["b"] = context.systems.size() > 1 ? context.systems[1] : "";
  j["test"] = "paired bootstrap; p = share of replicates where B does not beat A (ties 1/2)";
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& r : rows) {
    nlohmann::json m{{"label", r.a.label},
                     {"a", r.a.value},
                     {"b", r.b.value},
                     {"higher_is_better", r.a.higher_is_better}};
    if (r.test) {
      m["a_ci"] = ci_json(r.test->a);
      m["b_ci"] = ci_json(r.test->b);
      m["delta"] = r.test->delta.estimate;
      m["delta_ci"] = ci_json(r.test->delta);
      m["p_value_b_better"] = r.test->p_value;
      m["significant_at_0.05"] = r.test->p_value < 0.05;
    }
    metrics[r.a.key] = m;
  }
  j["metrics"] = metrics;
  return j;
}

std::string comparison_markdown(const std::vector<ComparisonRow>& rows,
                                const ReportContext& context) {
  std::ostringstream os;
  os << header_markdown(context);
  os << "| metric | A | B | B - A | p (B better) |\n| --- | ---: | ---: | ---: | ---: |\n";
  for (const auto& r : rows) {
    os << "| " << r.a.label << " | " << shown(r.a, r.a.value) << " | " << shown(r.b, r.b.value)
       << " | ";
    if (r.test) {
      os << shown(r.a, r.test->delta.estimate) << " " << ci_text(r.a, r.test->delta) << " | "
         << fmt(r.test->p_value, 3) << (r.test->p_value < 0.05 ? " *" : "") << " |\n";
    } else {
      os << "- | - |\n";
    }
  }
  os << "\n`*`: p < 0.05 (paired bootstrap, share of replicates where B does not beat A).\n";
  return os.str();
}

}  // namespace seller::eval
