#pragma once

// Project and per-user limits (SPEC §4): what a job may hold at once, how many may wait, how
// long one may run. Pure functions over a Limit, the current use and the candidate job.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/quota/model.h"
#include "daemon/quota/resources.h"

namespace drocc::quota {

// What a project (or one user in it) holds now: GPUs, CPUs and nodes of its admitted and
// running jobs, and how many of its jobs are pending.
struct InUse {
  uint32_t gpus = 0;
  uint32_t cpus = 0;
  uint32_t nodes = 0;
  uint32_t pending_jobs = 0;
  bool operator==(const InUse&) const = default;

  // Adds a job's resources (saturating).
  void Add(const JobResources& r);
};

enum class LimitScope { kProject, kUser };

// nullopt if a job holding `job` fits under `limit` next to `in_use`; otherwise the pending
// reason for the first limit it would break (GPUs, then CPUs, then nodes):
//   "project limit: 16 of 16 GPUs in use"
//   "user limit: 12 of 16 GPUs in use, the job needs 8"   (when the limit is not yet reached)
std::optional<std::string> RunLimitReason(const Limit& limit, LimitScope scope, const InUse& in_use,
                                          const JobResources& job);

// What a submit must pass, whatever else runs (0 in a Limit = unlimited):
//   INVALID_ARGUMENT "walltime 3d exceeds the project's maximum of 2d; ..."
//   INVALID_ARGUMENT "the job requests 32 GPUs, more than the project's limit of 16; ..."
//   RESOURCE_EXHAUSTED "user limit: 2 of 2 pending jobs; ..."
// `in_use.pending_jobs` counts pending jobs before this one.
absl::Status CheckSubmitLimits(const Limit& limit, LimitScope scope, const InUse& in_use,
                               const JobResources& job, absl::Duration walltime);

}  // namespace drocc::quota
