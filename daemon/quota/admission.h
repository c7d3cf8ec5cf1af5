#pragma once

// Quota-aware admission (SPEC §4 "Order", issue 4): which pending jobs go to Slurm now, in
// which order, and why each of the others waits. Replaces queue::PlanFifoAdmission behind the
// same plan shape, with the same cap and drain semantics.
//
// Order. Projects take turns by fair share: the project with the lowest
//   (FairShare::DecayedUsage + reserved now + admitted in this pass, in FairShare's resource)
//   ÷ share
// offers its next job (higher job priority first, then earlier submit time, then lower id);
// ties between projects go to the better next job. Counting reservations and this pass's
// admissions keeps one project from taking every free slot just because its running jobs have
// not settled yet.
//
// A job that does not fit its budget or limits waits with its reason and the pass goes on to
// the next job (a smaller job of the same project may still fit). Admitting a job reserves
// its cost and adds its resources in the pass's copy of the state, so later jobs see what is
// left. When the cap on drocc jobs in Slurm is reached, every job not yet admitted waits with
// "cluster full: N of M drocc jobs in Slurm"; when drained, every job waits with
// "admission drained by an admin[: reason]".
//
// Cost: O(n log n) at worst for n pending jobs: a counting sort by project, a sort of each
// project's jobs (only by priority when `pending` is oldest first, i.e. ordered by submit time
// and id, as droccd builds it), a heap over projects. 8 bytes of scratch per job, and 32 per
// job of the largest project when not oldest first. One allocation per waiting job for its
// reason and none per admitted job beyond the plan's vector.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "daemon/queue/fifo_admission.h"
#include "daemon/queue/job.h"
#include "daemon/quota/fair_share.h"
#include "daemon/quota/ledger.h"
#include "daemon/quota/limits.h"
#include "daemon/quota/model.h"
#include "daemon/quota/resources.h"

namespace drocc::quota {

inline constexpr uint32_t kNoUserLimit = UINT32_MAX;

// A pending job as admission sees it. Indices instead of names keep the pass free of string
// lookups.
struct PendingJob {
  queue::JobId id = 0;
  uint32_t project = 0;          // index into AdmissionSnapshot::projects
  uint32_t user = kNoUserLimit;  // index into AdmissionSnapshot::users, if a user limit applies
  int32_t priority = 0;          // higher first
  absl::Time submit_time = absl::InfinitePast();
  ResourceVector cost;  // requested resources × time limit (ResourceCatalog::Cost)
  JobResources resources;
};

// A project's side of the snapshot.
struct ProjectSnapshot {
  std::string name;
  uint32_t share = 1;
  Limit limit;   // project-wide; 0 = unlimited
  InUse in_use;  // GPUs, CPUs, nodes of the project's admitted and running jobs
};

// One user inside one project, for per-user limits.
struct UserSnapshot {
  Limit limit;
  InUse in_use;
};

// Everything one pass reads. The ledger and fair share are read, never changed: the caller
// reserves what the plan admits (Ledger::Reserve), which succeeds if nothing changed between.
struct AdmissionSnapshot {
  const Ledger* ledger = nullptr;
  const FairShare* fair_share = nullptr;
  std::vector<ProjectSnapshot> projects;
  std::vector<UserSnapshot> users;
  std::vector<PendingJob> pending;
  uint32_t jobs_in_slurm = 0;
  uint32_t max_jobs_in_slurm = 0;  // 0: no cap
  bool drained = false;
  std::string drain_reason;
  // Not empty: nothing can be admitted for a reason outside the quota model (Slurm cannot be
  // reached); every job waits with this reason, unless drained (the admin's reason wins).
  std::string hold_reason;
};

// Pure: the same snapshot and time always give the same plan. Jobs naming a project or user
// index out of range wait with a reason saying so.
queue::AdmissionPlan PlanAdmission(const AdmissionSnapshot& snapshot, absl::Time now);

// What a submit is checked against.
struct SubmitCandidate {
  std::string project;
  ResourceVector cost;
  JobResources resources;
  absl::Duration walltime = absl::ZeroDuration();
};
struct SubmitState {
  const Ledger* ledger = nullptr;
  Limit project_limit;
  InUse project_in_use;             // pending_jobs: the project's pending jobs
  std::optional<Limit> user_limit;  // the submitting user's limit in the project, if any
  InUse user_in_use;
};

// OK if the job may be queued. Otherwise REJECTED at submit, with the numbers:
// FAILED_PRECONDITION if all the project's active grants together could never pay it (see
// CheckEverAffordable), INVALID_ARGUMENT if its walltime or size exceeds a limit,
// RESOURCE_EXHAUSTED if the pending-job limit is reached (see CheckSubmitLimits).
absl::Status CheckSubmit(const SubmitCandidate& job, const SubmitState& state, absl::Time now);

}  // namespace drocc::quota
