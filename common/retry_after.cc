#include "common/retry_after.h"

#include <charconv>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace drocc {

std::string FormatRetryAfter(absl::Duration wait) {
  const int64_t ms = absl::ToInt64Milliseconds(absl::Ceil(wait, absl::Milliseconds(1)));
  return absl::StrCat(ms < 0 ? 0 : ms);
}

std::optional<absl::Duration> ParseRetryAfter(std::string_view value) {
  int64_t ms = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size() || ms < 0) {
    return std::nullopt;
  }
  return absl::Milliseconds(ms);
}

std::string RetryAfterText(absl::Duration wait) {
  const double s = absl::ToDoubleSeconds(absl::Ceil(wait, absl::Milliseconds(10)));
  if (s >= 10) return absl::StrFormat("%.0f s", s);
  return absl::StrFormat("%.2f s", s);
}

}  // namespace drocc
