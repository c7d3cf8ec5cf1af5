// JobManager under store write faults (issue "Reliability: nothing acknowledged is ever lost,
// duplicated or charged twice"). A real SqliteStore on a temporary file, wrapped in a
// FaultInjectingStore; FakeBackend plays Slurm, FakeClock the time.
//
// Single faults at the steps where droccd once got it wrong, then every write of every step:
// each scenario drives one job through a piece of its life (submission, admission with its
// reservation, the recording of its Slurm id, running, a requeue, its end and settlement, a
// cancel, a drain). It runs once without faults, which numbers its writes; then once for
// every write and both fault modes (the write fails and nothing is stored; the write is
// stored but reported failed), each on a fresh database. After every round the invariants
// are checked on the manager's live quota state and on a QuotaBook loaded afresh from the
// database (what a restarted droccd would see); at the end the job must have ended as in the
// run without faults, charged exactly as much, once, with as many Slurm submissions, also
// after a restart and more rounds.

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/manager/job_manager.h"
#include "daemon/slurm/fake_backend.h"
#include "daemon/store/fault_injecting_store.h"
#include "daemon/store/sqlite_store.h"
#include "spdlog/spdlog.h"
#include "tests/unit/store/test_util.h"

namespace drocc::queue {
// Job states by name in failure messages (found by argument-dependent lookup).
static void PrintTo(JobState s, std::ostream* os) { *os << JobStateName(s); }
}  // namespace drocc::queue

