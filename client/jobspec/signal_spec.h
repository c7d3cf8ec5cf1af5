#pragma once

// sbatch --signal values.

#include <string_view>

#include "absl/status/statusor.h"
#include "client/jobspec/job_request.h"

namespace drocc::client {

// Parses sbatch's --signal=[{R|B}:]SIG[@TIME]:
//   SIG   a number 1-64, or a name with or without "SIG", any case: HUP INT QUIT ABRT KILL
//         ALRM TERM USR1 USR2 URG CONT STOP TSTP TTIN TTOU (Slurm's list)
//   TIME  seconds before the time limit, 0-65535; 60 when "@TIME" is left out (sbatch's default)
//   B:    signal only the batch shell (batch_only = true)
//   R:    sbatch's "also when the reservation ends"; accepted (also as RB:/BR:) and ignored,
//         because drocc jobs do not run in reservations
// Examples: "B:USR1@90", "USR1", "SIGTERM@120", "10@60".
// Errors (InvalidArgument, one line, naming `option` when given) say the accepted form.
absl::StatusOr<SignalSpec> ParseSignalSpec(std::string_view text, std::string_view option = "");

}  // namespace drocc::client
