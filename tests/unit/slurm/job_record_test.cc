#include "daemon/slurm/job_record.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace drocc::slurm {
namespace {

using queue::JobState;

SlurmJobRecord Record(uint32_t state) {
  SlurmJobRecord r;
  r.job_id = 77;
  r.job_state = state;
  r.user_id = 1001;
  r.comment = "drocc:5";
  return r;
}

SlurmJobRecord Ended(uint32_t state, uint32_t wait_status) {
  SlurmJobRecord r = Record(state);
  r.exit_code = wait_status;
  r.nodes = "n[1-2]";
  r.start_time = 1'767'225'600;
  r.end_time = 1'767'225'660;
  return r;
}

TEST(JobRecordTest, SkipsJobsThatAreNotDroccs) {
  SlurmJobRecord r = Record(kSlurmRunning);
  for (const char* c : {"", "hello", "drocc:", "drocc:x"}) {
    r.comment = c;
    EXPECT_EQ(ToBackendJob(r), std::nullopt) << c;
  }
}

TEST(JobRecordTest, TheInstanceComesFromTheComment) {
  SlurmJobRecord r = Record(kSlurmRunning);
  r.comment = "drocc:5@0a1b2c3d";
  std::optional<BackendJob> b = ToBackendJob(r);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->drocc_id, 5u);
  EXPECT_EQ(b->instance, "0a1b2c3d");
}

TEST(JobRecordTest, PendingIsAdmittedWithSlurmsReason) {
  SlurmJobRecord r = Record(kSlurmPending);
  r.state_reason = "Resources";
  r.start_time = 1'767'229'200;  // Slurm's forecast: not a start
  r.end_time = 1'767'232'800;
  std::optional<BackendJob> b = ToBackendJob(r);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->slurm_job_id, 77u);
  EXPECT_EQ(b->drocc_id, 5u);
  EXPECT_EQ(b->instance, "");
  EXPECT_EQ(b->uid, 1001u);
  EXPECT_EQ(b->state, JobState::kAdmitted);
  EXPECT_EQ(b->reason, "Resources");
  EXPECT_EQ(b->exit_code, std::nullopt);
  EXPECT_EQ(b->start_time, absl::InfinitePast());
  EXPECT_EQ(b->end_time, absl::InfinitePast());
}

TEST(JobRecordTest, RequeuedWhilePendingAgain) {
  SlurmJobRecord r = Record(kSlurmPending | kSlurmFlagRequeue | kSlurmFlagCompleting);
  EXPECT_EQ(ToBackendJob(r)->state, JobState::kRequeued);
  r = Record(kSlurmPending | kSlurmFlagRequeueHold);
  EXPECT_EQ(ToBackendJob(r)->state, JobState::kRequeued);
  r = Record(kSlurmPending | kSlurmFlagSpecialExit);
  EXPECT_EQ(ToBackendJob(r)->state, JobState::kRequeued);
  // Flags cleared, but it ran before: still requeued, never back to ADMITTED.
  r = Record(kSlurmPending);
  r.restart_cnt = 2;
  r.state_reason = "BeginTime";
  std::optional<BackendJob> b = ToBackendJob(r);
  EXPECT_EQ(b->state, JobState::kRequeued);
  EXPECT_EQ(b->reason, "requeued by Slurm (2 times) (BeginTime)");
  EXPECT_EQ(b->exit_code, std::nullopt);
}

