#pragma once

// Slurm time-limit strings (sbatch -t/--time), parsed the way Slurm's time_str2secs() reads
// them, but strictly: anything Slurm would misread is an error here.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace drocc::client {

// What ParseSlurmTime returns for "UNLIMITED" / "INFINITE": the caller treats it as no limit.
inline constexpr int64_t kUnlimitedTime = -1;

// The largest limit accepted, in seconds (24855-03:14:07). Slurm's own parser computes the
// limit in a signed 32-bit int, so anything longer would wrap around inside Slurm.
inline constexpr int64_t kMaxTimeLimitSeconds = 2147483647;

// Parses a time limit into seconds. Accepted, as in sbatch(1) --time:
//   "M"          minutes                 "90"          -> 5400
//   "M:S"        minutes:seconds         "1:30"        -> 90
//   "H:M:S"      hours:minutes:seconds   "2:00:00"     -> 7200
//   "D-H"        days-hours              "1-12"        -> 129600
//   "D-H:M"      days-hours:minutes      "1-0:30"      -> 88200
//   "D-H:M:S"    days-hours:min:sec      "1-00:00:01"  -> 86401
//   "UNLIMITED" or "INFINITE" (any case) -> kUnlimitedTime
// Fields are digits only and, as in Slurm, not range-checked ("0:90:00" is 90 minutes).
// Seconds are kept exact; Slurm itself enforces whole minutes, rounding up.
//
// Errors (InvalidArgument, one line, naming `option` when given, e.g. "-t/--time"): empty,
// negative (including Slurm's "-1" spelling of no limit: say UNLIMITED), non-digits, a wrong
// number of fields, trailing junk, more than kMaxTimeLimitSeconds, and a zero total (sbatch
// reads 0 as "no limit", which drocc does not guess: it asks for a real limit or UNLIMITED).
absl::StatusOr<int64_t> ParseSlurmTime(std::string_view text, std::string_view option = "");

// Formats seconds the way Slurm prints limits: "HH:MM:SS", or "D-HH:MM:SS" from one day up
// (86401 -> "1-00:00:01"); kUnlimitedTime -> "UNLIMITED". The result parses back to the same
// value. Other negative values, which no parser produces, print as "INVALID".
std::string FormatSlurmTime(int64_t seconds);

}  // namespace drocc::client
