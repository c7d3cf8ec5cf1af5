#include "common/human.h"

#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace drocc {

std::string HumanDuration(absl::Duration d) {
  if (d < absl::ZeroDuration()) return absl::StrCat("-", HumanDuration(-d));
  int64_t s = absl::ToInt64Seconds(d);
  struct Unit {
    int64_t seconds;
    const char* suffix;
  };
  static constexpr Unit kUnits[] = {{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}};
  std::vector<std::string> parts;
  for (const Unit& u : kUnits) {
    if (s >= u.seconds || (!parts.empty() && parts.size() < 2)) {
      int64_t n = s / u.seconds;
      s %= u.seconds;
      if (n > 0) parts.push_back(absl::StrCat(n, u.suffix));
      if (parts.size() == 2) break;
      if (!parts.empty() && n == 0) break;  // "2h" rather than "2h 0m"
    }
  }
  return parts.empty() ? "0s" : absl::StrJoin(parts, " ");
}

std::string HumanTime(absl::Time t) {
  if (t == absl::InfinitePast()) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::LocalTimeZone());
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace drocc
