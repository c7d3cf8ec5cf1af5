#include "daemon/quota/amount.h"

#include "common/human.h"

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace drocc::quota {

MilliUnits operator+(MilliUnits a, MilliUnits b) {
  int64_t r;
  if (__builtin_add_overflow(a.milli_, b.milli_, &r)) {
    return b.milli_ > 0 ? MilliUnits::Max() : MilliUnits::Min();
  }
  return MilliUnits(r);
}

MilliUnits operator-(MilliUnits a, MilliUnits b) {
  int64_t r;
  if (__builtin_sub_overflow(a.milli_, b.milli_, &r)) {
    return b.milli_ < 0 ? MilliUnits::Max() : MilliUnits::Min();
  }
  return MilliUnits(r);
}

std::optional<MilliUnits> CheckedAdd(MilliUnits a, MilliUnits b) {
  int64_t r;
  if (__builtin_add_overflow(a.milli(), b.milli(), &r)) return std::nullopt;
  return MilliUnits::FromMilli(r);
}

std::optional<MilliUnits> CheckedSub(MilliUnits a, MilliUnits b) {
  int64_t r;
  if (__builtin_sub_overflow(a.milli(), b.milli(), &r)) return std::nullopt;
  return MilliUnits::FromMilli(r);
}

std::string FormatMilli(MilliUnits a) { return ::drocc::FormatMilli(a.milli()); }

std::string FormatAmount(MilliUnits a, std::string_view unit) {
  return absl::StrCat(FormatMilli(a), " ", std::string(unit));
}

absl::StatusOr<ParsedAmount> ParseAmount(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount \"", std::string(text), "\" ", std::string(why),
                     "; write a decimal number with at most 3 decimals, like 12.5 or "
                     "\"12.5 gpu-hours\""));
  };
  size_t i = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  const size_t start = i;
  int64_t whole = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    whole = whole * 10 + (text[i] - '0');
    if (whole > kMaxAmount.milli() / 1000) return bad("is too large");
    ++i;
  }
  bool has_whole = i > start;
  int64_t frac = 0;
  int decimals = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
      if (++decimals > 3) return bad("has more than 3 decimals");
      frac = frac * 10 + (text[i] - '0');
      ++i;
    }
    if (decimals == 0) return bad("has no digits after the decimal point");
  }
  if (!has_whole && decimals == 0) return bad("is not a number");
  for (int d = decimals; d < 3; ++d) frac *= 10;
  const size_t number_end = i;
  while (i < text.size() && text[i] == ' ') ++i;
  // A unit needs a space before it, so "1e3" or "0x10" is an error rather than 1 "e3".
  if (i < text.size() && i == number_end)
    return bad("has an unexpected character after the number");
  size_t unit_end = text.size();
  while (unit_end > i && text[unit_end - 1] == ' ') --unit_end;
  ParsedAmount out;
  out.amount = MilliUnits::FromMilli(whole * 1000 + frac);
  if (out.amount > kMaxAmount) return bad("is too large");
  out.unit = std::string(text.substr(i, unit_end - i));
  for (char c : out.unit) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) {
      return bad("has an unexpected character after the number");
    }
  }
  if (!out.unit.empty() && !std::isalpha(static_cast<unsigned char>(out.unit[0]))) {
    return bad("has an unexpected character after the number");
  }
  return out;
}

}  // namespace drocc::quota
