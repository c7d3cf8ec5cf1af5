#pragma once

// Exact amounts of compute (gpu-hours, cpu-hours, billing units): integer thousandths, never
// floating point, so a ledger that adds and subtracts millions of charges never drifts.

#include <compare>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace drocc::quota {

// An amount in thousandths of a unit (1 gpu-hour = 1000 milli-units). A plain value.
//
// Overflow: `+` and `-` saturate at the int64 bounds (they never wrap and are never undefined
// behaviour); a saturated value is far beyond any real grant (9.2e15 units) and is caught by
// the ledger's limit kMaxAmount on every amount it accepts. Code that must refuse rather than
// saturate uses CheckedAdd / CheckedSub.
class MilliUnits {
 public:
  static constexpr int64_t kPerUnit = 1000;

  constexpr MilliUnits() = default;
  static constexpr MilliUnits FromMilli(int64_t milli) { return MilliUnits(milli); }
  // Saturates like `+` for |units| beyond int64 / 1000.
  static constexpr MilliUnits FromUnits(int64_t units) {
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max() / kPerUnit;
    if (units > kMax) return Max();
    if (units < -kMax) return Min();
    return MilliUnits(units * kPerUnit);
  }
  static constexpr MilliUnits Zero() { return MilliUnits(0); }
  static constexpr MilliUnits Max() { return MilliUnits(std::numeric_limits<int64_t>::max()); }
  static constexpr MilliUnits Min() { return MilliUnits(std::numeric_limits<int64_t>::min()); }

  constexpr int64_t milli() const { return milli_; }
  constexpr bool is_zero() const { return milli_ == 0; }
  constexpr bool is_positive() const { return milli_ > 0; }
  constexpr bool is_negative() const { return milli_ < 0; }

  friend constexpr auto operator<=>(MilliUnits, MilliUnits) = default;

  // Saturating.
  friend MilliUnits operator+(MilliUnits a, MilliUnits b);
  friend MilliUnits operator-(MilliUnits a, MilliUnits b);
  MilliUnits& operator+=(MilliUnits o) { return *this = *this + o; }
  MilliUnits& operator-=(MilliUnits o) { return *this = *this - o; }

 private:
  constexpr explicit MilliUnits(int64_t milli) : milli_(milli) {}
  int64_t milli_ = 0;
};

// nullopt on int64 overflow.
std::optional<MilliUnits> CheckedAdd(MilliUnits a, MilliUnits b);
std::optional<MilliUnits> CheckedSub(MilliUnits a, MilliUnits b);

inline MilliUnits MinAmount(MilliUnits a, MilliUnits b) { return a < b ? a : b; }
inline MilliUnits MaxAmount(MilliUnits a, MilliUnits b) { return a < b ? b : a; }

// The largest amount the ledger accepts in a grant or a cost: a trillion units. Sums of up to
// 9,000 such amounts still fit in int64, and `+` saturates beyond that.
inline constexpr MilliUnits kMaxAmount = MilliUnits::FromUnits(1'000'000'000'000);

// "12.5", "40.0", "0.125", "500.0", "-3.25": at least one decimal (so an amount never reads
// like a count of GPUs) and at most three, trailing zeros beyond the first trimmed. Exact.
std::string FormatMilli(MilliUnits a);

// FormatMilli plus the unit: "12.5 gpu-hours".
std::string FormatAmount(MilliUnits a, std::string_view unit);

// What ParseAmount read.
struct ParsedAmount {
  MilliUnits amount;
  std::string unit;  // empty when the text had none
};

// Parses "12.5", "500", "0.125" or "12.5 gpu-hours" exactly (decimal digits, at most three
// decimals, no sign, no exponent, at most kMaxAmount; a unit after a space). INVALID_ARGUMENT with
// a message that names the text and says what is accepted otherwise.
absl::StatusOr<ParsedAmount> ParseAmount(std::string_view text);

}  // namespace drocc::quota