namespace drocc::manager {
namespace {

using queue::Job;
using queue::JobId;
using queue::JobState;
using store::Fault;
using store::FaultMode;

constexpr char kKey[] = "submit-1";
constexpr int kMaxRounds = 6;

std::string Str(const queue::AmountMap& m) {
  return absl::StrCat("{", absl::StrJoin(m, ", ", absl::PairFormatter(": ")), "}");
}

// What a scenario ended with, compared between the run without faults and each faulty run.
struct Outcome {
  JobState state = JobState::kPending;
  queue::AmountMap charged;
  size_t slurm_submissions = 0;
};

class StoreFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::off); }  // errors are the point
  void TearDown() override { Close(); }

  void Close() {
    manager_.reset();
    faulty_.reset();
    store_.reset();
  }

  // A new database, Slurm and manager; nothing armed.
  void Fresh() {
    Close();
    dir_ = std::make_unique<store::TempDir>(store::MemoryTempParent());  // hundreds of runs
    clock_.Set(absl::FromUnixSeconds(1'798'761'600));                    // 2027-01-01
    backend_ = std::make_unique<slurm::FakeBackend>(&clock_, 500);
    auto s = store::SqliteStore::Open({.path = dir_->File("droccd.db")});
    ASSERT_TRUE(s.ok()) << s.status();
    store_ = *std::move(s);
    faulty_ = std::make_unique<store::FaultInjectingStore>(store_.get());
    // Project "sme-ai" with carol in it and 100 gpu-hours: budgets never hold a job back.
    std::vector<store::QuotaChange> model = {
        {.value = quota::Account{.name = "acme", .kind = quota::AccountKind::kSme}},
        {.value = quota::Project{.name = "sme-ai", .account = "acme"}},
        {.value = quota::Member{.project = "sme-ai", .user = "carol", .is_default = true}},
        {.value = store::StoredGrant{.grant = {.project = "sme-ai",
                                               .amount = quota::MilliUnits::FromUnits(100),
                                               .valid_from = clock_.Now() - absl::Hours(1)},
                                     .resource = "gpu-hours"}},
    };
    ASSERT_TRUE(store::ApplyQuotaChangesAndWait(*store_, model, {.user = "test"}).ok());
    Restart();
  }

  // A new manager over the same database and Slurm, as after a crash of droccd.
  void Restart() {
    manager_.reset();
    manager_ = std::make_unique<JobManager>(faulty_.get(), backend_.get(), &clock_,
                                            JobManagerOptions{.run_worker = false});
    absl::Status s = manager_->Start();
    ASSERT_TRUE(s.ok()) << s;
  }

  // --- The client, which retries what failed, as drocc does (submit with the same key).

  Job MakeJob() {
    Job job;
    job.spec.name = "train";
    job.spec.script = "#!/bin/bash\ntrain\n";
    job.spec.workdir = "/home/carol";
    job.spec.gpus_per_node = 2;
    job.spec.time_limit_s = 7200;  // 4 gpu-hours reserved
    job.user = "carol";
    job.uid = 1003;
    job.gid = 1003;
    job.reason = "queued";
    job.idempotency_key = kKey;
    job.submit_time = clock_.Now();
    return job;
  }

  JobId Submit() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      Job job = MakeJob();
      std::promise<absl::StatusOr<store::InsertResult>> p;
      manager_->Submit(job, [&p](absl::StatusOr<store::InsertResult> r) { p.set_value(r); });
      manager_->RunPosted();
      absl::StatusOr<store::InsertResult> r = p.get_future().get();
      if (r.ok()) return r->job.id;
    }
    ADD_FAILURE() << "submit failed three times";
    return 0;
  }

  // Cancels until droccd answers (an ended job is an answer too).
  void Cancel(JobId id) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::promise<absl::StatusOr<Job>> p;
      manager_->Cancel(id, "carol", [&p](absl::StatusOr<Job> j) { p.set_value(j); });
      manager_->RunPosted();
      absl::StatusOr<Job> r = p.get_future().get();
      if (r.ok() || absl::IsFailedPrecondition(r.status())) return;
    }
    ADD_FAILURE() << "cancel failed three times";
  }

  void Drain() {
    for (int attempt = 0; attempt < 3; ++attempt) {
      std::promise<absl::StatusOr<AdmissionStatus>> p;
      manager_->SetDrained(true, "maintenance", "dana",
                           [&p](absl::StatusOr<AdmissionStatus> s) { p.set_value(s); });
      manager_->RunPosted();
      if (p.get_future().get().ok()) return;
    }
    ADD_FAILURE() << "drain failed three times";
  }

  // --- Reading the truth.

  // Every write queued before is durable (pending reasons are written without waiting; the
  // store's single writer keeps order, so a write of our own, past the injector, is a barrier).
  void Barrier() { ASSERT_TRUE(store::PutSettingAndWait(*store_, "test.barrier", "").ok()); }

  std::vector<Job> Jobs() {
    Barrier();
    auto jobs = store_->ListJobs({.limit = 0});
    EXPECT_TRUE(jobs.ok()) << jobs.status();
    return jobs.ok() ? *jobs : std::vector<Job>{};
  }

  std::optional<Job> TheJob() {
    std::vector<Job> jobs = Jobs();
    if (jobs.empty()) return std::nullopt;
    return jobs.front();
  }

  JobState State() {
    std::optional<Job> job = TheJob();
    return job ? job->state : JobState::kPending;
  }

  uint64_t SlurmId() { return backend_->SlurmIdOf(TheJob() ? TheJob()->id : 0).value_or(0); }

  // The invariants of the issue, on `book` (live or loaded afresh) against the database.
  void CheckBook(const QuotaBook& book, absl::Time now, const std::vector<Job>& jobs,
                 const std::vector<store::ChargeTotal>& totals, const char* which) {
    SCOPED_TRACE(which);
    size_t holders = 0;
    for (const Job& job : jobs) {
      const quota::Reservation* r = book.ledger().FindReservation(job.id);
      if (job.reserved.empty()) {
        EXPECT_EQ(r, nullptr) << "job " << job.id << " holds a reservation the store does not";
        continue;
      }
      ++holders;
      EXPECT_NE(r, nullptr) << "job " << job.id << " is stored with " << Str(job.reserved)
                            << " reserved, which the ledger does not hold";
      if (r != nullptr) {
        EXPECT_EQ(Str(book.ToAmountMap(r->amount)), Str(job.reserved)) << "job " << job.id;
      }
    }
    EXPECT_EQ(book.ledger().reservation_count(), holders);
    std::map<uint64_t, int64_t> by_grant;
    for (const store::ChargeTotal& t : totals) by_grant[t.grant_id] += t.milli;
    for (const quota::GrantStatus& g : book.ledger().Grants("sme-ai", now)) {
      EXPECT_EQ(g.charged.milli(), by_grant[g.grant.id]) << "grant " << g.grant.id;
      EXPECT_GE(g.unspent.milli(), 0) << "grant " << g.grant.id;
    }
    const quota::ResourceBalance b = book.ledger().Balance("sme-ai", quota::kGpuHours, now);
    EXPECT_GE(b.granted.milli() - b.charged.milli(), 0) << "the balance went below zero";
    EXPECT_EQ(b.overdraft.milli(), by_grant[0]);
  }

  void CheckInvariants() {
    const std::vector<Job> jobs = Jobs();
    auto totals = store_->SumCharges();
    ASSERT_TRUE(totals.ok()) << totals.status();
    std::map<std::string, int64_t> charged_rows, charged_jobs;
    for (const store::ChargeTotal& t : *totals) charged_rows[t.resource] += t.milli;
    for (const Job& job : jobs) {
      for (const auto& [r, milli] : job.charged) charged_jobs[r] += milli;
      if (!job.reserved.empty()) {
        EXPECT_TRUE(queue::IsInSlurm(job.state))
            << "job " << job.id << " is " << queue::JobStateName(job.state) << " but holds "
            << Str(job.reserved);
      }
    }
    EXPECT_EQ(Str(charged_rows), Str(charged_jobs)) << "charge rows vs the jobs' charged";

    manager_->ReadQuota([&](const QuotaBook& book, absl::Time now) {
      CheckBook(book, now, jobs, *totals, "live");
    });
    manager_->RunPosted();

    QuotaBook fresh(QuotaOptions{});
    auto active = store_->ListActiveJobs();
    ASSERT_TRUE(active.ok()) << active.status();
    absl::Status s = fresh.Load(*store_, *active, clock_.Now());
    ASSERT_TRUE(s.ok()) << s;
    CheckBook(fresh, clock_.Now(), jobs, *totals, "after a restart");
  }

  // Rounds until `done`, checking the invariants after each; false (and a failure) if it
  // never holds.
  bool Until(const char* what, const std::function<bool()>& done) {
    for (int round = 0; round < kMaxRounds; ++round) {
      manager_->RunOnce();
      CheckInvariants();
      if (done()) return true;
    }
    ADD_FAILURE() << "never happened: " << what << " (job is " << queue::JobStateName(State())
                  << ")";
    return false;
  }
  bool UntilState(JobState s) {
    return Until(queue::JobStateName(s), [&] { return State() == s; });
  }
  bool UntilInSlurm() {
    return Until("the job is in Slurm", [&] { return SlurmId() != 0; });
  }

  // Submitted, admitted, started by Slurm a minute later and seen RUNNING; false (and a
  // failure) if it never gets there.
  bool Running() {
    Submit();
    if (!UntilInSlurm()) return false;
    clock_.Advance(absl::Minutes(1));
    EXPECT_TRUE(backend_->Start(SlurmId(), "n1").ok());
    return UntilState(JobState::kRunning);
  }

  std::unique_ptr<store::TempDir> dir_;
  FakeClock clock_;
  std::unique_ptr<slurm::FakeBackend> backend_;
  std::unique_ptr<store::SqliteStore> store_;
  std::unique_ptr<store::FaultInjectingStore> faulty_;
  std::unique_ptr<JobManager> manager_;
};