TEST(JobRecordTest, RunningAndSuspended) {
  SlurmJobRecord r = Record(kSlurmRunning);
  r.nodes = "n1";
  r.start_time = 1'767'225'600;
  r.end_time = 1'767'229'200;  // the expected end: not an end
  std::optional<BackendJob> b = ToBackendJob(r);
  EXPECT_EQ(b->state, JobState::kRunning);
  EXPECT_EQ(b->nodes, "n1");
  EXPECT_EQ(b->start_time, absl::FromUnixSeconds(1'767'225'600));
  EXPECT_EQ(b->end_time, absl::InfinitePast());
  EXPECT_EQ(b->exit_code, std::nullopt);

  r.job_state = kSlurmSuspended;
  b = ToBackendJob(r);
  EXPECT_EQ(b->state, JobState::kRunning);
  EXPECT_EQ(b->reason, "suspended");
}

TEST(JobRecordTest, EndStatesAndExitCodes) {
  struct Case {
    uint32_t state;
    uint32_t wait_status;
    JobState want;
    int exit_code;
    std::string reason_prefix;
  };
  const Case cases[] = {
      {kSlurmComplete, 0, JobState::kCompleted, 0, ""},
      {kSlurmFailed, 3 << 8, JobState::kFailed, 3, "failed"},  // `exit 3` reads 768
      {kSlurmFailed, SIGSEGV, JobState::kFailed, 128 + SIGSEGV, "failed"},
      {kSlurmCancelled, SIGKILL, JobState::kCancelled, 128 + SIGKILL, ""},
      {kSlurmTimeout, SIGTERM, JobState::kTimeout, 128 + SIGTERM, ""},
      {kSlurmNodeFail, 0, JobState::kFailed, 0, "node failure"},
      {kSlurmBootFail, 0, JobState::kFailed, 0, "node boot failure"},
      {kSlurmDeadline, 0, JobState::kFailed, 0, "deadline reached"},
      {kSlurmOom, 9 << 8, JobState::kFailed, 9, "out of memory"},
      {kSlurmComplete | kSlurmFlagCompleting, 0, JobState::kCompleted, 0, ""},
  };
  for (const Case& c : cases) {
    std::optional<BackendJob> b = ToBackendJob(Ended(c.state, c.wait_status));
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->state, c.want) << c.state;
    EXPECT_EQ(b->exit_code, c.exit_code) << c.state;
    EXPECT_EQ(b->reason, c.reason_prefix) << c.state;
    EXPECT_EQ(b->nodes, "n[1-2]");
    EXPECT_EQ(b->start_time, absl::FromUnixSeconds(1'767'225'600));
    EXPECT_EQ(b->end_time, absl::FromUnixSeconds(1'767'225'660));
  }
}

TEST(JobRecordTest, ReasonCarriesSlurmsWords) {
  SlurmJobRecord r = Ended(kSlurmFailed, 1 << 8);
  r.state_reason = "NonZeroExitCode";
  EXPECT_EQ(ToBackendJob(r)->reason, "failed (NonZeroExitCode)");
  r = Ended(kSlurmNodeFail, 0);
  r.state_reason = "NodeDown";
  r.state_desc = "n2 stopped responding";
  EXPECT_EQ(ToBackendJob(r)->reason, "node failure (NodeDown: n2 stopped responding)");
  r = Ended(kSlurmOom, 0);
  r.state_desc = "Out of memory";
  EXPECT_EQ(ToBackendJob(r)->reason, "out of memory (Out of memory)");
}

// Seen on the dev cluster: an output path slurmd cannot open gives JobLaunchFailure and
// ExitCode=0:53, which is slurmd's error 4021 ("Slurmd could not connect IO"), not a signal.
TEST(JobRecordTest, LaunchFailureHasNoExitCodeAndSaysWhy) {
  SlurmJobRecord r = Ended(kSlurmFailed, 4021);
  r.state_reason = "JobLaunchFailure";
  r.launch_failed = true;
  r.launch_error = "Slurmd could not connect IO";
  std::optional<BackendJob> b = ToBackendJob(r);
  EXPECT_EQ(b->state, JobState::kFailed);
  EXPECT_EQ(b->exit_code, std::nullopt);
  EXPECT_EQ(b->reason,
            "the job script could not be started (JobLaunchFailure: Slurmd could not connect "
            "IO); check that its owner can write the output and error paths and read the "
            "work dir");
}

TEST(JobRecordTest, PreemptedIsRequeued) {
  std::optional<BackendJob> b = ToBackendJob(Ended(kSlurmPreempted, SIGTERM));
  EXPECT_EQ(b->state, JobState::kRequeued);
  EXPECT_EQ(b->reason, "preempted");
  EXPECT_EQ(b->exit_code, std::nullopt);
  EXPECT_EQ(b->end_time, absl::FromUnixSeconds(1'767'225'660));
}

TEST(JobRecordTest, CancelledBeforeItRanHasNoStart) {
  SlurmJobRecord r = Ended(kSlurmCancelled, 0);
  r.nodes.clear();  // Slurm sets start = end = the cancel time
  std::optional<BackendJob> b = ToBackendJob(r);
  EXPECT_EQ(b->state, JobState::kCancelled);
  EXPECT_EQ(b->start_time, absl::InfinitePast());
  EXPECT_EQ(b->end_time, absl::FromUnixSeconds(1'767'225'660));
}

TEST(JobRecordTest, UnknownStateFailsVisibly) {
  std::optional<BackendJob> b = ToBackendJob(Ended(42, 0));
  EXPECT_EQ(b->state, JobState::kFailed);
  EXPECT_EQ(b->reason, "unknown Slurm job state 42");
}

TEST(JobRecordTest, DecodeWaitStatus) {
  EXPECT_EQ(DecodeWaitStatus(0), 0);
  EXPECT_EQ(DecodeWaitStatus(768), 3);
  EXPECT_EQ(DecodeWaitStatus(255 << 8), 255);
  EXPECT_EQ(DecodeWaitStatus(SIGKILL), 137);
  EXPECT_EQ(DecodeWaitStatus(SIGTERM | 0x80), 143);  // with the core-dump bit
}

}  // namespace
}  // namespace drocc::slurm

namespace drocc::slurm {
namespace {

TEST(JobRecordTest, GpusInTresCountsTheUntypedTotal) {
  EXPECT_EQ(GpusInTres("cpu=4,mem=4G,node=1,billing=4,gres/gpu=2"), 2u);
  EXPECT_EQ(GpusInTres("cpu=4,gres/gpu=4,gres/gpu:a100=4"), 4u);  // typed entries repeat it
  EXPECT_EQ(GpusInTres("cpu=4,gres/gpu:a100=2,gres/gpu:v100=1"), 3u);
  EXPECT_EQ(GpusInTres("cpu=1,mem=2885M,node=1,billing=1"), 0u);
  EXPECT_EQ(GpusInTres(""), 0u);
  EXPECT_EQ(GpusInTres("gres/gpu=x"), 0u);
}

TEST(JobRecordTest, GpusInGresReadsNamedCounts) {
  EXPECT_EQ(GpusInGres("gpu:2"), 2u);
  EXPECT_EQ(GpusInGres("gpu:a100:2(IDX:0-1),mps:100"), 2u);
  EXPECT_EQ(GpusInGres("gpu:1,gpu:tesla:3"), 4u);
  EXPECT_EQ(GpusInGres("mps:100"), std::nullopt);
  EXPECT_EQ(GpusInGres(""), std::nullopt);
  EXPECT_EQ(GpusInGres("gpumem:8G"), std::nullopt);
}

TEST(JobRecordTest, AllocationOfAJobThatRan) {
  SlurmJobRecord r = Ended(kSlurmComplete, 0);
  r.num_nodes = 2;
  r.num_cpus = 16;
  r.tres_alloc = "cpu=16,mem=8G,node=2,billing=16";
  r.gres_total = "gpu:4";
  std::optional<BackendJob> b = ToBackendJob(r);
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->alloc_nodes, 2u);
  EXPECT_EQ(b->alloc_cpus, 16u);
  EXPECT_EQ(b->alloc_gpus, 4u);  // from the GRES when the TRES has no GPU count
  r.tres_alloc = "cpu=16,node=2,gres/gpu=8";
  EXPECT_EQ(ToBackendJob(r)->alloc_gpus, 8u);
  // A job that never ran has no allocation.
  SlurmJobRecord pending = Record(kSlurmPending);
  pending.num_nodes = 2;
  pending.tres_alloc = "cpu=16";
  EXPECT_EQ(ToBackendJob(pending)->alloc_nodes, 0u);
}

}  // namespace
}  // namespace drocc::slurm
