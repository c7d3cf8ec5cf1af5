#include "daemon/quota/admission.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

#include "common/clock.h"
#include "tests/unit/quota/test_util.h"

namespace drocc::quota {
namespace {

using testing::Day;
using testing::Gpu;
using testing::U;

constexpr absl::Duration kWeek = absl::Hours(24 * 7);

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest()
      : clock_(Day(2026, 3, 1)), fair_share_({.half_life = kWeek, .resource = kGpuHours}) {
    snapshot_.ledger = &ledger_;
    snapshot_.fair_share = &fair_share_;
  }

  // A project with a `gpu_hours` grant valid all year; returns its index.
  uint32_t AddProject(const std::string& name, const std::string& gpu_hours, uint32_t share = 1) {
    EXPECT_TRUE(ledger_
                    .AddGrant({.id = next_grant_++,
                               .project = name,
                               .resource = kGpuHours,
                               .amount = U(gpu_hours),
                               .valid_from = Day(2026, 1, 1),
                               .valid_until = Day(2027, 1, 1)})
                    .ok());
    snapshot_.projects.push_back({.name = name, .share = share});
    return static_cast<uint32_t>(snapshot_.projects.size() - 1);
  }
  // A pending job asking for `gpus` GPUs on one node, costing `gpu_hours`.
  PendingJob& AddJob(queue::JobId id, uint32_t project, const std::string& gpu_hours,
                     uint32_t gpus = 1) {
    snapshot_.pending.push_back({.id = id,
                                 .project = project,
                                 .submit_time = clock_.Now() + absl::Seconds(id),
                                 .cost = Gpu(gpu_hours),
                                 .resources = {1, 1, gpus}});
    return snapshot_.pending.back();
  }
  queue::AdmissionPlan Plan() { return PlanAdmission(snapshot_, clock_.Now()); }
  std::string WaitReason(const queue::AdmissionPlan& plan, queue::JobId id) {
    for (const auto& [job, reason] : plan.wait) {
      if (job == id) return reason;
    }
    return "(not waiting)";
  }

