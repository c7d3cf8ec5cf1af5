// PlanAdmission against a straightforward reference implementation of admission.h's contract:
// the same plan (admit order, wait order, every reason) on random snapshots. Each snapshot is
// planned with its pending jobs oldest first (as QuotaBook builds them; the pass then orders a
// project's jobs by priority alone) and in random order (the pass's general path). Fixed seeds:
// failures reproduce.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/quota/admission.h"
#include "daemon/quota/budget.h"
#include "tests/unit/quota/test_util.h"

namespace drocc::quota {
namespace {

using testing::Day;

// One step at a time, no heap, no buckets: scan every project for the one whose turn it is.
queue::AdmissionPlan ReferencePlan(const AdmissionSnapshot& s, absl::Time now) {
  queue::AdmissionPlan plan;
  if (s.drained) {
    const std::string reason =
        s.drain_reason.empty() ? "admission drained by an admin"
                               : absl::StrCat("admission drained by an admin: ", s.drain_reason);
    for (const PendingJob& j : s.pending) plan.wait.emplace_back(j.id, reason);
    return plan;
  }
  const ResourceCatalog catalog = s.ledger ? s.ledger->catalog() : ResourceCatalog();
  const ResourceId fs = s.fair_share ? s.fair_share->options().resource : kNodeHours;

  struct Project {
    std::vector<const PendingJob*> queue;
    size_t next = 0;
    ProjectBudget budget;
    InUse in_use;
    double key = 0;
  };
  std::vector<Project> projects(s.projects.size());
  for (const PendingJob& j : s.pending) {
    if (j.project < s.projects.size()) {
      projects[j.project].queue.push_back(&j);
    } else {
      plan.wait.emplace_back(j.id, "waiting: the job's project is unknown; resubmit it");
    }
  }
  auto before = [](const PendingJob* a, const PendingJob* b) {
    if (a->priority != b->priority) return a->priority > b->priority;
    if (a->submit_time != b->submit_time) return a->submit_time < b->submit_time;
    return a->id < b->id;
  };
  for (size_t p = 0; p < projects.size(); ++p) {
    Project& pr = projects[p];
    std::sort(pr.queue.begin(), pr.queue.end(), before);
    const ProjectSnapshot& ps = s.projects[p];
    if (s.ledger) pr.budget = s.ledger->Budget(ps.name, now);
    pr.in_use = ps.in_use;
    // The same arithmetic as the pass, term by term: keys are compared for equality.
    const double share = ps.share == 0 ? 1.0 : ps.share;
    pr.key = (s.fair_share ? s.fair_share->DecayedUsage(ps.name, now) : 0.0) / share +
             static_cast<double>(pr.budget.reserved[fs].milli()) / MilliUnits::kPerUnit / share;
  }
  std::vector<InUse> users;
  for (const UserSnapshot& u : s.users) users.push_back(u.in_use);

  uint32_t in_slurm = s.jobs_in_slurm;
  auto full = [&] { return s.max_jobs_in_slurm != 0 && in_slurm >= s.max_jobs_in_slurm; };
  while (!full()) {
    Project* turn = nullptr;
    size_t turn_index = 0;
    for (size_t p = 0; p < projects.size(); ++p) {
      Project& pr = projects[p];
      if (pr.next == pr.queue.size()) continue;
      if (turn == nullptr || pr.key < turn->key ||
          (pr.key == turn->key && before(pr.queue[pr.next], turn->queue[turn->next]))) {
        turn = &pr;
        turn_index = p;
      }
    }
    if (turn == nullptr) break;
    const ProjectSnapshot& ps = s.projects[turn_index];
    const PendingJob& job = *turn->queue[turn->next++];
    std::optional<std::string> why;
    if (job.user != kNoUserLimit && job.user >= s.users.size()) {
      why = "waiting: the job's user limit is unknown; resubmit it";
    }
    if (!why) why = RunLimitReason(ps.limit, LimitScope::kProject, turn->in_use, job.resources);
    if (!why && job.user != kNoUserLimit) {
      why = RunLimitReason(s.users[job.user].limit, LimitScope::kUser, users[job.user],
                           job.resources);
    }
    if (!why) why = BudgetShortfall(turn->budget, catalog, job.cost);
    if (why) {
      plan.wait.emplace_back(job.id, *why);
      continue;
    }
    plan.admit.push_back(job.id);
    ++in_slurm;
    AddReservation(turn->budget, BilledResources(turn->budget, catalog.always_billed(), job.cost),
                   job.cost);
    turn->in_use.Add(job.resources);
    if (job.user != kNoUserLimit) users[job.user].Add(job.resources);
    turn->key += static_cast<double>(job.cost[fs].milli()) / MilliUnits::kPerUnit /
                 (ps.share == 0 ? 1.0 : ps.share);
  }
  if (full()) {
    const std::string reason = absl::StrCat("cluster full: ", in_slurm, " of ", s.max_jobs_in_slurm,
                                            " drocc jobs in Slurm");
    for (Project& pr : projects) {
      for (; pr.next < pr.queue.size(); ++pr.next)
        plan.wait.emplace_back(pr.queue[pr.next]->id, reason);
    }
  }
  return plan;
}

// A small random world, dense in ties (priorities, submit times, fair-share keys) and in every
// reason a job can wait for.
struct World {
  Ledger ledger;
  FairShare fair_share{{.half_life = absl::Hours(24 * 7), .resource = kGpuHours}};
  AdmissionSnapshot snapshot;
};

void Build(std::mt19937_64& rng, absl::Time now, World& w) {
  auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  AdmissionSnapshot& s = w.snapshot;
  s.ledger = pick(0, 19) == 0 ? nullptr : &w.ledger;
  s.fair_share = pick(0, 9) == 0 ? nullptr : &w.fair_share;
  GrantId next_grant = 1;
  queue::JobId next_running = 1'000'000;
  const int projects = static_cast<int>(pick(1, 6));
  for (int p = 0; p < projects; ++p) {
    ProjectSnapshot ps{.name = absl::StrCat("p", p), .share = static_cast<uint32_t>(pick(0, 4))};
    for (ResourceId r : {kGpuHours, kCpuHours}) {
      const int64_t kind = pick(0, 4);  // 0: none, 1: ended, else active
      if (kind == 0) continue;
      Grant g{.id = next_grant++,
              .project = ps.name,
              .resource = r,
              .amount = MilliUnits::FromMilli(pick(1, 60'000))};
      if (kind == 1) {
        g.valid_from = now - absl::Hours(100);
        g.valid_until = now - absl::Hours(1);
      }
      ASSERT_TRUE(w.ledger.AddGrant(g).ok());
    }
    // Running jobs holding reservations: "N running jobs reserve ...".
    for (int64_t k = pick(0, 3); k > 0; --k) {
      w.ledger.Reserve(next_running++, ps.name, testing::Gpu(absl::StrCat(pick(1, 20))), now)
          .IgnoreError();
    }
    if (pick(0, 2) == 0) {
      ps.limit = {.project = ps.name,
                  .max_gpus = static_cast<uint32_t>(pick(0, 8)),
                  .max_cpus = static_cast<uint32_t>(pick(0, 1) * pick(1, 32)),
                  .max_nodes = static_cast<uint32_t>(pick(0, 1) * pick(1, 4))};
      ps.in_use = {.gpus = static_cast<uint32_t>(pick(0, 8)),
                   .cpus = static_cast<uint32_t>(pick(0, 16)),
                   .nodes = static_cast<uint32_t>(pick(0, 3))};
    }
    if (pick(0, 2) != 0) {
      w.fair_share.AddUsage(ps.name, MilliUnits::FromMilli(1000 * pick(0, 3)),
                            now - absl::Hours(pick(0, 48)));
    }
    s.projects.push_back(ps);
  }
  for (int64_t u = pick(0, 4); u > 0; --u) {
    s.users.push_back({.limit = {.max_gpus = static_cast<uint32_t>(pick(0, 4)),
                                 .max_nodes = static_cast<uint32_t>(pick(0, 2))},
                       .in_use = {.gpus = static_cast<uint32_t>(pick(0, 2))}});
  }

  const int jobs = static_cast<int>(pick(0, 60));
  std::vector<queue::JobId> ids(static_cast<size_t>(jobs) * 3);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = i + 1;
  std::shuffle(ids.begin(), ids.end(), rng);
  const ResourceCatalog catalog;
  for (int i = 0; i < jobs; ++i) {
    PendingJob j;
    j.id = ids[static_cast<size_t>(i)];
    j.project =
        static_cast<uint32_t>(pick(0, 19) == 0 ? projects + pick(0, 2) : pick(0, projects - 1));
    // Half without a user limit, a few naming a user record that does not exist.
    const int64_t user = pick(0, 9);
    const int64_t users = static_cast<int64_t>(s.users.size());
    if (user == 9) {
      j.user = static_cast<uint32_t>(users + pick(0, 2));
    } else if (user >= 5 && users > 0) {
      j.user = static_cast<uint32_t>(pick(0, users - 1));
    }
    j.priority = static_cast<int32_t>(pick(-1, 2));
    j.submit_time = now - absl::Minutes(pick(0, 10));
    j.resources = {.nodes = static_cast<uint32_t>(pick(0, 2)),
                   .cpus = static_cast<uint32_t>(pick(0, 8)),
                   .gpus = static_cast<uint32_t>(pick(0, 4))};
    absl::StatusOr<ResourceVector> cost =
        catalog.Cost(j.resources, absl::Minutes(pick(0, 10 * 60)));
    ASSERT_TRUE(cost.ok());
    j.cost = *cost;
    s.pending.push_back(j);
  }
  s.jobs_in_slurm = static_cast<uint32_t>(pick(0, 5));
  s.max_jobs_in_slurm = static_cast<uint32_t>(pick(0, 1) * pick(1, 40));
  if (pick(0, 19) == 0) {
    s.drained = true;
    s.drain_reason = pick(0, 1) ? "upgrade" : "";
  }
}

void ExpectSamePlan(const AdmissionSnapshot& s, absl::Time now, const std::string& what) {
  const queue::AdmissionPlan want = ReferencePlan(s, now);
  const queue::AdmissionPlan got = PlanAdmission(s, now);
  EXPECT_EQ(got.admit, want.admit) << what;
  EXPECT_EQ(got.wait, want.wait) << what;
}

TEST(AdmissionRandomTest, SamePlanAsTheReferenceInEitherSnapshotOrder) {
  const absl::Time now = Day(2026, 3, 1);
  std::mt19937_64 rng(20260301);
  // What the random worlds exercised, so that this test cannot pass by testing nothing.
  std::map<std::string, int> seen;
  for (int round = 0; round < 3000; ++round) {
    World w;
    Build(rng, now, w);
    if (::testing::Test::HasFatalFailure()) return;
    AdmissionSnapshot& s = w.snapshot;

    std::sort(s.pending.begin(), s.pending.end(), [](const PendingJob& a, const PendingJob& b) {
      return std::tie(a.submit_time, a.id) < std::tie(b.submit_time, b.id);
    });
    ExpectSamePlan(s, now, absl::StrCat("round ", round, ", oldest first"));
    std::shuffle(s.pending.begin(), s.pending.end(), rng);
    ExpectSamePlan(s, now, absl::StrCat("round ", round, ", shuffled"));
    if (::testing::Test::HasFailure()) return;

    const queue::AdmissionPlan plan = ReferencePlan(s, now);
    if (!plan.admit.empty()) ++seen["admitted"];
    for (const auto& [id, reason] : plan.wait) ++seen[reason.substr(0, reason.find(':'))];
  }
  for (const char* what :
       {"admitted", "cluster full", "waiting for budget", "waiting for a grant", "project limit",
        "user limit", "waiting", "admission drained by an admin"}) {
    EXPECT_GT(seen[what], 10) << what;
  }
}

}  // namespace
}  // namespace drocc::quota
