#include "daemon/quota/admission.h"

#include <algorithm>
#include <queue>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "daemon/quota/budget.h"

namespace drocc::quota {
namespace {

// A job's place in its project's queue; sorting these is the pass's only O(n log n) step.
struct JobKey {
  uint32_t project;
  int32_t priority;
  absl::Time submit;
  queue::JobId id;
  uint32_t index;  // into snapshot.pending
};

bool JobBefore(const JobKey& a, const JobKey& b) {
  // Higher priority first, then earlier submit, then lower id.
  return std::tie(b.priority, a.submit, a.id) < std::tie(a.priority, b.submit, b.id);
}

// One project's state during the pass.
struct ProjectPass {
  ProjectBudget budget;
  InUse in_use;
  double key = 0;  // fair-share priority, lower first
  size_t next = 0;
  size_t end = 0;
};

const ResourceCatalog& DefaultCatalog() {
  static const ResourceCatalog catalog;
  return catalog;
}

}  // namespace

queue::AdmissionPlan PlanAdmission(const AdmissionSnapshot& s, absl::Time now) {
  queue::AdmissionPlan plan;
  if (s.drained) {
    std::string reason = "admission drained by an admin";
    if (!s.drain_reason.empty()) absl::StrAppend(&reason, ": ", s.drain_reason);
    plan.wait.reserve(s.pending.size());
    for (const PendingJob& j : s.pending) plan.wait.emplace_back(j.id, reason);
    return plan;
  }
  const ResourceCatalog& catalog = s.ledger ? s.ledger->catalog() : DefaultCatalog();
  const ResourceId fs_resource =
      s.fair_share ? s.fair_share->options().resource : FairShareOptions{}.resource;

  std::vector<JobKey> keys;
  keys.reserve(s.pending.size());
  for (uint32_t i = 0; i < s.pending.size(); ++i) {
    const PendingJob& j = s.pending[i];
    if (j.project >= s.projects.size()) {
      plan.wait.emplace_back(j.id, "waiting: the job's project is unknown; resubmit it");
      continue;
    }
    keys.push_back({j.project, j.priority, j.submit_time, j.id, i});
  }
  std::sort(keys.begin(), keys.end(), [](const JobKey& a, const JobKey& b) {
    if (a.project != b.project) return a.project < b.project;
    return JobBefore(a, b);
  });

  std::vector<ProjectPass> pass(s.projects.size());
  for (size_t k = 0; k < keys.size();) {
    const uint32_t p = keys[k].project;
    ProjectPass& pp = pass[p];
    pp.next = k;
    while (k < keys.size() && keys[k].project == p) ++k;
    pp.end = k;
    const ProjectSnapshot& ps = s.projects[p];
    if (s.ledger) pp.budget = s.ledger->Budget(ps.name, now);
    pp.in_use = ps.in_use;
    const double share = ps.share == 0 ? 1.0 : ps.share;
    pp.key =
        (s.fair_share ? s.fair_share->DecayedUsage(ps.name, now) : 0.0) / share +
        static_cast<double>(pp.budget.reserved[fs_resource].milli()) / MilliUnits::kPerUnit / share;
  }
  std::vector<InUse> user_in_use;
  user_in_use.reserve(s.users.size());
  for (const UserSnapshot& u : s.users) user_in_use.push_back(u.in_use);

  // Min-heap of projects with jobs left: lowest fair-share key, then the better next job.
  auto after = [&](uint32_t a, uint32_t b) {
    if (pass[a].key != pass[b].key) return pass[a].key > pass[b].key;
    return JobBefore(keys[pass[b].next], keys[pass[a].next]);
  };
  std::vector<uint32_t> heap_storage;
  heap_storage.reserve(s.projects.size());
  for (uint32_t p = 0; p < pass.size(); ++p) {
    if (pass[p].next < pass[p].end) heap_storage.push_back(p);
  }
  std::priority_queue<uint32_t, std::vector<uint32_t>, decltype(after)> heap(
      after, std::move(heap_storage));

  plan.admit.reserve(s.max_jobs_in_slurm == 0 ? keys.size()
                                              : std::min<size_t>(keys.size(), s.max_jobs_in_slurm));
  uint32_t in_slurm = s.jobs_in_slurm;
  auto full = [&] { return s.max_jobs_in_slurm != 0 && in_slurm >= s.max_jobs_in_slurm; };
  while (!heap.empty() && !full()) {
    const uint32_t p = heap.top();
    heap.pop();
    ProjectPass& pp = pass[p];
    const ProjectSnapshot& ps = s.projects[p];
    const PendingJob& job = s.pending[keys[pp.next++].index];
    std::optional<std::string> why;
    if (job.user != kNoUserLimit && job.user >= s.users.size()) {
      why = "waiting: the job's user limit is unknown; resubmit it";
    }
    if (!why) why = RunLimitReason(ps.limit, LimitScope::kProject, pp.in_use, job.resources);
    if (!why && job.user != kNoUserLimit) {
      why = RunLimitReason(s.users[job.user].limit, LimitScope::kUser, user_in_use[job.user],
                           job.resources);
    }
    if (!why) why = BudgetShortfall(pp.budget, catalog, job.cost);
    if (why) {
      plan.wait.emplace_back(job.id, std::move(*why));
    } else {
      plan.admit.push_back(job.id);
      ++in_slurm;
      AddReservation(pp.budget, BilledResources(pp.budget, catalog.always_billed(), job.cost),
                     job.cost);
      pp.in_use.Add(job.resources);
      if (job.user != kNoUserLimit) user_in_use[job.user].Add(job.resources);
      pp.key += static_cast<double>(job.cost[fs_resource].milli()) / MilliUnits::kPerUnit /
                (ps.share == 0 ? 1.0 : ps.share);
    }
    if (pp.next < pp.end) heap.push(p);
  }
  if (full()) {
    // No queue position in the reason: it would change for every waiting job whenever one is
    // admitted, and reasons are stored.
    const std::string reason = absl::StrCat("cluster full: ", in_slurm, " of ", s.max_jobs_in_slurm,
                                            " drocc jobs in Slurm");
    for (ProjectPass& pp : pass) {
      for (; pp.next < pp.end; ++pp.next) {
        plan.wait.emplace_back(s.pending[keys[pp.next].index].id, reason);
      }
    }
  }
  return plan;
}

absl::Status CheckSubmit(const SubmitCandidate& job, const SubmitState& state, absl::Time now) {
  RETURN_IF_ERROR(CheckSubmitLimits(state.project_limit, LimitScope::kProject, {.pending_jobs = 0},
                                    job.resources, job.walltime));
  if (state.user_limit) {
    RETURN_IF_ERROR(CheckSubmitLimits(*state.user_limit, LimitScope::kUser, {.pending_jobs = 0},
                                      job.resources, job.walltime));
  }
  if (state.ledger == nullptr) {
    return absl::FailedPreconditionError("droccd has no ledger; report this to an admin");
  }
  RETURN_IF_ERROR(CheckEverAffordable(state.ledger->Budget(job.project, now),
                                      state.ledger->catalog(), job.project, job.cost));
  // Last: the only condition that goes away by waiting.
  RETURN_IF_ERROR(CheckSubmitLimits(state.project_limit, LimitScope::kProject, state.project_in_use,
                                    {}, absl::ZeroDuration()));
  if (state.user_limit) {
    RETURN_IF_ERROR(CheckSubmitLimits(*state.user_limit, LimitScope::kUser, state.user_in_use, {},
                                      absl::ZeroDuration()));
  }
  return absl::OkStatus();
}

}  // namespace drocc::quota
