// Rating consistency: a small text-to-rating model fit on the training reviews predicts the
// user's real rating from an explanation; RMSE, MAE and like/dislike accuracy measure how well
// the explanation carries the user's opinion. The model is ridge regression with an unpenalised
// intercept on hashed TF-IDF unigram+bigram features (HashedTfidf, idf from the training
// reviews), solved exactly (to tolerance) by conjugate gradient on the normal equations
//   [X'X + lambda I, X'1; 1'X, n] [w; b] = [X'y; sum y],
// which needs only sparse products (no D x D matrix). Invariants:
//   - deterministic: a fixed operation order, no random initialisation (CG starts at zero);
//   - predictions are clipped to the training ratings' [min, max];
//   - "like" is rating >= 4 (the usual 5-star cut), for the truth and the prediction alike.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eval/utility/text_embedding.h"

namespace seller::eval {

struct RidgeFit {
  std::vector<double> weights;
  double intercept = 0;
  int iterations = 0;
  double relative_residual = 0;  // ||A z - rhs|| / ||rhs|| at the end
};

// Throws DataError on a size mismatch or no rows; ConfigError on lambda <= 0.
RidgeFit fit_ridge(const std::vector<SparseVector>& rows, const std::vector<double>& y,
                   uint32_t dim, double lambda, double tolerance = 1e-8, int max_iterations = 2000);

struct RatingModelOptions {
  HashedTfidfOptions features{1u << 18, true};
  double lambda = 1.0;
  double like_threshold = 4.0;
};

class RatingModel {
 public:
  // Fit on training review texts and their ratings (NaN ratings must be filtered by the caller).
  RatingModel(const std::vector<std::string>& texts, const std::vector<double>& ratings,
              const RatingModelOptions& options = {});
  double predict(const std::string& text) const;
  const RidgeFit& fit() const { return fit_; }
  const RatingModelOptions& options() const { return options_; }
  double min_rating() const { return lo_; }
  double max_rating() const { return hi_; }
  size_t training_size() const { return n_; }
  std::string description() const;  // names the model and its settings for the report

 private:
  RatingModelOptions options_;
  std::unique_ptr<HashedTfidf> tfidf_;
  RidgeFit fit_;
  double lo_ = 0, hi_ = 0;
  size_t n_ = 0;
};

// Per pair: squared error, absolute error, like/dislike agreement (1 or 0).
std::vector<std::vector<double>> rating_values(const RatingModel& model,
                                               const std::vector<std::string>& texts,
                                               const std::vector<double>& ratings,
                                               size_t threads = 0);

}  // namespace seller::eval
