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

// A job's place in its project's queue: 8 bytes per pending job. The rest of the job is read
// from the snapshot when its turn comes.
struct Slot {
  int32_t priority;
  uint32_t index;  // into snapshot.pending
};

// What orders two jobs of a project, side by side for sorting.
struct JobKey {
  int32_t priority;
  uint32_t index;
  absl::Time submit;
  queue::JobId id;
};

// Higher priority first, then earlier submit, then lower id, then the snapshot's order (so the
// plan stays a function of the snapshot even if two jobs share an id).
bool JobBefore(const JobKey& a, const JobKey& b) {
  return std::tie(b.priority, a.submit, a.id, a.index) <
         std::tie(a.priority, b.submit, b.id, b.index);
}

// JobBefore on slots. When the snapshot lists its jobs oldest first (by submit time, then id,
// as QuotaBook does), a slot's index already is that order and only priorities are compared.
class SlotOrder {
 public:
  SlotOrder(const std::vector<PendingJob>& pending, bool oldest_first)
      : pending_(pending), oldest_first_(oldest_first) {}

  bool oldest_first() const { return oldest_first_; }
  JobKey KeyOf(Slot s) const {
    const PendingJob& j = pending_[s.index];
    return {s.priority, s.index, j.submit_time, j.id};
  }
  bool operator()(Slot a, Slot b) const {
    if (a.priority != b.priority) return a.priority > b.priority;
    if (oldest_first_) return a.index < b.index;
    return JobBefore(KeyOf(a), KeyOf(b));
  }

 private:
  const std::vector<PendingJob>& pending_;
  bool oldest_first_;
};

// Sorts one project's slots. `scratch` is reused between projects.
void SortProject(Slot* first, Slot* last, const SlotOrder& order, std::vector<JobKey>& scratch) {
  if (order.oldest_first()) {
    if (!std::is_sorted(first, last, order)) std::sort(first, last, order);
    return;
  }
  // Sort keys side by side rather than chase 120-byte jobs spread over the snapshot.
  scratch.clear();
  for (const Slot* s = first; s != last; ++s) scratch.push_back(order.KeyOf(*s));
  std::sort(scratch.begin(), scratch.end(), JobBefore);
  for (const JobKey& k : scratch) *first++ = {k.priority, k.index};
}

// One project's state during the pass.
struct ProjectPass {
  ProjectBudget budget;
  InUse in_use;
  double key = 0;   // fair-share priority, lower first
  size_t next = 0;  // its jobs not yet offered are slots[next, end)
  size_t end = 0;
};

// Every pending job of a known project, in its project's order: project p's jobs are
// slots[pass[p].next, pass[p].end).
struct Queues {
  std::vector<Slot> slots;
  bool oldest_first = true;  // the snapshot lists its jobs by (submit time, id); see SlotOrder
};

// Buckets the jobs by project (a counting sort: projects are dense indices), then sorts each
// project's bucket: n log(jobs per project) rather than n log n. Jobs of an unknown project
// wait in `plan`, in the snapshot's order.
Queues QueueJobs(const AdmissionSnapshot& s, std::vector<ProjectPass>& pass,
                 queue::AdmissionPlan& plan) {
  Queues q;
  for (size_t i = 0; i < s.pending.size(); ++i) {
    const PendingJob& j = s.pending[i];
    if (i > 0 && std::tie(j.submit_time, j.id) <
                     std::tie(s.pending[i - 1].submit_time, s.pending[i - 1].id)) {
      q.oldest_first = false;
    }
    if (j.project < s.projects.size()) {
      ++pass[j.project].end;
    } else {
      plan.wait.emplace_back(j.id, "waiting: the job's project is unknown; resubmit it");
    }
  }
  size_t total = 0;
  for (ProjectPass& pp : pass) {
    pp.next = total;
    total += pp.end;
    pp.end = pp.next;  // the fill below moves it to the bucket's end
  }
  q.slots.resize(total);
  for (uint32_t i = 0; i < s.pending.size(); ++i) {
    const PendingJob& j = s.pending[i];
    if (j.project < s.projects.size()) q.slots[pass[j.project].end++] = {j.priority, i};
  }
  const SlotOrder order(s.pending, q.oldest_first);
  std::vector<JobKey> scratch;
  for (const ProjectPass& pp : pass) {
    SortProject(q.slots.data() + pp.next, q.slots.data() + pp.end, order, scratch);
  }
  return q;
}

