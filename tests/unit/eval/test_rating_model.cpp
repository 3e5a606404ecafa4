// The rating-consistency model (eval/utility/rating_model.h): the ridge solver against a hand
// solution, the optimality (KKT) conditions recomputed densely here, and numpy's direct solve of
// the same normal equations; then the text model end to end and the per-pair values.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>

#include "eval/stats/bootstrap.h"
#include "eval/utility/rating_model.h"
#include "tests/support/test_support.h"
#include "trainer/core/error.h"

namespace {

using namespace seller::eval;

SparseVector sv(std::vector<uint32_t> idx, std::vector<float> val) { return {idx, val}; }

// A deterministic sparse problem: n rows, dim features, 3 non-zeros per row.
void random_problem(size_t n, uint32_t dim, std::vector<SparseVector>& rows,
                    std::vector<double>& y) {
  SplitMix64 rng(42);
  for (size_t i = 0; i < n; ++i) {
    std::vector<uint32_t> idx;
    while (idx.size() < 3) {
      const auto k = static_cast<uint32_t>(rng.below(dim));
      if (std::find(idx.begin(), idx.end(), k) == idx.end()) idx.push_back(k);
    }
    std::sort(idx.begin(), idx.end());
    std::vector<float> val;
    for (size_t k = 0; k < idx.size(); ++k)
      val.push_back(static_cast<float>(rng.below(1000)) / 500.0f - 1.0f);
    rows.push_back(sv(idx, val));
    y.push_back(1 + static_cast<double>(rng.below(5)));
  }
}

// x = 1, 2, 3; y = 1, 2, 4; lambda 1. Centred: Sxx = 2, Sxy = (-1)(1 - 7/3) + (1)(4 - 7/3) = 3,
// w = Sxy / (Sxx + lambda) = 1, b = ybar - w xbar = 7/3 - 2 = 1/3.
TEST(Ridge, HandSolution) {
  const RidgeFit f = fit_ridge({sv({0}, {1}), sv({0}, {2}), sv({0}, {3})}, {1, 2, 4}, 1, 1.0);
  ASSERT_EQ(f.weights.size(), 1u);
  EXPECT_NEAR(f.weights[0], 1.0, 1e-7);
  EXPECT_NEAR(f.intercept, 1.0 / 3, 1e-7);
  EXPECT_LT(f.relative_residual, 1e-8);
}

// Gradient of sum (y - b - w.x)^2 + lambda |w|^2, recomputed densely: zero at the optimum.
TEST(Ridge, SatisfiesOptimalityConditions) {
  std::vector<SparseVector> rows;
  std::vector<double> y;
  const uint32_t dim = 40;
  random_problem(200, dim, rows, y);
  const double lambda = 0.5;
  const RidgeFit f = fit_ridge(rows, y, dim, lambda);
  std::vector<double> grad(dim, 0.0);
  double grad_b = 0, scale = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    double pred = f.intercept;
    for (size_t k = 0; k < rows[i].index.size(); ++k)
      pred += rows[i].value[k] * f.weights[rows[i].index[k]];
    const double r = pred - y[i];
    for (size_t k = 0; k < rows[i].index.size(); ++k)
      grad[rows[i].index[k]] += r * rows[i].value[k];
    grad_b += r;
    scale += std::abs(y[i]);
  }
  for (uint32_t k = 0; k < dim; ++k) EXPECT_NEAR(grad[k] + lambda * f.weights[k], 0, 1e-6 * scale);
  EXPECT_NEAR(grad_b, 0, 1e-6 * scale);
}

