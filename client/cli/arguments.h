#pragma once

// Values typed on drocc's command line that CLI11 cannot check alone: exact amounts, dates and
// walltimes. Pure functions; an error is one line for a person (InvalidArgument) that names the
// text and says what is accepted, and the commands report it as a usage error (exit code 2).

#include <google/protobuf/timestamp.pb.h>

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace drocc::cli {

// A decimal amount, exactly, in thousandths: "2" -> 2000, "2.5" -> 2500, "0.125" -> 125.
// Digits, then optionally "." and one to three digits: no sign, exponent, unit or spaces.
// Errors: anything else, more than three decimals, or more than int64 thousandths.
absl::StatusOr<int64_t> ParseAmountMilli(std::string_view text);

// "2026-11-01" (00:00 UTC that day) or RFC 3339 "2026-11-01T14:30:00Z" (an offset such as
// "+01:00" and fractional seconds are accepted too). Errors: any other shape, or a day, month
// or hour out of range ("2026-02-30").
absl::StatusOr<absl::Time> ParseDate(std::string_view text);

// A walltime limit in Slurm's spellings (sbatch -t: "90", "1:30:00", "2-00:00:00"), in seconds;
// "UNLIMITED" gives 0, which the API reads as no limit.
absl::StatusOr<int64_t> ParseWalltimeLimit(std::string_view text);

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out);

}  // namespace drocc::cli
