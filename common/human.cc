#include "common/human.h"

#include <cstdint>
#include <iterator>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
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

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  double v = static_cast<double>(bytes) / 1024;
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) {
    v /= 1024;
    ++u;
  }
  return absl::StrFormat("%.1f %s", v, kUnits[u]);
}

std::string HumanTime(absl::Time t) {
  if (t == absl::InfinitePast()) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::LocalTimeZone());
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string FormatMilli(int64_t milli) {
  // The magnitude as unsigned, so that int64 min has one too.
  const uint64_t mag =
      milli < 0 ? uint64_t{0} - static_cast<uint64_t>(milli) : static_cast<uint64_t>(milli);
  const uint64_t frac = mag % 1000;
  std::string decimals = {static_cast<char>('0' + frac / 100),
                          static_cast<char>('0' + frac / 10 % 10),
                          static_cast<char>('0' + frac % 10)};
  while (decimals.size() > 1 && decimals.back() == '0') decimals.pop_back();
  return absl::StrCat(milli < 0 ? "-" : "", mag / 1000, ".", decimals);
}

}  // namespace drocc