TEST(Ridge, EqualsNumpyDirectSolve) {
  SELLER_PYTHON_OR_SKIP(python, "numpy");
  std::vector<SparseVector> rows;
  std::vector<double> y;
  const uint32_t dim = 25;
  random_problem(120, dim, rows, y);
  const RidgeFit f = fit_ridge(rows, y, dim, 2.0);
  nlohmann::json j;
  j["dim"] = dim;
  j["lambda"] = 2.0;
  j["y"] = y;
  for (const auto& r : rows) j["rows"].push_back({r.index, r.value});
  seller::testing::TempDir dir;
  seller::testing::write_file(dir / "p.json", j.dump());
  seller::testing::write_file(dir / "solve.py", R"(import json, sys
import numpy as np
p = json.load(open(sys.argv[1]))
n, d = len(p["y"]), p["dim"]
X = np.zeros((n, d + 1))
for i, (idx, val) in enumerate(p["rows"]):
    X[i, idx] = np.array(val, dtype=np.float32).astype(np.float64)
X[:, d] = 1.0
P = np.eye(d + 1) * p["lambda"]
P[d, d] = 0.0  # the intercept is not penalised
z = np.linalg.solve(X.T @ X + P, X.T @ np.array(p["y"]))
print(json.dumps(z.tolist()))
)");
  const auto r = seller::testing::run_command(python + " " + (dir / "solve.py").string() + " " +
                                              (dir / "p.json").string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto z = nlohmann::json::parse(r.output).get<std::vector<double>>();
  ASSERT_EQ(z.size(), dim + 1u);
  for (uint32_t k = 0; k < dim; ++k) EXPECT_NEAR(f.weights[k], z[k], 1e-6) << k;
  EXPECT_NEAR(f.intercept, z[dim], 1e-6);
}

TEST(Ridge, Errors) {
  EXPECT_THROW(fit_ridge({}, {}, 3, 1.0), seller::DataError);
  EXPECT_THROW(fit_ridge({sv({0}, {1})}, {1, 2}, 3, 1.0), seller::DataError);
  EXPECT_THROW(fit_ridge({sv({0}, {1})}, {1}, 3, 0.0), seller::ConfigError);
}

TEST(RatingModel, LearnsOpinionWordsAndClips) {
  std::vector<std::string> texts;
  std::vector<double> ratings;
  for (int i = 0; i < 50; ++i) {
    texts.push_back("the zipper is excellent and sturdy " + std::to_string(i));
    ratings.push_back(5);
    texts.push_back("the zipper is broken and flimsy " + std::to_string(i));
    ratings.push_back(1);
    texts.push_back("the zipper is okay " + std::to_string(i));
    ratings.push_back(3);
  }
  const RatingModel m(texts, ratings);
  EXPECT_GT(m.predict("the zipper is excellent and sturdy"), 4.0);
  EXPECT_LT(m.predict("the zipper is broken and flimsy"), 2.0);
  EXPECT_NEAR(m.predict(""), 3.0, 0.2);  // no text: about the mean rating (3)
  const double p = m.predict("excellent excellent excellent sturdy sturdy");
  EXPECT_LE(p, 5.0);  // clipped to the training range
  EXPECT_EQ(m.min_rating(), 1);
  EXPECT_EQ(m.max_rating(), 5);
  EXPECT_NE(m.description().find("unigrams+bigrams"), std::string::npos);

  // Per-pair values: squared error, absolute error, like agreement (>= 4), any thread count.
  const std::vector<std::string> q = {"the zipper is excellent and sturdy",
                                      "the zipper is broken and flimsy", ""};
  const std::vector<double> truth = {5, 4, 3};
  const auto v1 = rating_values(m, q, truth, 1);
  const auto v4 = rating_values(m, q, truth, 4);
  EXPECT_EQ(v1, v4);
  for (size_t i = 0; i < q.size(); ++i) {
    const double e = m.predict(q[i]) - truth[i];
    EXPECT_DOUBLE_EQ(v1[i][0], e * e);
    EXPECT_DOUBLE_EQ(v1[i][1], std::abs(e));
  }
  EXPECT_EQ(v1[0][2], 1.0);  // liked, predicted liked
  EXPECT_EQ(v1[1][2], 0.0);  // liked (4), predicted disliked
  EXPECT_EQ(v1[2][2], 1.0);  // disliked, predicted about 3
  EXPECT_THROW(RatingModel({"a"}, {NAN}), seller::DataError);
}

}  // namespace