// --- One fault at a time, each at the step where droccd once got it wrong.

TEST_F(StoreFaultsTest, AnAdmissionTheStoreHoldsButReportedFailedGoesOnToSlurm) {
  ASSERT_NO_FATAL_FAILURE(Fresh());
  faulty_->Arm(Fault::Transition(JobState::kPending, JobState::kAdmitted, FaultMode::kAfterWrite));
  Submit();
  manager_->RunOnce();
  EXPECT_EQ(faulty_->faults_injected(), 1u);
  // The store holds ADMITTED with the reservation: the manager goes on as if it had been
  // told so, in the same round, and keeps the reservation.
  EXPECT_EQ(State(), JobState::kAdmitted);
  EXPECT_NE(SlurmId(), 0u) << "the admitted job was never handed to Slurm";
  CheckInvariants();
}

TEST_F(StoreFaultsTest, ASettlementWhoseWriteFailedIsChargedOnceOnTheNextPoll) {
  ASSERT_NO_FATAL_FAILURE(Fresh());
  ASSERT_TRUE(Running());
  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(backend_->Finish(SlurmId(), JobState::kCompleted, 0).ok());
  faulty_->Arm(
      Fault::Transition(JobState::kRunning, JobState::kCompleted, FaultMode::kBeforeWrite));
  manager_->RunOnce();
  EXPECT_EQ(faulty_->faults_injected(), 1u);
  EXPECT_EQ(State(), JobState::kRunning);
  CheckInvariants();  // the ledger still holds the reservation and has charged nothing
  manager_->RunOnce();
  ASSERT_EQ(State(), JobState::kCompleted);
  EXPECT_EQ(Str(TheJob()->charged), "{gpu-hours: 1000}");  // 30 min of 2 GPUs, once
  EXPECT_TRUE(TheJob()->reserved.empty());
  CheckInvariants();
}

