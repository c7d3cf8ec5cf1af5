// JobManager with quotas: escrow at admission, settlement at the end, submit checks, and the
// races and restarts around them. The store is a real SqliteStore in a temporary directory;
// FakeBackend plays Slurm, FakeClock the time.

#include <gtest/gtest.h>
#include <stdlib.h>
#include <algorithm>

#include <filesystem>
#include <future>
#include <thread>

#include "daemon/manager/job_manager.h"
#include "daemon/slurm/fake_backend.h"
#include "daemon/store/sqlite_store.h"
#include "spdlog/spdlog.h"

namespace drocc::manager {
namespace {

using queue::Job;
using queue::JobId;
using queue::JobState;
using quota::MilliUnits;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = ::testing::TempDir() + "/drocc-quota-XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class QuotaManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    clock_.Set(absl::FromUnixSeconds(1'798'761'600));  // 2027-01-01
    OpenStore();
  }
  void TearDown() override {
    manager_.reset();
    store_.reset();
  }

  void OpenStore() {
    auto s = store::SqliteStore::Open({.path = dir_.path() + "/droccd.db"});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
  }

  // A new manager over the same store and backend, as after a crash of droccd.
  void Restart(bool worker = false) {
    manager_.reset();
    JobManagerOptions o{.max_jobs_in_slurm = 1000,
                        .poll_interval = absl::Milliseconds(5),
                        .min_admission_interval = absl::Milliseconds(1),
                        .run_worker = worker};
    manager_ = std::make_unique<JobManager>(store_.get(), &backend_, &clock_, std::move(o));
    ASSERT_TRUE(manager_->Start().ok());
  }

  // An SME with project "sme-ai": carol a member, `gpu_hours` granted.
  void Model(int64_t gpu_milli, quota::Limit limit = {}) {
    std::vector<store::QuotaChange> model = {
        {.value = quota::Account{.name = "acme", .kind = quota::AccountKind::kSme}},
        {.value = quota::Project{.name = "sme-ai", .account = "acme"}},
        {.value = quota::Member{.project = "sme-ai", .user = "carol", .is_default = true}},
        {.value = store::StoredGrant{.grant = {.project = "sme-ai",
                                               .amount = MilliUnits::FromMilli(gpu_milli),
                                               .valid_from = clock_.Now() - absl::Hours(1),
                                               .reference = "contract-1"},
                                     .resource = "gpu-hours"}},
    };
    if (limit.project == "sme-ai") model.push_back({.value = limit});
    ASSERT_TRUE(store::ApplyQuotaChangesAndWait(*store_, model, {.user = "test"}).ok());
  }

  static Job MakeJob(uint32_t gpus, int64_t time_limit_s, std::string project = "") {
    Job job;
    job.spec.name = "train";
    job.spec.script = "#!/bin/bash\ntrain\n";
    job.spec.workdir = "/home/carol";
    job.spec.gpus_per_node = gpus;
    job.spec.time_limit_s = time_limit_s;
    job.spec.project = project;
    job.user = "carol";
    job.uid = 1003;
    job.gid = 1003;
    job.reason = "queued";
    return job;
  }

  // Submits from the calling thread; with run_worker=false the test runs the posted work.
  absl::StatusOr<store::InsertResult> Submit(Job job, bool worker = false) {
    job.submit_time = clock_.Now();
    std::promise<absl::StatusOr<store::InsertResult>> p;
    manager_->Submit(std::move(job),
                     [&p](absl::StatusOr<store::InsertResult> r) { p.set_value(r); });
    if (!worker) manager_->RunPosted();
    return p.get_future().get();
  }

  // Reads the job once every write queued before is durable (pending reasons are written
  // without waiting; the store's single writer keeps order, so a write of our own is a barrier).
  Job Get(JobId id) {
    EXPECT_TRUE(store::PutSettingAndWait(*store_, "test.barrier", "").ok());
    auto job = store_->GetJob(id, /*with_events=*/false);
    EXPECT_TRUE(job.ok()) << job.status();
    return *job;
  }

  quota::ResourceBalance Balance(bool worker = false) {
    std::promise<quota::ResourceBalance> p;
    manager_->ReadQuota([&p](const QuotaBook& book, absl::Time now) {
      p.set_value(book.ledger().Balance("sme-ai", quota::kGpuHours, now));
    });
    if (!worker) manager_->RunPosted();
    return p.get_future().get();
  }