// A project's jobs lie scattered over the snapshot, and a project whose job waits is popped
// again at once: fetching its jobs a few ahead hides most of the cache misses.
constexpr size_t kPrefetch = 4;
void Prefetch(const PendingJob& job) {
  const char* p = reinterpret_cast<const char*>(&job);
  for (size_t offset = 0; offset < sizeof(PendingJob); offset += 64) __builtin_prefetch(p + offset);
  __builtin_prefetch(p + sizeof(PendingJob) - 1);
}

const ResourceCatalog& DefaultCatalog() {
  static const ResourceCatalog catalog;
  return catalog;
}

}  // namespace

queue::AdmissionPlan PlanAdmission(const AdmissionSnapshot& s, absl::Time now) {
  queue::AdmissionPlan plan;
  if (s.drained || !s.hold_reason.empty()) {
    std::string reason = s.drained ? "admission drained by an admin" : s.hold_reason;
    if (s.drained && !s.drain_reason.empty()) absl::StrAppend(&reason, ": ", s.drain_reason);
    plan.wait.reserve(s.pending.size());
    for (const PendingJob& j : s.pending) plan.wait.emplace_back(j.id, reason);
    return plan;
  }
  const ResourceCatalog& catalog = s.ledger ? s.ledger->catalog() : DefaultCatalog();
  const ResourceId fs_resource =
      s.fair_share ? s.fair_share->options().resource : FairShareOptions{}.resource;

  plan.wait.reserve(s.pending.size());

  std::vector<ProjectPass> pass(s.projects.size());
  const Queues queues = QueueJobs(s, pass, plan);
  const std::vector<Slot>& slots = queues.slots;
  const SlotOrder order(s.pending, queues.oldest_first);
  for (uint32_t p = 0; p < pass.size(); ++p) {
    ProjectPass& pp = pass[p];
    if (pp.next == pp.end) continue;
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
    return order(slots[pass[b].next], slots[pass[a].next]);
  };
  std::vector<uint32_t> heap_storage;
  heap_storage.reserve(s.projects.size());
  for (uint32_t p = 0; p < pass.size(); ++p) {
    if (pass[p].next < pass[p].end) heap_storage.push_back(p);
  }
  std::priority_queue<uint32_t, std::vector<uint32_t>, decltype(after)> heap(
      after, std::move(heap_storage));

  plan.admit.reserve(s.max_jobs_in_slurm == 0
                         ? slots.size()
                         : std::min<size_t>(slots.size(), s.max_jobs_in_slurm));
  uint32_t in_slurm = s.jobs_in_slurm;
  auto full = [&] { return s.max_jobs_in_slurm != 0 && in_slurm >= s.max_jobs_in_slurm; };
  while (!heap.empty() && !full()) {
    const uint32_t p = heap.top();
    heap.pop();
    ProjectPass& pp = pass[p];
    const ProjectSnapshot& ps = s.projects[p];
    if (pp.next + kPrefetch < pp.end) Prefetch(s.pending[slots[pp.next + kPrefetch].index]);
    const PendingJob& job = s.pending[slots[pp.next++].index];
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
        if (pp.next + 2 * kPrefetch < pp.end) {
          __builtin_prefetch(&s.pending[slots[pp.next + 2 * kPrefetch].index].id);
        }
        plan.wait.emplace_back(s.pending[slots[pp.next].index].id, reason);
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
