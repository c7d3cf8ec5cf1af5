#pragma once

// The real SlurmRequeuer: libslurm's slurm_requeue, no shell and no scontrol. The only file of
// the runtime that includes slurm/slurm.h is slurm_requeuer.cc.

#include <cstdint>
#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "drocc/runtime/job_control.h"

namespace drocc::runtime::job_control {

std::unique_ptr<SlurmRequeuer> NewLibSlurmRequeuer();

// The job id in SLURM_JOB_ID: nullopt when not set or empty (not a Slurm job),
// INVALID_ARGUMENT when it is not a job id.
absl::StatusOr<std::optional<uint32_t>> SlurmJobIdFromEnv();

}  // namespace drocc::runtime::job_control
