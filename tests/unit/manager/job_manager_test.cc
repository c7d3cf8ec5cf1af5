// JobManager on fakes: FakeBackend plays Slurm, InMemoryStore the database, FakeClock time.
// Each test drives rounds by hand with RunOnce().

#include "daemon/manager/job_manager.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <future>

#include "daemon/slurm/fake_backend.h"
#include "daemon/store/in_memory_store.h"
#include "spdlog/spdlog.h"

namespace drocc::manager {
namespace {

using queue::Job;
using queue::JobId;
using queue::JobState;

class JobManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    // Project "lab-ml" with alice as a member and ample hours, so quotas never get in the way
    // of the lifecycle tests below (quota_test.cc tests quotas).
    std::vector<store::QuotaChange> model = {
        {.value = quota::Account{.name = "lab", .kind = quota::AccountKind::kLab}},
        {.value = quota::Project{.name = "lab-ml", .account = "lab"}},
        {.value = quota::Member{.project = "lab-ml", .user = "alice", .is_default = true}},
        {.value = store::StoredGrant{.grant = {.project = "lab-ml",
                                               .amount = quota::MilliUnits::FromUnits(1000000)},
                                     .resource = "node-hours"}},
    };
    ASSERT_TRUE(store::ApplyQuotaChangesAndWait(store_, model, {.user = "test"}).ok());
    Restart();
  }

  // A new manager over the same store and backend, as after a crash of droccd.
  void Restart(uint32_t cap = 64) {
    manager_.reset();
    JobManagerOptions options = options_;
    options.max_jobs_in_slurm = cap;
    manager_ = std::make_unique<JobManager>(&store_, &backend_, &clock_, std::move(options));
    ASSERT_TRUE(manager_->Start().ok());
  }

  store::InsertResult Submit(const std::string& key = "", uint32_t uid = 1001) {
    Job job;
    job.spec.name = "train";
    job.spec.script = "#!/bin/bash\necho hi\n";
    job.spec.workdir = "/home/alice";
    job.user = "alice";
    job.uid = uid;
    job.gid = uid;
    job.submit_time = clock_.Now();
    job.reason = "queued";
    job.idempotency_key = key;
    std::promise<absl::StatusOr<store::InsertResult>> p;
    manager_->Submit(job, [&p](absl::StatusOr<store::InsertResult> r) { p.set_value(r); });
    manager_->RunPosted();
    auto r = p.get_future().get();
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  }

  Job Get(JobId id) {
    auto job = store_.GetJob(id, /*with_events=*/true);
    EXPECT_TRUE(job.ok()) << job.status();
    return *job;
  }

  absl::StatusOr<Job> Cancel(JobId id) {
    std::promise<absl::StatusOr<Job>> p;
    manager_->Cancel(id, "alice", [&p](absl::StatusOr<Job> j) { p.set_value(j); });
    manager_->RunOnce();
    return p.get_future().get();
  }

  absl::StatusOr<AdmissionStatus> SetDrained(bool drained, const std::string& reason = "") {
    std::promise<absl::StatusOr<AdmissionStatus>> p;
    manager_->SetDrained(drained, reason, "dana",
                         [&p](absl::StatusOr<AdmissionStatus> s) { p.set_value(s); });
    manager_->RunOnce();
    return p.get_future().get();
  }

  uint64_t SlurmId(JobId id) { return Get(id).slurm_job_id; }

  // What a droccd that crashed right after storing ADMITTED leaves behind.
  void MarkAdmittedWithoutSlurmId(JobId id) {
    ASSERT_TRUE(
        store::UpdateJobAndWait(
            store_,
            {.id = id, .from = JobState::kPending, .to = JobState::kAdmitted, .at = clock_.Now()})
            .ok());
  }

  JobManagerOptions options_{.run_worker = false};
  FakeClock clock_;
  store::InMemoryStore store_;
  slurm::FakeBackend backend_{&clock_, 100};
  std::unique_ptr<JobManager> manager_;
};

TEST_F(JobManagerTest, SubmittedJobIsStoredPendingThenAdmittedToSlurm) {
  store::InsertResult r = Submit();
  EXPECT_TRUE(r.created);
  EXPECT_EQ(r.job.state, JobState::kPending);
  EXPECT_EQ(Get(r.job.id).state, JobState::kPending);  // durable before any round
  manager_->RunOnce();
  Job job = Get(r.job.id);
  EXPECT_EQ(job.state, JobState::kAdmitted);
  EXPECT_EQ(job.slurm_job_id, 100u);
  EXPECT_NE(job.admit_time, absl::InfinitePast());
  ASSERT_EQ(backend_.submitted().size(), 1u);
  // Slurm gets the whole job, script included, though the manager keeps it slim.
  EXPECT_EQ(backend_.submitted()[0].spec.script, "#!/bin/bash\necho hi\n");
  EXPECT_EQ(backend_.submitted()[0].uid, 1001u);
}