TEST_F(StoreFaultsTest, ASlurmRefusalWhoseWriteFailedKeepsTheReservation) {
  ASSERT_NO_FATAL_FAILURE(Fresh());
  backend_->FailNextSubmit(absl::InvalidArgumentError("invalid partition"));
  faulty_->Arm(
      Fault::Transition(JobState::kAdmitted, JobState::kRejected, FaultMode::kBeforeWrite));
  Submit();
  manager_->RunOnce();
  EXPECT_EQ(faulty_->faults_injected(), 1u);
  EXPECT_EQ(State(), JobState::kAdmitted);
  CheckInvariants();  // the store still holds the reservation: so does the ledger
  // Slurm takes it on the next try; it runs and is charged.
  manager_->RunOnce();
  ASSERT_NE(SlurmId(), 0u);
  ASSERT_TRUE(backend_->Start(SlurmId(), "n1").ok());
  manager_->RunOnce();
  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(backend_->Finish(SlurmId(), JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  ASSERT_EQ(State(), JobState::kCompleted);
  EXPECT_EQ(Str(TheJob()->charged), "{gpu-hours: 1000}");
  CheckInvariants();
}

TEST_F(StoreFaultsTest, ARequeueSettlementWhoseWriteFailedIsChargedOnce) {
  ASSERT_NO_FATAL_FAILURE(Fresh());
  ASSERT_TRUE(Running());
  clock_.Advance(absl::Minutes(30));
  ASSERT_TRUE(backend_->Requeue(SlurmId()).ok());
  faulty_->Arm(Fault::Transition(JobState::kRunning, JobState::kRequeued, FaultMode::kBeforeWrite));
  manager_->RunOnce();
  EXPECT_EQ(faulty_->faults_injected(), 1u);
  EXPECT_EQ(State(), JobState::kRunning);
  CheckInvariants();  // nothing charged in memory either
  manager_->RunOnce();
  ASSERT_EQ(State(), JobState::kRequeued);
  EXPECT_EQ(Str(TheJob()->charged), "{gpu-hours: 1000}");
  EXPECT_EQ(Str(TheJob()->reserved), "{gpu-hours: 4000}");  // 2 GPUs for 2 h, again
  CheckInvariants();
}

TEST_F(StoreFaultsTest, ASubmissionTheStoreHoldsButReportedFailedIsQueued) {
  ASSERT_NO_FATAL_FAILURE(Fresh());
  faulty_->Arm(
      {.match =
           [](const store::WriteCall& w) { return w.kind == store::WriteCall::Kind::kInsertJob; },
       .mode = FaultMode::kAfterWrite});
  Job job = MakeJob();
  std::promise<absl::StatusOr<store::InsertResult>> p;
  manager_->Submit(job, [&p](absl::StatusOr<store::InsertResult> r) { p.set_value(r); });
  manager_->RunPosted();
  EXPECT_FALSE(p.get_future().get().ok());
  // The client gave up; the job is stored all the same, so it must run.
  manager_->RunOnce();
  EXPECT_EQ(State(), JobState::kAdmitted);
  EXPECT_NE(SlurmId(), 0u) << "a stored job was left PENDING";
  CheckInvariants();
  // A retry with the same key answers that job, once.
  EXPECT_EQ(Submit(), TheJob()->id);
  EXPECT_EQ(Jobs().size(), 1u);
}

TEST_F(StoreFaultsTest, APendingReasonWhoseWriteFailedIsWrittenAgain) {
  ASSERT_NO_FATAL_FAILURE(Fresh());
  Drain();
  faulty_->Arm(Fault::Transition(JobState::kPending, JobState::kPending, FaultMode::kBeforeWrite));
  Submit();
  manager_->RunOnce();
  EXPECT_EQ(faulty_->faults_injected(), 1u);
  EXPECT_EQ(TheJob()->reason, "queued");
  manager_->RunOnce();
  EXPECT_EQ(TheJob()->reason, "admission drained by an admin: maintenance");
}

// --- Every write of every step, both ways.

// Scenarios: one job through a piece of its life, driven as the client and Slurm would.
class StepFaultsTest : public StoreFaultsTest {
 public:
  void RequeuedThenCompleted() {
    if (!Running()) return;
    clock_.Advance(absl::Minutes(30));
    ASSERT_TRUE(backend_->Requeue(SlurmId()).ok());
    if (!UntilState(JobState::kRequeued)) return;
    clock_.Advance(absl::Minutes(1));
    ASSERT_TRUE(backend_->Start(SlurmId(), "n2").ok());
    if (!UntilState(JobState::kRunning)) return;
    clock_.Advance(absl::Minutes(30));
    ASSERT_TRUE(backend_->Finish(SlurmId(), JobState::kCompleted, 0).ok());
    UntilState(JobState::kCompleted);
  }

  void LostBySlurm() {
    if (!Running()) return;
    clock_.Advance(absl::Minutes(30));
    ASSERT_TRUE(backend_->Forget(SlurmId()));
    UntilState(JobState::kLost);
  }

  // Slurm refuses the job each time it is asked.
  void RefusedBySlurm() {
    backend_->FailNextSubmit(absl::InvalidArgumentError("invalid partition"));
    Submit();
    Until("the job is REJECTED", [&] {
      backend_->FailNextSubmit(absl::InvalidArgumentError("invalid partition"));
      return State() == JobState::kRejected;
    });
  }

  void CancelledWhilePending() {
    Drain();
    JobId id = Submit();
    manager_->RunOnce();  // an admission pass: the job waits, with the drain as its reason
    CheckInvariants();
    Cancel(id);
    UntilState(JobState::kCancelled);
  }

  void CancelledWhileWaitingInSlurm() {
    JobId id = Submit();
    if (!UntilInSlurm()) return;
    manager_->RunOnce();  // a poll: Slurm's reason for the wait is stored
    CheckInvariants();
    Cancel(id);
    UntilState(JobState::kCancelled);
  }

  void CancelledWhileRunning() {
    if (!Running()) return;
    clock_.Advance(absl::Minutes(12));
    Cancel(TheJob()->id);
    UntilState(JobState::kCancelled);
  }

 protected:
  // Runs `scenario` on a fresh database with `fault` armed (if any), then more rounds, a
  // restart and more rounds; answers how the job ended.
  Outcome Run(void (StepFaultsTest::*scenario)(), std::optional<Fault> fault) {
    Fresh();
    if (HasFatalFailure()) return {};
    if (fault) faulty_->Arm(*fault);
    (this->*scenario)();
    for (int round = 0; round < 2; ++round) {
      manager_->RunOnce();
      CheckInvariants();
    }
    Restart();
    for (int round = 0; round < 2; ++round) {
      manager_->RunOnce();
      CheckInvariants();
    }
    std::vector<Job> jobs = Jobs();
    EXPECT_EQ(jobs.size(), 1u) << "one submission, however often retried, is one job";
    Outcome out;
    if (!jobs.empty()) {
      out.state = jobs[0].state;
      out.charged = jobs[0].charged;
    }
    out.slurm_submissions = backend_->submitted().size();
    return out;
  }
};

int Failures() {
  return ::testing::UnitTest::GetInstance()->current_test_info()->result()->total_part_count();
}

struct Scenario {
  const char* name;
  void (StepFaultsTest::*run)();
  // Its writes without faults, in order (WriteCall::Describe without "write N: "): the steps
  // a fault is injected at. A change of droccd that writes differently shows here first.
  std::vector<std::string> writes;
  JobState end;               // how the job ends without faults
  int64_t charged_gpu_milli;  // and what it is charged
  size_t slurm_submissions;   // and how often it is handed to Slurm
};

constexpr char kInsert[] = "InsertJob (PENDING job of carol, key submit-1)";
constexpr char kAdmit[] = "UpdateJob job 1 PENDING -> ADMITTED, reserved";
constexpr char kSlurmId[] = "UpdateJob job 1 ADMITTED -> ADMITTED, Slurm id 500";
constexpr char kRun[] = "UpdateJob job 1 ADMITTED -> RUNNING";

// 2 GPUs for at most 2 h: 4 gpu-hours reserved. Charged: 30 min + 30 min = 2 gpu-hours;
// 30 min = 1; 12 min = 0.4.
const Scenario kScenarios[] = {
    {"requeued, then completed",
     &StepFaultsTest::RequeuedThenCompleted,
     {kInsert, kAdmit, kSlurmId, kRun, "UpdateJob job 1 RUNNING -> REQUEUED, reserved, charges",
      "UpdateJob job 1 REQUEUED -> RUNNING",
      "UpdateJob job 1 RUNNING -> COMPLETED, reserved, charges"},
     JobState::kCompleted,
     2000,
     1},
    {"lost by Slurm while running",
     &StepFaultsTest::LostBySlurm,
     {kInsert, kAdmit, kSlurmId, kRun, "UpdateJob job 1 RUNNING -> LOST, reserved, charges"},
     JobState::kLost,
     1000,
     1},
    {"refused by Slurm",
     &StepFaultsTest::RefusedBySlurm,
     {kInsert, kAdmit, "UpdateJob job 1 ADMITTED -> REJECTED, reserved"},
     JobState::kRejected,
     0,
     0},
    {"cancelled while pending (drained)",
     &StepFaultsTest::CancelledWhilePending,
     {"PutSetting admission.drain", kInsert, "UpdateJob job 1 PENDING -> PENDING",
      "UpdateJob job 1 PENDING -> CANCELLED"},
     JobState::kCancelled,
     0,
     0},
    {"cancelled while waiting in Slurm",
     &StepFaultsTest::CancelledWhileWaitingInSlurm,
     {kInsert, kAdmit, kSlurmId, "UpdateJob job 1 ADMITTED -> ADMITTED",
      "UpdateJob job 1 ADMITTED -> ADMITTED", "UpdateJob job 1 ADMITTED -> CANCELLED, reserved"},
     JobState::kCancelled,
     0,
     1},
    {"cancelled while running",
     &StepFaultsTest::CancelledWhileRunning,
     {kInsert, kAdmit, kSlurmId, kRun, "UpdateJob job 1 RUNNING -> RUNNING",
      "UpdateJob job 1 RUNNING -> CANCELLED, reserved, charges"},
     JobState::kCancelled,
     400,
     1},
};

TEST_F(StepFaultsTest, EveryWriteOfEveryStepFailsCleanlyOrSucceedsFully) {
  std::vector<std::string> failed;
  for (const Scenario& sc : kScenarios) {
    SCOPED_TRACE(sc.name);
    // Without faults: the writes, and the outcome every faulty run must reach too.
    const int failures_before_baseline = Failures();
    const Outcome expected = Run(sc.run, std::nullopt);
    const int64_t gpu =
        expected.charged.contains("gpu-hours") ? expected.charged.at("gpu-hours") : 0;
    if (Failures() != failures_before_baseline || expected.state != sc.end ||
        gpu != sc.charged_gpu_milli || expected.slurm_submissions != sc.slurm_submissions) {
      ADD_FAILURE() << "without faults the job ends " << queue::JobStateName(expected.state)
                    << " charged " << gpu << " milli gpu-hours after " << expected.slurm_submissions
                    << " Slurm submissions";
      failed.push_back(absl::StrCat(sc.name, ", without faults"));
      continue;
    }
    const std::vector<std::string> steps = faulty_->history();
    std::vector<std::string> writes;
    for (const std::string& step : steps) writes.push_back(step.substr(step.find(": ") + 2));
    if (writes != sc.writes) {
      ADD_FAILURE() << "the writes without faults are now\n  " << absl::StrJoin(writes, "\n  ")
                    << "\nupdate the table (every write is a step to inject a fault at)";
      failed.push_back(absl::StrCat(sc.name, ", its writes"));
    }

    for (size_t i = 0; i < steps.size(); ++i) {
      for (FaultMode mode : {FaultMode::kBeforeWrite, FaultMode::kAfterWrite}) {
        const std::string step =
            absl::StrCat(sc.name, ", ", steps[i],
                         mode == FaultMode::kBeforeWrite ? " fails, nothing stored"
                                                         : " is stored but reported failed");
        SCOPED_TRACE(step);
        const int failures_before = Failures();
        const Outcome got = Run(sc.run, Fault::NthWrite(i + 1, mode));
        EXPECT_EQ(faulty_->faults_injected(), 1u) << "the fault never hit its write";
        EXPECT_EQ(got.state, expected.state);
        EXPECT_EQ(Str(got.charged), Str(expected.charged)) << "charged once, as without faults";
        EXPECT_EQ(got.slurm_submissions, expected.slurm_submissions);
        if (Failures() != failures_before) failed.push_back(step);
      }
    }
  }
  EXPECT_TRUE(failed.empty()) << "steps that broke an invariant:\n  "
                              << absl::StrJoin(failed, "\n  ");
}

}  // namespace
}  // namespace drocc::manager
