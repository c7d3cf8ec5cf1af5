#pragma once

// How drocc shows times and durations to people.

#include <cstdint>
#include <string>

#include "absl/time/time.h"

namespace drocc {

// "2h 30m", "3d 4h", "45s", "0s": the two most significant units, rounded down.
std::string HumanDuration(absl::Duration d);

// "2026-11-25 14:03:07" in local time, or "-" for absl::InfinitePast().
std::string HumanTime(absl::Time t);

// "512 B", "1.5 KiB", "3.2 GiB": binary units, one decimal from KiB on.
std::string HumanBytes(uint64_t bytes);

// RFC 3339 in UTC ("2026-11-25T14:03:07Z"), for machine-readable output.
std::string Rfc3339(absl::Time t);

// An amount in thousandths of a unit, exactly: "12.5", "40.0", "0.125", "-3.25" (at least one
// decimal, so an amount never reads like a count, at most three). Integer arithmetic only.
std::string FormatMilli(int64_t milli);

}  // namespace drocc