  int64_t ChargedInStore() {
    auto totals = store_->SumCharges();
    EXPECT_TRUE(totals.ok());
    int64_t sum = 0;
    for (const store::ChargeTotal& t : *totals) sum += t.milli;
    return sum;
  }

  TempDir dir_;
  FakeClock clock_;
  slurm::FakeBackend backend_{&clock_, 500};
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<JobManager> manager_;
};

TEST_F(QuotaManagerTest, AdmissionReservesAndTheEndChargesActualUse) {
  Model(2000);  // 2 gpu-hours
  Restart();
  JobId id = Submit(MakeJob(1, 3600))->job.id;  // 1 GPU for 1 h: 1.0 gpu-hours reserved
  EXPECT_EQ(Get(id).project, "sme-ai");         // the default project
  manager_->RunOnce();
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kAdmitted);
  EXPECT_EQ(job.reserved, (queue::AmountMap{{"gpu-hours", 1000}}));
  EXPECT_EQ(Balance().available, MilliUnits::FromMilli(1000));

  ASSERT_TRUE(backend_.Start(job.slurm_job_id, "n1", 1, 4, 1).ok());
  manager_->RunOnce();
  clock_.Advance(absl::Minutes(15));
  ASSERT_TRUE(backend_.Finish(job.slurm_job_id, JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  job = Get(id);
  EXPECT_EQ(job.state, JobState::kCompleted);
  EXPECT_TRUE(job.reserved.empty());
  EXPECT_EQ(job.charged, (queue::AmountMap{{"gpu-hours", 250}}));  // 15 min of 1 GPU
  quota::ResourceBalance b = Balance();
  EXPECT_EQ(b.charged, MilliUnits::FromMilli(250));
  EXPECT_EQ(b.reserved, MilliUnits::Zero());
  EXPECT_EQ(b.available, MilliUnits::FromMilli(1750));
  EXPECT_EQ(ChargedInStore(), 250);
}

TEST_F(QuotaManagerTest, ARequeuedJobIsChargedEachRunOnceAndReservedAgain) {
  Model(4000);
  Restart();
  JobId id = Submit(MakeJob(1, 3600))->job.id;  // 1.0 gpu-hours reserved
  manager_->RunOnce();
  const uint64_t slurm_id = Get(id).slurm_job_id;
  ASSERT_TRUE(backend_.Start(slurm_id, "n1", 1, 4, 1).ok());
  manager_->RunOnce();
  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(backend_.Requeue(slurm_id).ok());  // preempted or checkpointed, after 30 min
  manager_->RunOnce();
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kRequeued);
  EXPECT_EQ(job.requeue_count, 1u);
  EXPECT_EQ(job.charged, (queue::AmountMap{{"gpu-hours", 500}}));    // the first run
  EXPECT_EQ(job.reserved, (queue::AmountMap{{"gpu-hours", 1000}}));  // the next run's cost
  EXPECT_EQ(job.start_time, absl::InfinitePast());
  EXPECT_EQ(ChargedInStore(), 500);
  EXPECT_EQ(Balance().available, MilliUnits::FromMilli(4000 - 500 - 1000));

  manager_->RunOnce();  // nothing changed: nothing charged again
  EXPECT_EQ(ChargedInStore(), 500);

  clock_.Advance(absl::Minutes(5));  // waiting in Slurm's queue is not charged
  ASSERT_TRUE(backend_.Start(slurm_id, "n2", 1, 4, 1).ok());
  manager_->RunOnce();
  EXPECT_EQ(Get(id).state, JobState::kRunning);
  clock_.Advance(absl::Minutes(15));
  ASSERT_TRUE(backend_.Finish(slurm_id, JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  job = Get(id);
  EXPECT_EQ(job.state, JobState::kCompleted);
  EXPECT_EQ(job.charged, (queue::AmountMap{{"gpu-hours", 750}}));  // 30 + 15 minutes
  EXPECT_TRUE(job.reserved.empty());
  EXPECT_EQ(ChargedInStore(), 750);
  quota::ResourceBalance b = Balance();
  EXPECT_EQ(b.charged, MilliUnits::FromMilli(750));
  EXPECT_EQ(b.reserved, MilliUnits::Zero());
}

TEST_F(QuotaManagerTest, ARequeueDroccdMissedIsChargedUpToTheNextStart) {
  Model(4000);
  Restart();
  JobId id = Submit(MakeJob(1, 3600))->job.id;
  manager_->RunOnce();
  const uint64_t slurm_id = Get(id).slurm_job_id;
  ASSERT_TRUE(backend_.Start(slurm_id, "n1", 1, 4, 1).ok());
  manager_->RunOnce();
  manager_.reset();  // droccd is down while Slurm requeues the job and runs it again
  clock_.Advance(absl::Minutes(12));
  ASSERT_TRUE(backend_.Requeue(slurm_id).ok());
  ASSERT_TRUE(backend_.Start(slurm_id, "n2", 1, 4, 1).ok());
  clock_.Advance(absl::Minutes(6));
  Restart();
  manager_->RunOnce();
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.requeue_count, 1u);
  EXPECT_EQ(job.charged, (queue::AmountMap{{"gpu-hours", 200}}));  // 12 minutes
  EXPECT_EQ(job.reserved, (queue::AmountMap{{"gpu-hours", 1000}}));
  auto full = store_->GetJob(id, /*with_events=*/true);
  ASSERT_TRUE(full.ok());
  ASSERT_GE(full->events.size(), 2u);
  EXPECT_EQ(full->events[full->events.size() - 2].state, JobState::kRequeued);
  EXPECT_EQ(full->events.back().state, JobState::kRunning);
  clock_.Advance(absl::Minutes(3));
  ASSERT_TRUE(backend_.Finish(slurm_id, JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  EXPECT_EQ(Get(id).charged, (queue::AmountMap{{"gpu-hours", 350}}));  // 12 + 9 minutes
  EXPECT_EQ(ChargedInStore(), 350);
}

TEST_F(QuotaManagerTest, TheJobItselfCanAskForARequeueOnlyWhileRunning) {
  Model(4000);
  Restart();
  JobId id = Submit(MakeJob(1, 3600))->job.id;
  manager_->RunOnce();
  const uint64_t slurm_id = Get(id).slurm_job_id;
  auto ask = [&](JobId job) {
    std::promise<absl::Status> p;
    manager_->RequestRequeue(job, "checkpoint at step 40",
                             [&p](absl::Status s) { p.set_value(s); });
    manager_->RunPosted();
    return p.get_future().get();
  };
  absl::Status early = ask(id);  // still waiting in Slurm
  EXPECT_EQ(early.code(), absl::StatusCode::kFailedPrecondition) << early;
  EXPECT_NE(early.message().find("ADMITTED, not RUNNING"), std::string::npos) << early;
  EXPECT_EQ(ask(id + 100).code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(backend_.Start(slurm_id, "n1", 1, 4, 1).ok());
  manager_->RunOnce();
  clock_.Advance(absl::Minutes(6));
  ASSERT_TRUE(ask(id).ok());
  manager_->RunOnce();
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kRequeued);
  EXPECT_EQ(job.reason, "requeued at the job's request: checkpoint at step 40");
  EXPECT_EQ(job.charged, (queue::AmountMap{{"gpu-hours", 100}}));
}

TEST_F(QuotaManagerTest, AJobNoGrantCouldPayIsRejectedWithTheNumbers) {
  Model(2000);
  Restart();
  auto r = Submit(MakeJob(4, 3600));  // 4.0 gpu-hours > 2.0
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->job.state, JobState::kRejected);
  EXPECT_NE(r->job.reason.find("4.0 gpu-hours"), std::string::npos) << r->job.reason;
  EXPECT_NE(r->job.reason.find("2.0 left"), std::string::npos) << r->job.reason;
  EXPECT_EQ(Get(r->job.id).state, JobState::kRejected);  // stored, visible in drocc jobs
  manager_->RunOnce();
  EXPECT_EQ(backend_.submit_calls(), 0u);
}

TEST_F(QuotaManagerTest, NonMembersAndUnknownProjectsStoreNothing) {
  Model(2000);
  Restart();
  Job stranger = MakeJob(1, 60);
  stranger.user = "bob";
  auto r = Submit(stranger);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
  r = Submit(MakeJob(1, 60, "other-project"));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kPermissionDenied) << r.status();
  auto jobs = store_->ListJobs({});
  ASSERT_TRUE(jobs.ok());
  EXPECT_TRUE(jobs->empty());
}

TEST_F(QuotaManagerTest, ASecondJobWaitsForBudgetAndRunsOnceTheFirstSettled) {
  Model(2000);
  Restart();
  JobId first = Submit(MakeJob(1, 3600))->job.id;
  manager_->RunOnce();
  JobId second = Submit(MakeJob(1, 6000))->job.id;  // 1.667 > the 1.0 left after the hold
  manager_->RunOnce();
  Job waiting = Get(second);
  EXPECT_EQ(waiting.state, JobState::kPending);
  EXPECT_EQ(waiting.reason,
            "waiting for budget: 1 running job reserves 1.0 of the remaining 2.0 gpu-hours")
      << waiting.reason;
  uint64_t slurm_id = Get(first).slurm_job_id;
  ASSERT_TRUE(backend_.Start(slurm_id, "n1", 1, 1, 1).ok());
  clock_.Advance(absl::Minutes(6));
  ASSERT_TRUE(backend_.Finish(slurm_id, JobState::kCompleted, 0).ok());
  manager_->RunOnce();  // settles the first (0.1 charged): 1.9 left, the second fits
  EXPECT_EQ(Get(first).charged, (queue::AmountMap{{"gpu-hours", 100}}));
  manager_->RunOnce();
  EXPECT_EQ(Get(second).state, JobState::kAdmitted);
}

TEST_F(QuotaManagerTest, ProjectLimitsHoldJobsWithTheReason) {
  Model(100000, {.project = "sme-ai", .max_gpus = 2});
  Restart();
  JobId a = Submit(MakeJob(2, 60))->job.id;
  JobId b = Submit(MakeJob(1, 60))->job.id;
  manager_->RunOnce();
  EXPECT_EQ(Get(a).state, JobState::kAdmitted);
  Job held = Get(b);
  EXPECT_EQ(held.state, JobState::kPending);
  EXPECT_EQ(held.reason, "project limit: 2 of 2 GPUs in use");
  auto too_big = Submit(MakeJob(3, 60));
  ASSERT_TRUE(too_big.ok());
  EXPECT_EQ(too_big->job.state, JobState::kRejected);
}

TEST_F(QuotaManagerTest, ARetryAtThePendingLimitGetsTheFirstJobBack) {
  Model(100000, {.project = "sme-ai", .max_pending_jobs = 1});
  Restart();
  Job job = MakeJob(1, 60);
  job.idempotency_key = "k1";
  auto first = Submit(job);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->created);
  auto retry = Submit(job);  // the first fills the limit, yet its retry is not refused
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->job.id, first->job.id);
  Job another = MakeJob(1, 60);
  another.idempotency_key = "k2";
  EXPECT_EQ(Submit(another).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(QuotaManagerTest, CancelBeforeStartReleasesTheReservationWithoutACharge) {
  Model(2000);
  Restart();
  JobId id = Submit(MakeJob(1, 3600))->job.id;
  manager_->RunOnce();
  std::promise<absl::StatusOr<Job>> p;
  manager_->Cancel(id, "carol", [&p](absl::StatusOr<Job> j) { p.set_value(j); });
  manager_->RunOnce();
  ASSERT_TRUE(p.get_future().get().ok());
  manager_->RunOnce();
  EXPECT_EQ(Get(id).state, JobState::kCancelled);
  EXPECT_TRUE(Get(id).reserved.empty());
  EXPECT_EQ(Balance().reserved, MilliUnits::Zero());
  EXPECT_EQ(Balance().charged, MilliUnits::Zero());
  EXPECT_EQ(ChargedInStore(), 0);
}

// Acceptance 4: droccd restarts between admission and the job's end; the reservation is
// still held after the restart and the job is settled exactly once.
TEST_F(QuotaManagerTest, ReservationSurvivesARestartAndIsSettledOnce) {
  Model(2000);
  Restart();
  JobId id = Submit(MakeJob(1, 3600))->job.id;
  manager_->RunOnce();
  uint64_t slurm_id = Get(id).slurm_job_id;
  ASSERT_TRUE(backend_.Start(slurm_id, "n1", 1, 1, 1).ok());
  manager_->RunOnce();

  manager_.reset();  // crash
  store_->Close();
  OpenStore();
  Restart();
  EXPECT_EQ(Balance().reserved, MilliUnits::FromMilli(1000));
  EXPECT_EQ(Balance().holders, 1u);

  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(backend_.Finish(slurm_id, JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  manager_->RunOnce();
  Restart();  // and again after the end: nothing is charged twice
  manager_->RunOnce();
  EXPECT_EQ(Get(id).charged, (queue::AmountMap{{"gpu-hours", 500}}));
  EXPECT_EQ(ChargedInStore(), 500);
  quota::ResourceBalance b = Balance();
  EXPECT_EQ(b.charged, MilliUnits::FromMilli(500));
  EXPECT_EQ(b.reserved, MilliUnits::Zero());
  EXPECT_EQ(b.available, MilliUnits::FromMilli(1500));
}

// Acceptance 2: 64 concurrent submissions against a budget that pays exactly 8 of them.
TEST_F(QuotaManagerTest, SixtyFourConcurrentSubmitsAdmitExactlyWhatTheBudgetPays) {
  constexpr int kJobs = 64;
  constexpr int kFits = 8;
  Model(kFits * 1000);  // each job reserves 1.0 gpu-hours
  Restart(/*worker=*/true);
  std::vector<std::thread> threads;
  std::vector<absl::StatusOr<store::InsertResult>> results(kJobs, absl::UnknownError(""));
  for (int i = 0; i < kJobs; ++i) {
    threads.emplace_back([&, i] { results[i] = Submit(MakeJob(1, 3600), /*worker=*/true); });
  }
  for (std::thread& t : threads) t.join();
  for (const auto& r : results) ASSERT_TRUE(r.ok()) << r.status();

  auto count = [&](JobState s) {
    auto jobs = store_->ListJobs({.states = {s}, .limit = 0});
    EXPECT_TRUE(jobs.ok());
    return jobs->size();
  };
  // The worker admits within a few passes; wait for every job to have its verdict.
  for (int i = 0; i < 2000 && (count(JobState::kAdmitted) < kFits ||
                               count(JobState::kPending) + count(JobState::kAdmitted) < kJobs);
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // A few more passes, and each waiting job's reason is stored (asynchronously): wait for it.
  const std::string kWaiting =
      "waiting for budget: 8 running jobs reserve 8.0 of the remaining 8.0 gpu-hours";
  auto pending = store_->ListJobs({.states = {JobState::kPending}, .limit = 0});
  for (int i = 0; i < 2000 && pending.ok() &&
                  std::any_of(pending->begin(), pending->end(),
                              [&](const Job& j) { return j.reason != kWaiting; });
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    pending = store_->ListJobs({.states = {JobState::kPending}, .limit = 0});
  }
  EXPECT_EQ(count(JobState::kAdmitted), static_cast<size_t>(kFits));
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), static_cast<size_t>(kJobs - kFits));
  for (const Job& j : *pending) EXPECT_EQ(j.reason, kWaiting);
  EXPECT_EQ(Balance(true).available, MilliUnits::Zero());

  // Stop further admissions, then let the 8 run for different times and end.
  std::promise<absl::StatusOr<AdmissionStatus>> drained;
  manager_->SetDrained(true, "test", "dana",
                       [&](absl::StatusOr<AdmissionStatus> s) { drained.set_value(s); });
  ASSERT_TRUE(drained.get_future().get().ok());
  auto admitted = store_->ListJobs({.states = {JobState::kAdmitted}, .limit = 0});
  ASSERT_TRUE(admitted.ok());
  int64_t expected = 0;
  for (size_t k = 0; k < admitted->size(); ++k) {
    const Job& j = (*admitted)[k];
    ASSERT_TRUE(backend_.Start(j.slurm_job_id, "n1", 1, 1, 1).ok());
  }
  for (size_t k = 0; k < admitted->size(); ++k) {
    clock_.Advance(absl::Minutes(3));  // job k runs 3·(k+1) minutes: 0.05·(k+1) gpu-hours
    expected += 50 * static_cast<int64_t>(k + 1);
    ASSERT_TRUE(backend_.Finish((*admitted)[k].slurm_job_id, JobState::kCompleted, 0).ok());
  }
  for (int i = 0; i < 2000 && count(JobState::kCompleted) < kFits; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(count(JobState::kCompleted), static_cast<size_t>(kFits));
  int64_t sum_of_jobs = 0;
  auto completed = store_->ListJobs({.states = {JobState::kCompleted}, .limit = 0});
  ASSERT_TRUE(completed.ok()) << completed.status();
  for (const Job& j : *completed) {
    sum_of_jobs += j.charged.at("gpu-hours");
  }
  EXPECT_EQ(sum_of_jobs, expected);
  EXPECT_EQ(ChargedInStore(), expected);
  quota::ResourceBalance b = Balance(true);
  EXPECT_EQ(b.charged, MilliUnits::FromMilli(expected));
  EXPECT_EQ(b.reserved, MilliUnits::Zero());
  EXPECT_EQ(b.holders, 0u);
}

}  // namespace
}  // namespace drocc::manager
