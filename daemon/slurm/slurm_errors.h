#pragma once

// How a libslurm error number becomes an absl::Status a person can act on. Only
// daemon/slurm uses it. Pure; thread-safe.

#include <string_view>

#include "absl/status/status.h"

namespace drocc::slurm {

// Maps `errnum` (slurm_get_errno() after a failed call) from `action` ("submitting job
// 42") to a status whose message holds Slurm's own words (slurm_strerror) and what to do:
//   UNAVAILABLE          slurmctld unreachable, busy, in standby, its queue full, MUNGE
//                        failing: retry later;
//   INVALID_ARGUMENT     the request itself is wrong (partition, node/CPU/GPU/memory
//                        counts, time limit, ...): fix it, do not retry;
//   FAILED_PRECONDITION  the request is fine but not allowed here (unknown user, access
//                        denied, accounting policy, version mismatch);
//   INTERNAL             anything else.
absl::Status StatusFromSlurmError(int errnum, std::string_view action);

}  // namespace drocc::slurm
