#pragma once

// First-come first-served admission with a cap on jobs in Slurm at once. The quota-aware
// policy (fair share, budgets, limits) replaces it behind the same plan shape.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "daemon/queue/job.h"

namespace drocc::queue {

struct AdmissionInput {
  std::vector<JobId> pending;  // oldest first
  uint32_t jobs_in_slurm = 0;
  uint32_t max_jobs_in_slurm = 0;  // 0: no cap
  bool drained = false;
  std::string drain_reason;
};

struct AdmissionPlan {
  std::vector<JobId> admit;                         // in this order
  std::vector<std::pair<JobId, std::string>> wait;  // with the reason each still waits
};

// Pure: the same input always gives the same plan.
AdmissionPlan PlanFifoAdmission(const AdmissionInput& in);

}  // namespace drocc::queue
