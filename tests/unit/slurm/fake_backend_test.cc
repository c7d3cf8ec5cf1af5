#include "daemon/slurm/fake_backend.h"

#include <gtest/gtest.h>

#include <thread>

#include "common/clock.h"

namespace drocc::slurm {
namespace {

using queue::JobState;

queue::Job DroccJob(queue::JobId id, uint32_t uid = 1001) {
  queue::Job j;
  j.id = id;
  j.uid = uid;
  return j;
}

class FakeBackendTest : public ::testing::Test {
 protected:
  FakeClock clock_;
  FakeBackend backend_{&clock_, 100};

  uint64_t Submit(queue::JobId id) {
    absl::StatusOr<uint64_t> s = backend_.Submit(DroccJob(id));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.value_or(0);
  }
  BackendJob Listed(uint64_t slurm_id) {
    absl::StatusOr<std::vector<BackendJob>> jobs = backend_.ListJobs();
    EXPECT_TRUE(jobs.ok()) << jobs.status();
    for (const BackendJob& b : jobs.value_or(std::vector<BackendJob>{})) {
      if (b.slurm_job_id == slurm_id) return b;
    }
    ADD_FAILURE() << "slurm job " << slurm_id << " not listed";
    return {};
  }
};

TEST_F(FakeBackendTest, SubmitAssignsIncreasingIdsAndWaits) {
  EXPECT_EQ(Submit(7), 100u);
  EXPECT_EQ(Submit(8), 101u);
  BackendJob b = Listed(100);
  EXPECT_EQ(b.drocc_id, 7u);
  EXPECT_EQ(b.uid, 1001u);
  EXPECT_EQ(b.state, JobState::kAdmitted);
  EXPECT_EQ(b.exit_code, std::nullopt);
  EXPECT_EQ(b.start_time, absl::InfinitePast());
  ASSERT_EQ(backend_.submitted().size(), 2u);
  EXPECT_EQ(backend_.submitted()[1].id, 8u);
  EXPECT_EQ(backend_.SlurmIdOf(8), 101u);
  EXPECT_EQ(backend_.SlurmIdOf(9), std::nullopt);
  EXPECT_EQ(backend_.live_jobs(), 2u);
  EXPECT_EQ(backend_.submit_calls(), 2u);
}

TEST_F(FakeBackendTest, StartThenFinish) {
  uint64_t id = Submit(7);
  absl::Time t0 = clock_.Now();
  ASSERT_TRUE(backend_.Start(id, "n[1-2]").ok());
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(backend_.Finish(id, JobState::kFailed, 3, "NonZeroExitCode").ok());
  BackendJob b = Listed(id);
  EXPECT_EQ(b.state, JobState::kFailed);
  EXPECT_EQ(b.exit_code, 3);
  EXPECT_EQ(b.nodes, "n[1-2]");
  EXPECT_EQ(b.start_time, t0);
  EXPECT_EQ(b.end_time, t0 + absl::Minutes(5));
  EXPECT_EQ(b.reason, "NonZeroExitCode");
  EXPECT_EQ(backend_.live_jobs(), 0u);
}

TEST_F(FakeBackendTest, IllegalMovesAreRefused) {
  uint64_t id = Submit(7);
  EXPECT_EQ(backend_.Start(999, "n1").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(backend_.Finish(999, JobState::kCompleted, 0).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(backend_.Finish(id, JobState::kRunning, 0).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(backend_.Requeue(id).code(), absl::StatusCode::kFailedPrecondition);  // waiting
  ASSERT_TRUE(backend_.Start(id, "n1").ok());
  EXPECT_EQ(backend_.Start(id, "n1").code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(backend_.Finish(id, JobState::kCompleted, 0).ok());
  EXPECT_EQ(backend_.Finish(id, JobState::kFailed, 1).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Listed(id).state, JobState::kCompleted);
}

TEST_F(FakeBackendTest, AJobMayEndWithoutRunning) {
  uint64_t id = Submit(7);
  ASSERT_TRUE(backend_.Finish(id, JobState::kFailed, 1, "JobLaunchFailure").ok());
  EXPECT_EQ(Listed(id).state, JobState::kFailed);
}

TEST_F(FakeBackendTest, CancelEndsLiveJobsAndIgnoresTheRest) {
  uint64_t waiting = Submit(1);
  uint64_t running = Submit(2);
  uint64_t done = Submit(3);
  ASSERT_TRUE(backend_.Start(running, "n1").ok());
  ASSERT_TRUE(backend_.Start(done, "n2").ok());
  ASSERT_TRUE(backend_.Finish(done, JobState::kCompleted, 0).ok());

  EXPECT_TRUE(backend_.Cancel(waiting).ok());
  EXPECT_TRUE(backend_.Cancel(running).ok());
  EXPECT_TRUE(backend_.Cancel(done).ok());
  EXPECT_TRUE(backend_.Cancel(12345).ok());  // unknown: "already gone"

  EXPECT_EQ(Listed(waiting).state, JobState::kCancelled);
  EXPECT_EQ(Listed(running).state, JobState::kCancelled);
  EXPECT_EQ(Listed(running).exit_code, 0);  // as Slurm reports a killed batch job
  EXPECT_EQ(Listed(running).end_time, clock_.Now());
  EXPECT_EQ(Listed(done).state, JobState::kCompleted);
  EXPECT_EQ(backend_.cancel_requests(), (std::vector<uint64_t>{waiting, running, done, 12345}));
  EXPECT_EQ(backend_.cancel_calls(), 4u);
}

TEST_F(FakeBackendTest, RequeueThenRunAgain) {
  uint64_t id = Submit(7);
  ASSERT_TRUE(backend_.Start(id, "n1").ok());
  ASSERT_TRUE(backend_.Requeue(id).ok());
  BackendJob b = Listed(id);
  EXPECT_EQ(b.state, JobState::kRequeued);
  EXPECT_EQ(b.nodes, "");
  EXPECT_EQ(backend_.live_jobs(), 1u);
  ASSERT_TRUE(backend_.Start(id, "n3").ok());
  EXPECT_EQ(Listed(id).state, JobState::kRunning);
  EXPECT_EQ(Listed(id).nodes, "n3");
}

TEST_F(FakeBackendTest, FailNextSubmitFailsOnceAndRecordsNothing) {
  backend_.FailNextSubmit(absl::InvalidArgumentError("Invalid partition name specified"));
  absl::StatusOr<uint64_t> s = backend_.Submit(DroccJob(7));
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(backend_.submitted().empty());
  EXPECT_EQ(backend_.ListJobs()->size(), 0u);
  EXPECT_EQ(Submit(7), 100u);  // the id was not used up
  EXPECT_EQ(backend_.submit_calls(), 2u);
}

TEST_F(FakeBackendTest, UnavailableFailsEveryCallAndChangesNothing) {
  uint64_t id = Submit(7);
  backend_.SetUnavailable(true);
  EXPECT_EQ(backend_.Submit(DroccJob(8)).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(backend_.ListJobs().status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(backend_.Cancel(id).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(backend_.Get(id)->state, JobState::kAdmitted);
  EXPECT_TRUE(backend_.cancel_requests().empty());
  backend_.SetUnavailable(false);
  EXPECT_EQ(backend_.ListJobs()->size(), 1u);
  EXPECT_EQ(Submit(8), 101u);
}

TEST_F(FakeBackendTest, ForgetDropsTheJobAsIfPurged) {
  uint64_t id = Submit(7);
  EXPECT_TRUE(backend_.Forget(id));
  EXPECT_FALSE(backend_.Forget(id));
  EXPECT_EQ(backend_.ListJobs()->size(), 0u);
  EXPECT_EQ(backend_.Get(id), std::nullopt);
  EXPECT_EQ(backend_.Start(id, "n1").code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(backend_.Cancel(id).ok());
}

TEST_F(FakeBackendTest, ListedInSlurmIdOrder) {
  for (queue::JobId d = 1; d <= 5; ++d) Submit(d);
  absl::StatusOr<std::vector<BackendJob>> jobs = backend_.ListJobs();
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 5u);
  for (size_t i = 0; i < jobs->size(); ++i) EXPECT_EQ((*jobs)[i].slurm_job_id, 100 + i);
}

// A test thread plays Slurm while a "worker" submits and lists (run under TSan/ASan to
// catch races; without them it checks that nothing is lost).
TEST(FakeBackendThreadTest, ConcurrentUse) {
  FakeClock clock;
  FakeBackend backend(&clock);
  constexpr uint64_t kJobs = 200;
  std::thread worker([&] {
    for (uint64_t i = 1; i <= kJobs; ++i) {
      EXPECT_TRUE(backend.Submit(DroccJob(i)).ok());
      EXPECT_TRUE(backend.ListJobs().ok());
    }
  });
  uint64_t started = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (started < kJobs && absl::Now() < deadline) {
    if (backend.Get(started + 1).has_value()) {
      EXPECT_TRUE(backend.Start(started + 1, "n1").ok());
      EXPECT_TRUE(backend.Finish(started + 1, JobState::kCompleted, 0).ok());
      ++started;
    } else {
      std::this_thread::yield();
    }
  }
  worker.join();
  EXPECT_EQ(backend.live_jobs(), 0u);
  EXPECT_EQ(backend.submitted().size(), static_cast<size_t>(kJobs));
}

}  // namespace
}  // namespace drocc::slurm
