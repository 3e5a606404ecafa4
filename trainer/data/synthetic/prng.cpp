// Portable exp and the Walker/Vose alias table of prng.h. Both use only IEEE-754 basic operations
// in a fixed order, so their results are identical on every machine for the same inputs.
#include "trainer/data/synthetic/prng.h"

#include <cmath>

#include "trainer/core/error.h"

namespace seller::data::synthetic {

double portable_exp(double x) {
  if (x > 700.0) x = 700.0;
  if (x < -700.0) x = -700.0;
  // Cody-Waite reduction: x = k ln2 + r with |r| <= ln2 / 2; ln2_hi has trailing zero bits so
  // that k * ln2_hi is exact.
  constexpr double kInvLn2 = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  const double k = std::floor(x * kInvLn2 + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  // Taylor series to r^13 / 13!: the remainder is below 1e-17 for |r| <= 0.35.
  double p = 1.0 / 6227020800.0;
  constexpr double kInverseFactorials[] = {1.0 / 479001600.0,
                                           1.0 / 39916800.0,
                                           1.0 / 3628800.0,
                                           1.0 / 362880.0,
                                           1.0 / 40320.0,
                                           1.0 / 5040.0,
                                           1.0 / 720.0,
                                           1.0 / 120.0,
                                           1.0 / 24.0,
                                           1.0 / 6.0,
                                           0.5,
                                           1.0,
                                           1.0};
  for (double c : kInverseFactorials) p = p * r + c;
  return std::ldexp(p, static_cast<int>(k));  // exact scaling by 2^k
}

AliasTable::AliasTable(const std::vector<double>& weights) {
  const size_t n = weights.size();
  SELLER_CHECK(n > 0 && n <= UINT32_MAX, "alias table of ", n, " weights");
  double total = 0.0;
  for (double w : weights) {
    SELLER_CHECK(w >= 0.0 && std::isfinite(w), "alias weight ", w);
    total += w;
  }
  SELLER_CHECK(total > 0.0, "alias weights sum to zero");
  prob_.assign(n, 0.0);
  alias_.assign(n, 0);
  std::vector<double> scaled(n);
  std::vector<uint32_t> small, large;
  small.reserve(n);
  large.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    scaled[i] = weights[i] * static_cast<double>(n) / total;
    (scaled[i] < 1.0 ? small : large).push_back(static_cast<uint32_t>(i));
  }
  while (!small.empty() && !large.empty()) {
    const uint32_t s = small.back(), l = large.back();
    small.pop_back();
    prob_[s] = scaled[s];
    alias_[s] = l;
    scaled[l] = (scaled[l] + scaled[s]) - 1.0;
    if (scaled[l] < 1.0) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left has probability 1 up to rounding.
  for (uint32_t i : large) prob_[i] = 1.0, alias_[i] = i;
  for (uint32_t i : small) prob_[i] = 1.0, alias_[i] = i;
}

}  // namespace seller::data::synthetic