  FakeClock clock_;
  Ledger ledger_;
  FairShare fair_share_;
  AdmissionSnapshot snapshot_;
  GrantId next_grant_ = 1;
};

TEST_F(AdmissionTest, AProjectThatUsedALotRecentlyWaitsBehindOneThatDidNot) {
  const uint32_t heavy = AddProject("heavy", "1000");
  const uint32_t light = AddProject("light", "1000");
  fair_share_.AddUsage("heavy", U("500"), clock_.Now());
  fair_share_.AddUsage("light", U("10"), clock_.Now());
  AddJob(1, heavy, "1");
  AddJob(2, light, "1");
  snapshot_.max_jobs_in_slurm = 1;
  queue::AdmissionPlan plan = Plan();
  EXPECT_EQ(plan.admit, (std::vector<queue::JobId>{2}));
  EXPECT_EQ(WaitReason(plan, 1), "cluster full: 1 of 1 drocc jobs in Slurm");

  // Five half-lives later "light" has kept using 60 a week and "heavy" nothing: heavy first.
  for (int week = 0; week < 5; ++week) {
    clock_.Advance(kWeek);
    fair_share_.AddUsage("light", U("60"), clock_.Now());
  }
  EXPECT_LT(fair_share_.DecayedUsage("heavy", clock_.Now()),
            fair_share_.DecayedUsage("light", clock_.Now()));
  plan = Plan();
  EXPECT_EQ(plan.admit, (std::vector<queue::JobId>{1}));
}

TEST_F(AdmissionTest, ProjectsTakeTurnsAsTheirShareIsUsedInThePass) {
  const uint32_t a = AddProject("a", "1000");
  const uint32_t b = AddProject("b", "1000", /*share=*/2);
  for (queue::JobId id = 1; id <= 4; ++id) AddJob(id, a, "10");
  for (queue::JobId id = 11; id <= 14; ++id) AddJob(id, b, "10");
  snapshot_.max_jobs_in_slurm = 6;
  queue::AdmissionPlan plan = Plan();
  // Keys: a +10 per job, b +5 per job (share 2). Ties go to the better job (earlier submit).
  // a0 b0 → a(1) [a=10]; b(11) [b=5]; b(12) [b=10]; a(2) vs b(13) tie at 10 → a(2) submitted
  // first [a=20]; b(13) [b=15]; b(14) [b=20].
  EXPECT_EQ(plan.admit, (std::vector<queue::JobId>{1, 11, 12, 2, 13, 14}));
  EXPECT_EQ(plan.wait.size(), 2u);
}

TEST_F(AdmissionTest, WithinAProjectPriorityThenSubmitTimeThenId) {
  const uint32_t p = AddProject("p", "1000");
  AddJob(1, p, "1").priority = 0;
  AddJob(2, p, "1").priority = 5;
  AddJob(3, p, "1").priority = 5;
  snapshot_.pending.back().submit_time = snapshot_.pending[1].submit_time;  // same time as 2
  AddJob(4, p, "1").priority = -1;
  PendingJob& early = AddJob(5, p, "1");
  early.submit_time = clock_.Now() - absl::Hours(1);
  queue::AdmissionPlan plan = Plan();
  EXPECT_EQ(plan.admit, (std::vector<queue::JobId>{2, 3, 5, 1, 4}));
}

TEST_F(AdmissionTest, BudgetReasonCountsRunningJobsAndThoseAdmittedInThePass) {
  const uint32_t p = AddProject("ml", "52.5");
  ASSERT_TRUE(ledger_.Reserve(100, "ml", Gpu("10"), clock_.Now()).ok());
  ASSERT_TRUE(ledger_.Reserve(101, "ml", Gpu("10"), clock_.Now()).ok());
  AddJob(1, p, "20");    // fits: 32.5 available
  AddJob(2, p, "20");    // 12.5 left after job 1
  AddJob(3, p, "12.5");  // a smaller job behind it still fits
  AddJob(4, p, "0.001");
  queue::AdmissionPlan plan = Plan();
  EXPECT_EQ(plan.admit, (std::vector<queue::JobId>{1, 3}));
  EXPECT_EQ(WaitReason(plan, 2),
            "waiting for budget: 3 running jobs reserve 40.0 of the remaining 52.5 gpu-hours");
  EXPECT_EQ(WaitReason(plan, 4),
            "waiting for budget: 4 running jobs reserve 52.5 of the remaining 52.5 gpu-hours");
  // The plan reserved nothing in the ledger: the caller does, and it fits.
  EXPECT_EQ(ledger_.Balance("ml", kGpuHours, clock_.Now()).reserved, U("20"));
  EXPECT_TRUE(ledger_.Reserve(1, "ml", Gpu("20"), clock_.Now()).ok());
  EXPECT_TRUE(ledger_.Reserve(3, "ml", Gpu("12.5"), clock_.Now()).ok());
}

TEST_F(AdmissionTest, NoGrantOrAnEmptyBudgetSaysSo) {
  const uint32_t ml = AddProject("ml", "5");
  snapshot_.projects.push_back({.name = "nogrant"});
  AddJob(1, ml, "6");
  AddJob(2, 1, "1");
  queue::AdmissionPlan plan = Plan();
  EXPECT_TRUE(plan.admit.empty());
  EXPECT_EQ(WaitReason(plan, 1),
            "waiting for budget: the job needs 6.0 of the remaining 5.0 gpu-hours");
  EXPECT_EQ(WaitReason(plan, 2), "waiting for a grant: no active grant for gpu-hours");
}

TEST_F(AdmissionTest, ProjectAndUserLimitsWithNumbers) {
  const uint32_t p = AddProject("ml", "1000");
  snapshot_.projects[p].limit = {.project = "ml", .max_gpus = 16};
  snapshot_.projects[p].in_use = {.gpus = 8};
  snapshot_.users.push_back(
      {.limit = {.project = "ml", .user = "carol", .max_nodes = 1}, .in_use = {}});
  AddJob(1, p, "1", 8).user = 0;  // carol: fills the project's 16 GPUs and her 1 node
  AddJob(2, p, "1", 1).user = 0;  // carol again: her node limit
  AddJob(3, p, "1", 1);           // someone else: the project's GPU limit
  AddJob(4, p, "1", 0);           // a CPU-only job passes
  queue::AdmissionPlan plan = Plan();
  EXPECT_EQ(plan.admit, (std::vector<queue::JobId>{1, 4}));
  EXPECT_EQ(WaitReason(plan, 2), "project limit: 16 of 16 GPUs in use");
  EXPECT_EQ(WaitReason(plan, 3), "project limit: 16 of 16 GPUs in use");
  snapshot_.projects[p].limit.max_gpus = 0;
  plan = Plan();
  EXPECT_EQ(WaitReason(plan, 2), "user limit: 1 of 1 nodes in use");
  EXPECT_EQ(plan.admit, (std::vector<queue::JobId>{1, 3, 4}));
}

TEST_F(AdmissionTest, CapAndDrainKeepFifoSemantics) {
  const uint32_t p = AddProject("ml", "1000");
  for (queue::JobId id = 1; id <= 4; ++id) AddJob(id, p, "1");
  snapshot_.jobs_in_slurm = 1;
  snapshot_.max_jobs_in_slurm = 3;
  queue::AdmissionPlan plan = Plan();
  EXPECT_EQ(plan.admit, (std::vector<queue::JobId>{1, 2}));
  ASSERT_EQ(plan.wait.size(), 2u);
  EXPECT_EQ(plan.wait[0],
            (std::pair<queue::JobId, std::string>{3, "cluster full: 3 of 3 drocc jobs in Slurm"}));
  snapshot_.jobs_in_slurm = 3;
  EXPECT_TRUE(Plan().admit.empty());
  snapshot_.max_jobs_in_slurm = 0;
  EXPECT_EQ(Plan().admit.size(), 4u);
  snapshot_.drained = true;
  snapshot_.drain_reason = "upgrade";
  plan = Plan();
  EXPECT_TRUE(plan.admit.empty());
  ASSERT_EQ(plan.wait.size(), 4u);
  EXPECT_EQ(plan.wait[3].second, "admission drained by an admin: upgrade");
  snapshot_.drain_reason.clear();
  EXPECT_EQ(Plan().wait[0].second, "admission drained by an admin");
}

TEST_F(AdmissionTest, IsPureAndExplainsBadIndices) {
  const uint32_t p = AddProject("ml", "3");
  AddJob(1, p, "1");
  AddJob(2, p, "1").user = 7;  // no such user record
  AddJob(3, 9, "1");           // no such project
  AddJob(4, p, "5");
  const queue::AdmissionPlan first = Plan();
  const queue::AdmissionPlan second = Plan();
  EXPECT_EQ(first.admit, second.admit);
  EXPECT_EQ(first.wait, second.wait);
  EXPECT_EQ(first.admit, (std::vector<queue::JobId>{1}));
  EXPECT_EQ(WaitReason(first, 2), "waiting: the job's user limit is unknown; resubmit it");
  EXPECT_EQ(WaitReason(first, 3), "waiting: the job's project is unknown; resubmit it");
  EXPECT_EQ(first.admit.size() + first.wait.size(), snapshot_.pending.size());
}

TEST_F(AdmissionTest, OnePassOverManyJobsIsComplete) {
  // Correctness at scale only; its speed is measured by a benchmark, never by a test.
  for (int i = 0; i < 1000; ++i) AddProject(absl::StrCat("p", i), "100");
  for (queue::JobId id = 1; id <= 100'000; ++id) {
    AddJob(id, static_cast<uint32_t>(id % 1000), "1").priority = static_cast<int32_t>(id % 7);
  }
  snapshot_.max_jobs_in_slurm = 50'000;
  queue::AdmissionPlan plan = Plan();
  // Each project's 100 gpu-hours admit exactly its 100 jobs; nothing is lost.
  EXPECT_EQ(plan.admit.size(), 50'000u);
  EXPECT_EQ(plan.admit.size() + plan.wait.size(), 100'000u);
}

TEST_F(AdmissionTest, CheckSubmitRejectsWhatCanNeverRun) {
  AddProject("ml", "500");
  ASSERT_TRUE(ledger_.Reserve(100, "ml", Gpu("400"), clock_.Now()).ok());
  ASSERT_TRUE(ledger_.Settle(100, Gpu("100"), {clock_.Now(), clock_.Now()}, clock_.Now()).ok());
  SubmitState state{
      .ledger = &ledger_,
      .project_limit = {.project = "ml", .max_pending_jobs = 10, .max_walltime = absl::Hours(48)}};
  SubmitCandidate job{
      .project = "ml", .cost = Gpu("400"), .resources = {1, 1, 4}, .walltime = absl::Hours(24)};
  // Other jobs' reservations do not matter, only what the grants could ever pay.
  EXPECT_TRUE(CheckSubmit(job, state, clock_.Now()).ok());
  job.cost = Gpu("400.001");
  absl::Status s = CheckSubmit(job, state, clock_.Now());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "job needs 400.001 gpu-hours but the active grants of project \"ml\" have 400.0 left "
            "(500.0 granted, 100.0 charged); shorten its time limit or ask for a larger grant");
  job.cost = Gpu("1");
  job.walltime = absl::Hours(72);
  s = CheckSubmit(job, state, clock_.Now());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "walltime 3d exceeds the project's maximum of 2d; ask for a shorter time limit");
  job.walltime = absl::Hours(1);
  state.user_limit = Limit{.project = "ml", .user = "carol", .max_pending_jobs = 2};
  state.user_in_use.pending_jobs = 2;
  s = CheckSubmit(job, state, clock_.Now());
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(s.message(),
            "user limit: 2 of 2 pending jobs; wait until one is admitted or cancel one");
  job.project = "other";
  EXPECT_EQ(CheckSubmit(job, state, clock_.Now()).message(),
            "project \"other\" has no active grant for gpu-hours; ask an admin to add one");
  job.cost = testing::Vec(kCpuHours, "1");
  EXPECT_EQ(CheckSubmit(job, state, clock_.Now()).message(),
            "project \"other\" has no grant; ask an admin to add one");
  EXPECT_EQ(CheckSubmit(job, SubmitState{}, clock_.Now()).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace drocc::quota
