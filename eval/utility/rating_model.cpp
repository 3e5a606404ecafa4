// Implementation of the ridge rating model (see rating_model.h).
#include "eval/utility/rating_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "eval/utility/parallel.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

// z = (w, b) laid out as dim weights then the intercept.
void normal_matvec(const std::vector<SparseVector>& rows, double lambda,
                   const std::vector<double>& z, std::vector<double>& out) {
  const size_t dim = z.size() - 1;
  std::fill(out.begin(), out.end(), 0.0);
  double sum_r = 0;
  for (const SparseVector& x : rows) {
    double r = z[dim];
    for (size_t k = 0; k < x.index.size(); ++k) r += x.value[k] * z[x.index[k]];
    for (size_t k = 0; k < x.index.size(); ++k) out[x.index[k]] += x.value[k] * r;
    sum_r += r;
  }
  for (size_t k = 0; k < dim; ++k) out[k] += lambda * z[k];
  out[dim] = sum_r;
}

double dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace

RidgeFit fit_ridge(const std::vector<SparseVector>& rows, const std::vector<double>& y,
                   uint32_t dim, double lambda, double tolerance, int max_iterations) {
  SELLER_THROW_IF_NOT(rows.size() == y.size(), DataError, "ridge: ", rows.size(), " rows but ",
                      y.size(), " targets");
  SELLER_THROW_IF_NOT(!rows.empty(), DataError, "ridge: no training rows");
  SELLER_THROW_IF_NOT(lambda > 0, ConfigError, "ridge: lambda must be > 0, got ", lambda);
  for (const SparseVector& x : rows)
    for (uint32_t k : x.index) SELLER_CHECK(k < dim, "feature index ", k, " >= dim ", dim);
  std::vector<double> rhs(dim + 1, 0.0);
  for (size_t i = 0; i < rows.size(); ++i) {
    for (size_t k = 0; k < rows[i].index.size(); ++k)
      rhs[rows[i].index[k]] += rows[i].value[k] * y[i];
    rhs[dim] += y[i];
  }
  // Conjugate gradient (Hestenes & Stiefel) on the SPD normal equations, with the Jacobi
  // preconditioner: the intercept's diagonal entry is n while a weight's is about its document
  // frequency, and without rescaling that spread alone costs thousands of iterations.
  std::vector<double> diag(dim + 1, lambda);
  for (const SparseVector& x : rows)
    for (size_t k = 0; k < x.index.size(); ++k) diag[x.index[k]] += x.value[k] * x.value[k];
  diag[dim] = static_cast<double>(rows.size());
  std::vector<double> z(dim + 1, 0.0), r = rhs, s(dim + 1), p(dim + 1), ap(dim + 1);
  for (size_t k = 0; k <= dim; ++k) p[k] = s[k] = r[k] / diag[k];
  const double rhs_norm = std::sqrt(dot(rhs, rhs));
  double rs = dot(r, s);
  RidgeFit fit;
  while (fit.iterations < max_iterations && std::sqrt(dot(r, r)) > tolerance * rhs_norm) {
    normal_matvec(rows, lambda, p, ap);
    const double alpha = rs / dot(p, ap);
    for (size_t k = 0; k <= dim; ++k) {
      z[k] += alpha * p[k];
      r[k] -= alpha * ap[k];
      s[k] = r[k] / diag[k];
    }
    const double rs_next = dot(r, s);
    const double beta = rs_next / rs;
    for (size_t k = 0; k <= dim; ++k) p[k] = s[k] + beta * p[k];
    rs = rs_next;
    ++fit.iterations;
  }
  // The true residual, not CG's recursively updated one.
  normal_matvec(rows, lambda, z, ap);
  for (size_t k = 0; k <= dim; ++k) ap[k] -= rhs[k];
  fit.relative_residual = rhs_norm > 0 ? std::sqrt(dot(ap, ap)) / rhs_norm : 0;
  fit.intercept = z[dim];
  z.pop_back();
  fit.weights = std::move(z);
  return fit;
}

RatingModel::RatingModel(const std::vector<std::string>& texts, const std::vector<double>& ratings,
                         const RatingModelOptions& options)
    : options_(options), n_(texts.size()) {
  SELLER_THROW_IF_NOT(texts.size() == ratings.size(), DataError, "rating model: ", texts.size(),
                      " texts but ", ratings.size(), " ratings");
  SELLER_THROW_IF_NOT(!texts.empty(), DataError,
                      "rating model: no training review with a rating to fit on");
  for (size_t i = 0; i < ratings.size(); ++i)
    SELLER_THROW_IF_NOT(std::isfinite(ratings[i]), DataError, "rating model: training rating ", i,
                        " is ", ratings[i]);
  tfidf_ = std::make_unique<HashedTfidf>(texts, options.features);
  std::vector<SparseVector> rows(texts.size());
  parallel_chunks(texts.size(), 0, [&](size_t a, size_t b) {
    for (size_t i = a; i < b; ++i) rows[i] = tfidf_->transform(texts[i]);
  });
  fit_ = fit_ridge(rows, ratings, tfidf_->dim(), options.lambda);
  lo_ = *std::min_element(ratings.begin(), ratings.end());
  hi_ = *std::max_element(ratings.begin(), ratings.end());
}

double RatingModel::predict(const std::string& text) const {
  const SparseVector x = tfidf_->transform(text);
  double y = fit_.intercept;
  for (size_t k = 0; k < x.index.size(); ++k) y += x.value[k] * fit_.weights[x.index[k]];
  return std::clamp(y, lo_, hi_);
}

std::string RatingModel::description() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "ridge (lambda %g, unpenalised intercept) on hashed TF-IDF %s (%u buckets), fit "
                "on %zu training reviews; CG %d iterations, relative residual %.1e",
                options_.lambda, options_.features.bigrams ? "unigrams+bigrams" : "unigrams",
                options_.features.dim, n_, fit_.iterations, fit_.relative_residual);
  return buf;
}

std::vector<std::vector<double>> rating_values(const RatingModel& model,
                                               const std::vector<std::string>& texts,
                                               const std::vector<double>& ratings, size_t threads) {
  SELLER_THROW_IF_NOT(texts.size() == ratings.size(), DataError,
                      "rating consistency: ", texts.size(), " texts but ", ratings.size(),
                      " ratings");
  std::vector<std::vector<double>> v(texts.size());
  const double cut = model.options().like_threshold;
  parallel_chunks(texts.size(), threads, [&](size_t a, size_t b) {
    for (size_t i = a; i < b; ++i) {
      const double p = model.predict(texts[i]), e = p - ratings[i];
      v[i] = {e * e, std::abs(e), (p >= cut) == (ratings[i] >= cut) ? 1.0 : 0.0};
    }
  });
  return v;
}

}  // namespace seller::eval
