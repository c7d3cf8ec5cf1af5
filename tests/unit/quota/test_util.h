#pragma once

// Shorthands for quota tests: amounts from text, one-resource vectors, fixed dates.

#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "daemon/quota/amount.h"
#include "daemon/quota/resources.h"

namespace drocc::quota::testing {

// "12.5" → 12.5 units, "-1" → −1 unit; aborts the test program on a typo.
inline MilliUnits U(const std::string& text) {
  if (!text.empty() && text[0] == '-') return MilliUnits::Zero() - U(text.substr(1));
  absl::StatusOr<ParsedAmount> a = ParseAmount(text);
  if (!a.ok()) abort();
  return a->amount;
}

inline ResourceVector Vec(ResourceId r, const std::string& amount) {
  ResourceVector v;
  v[r] = U(amount);
  return v;
}

inline ResourceVector Gpu(const std::string& amount) { return Vec(kGpuHours, amount); }

// Midnight UTC of a date.
inline absl::Time Day(int y, int m, int d) {
  return absl::FromCivil(absl::CivilDay(y, m, d), absl::UTCTimeZone());
}

}  // namespace drocc::quota::testing