TEST_F(JobManagerTest, SameIdempotencyKeyReturnsTheSameJobAndSubmitsOnce) {
  store::InsertResult first = Submit("key-1");
  store::InsertResult again = Submit("key-1");
  EXPECT_TRUE(first.created);
  EXPECT_FALSE(again.created);
  EXPECT_EQ(again.job.id, first.job.id);
  store::InsertResult other_user = Submit("key-1", 1002);
  EXPECT_TRUE(other_user.created);
  EXPECT_NE(other_user.job.id, first.job.id);
  manager_->RunOnce();
  EXPECT_EQ(backend_.submit_calls(), 2u);
}

TEST_F(JobManagerTest, FollowsTheJobThroughSlurmToItsEnd) {
  JobId id = Submit().job.id;
  manager_->RunOnce();
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(backend_.Start(SlurmId(id), "n[1-2]").ok());
  manager_->RunOnce();
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.nodes, "n[1-2]");
  EXPECT_EQ(job.start_time, clock_.Now());
  clock_.Advance(absl::Minutes(3));
  ASSERT_TRUE(backend_.Finish(SlurmId(id), JobState::kFailed, 3).ok());
  manager_->RunOnce();
  job = Get(id);
  EXPECT_EQ(job.state, JobState::kFailed);
  EXPECT_EQ(job.exit_code, 3);
  EXPECT_EQ(job.end_time, clock_.Now());
  std::vector<JobState> states;
  for (const auto& e : job.events) states.push_back(e.state);
  EXPECT_EQ(states, (std::vector<JobState>{JobState::kPending, JobState::kAdmitted,
                                           JobState::kRunning, JobState::kFailed}));
  EXPECT_EQ(manager_->admission_status().jobs_in_slurm, 0u);
}

TEST_F(JobManagerTest, EveryEndStateIsRecorded) {
  for (JobState end :
       {JobState::kCompleted, JobState::kFailed, JobState::kCancelled, JobState::kTimeout}) {
    JobId id = Submit().job.id;
    manager_->RunOnce();
    ASSERT_TRUE(backend_.Start(SlurmId(id), "n1").ok());
    manager_->RunOnce();
    ASSERT_TRUE(backend_.Finish(SlurmId(id), end, end == JobState::kCompleted ? 0 : 1).ok());
    manager_->RunOnce();
    EXPECT_EQ(Get(id).state, end) << queue::JobStateName(end);
  }
}

