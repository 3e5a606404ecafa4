// Real review texts for the tokenizer parity test and benchmark: reviewText and summary of every
// record in amazon2018-5core-small/*.json.gz, and review_full, review_title and product title of
// every history and held-out review in amazon2023-mini-histories/*.jsonl. Header-only (used by
// tests/unit/text and bench/bench_tokenizer.cpp).
#pragma once

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "trainer/io/line_reader.h"

namespace seller::text::testing {

struct ReviewTexts {
  std::vector<std::string> texts;  // in file order, duplicates kept
  size_t amazon2018 = 0;           // how many of them come from the 2018 files
};

inline std::vector<std::filesystem::path> files_with_suffix(const std::filesystem::path& dir,
                                                            const std::string& suffix) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.path().string().ends_with(suffix)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// data_dir is the shared data/ folder.
inline ReviewTexts load_review_texts(const std::filesystem::path& data_dir) {
  ReviewTexts r;
  const auto take = [&](const nlohmann::json& obj, const char* key) {
    if (obj.is_object() && obj.contains(key) && obj[key].is_string())
      r.texts.push_back(obj[key].get<std::string>());
  };
  for (const auto& file : files_with_suffix(data_dir / "amazon2018-5core-small", ".json.gz")) {
    io::LineReader reader(file);
    for (std::string_view line; reader.next(line);) {
      const auto rec = nlohmann::json::parse(line);
      take(rec, "reviewText");
      take(rec, "summary");
    }
  }
  r.amazon2018 = r.texts.size();
  for (const auto& file : files_with_suffix(data_dir / "amazon2023-mini-histories", ".jsonl")) {
    io::LineReader reader(file);
    for (std::string_view line; reader.next(line);) {
      const auto rec = nlohmann::json::parse(line);
      std::vector<nlohmann::json> reviews;
      if (rec.contains("history") && rec["history"].is_array())
        for (const auto& h : rec["history"]) reviews.push_back(h);
      if (rec.contains("heldout")) reviews.push_back(rec["heldout"]);
      for (const auto& review : reviews) {
        take(review, "review_full");
        take(review, "review_title");
        if (review.is_object() && review.contains("product")) take(review["product"], "title");
      }
    }
  }
  return r;
}

}  // namespace seller::text::testing
