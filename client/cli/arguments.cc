#include "client/cli/arguments.h"

#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/jobspec/slurm_time.h"

namespace drocc::cli {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// "DDDD-DD-DD" at the start of `text`: absl::ParseTime alone would also take "2026-1-1",
// "+2026-11-01" or "02026-11-01".
bool StartsWithDate(std::string_view text) {
  if (text.size() < 10) return false;
  for (size_t i = 0; i < 10; ++i) {
    bool dash = i == 4 || i == 7;
    if (dash ? text[i] != '-' : !IsDigit(text[i])) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<int64_t> ParseAmountMilli(std::string_view text) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("amount \"", std::string(text), "\" ", std::string(why),
                     "; write a decimal number with at most 3 decimals, like 2, 2.5 or 0.125"));
  };
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  size_t i = 0;
  int64_t whole = 0;
  for (; i < text.size() && IsDigit(text[i]); ++i) {
    if (whole > (kMax / 1000 - (text[i] - '0')) / 10) return bad("is too large");
    whole = whole * 10 + (text[i] - '0');
  }
  if (i == 0) return bad("is not a number");
  int64_t frac = 0;
  if (i < text.size() && text[i] == '.') {
    size_t decimals = 0;
    for (++i; i < text.size() && IsDigit(text[i]); ++i) {
      if (++decimals > 3) return bad("has more than 3 decimals");
      frac = frac * 10 + (text[i] - '0');
    }
    if (decimals == 0) return bad("has no digits after the decimal point");
    for (; decimals < 3; ++decimals) frac *= 10;
  }
  if (i < text.size()) return bad("has something other than digits in it");
  // whole <= kMax / 1000, so whole * 1000 fits; adding the decimals may not, at the very top.
  if (whole * 1000 > kMax - frac) return bad("is too large");
  return whole * 1000 + frac;
}

absl::StatusOr<absl::Time> ParseDate(std::string_view text) {
  const std::string s(text);
  absl::Time t;
  std::string err;
  bool ok = false;
  if (StartsWithDate(text)) {
    ok = text.size() == 10 ? absl::ParseTime("%Y-%m-%d", s, absl::UTCTimeZone(), &t, &err)
                           : absl::ParseTime(absl::RFC3339_full, s, &t, &err);
  }
  // ParseTime skips trailing spaces; a date with spaces around it is not what was meant.
  if (!ok || s.find_first_of(" \t") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", s,
                     "\" is not a date; write YYYY-MM-DD (00:00 UTC) or an RFC 3339 time such "
                     "as 2026-11-01T14:30:00Z"));
  }
  return t;
}

absl::StatusOr<int64_t> ParseWalltimeLimit(std::string_view text) {
  absl::StatusOr<int64_t> s = client::ParseSlurmTime(text);
  if (!s.ok()) return s.status();
  return *s == client::kUnlimitedTime ? 0 : *s;
}

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  // ToUnixSeconds rounds down, so the nanoseconds left over are never negative.
  int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

}  // namespace drocc::cli