TEST_F(JobManagerTest, JobThatEndsBeforeItIsSeenRunningGoesStraightToItsEnd) {
  JobId id = Submit().job.id;
  manager_->RunOnce();
  ASSERT_TRUE(backend_.Start(SlurmId(id), "n1").ok());
  ASSERT_TRUE(backend_.Finish(SlurmId(id), JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kCompleted);
  EXPECT_EQ(job.exit_code, 0);
  EXPECT_EQ(job.nodes, "n1");
}

TEST_F(JobManagerTest, CapOnJobsInSlurmKeepsTheRestPendingWithAReason) {
  Restart(/*cap=*/2);
  JobId a = Submit().job.id, b = Submit().job.id, c = Submit().job.id;
  manager_->RunOnce();
  EXPECT_EQ(Get(a).state, JobState::kAdmitted);
  EXPECT_EQ(Get(b).state, JobState::kAdmitted);
  EXPECT_EQ(Get(c).state, JobState::kPending);
  EXPECT_EQ(Get(c).reason, "cluster full: 2 of 2 drocc jobs in Slurm");
  EXPECT_EQ(manager_->admission_status().pending_jobs, 1u);
  ASSERT_TRUE(backend_.Finish(SlurmId(a), JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  manager_->RunOnce();
  EXPECT_EQ(Get(c).state, JobState::kAdmitted);
}

TEST_F(JobManagerTest, DrainHoldsJobsAndSurvivesARestart) {
  auto st = SetDrained(true, "maintenance");
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(st->drained);
  EXPECT_EQ(st->changed_by, "dana");
  JobId id = Submit().job.id;
  manager_->RunOnce();
  EXPECT_EQ(Get(id).state, JobState::kPending);
  EXPECT_EQ(Get(id).reason, "admission drained by an admin: maintenance");
  Restart();
  manager_->RunOnce();
  EXPECT_TRUE(manager_->admission_status().drained);
  EXPECT_EQ(Get(id).state, JobState::kPending);
  ASSERT_TRUE(SetDrained(false).ok());
  EXPECT_EQ(Get(id).state, JobState::kAdmitted);
  EXPECT_EQ(backend_.submit_calls(), 1u);
}

TEST_F(JobManagerTest, CancelPendingJobNeverReachesSlurm) {
  ASSERT_TRUE(SetDrained(true).ok());
  JobId id = Submit().job.id;
  auto job = Cancel(id);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->reason, "cancelled by alice before it was admitted");
  ASSERT_TRUE(SetDrained(false).ok());
  EXPECT_EQ(backend_.submit_calls(), 0u);
  EXPECT_EQ(manager_->admission_status().pending_jobs, 0u);
}

TEST_F(JobManagerTest, CancelRunningJobAsksSlurmAndRecordsWhoCancelled) {
  JobId id = Submit().job.id;
  manager_->RunOnce();
  ASSERT_TRUE(backend_.Start(SlurmId(id), "n1").ok());
  manager_->RunOnce();
  auto job = Cancel(id);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(backend_.cancel_requests(), (std::vector<uint64_t>{SlurmId(id)}));
  manager_->RunOnce();
  EXPECT_EQ(Get(id).state, JobState::kCancelled);
  EXPECT_EQ(Get(id).reason, "cancelled by alice");
}

TEST_F(JobManagerTest, CancelEndedOrUnknownJobIsRefused) {
  JobId id = Submit().job.id;
  manager_->RunOnce();
  ASSERT_TRUE(backend_.Finish(SlurmId(id), JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  EXPECT_EQ(Cancel(id).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Cancel(999).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(JobManagerTest, RestartFollowsRunningJobsWithoutResubmitting) {
  JobId id = Submit().job.id;
  manager_->RunOnce();
  ASSERT_TRUE(backend_.Start(SlurmId(id), "n1").ok());
  manager_->RunOnce();
  Restart();
  ASSERT_TRUE(backend_.Finish(SlurmId(id), JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  EXPECT_EQ(Get(id).state, JobState::kCompleted);
  EXPECT_EQ(backend_.submit_calls(), 1u);
}

// The crash window: ADMITTED is durable, Slurm took the job, but its id was never recorded.
TEST_F(JobManagerTest, RestartAdoptsTheSlurmJobInsteadOfSubmittingAgain) {
  JobId id = Submit().job.id;
  MarkAdmittedWithoutSlurmId(id);
  auto slurm_id = backend_.Submit(Get(id));  // what the dead droccd managed to do
  ASSERT_TRUE(slurm_id.ok());
  Restart();
  manager_->RunOnce();
  EXPECT_EQ(Get(id).slurm_job_id, *slurm_id);
  EXPECT_EQ(backend_.submit_calls(), 1u);
}

TEST_F(JobManagerTest, RestartSubmitsAnAdmittedJobSlurmNeverGot) {
  JobId id = Submit().job.id;
  MarkAdmittedWithoutSlurmId(id);
  Restart();
  manager_->RunOnce();
  manager_->RunOnce();
  EXPECT_NE(Get(id).slurm_job_id, 0u);
  EXPECT_EQ(backend_.submit_calls(), 1u);
}

TEST_F(JobManagerTest, SlurmDownKeepsAcceptingAndSubmitsExactlyOnceWhenBack) {
  JobId id = Submit().job.id;
  backend_.FailNextSubmit(absl::UnavailableError("slurmctld timed out"));
  manager_->RunOnce();
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kAdmitted);
  EXPECT_EQ(job.slurm_job_id, 0u);
  EXPECT_NE(job.reason.find("Slurm unreachable"), std::string::npos) << job.reason;
  backend_.SetUnavailable(true);
  clock_.Advance(absl::Seconds(1));
  manager_->RunOnce();
  AdmissionStatus status = manager_->admission_status();
  EXPECT_FALSE(status.slurm_reachable);
  EXPECT_EQ(status.slurm_down_since, clock_.Now() - absl::Seconds(1));
  JobId queued = Submit().job.id;  // still accepted
  manager_->RunOnce();
  EXPECT_EQ(Get(queued).state, JobState::kPending);
  EXPECT_NE(Get(queued).reason.find("Slurm cannot be reached since 2026-01-01 00:00:00 UTC"),
            std::string::npos)
      << Get(queued).reason;
  backend_.SetUnavailable(false);
  clock_.Advance(absl::Seconds(10));  // past the backoff
  manager_->RunOnce();
  manager_->RunOnce();
  EXPECT_NE(SlurmId(id), 0u);
  EXPECT_EQ(Get(queued).state, JobState::kAdmitted);
  EXPECT_EQ(backend_.live_jobs(), 2u);
  EXPECT_TRUE(manager_->admission_status().slurm_reachable);
  EXPECT_EQ(manager_->admission_status().slurm_down_since, absl::InfinitePast());
}

TEST_F(JobManagerTest, SlurmDownIsAskedAgainWithBackoff) {
  Submit();
  manager_->RunOnce();  // in Slurm: every round polls
  backend_.SetUnavailable(true);
  const size_t before = backend_.list_calls();
  for (int i = 0; i < 60; ++i) {  // one minute, a round a second
    manager_->RunOnce();
    clock_.Advance(absl::Seconds(1));
  }
  // 1, 2, 4, 8 s, then every 10 s: not 60 times.
  const size_t tries = backend_.list_calls() - before;
  EXPECT_GE(tries, 7u);
  EXPECT_LE(tries, 10u);
  backend_.SetUnavailable(false);
  clock_.Advance(absl::Seconds(10));
  manager_->RunOnce();
  EXPECT_TRUE(manager_->admission_status().slurm_reachable);
}

// A database restored from a backup: a job it has as PENDING was handed to Slurm later.
TEST_F(JobManagerTest, ReconciliationAdoptsAPendingJobSlurmAlreadyHas) {
  ASSERT_TRUE(SetDrained(true).ok());
  JobId id = Submit().job.id;
  auto slurm_id = backend_.Submit(Get(id));  // what the lost record's droccd did
  ASSERT_TRUE(slurm_id.ok());
  Restart();
  ASSERT_TRUE(SetDrained(false).ok());  // RunOnce: reconciliation first, then admission
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kAdmitted);
  EXPECT_EQ(job.slurm_job_id, *slurm_id);
  EXPECT_TRUE(std::any_of(job.events.begin(), job.events.end(), [](const queue::JobEvent& e) {
    return e.reason.starts_with("adopted: Slurm already had it as job");
  }));
  EXPECT_FALSE(job.reserved.empty());
  EXPECT_EQ(backend_.submit_calls(), 1u);  // never submitted again
  ASSERT_TRUE(backend_.Start(*slurm_id, "n1", 1, 4, 0).ok());
  clock_.Advance(absl::Hours(1));
  ASSERT_TRUE(backend_.Finish(*slurm_id, JobState::kCompleted, 0).ok());
  manager_->RunOnce();
  job = Get(id);
  EXPECT_EQ(job.state, JobState::kCompleted);
  EXPECT_TRUE(job.reserved.empty());
  EXPECT_EQ(job.charged.at("node-hours"), 1000);  // 1 node for 1 hour
}

TEST_F(JobManagerTest, ReconciliationLeavesOtherInstancesJobsAlone) {
  options_.instance = "0a1b2c3d";
  backend_.SetInstance("0a1b2c3d");
  Restart();
  JobId id = Submit().job.id;
  // Another droccd's job with the same drocc id, and an untagged one (an older droccd's).
  slurm::BackendJob other{.drocc_id = id, .instance = "ffff0000", .state = JobState::kRunning};
  backend_.Inject(other);
  slurm::BackendJob untagged{.drocc_id = id, .state = JobState::kRunning};
  const uint64_t untagged_id = backend_.Inject(untagged);
  manager_->RunOnce();
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kAdmitted);
  EXPECT_EQ(backend_.submit_calls(), 1u);
  EXPECT_NE(job.slurm_job_id, untagged_id);
  EXPECT_TRUE(backend_.cancel_requests().empty());  // neither is ours to cancel
  EXPECT_EQ(backend_.Get(job.slurm_job_id)->instance, "0a1b2c3d");
}

// A database from before instance ids: its Slurm jobs are untagged, and are its own.
TEST_F(JobManagerTest, ReconciliationAdoptsUntaggedJobsOfAnOlderDatabase) {
  JobId id = Submit().job.id;
  MarkAdmittedWithoutSlurmId(id);
  slurm::BackendJob untagged{.drocc_id = id, .state = JobState::kRunning, .nodes = "n1"};
  const uint64_t untagged_id = backend_.Inject(untagged);
  options_.instance = "0a1b2c3d";
  options_.adopt_untagged = true;
  backend_.SetInstance("0a1b2c3d");
  Restart();
  manager_->RunOnce();
  EXPECT_EQ(Get(id).slurm_job_id, untagged_id);
  EXPECT_EQ(Get(id).state, JobState::kRunning);
  EXPECT_EQ(backend_.submit_calls(), 0u);
}

TEST_F(JobManagerTest, ReconciliationCancelsASecondLiveSlurmJobOfAFollowedJob) {
  JobId id = Submit().job.id;
  manager_->RunOnce();
  const uint64_t followed = SlurmId(id);
  slurm::BackendJob twin{.drocc_id = id, .state = JobState::kRunning};
  const uint64_t twin_id = backend_.Inject(twin);
  slurm::BackendJob ended{.drocc_id = id, .state = JobState::kFailed};
  backend_.Inject(ended);  // an ended record (a submission Slurm refused): left alone
  manager_->RunOnce();
  EXPECT_TRUE(backend_.cancel_requests().empty());  // not due yet
  clock_.Advance(absl::Seconds(61));
  manager_->RunOnce();
  EXPECT_EQ(backend_.cancel_requests(), std::vector<uint64_t>{twin_id});
  EXPECT_EQ(SlurmId(id), followed);
  EXPECT_EQ(Get(id).state, JobState::kAdmitted);
}

TEST_F(JobManagerTest, ReconciliationReportsButKeepsAJobDroccEnded) {
  JobId id = Submit().job.id;
  ASSERT_TRUE(Cancel(id).ok());
  slurm::BackendJob stray{.drocc_id = id, .state = JobState::kRunning};
  backend_.Inject(stray);
  Restart();
  manager_->RunOnce();
  EXPECT_EQ(Get(id).state, JobState::kCancelled);
  EXPECT_TRUE(backend_.cancel_requests().empty());
}

// The settlement rule of LOST: a job seen running is charged from its start until droccd
// noticed, at most its time limit; a job never seen running is charged nothing.
TEST_F(JobManagerTest, LostJobsAreSettledByTheDocumentedRule) {
  JobId ran = Submit().job.id;
  JobId waited = Submit().job.id;
  manager_->RunOnce();
  ASSERT_TRUE(backend_.Start(SlurmId(ran), "n1", 1, 4, 0).ok());
  manager_->RunOnce();
  ASSERT_EQ(Get(ran).state, JobState::kRunning);
  const int64_t limit_s = Get(ran).spec.time_limit_s;
  ASSERT_GT(limit_s, 0);
  clock_.Advance(absl::Seconds(limit_s) + absl::Hours(5));  // droccd was away for long
  ASSERT_TRUE(backend_.Forget(SlurmId(ran)));
  ASSERT_TRUE(backend_.Forget(SlurmId(waited)));
  manager_->RunOnce();
  Job lost = Get(ran);
  EXPECT_EQ(lost.state, JobState::kLost);
  EXPECT_TRUE(lost.reserved.empty());
  EXPECT_EQ(lost.charged.at("node-hours"), limit_s * 1000 / 3600);  // the time limit, no more
  Job never = Get(waited);
  EXPECT_EQ(never.state, JobState::kLost);
  EXPECT_TRUE(never.reserved.empty());
  EXPECT_TRUE(never.charged.empty());
}

TEST_F(JobManagerTest, JobSlurmRefusesIsRejectedWithSlurmsWords) {
  backend_.FailNextSubmit(absl::InvalidArgumentError("invalid partition name specified"));
  JobId id = Submit().job.id;
  manager_->RunOnce();
  Job job = Get(id);
  EXPECT_EQ(job.state, JobState::kRejected);
  EXPECT_NE(job.reason.find("invalid partition"), std::string::npos) << job.reason;
  EXPECT_EQ(manager_->admission_status().jobs_in_slurm, 0u);
}

TEST_F(JobManagerTest, JobSlurmForgotIsLost) {
  JobId id = Submit().job.id;
  manager_->RunOnce();
  ASSERT_TRUE(backend_.Forget(SlurmId(id)));
  manager_->RunOnce();
  EXPECT_EQ(Get(id).state, JobState::kLost);
}

TEST_F(JobManagerTest, RequeuedBySlurmThenRunningAgain) {
  JobId id = Submit().job.id;
  manager_->RunOnce();
  ASSERT_TRUE(backend_.Start(SlurmId(id), "n1").ok());
  manager_->RunOnce();
  ASSERT_TRUE(backend_.Requeue(SlurmId(id)).ok());
  manager_->RunOnce();
  EXPECT_EQ(Get(id).state, JobState::kRequeued);
  EXPECT_EQ(Get(id).requeue_count, 1u);
  ASSERT_TRUE(backend_.Start(SlurmId(id), "n2").ok());
  manager_->RunOnce();
  EXPECT_EQ(Get(id).state, JobState::kRunning);
  EXPECT_EQ(Get(id).nodes, "n2");
}

}  // namespace
}  // namespace drocc::manager
