// SlurmBackend against the real dev cluster (deploy/dev/cluster-up.sh, partition "debug",
// user alice from deploy/dev/users.sh). Run as root: droccd submits as the job's owner.
// Each test polls with a bounded deadline; UNAVAILABLE (the cluster restarting) is retried.

#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "daemon/slurm/filename_pattern.h"
#include "daemon/slurm/slurm_backend.h"

namespace drocc::slurm {
namespace {

using queue::JobState;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kUser[] = "alice";

class SlurmClusterTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (geteuid() != 0) {
      skip_ = "needs root: droccd submits jobs as their owners";
      return;
    }
    passwd* pw = getpwnam(kUser);
    if (pw == nullptr) {
      skip_ = "no user alice: run deploy/dev/users.sh";
      return;
    }
    uid_ = pw->pw_uid;
    gid_ = pw->pw_gid;
    if (access("/etc/slurm/slurm.conf", R_OK) != 0 && std::getenv("SLURM_CONF") == nullptr) {
      skip_ = "no Slurm configuration: run deploy/dev/cluster-up.sh";
      return;
    }
    absl::StatusOr<std::unique_ptr<SlurmBackend>> b = SlurmBackend::Create({});
    ASSERT_TRUE(b.ok()) << b.status();
    backend_ = std::move(*b).release();
  }

  void SetUp() override {
    if (!skip_.empty()) GTEST_SKIP() << skip_;
    ASSERT_NE(backend_, nullptr);
    char tmpl[] = "/tmp/drocc-slurm-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    workdir_ = tmpl;
    ASSERT_EQ(chown(tmpl, uid_, gid_), 0);
    ASSERT_EQ(chmod(tmpl, 0755), 0);
  }

  void TearDown() override {
    if (backend_ == nullptr || !skip_.empty()) return;
    for (uint64_t id : submitted_) (void)backend_->Cancel(id);  // leave nothing running
    if (!workdir_.empty() && !HasFailure()) std::filesystem::remove_all(workdir_);
  }

  queue::Job AliceJob(std::string script) {
    static int counter = 0;
    queue::Job j;
    // Unique across runs and other tests sharing the cluster.
    j.id = 8'000'000'000'000 + static_cast<uint64_t>(getpid()) * 1000 + ++counter;
    j.user = kUser;
    j.uid = uid_;
    j.gid = gid_;
    j.spec.name = "drocc-cluster-test";
    j.spec.script = std::move(script);
    j.spec.workdir = workdir_;
    j.spec.time_limit_s = 300;
    return j;
  }

  // Submit, retrying while slurmctld is unreachable (it may be restarted under us).
  absl::StatusOr<uint64_t> Submit(const queue::Job& job) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (true) {
      absl::StatusOr<uint64_t> id = backend_->Submit(job);
      if (id.ok()) submitted_.push_back(*id);
      if (id.status().code() != absl::StatusCode::kUnavailable || absl::Now() > deadline) {
        return id;
      }
      absl::SleepFor(absl::Seconds(1));
    }
  }

  // The job as ListJobs reports it now, or nullopt.
  std::optional<BackendJob> Find(uint64_t slurm_id) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (true) {
      absl::StatusOr<std::vector<BackendJob>> jobs = backend_->ListJobs();
      if (jobs.ok()) {
        for (const BackendJob& b : *jobs) {
          if (b.slurm_job_id == slurm_id) return b;
        }
        return std::nullopt;
      }
      EXPECT_EQ(jobs.status().code(), absl::StatusCode::kUnavailable) << jobs.status();
      if (jobs.status().code() != absl::StatusCode::kUnavailable || absl::Now() > deadline) {
        return std::nullopt;
      }
      absl::SleepFor(absl::Seconds(1));
    }
  }

  // Polls until `done` holds for the job or `timeout` passes; returns the last sighting.
  std::optional<BackendJob> WaitFor(uint64_t slurm_id, absl::Duration timeout,
                                    const std::function<bool(const BackendJob&)>& done) {
    const absl::Time deadline = absl::Now() + timeout;
    std::optional<BackendJob> last;
    while (absl::Now() < deadline) {
      if (std::optional<BackendJob> b = Find(slurm_id)) {
        last = b;
        if (done(*b)) break;
      }
      absl::SleepFor(absl::Milliseconds(250));
    }
    return last;
  }

  std::optional<BackendJob> WaitForEnd(uint64_t slurm_id, absl::Duration timeout) {
    return WaitFor(slurm_id, timeout, [](const BackendJob& b) { return IsTerminal(b.state); });
  }

  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  static inline std::string skip_;
  static inline SlurmBackend* backend_ = nullptr;  // lives for the process, like libslurm
  static inline uid_t uid_ = 0;
  static inline gid_t gid_ = 0;
  std::string workdir_;
  std::vector<uint64_t> submitted_;
};

TEST_F(SlurmClusterTest, FailedJobReportsExitCodeNodesAndOwner) {
  queue::Job job = AliceJob("#!/bin/bash\necho hi; exit 3\n");
  absl::StatusOr<uint64_t> id = Submit(job);
  ASSERT_TRUE(id.ok()) << id.status();

  std::optional<BackendJob> seen = Find(*id);
  ASSERT_TRUE(seen.has_value()) << "a job just submitted is not listed";
  EXPECT_EQ(seen->drocc_id, job.id);
  EXPECT_EQ(seen->uid, uid_);

  std::optional<BackendJob> end = WaitForEnd(*id, absl::Seconds(60));
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->state, JobState::kFailed) << JobStateName(end->state) << " " << end->reason;
  EXPECT_EQ(end->exit_code, 3);
  EXPECT_FALSE(end->nodes.empty());
  EXPECT_EQ(end->uid, uid_);
  EXPECT_EQ(end->drocc_id, job.id);
  EXPECT_THAT(end->reason, HasSubstr("NonZeroExitCode"));
  EXPECT_NE(end->start_time, absl::InfinitePast());
  EXPECT_GE(end->end_time, end->start_time);
}

// Several droccd may share one Slurm: each lists only its own instance's jobs.
TEST_F(SlurmClusterTest, EachInstanceListsOnlyItsOwnJobs) {
  absl::StatusOr<std::unique_ptr<SlurmBackend>> ours =
      SlurmBackend::Create({.instance = "0a1b2c3d"});
  absl::StatusOr<std::unique_ptr<SlurmBackend>> theirs =
      SlurmBackend::Create({.instance = "ffff0000"});
  ASSERT_TRUE(ours.ok()) << ours.status();
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  EXPECT_EQ(SlurmBackend::Create({.instance = "NOT-HEX"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  queue::Job job = AliceJob("#!/bin/bash\nsleep 30\n");
  absl::StatusOr<uint64_t> id = (*ours)->Submit(job);
  ASSERT_TRUE(id.ok()) << id.status();
  submitted_.push_back(*id);
  auto listed_by = [&](SlurmBackend& b) -> std::optional<BackendJob> {
    absl::StatusOr<std::vector<BackendJob>> jobs = b.ListJobs();
    EXPECT_TRUE(jobs.ok()) << jobs.status();
    if (!jobs.ok()) return std::nullopt;
    for (const BackendJob& j : *jobs) {
      if (j.slurm_job_id == *id) return j;
    }
    return std::nullopt;
  };
  std::optional<BackendJob> seen = listed_by(**ours);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->drocc_id, job.id);
  EXPECT_EQ(seen->instance, "0a1b2c3d");
  EXPECT_FALSE(listed_by(**theirs).has_value());
  EXPECT_FALSE(listed_by(*backend_).has_value());  // untagged: an older droccd's view
}

TEST_F(SlurmClusterTest, CompletedJobWritesItsOutputWhereTheDefaultPatternSays) {
  // No environment captured: like sbatch --export=NONE, slurmd loads alice's login one.
  queue::Job job = AliceJob("#!/bin/bash\necho \"home=$HOME user=$USER\"\n");
  absl::StatusOr<uint64_t> id = Submit(job);
  ASSERT_TRUE(id.ok()) << id.status();
  std::optional<BackendJob> end = WaitForEnd(*id, absl::Seconds(60));
  ASSERT_TRUE(end.has_value());
  ASSERT_EQ(end->state, JobState::kCompleted) << end->reason;
  EXPECT_EQ(end->exit_code, 0);

  const std::string path = ExpandOutputPattern(
      kDefaultOutputPattern, {*id, job.spec.name, kUser, FirstNodeName(end->nodes), workdir_});
  EXPECT_EQ(path, absl::StrCat(workdir_, "/slurm-", *id, ".out"));
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0) << path << " does not exist";
  EXPECT_EQ(st.st_uid, uid_) << "the output file must belong to the job's owner";
  EXPECT_EQ(Read(path), "home=/home/alice user=alice\n");
}

TEST_F(SlurmClusterTest, MultiNodeGpuJobWithEnvironmentArgsAndOutputPattern) {
  queue::Job job = AliceJob(
      "#!/bin/bash\n"
      "echo \"var=$DROCC_TEST_VAR args=$1|$2 nodes=$SLURM_JOB_NUM_NODES "
      "gpus=$SLURM_GPUS_ON_NODE name=$SLURM_JOB_NAME\"\n");
  job.spec.export_mode = "ALL";
  job.spec.environment = {"PATH=/usr/bin:/bin", "DROCC_TEST_VAR=hello world"};
  job.spec.args = {"a b", "c"};
  job.spec.nodes = 2;
  job.spec.ntasks_per_node = 1;
  job.spec.gres = "gpu:2";
  job.spec.gpus_per_node = 2;
  job.spec.mem_mb = 100;
  job.spec.output = "out-%x-%u-%N-%4j-%s-%%.txt";
  absl::StatusOr<uint64_t> id = Submit(job);
  ASSERT_TRUE(id.ok()) << id.status();
  std::optional<BackendJob> end = WaitForEnd(*id, absl::Seconds(60));
  ASSERT_TRUE(end.has_value());
  ASSERT_EQ(end->state, JobState::kCompleted) << end->reason;

  const std::string node = FirstNodeName(end->nodes);
  EXPECT_NE(node, end->nodes) << "two nodes were asked for: " << end->nodes;
  const std::string path =
      ExpandOutputPattern(job.spec.output, {*id, job.spec.name, kUser, node, workdir_});
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0) << path << " does not exist";
  EXPECT_EQ(st.st_uid, uid_);
  EXPECT_EQ(Read(path), "var=hello world args=a b|c nodes=2 gpus=2 name=drocc-cluster-test\n");
}

// Slurm 22.05 appends an escaped relative pattern to the work dir without a '/':
// ExpandOutputPattern must point at that same file.
TEST_F(SlurmClusterTest, EscapedRelativePatternLandsWhereSlurmPutsIt) {
  queue::Job job = AliceJob("#!/bin/bash\necho escaped\n");
  job.spec.output = "-esc\\%j.out";
  absl::StatusOr<uint64_t> id = Submit(job);
  ASSERT_TRUE(id.ok()) << id.status();
  std::optional<BackendJob> end = WaitForEnd(*id, absl::Seconds(60));
  ASSERT_TRUE(end.has_value());
  ASSERT_EQ(end->state, JobState::kCompleted) << end->reason;
  const std::string path = ExpandOutputPattern(
      job.spec.output, {*id, job.spec.name, kUser, FirstNodeName(end->nodes), workdir_});
  EXPECT_EQ(path, workdir_ + "-esc%j.out");  // beside the work dir (in /tmp), not in it
  EXPECT_EQ(Read(path), "escaped\n");
  std::filesystem::remove(path);
}

TEST_F(SlurmClusterTest, UnwritableOutputIsALaunchFailureWithoutExitCode) {
  char tmpl[] = "/tmp/drocc-slurm-test-root-XXXXXX";  // root's, mode 0700
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  queue::Job job = AliceJob("#!/bin/bash\necho never\n");
  job.spec.output = absl::StrCat(tmpl, "/out-%j.txt");
  absl::StatusOr<uint64_t> id = Submit(job);
  ASSERT_TRUE(id.ok()) << id.status();
  std::optional<BackendJob> end = WaitForEnd(*id, absl::Seconds(60));
  std::filesystem::remove_all(tmpl);
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->state, JobState::kFailed) << JobStateName(end->state);
  EXPECT_EQ(end->exit_code, std::nullopt) << *end->exit_code;
  EXPECT_THAT(end->reason, HasSubstr("JobLaunchFailure"));
  EXPECT_THAT(end->reason, HasSubstr("could not be started"));
}

TEST_F(SlurmClusterTest, CancelEndsARunningJob) {
  absl::StatusOr<uint64_t> id = Submit(AliceJob("#!/bin/bash\nsleep 600\n"));
  ASSERT_TRUE(id.ok()) << id.status();
  std::optional<BackendJob> running = WaitFor(
      *id, absl::Seconds(30), [](const BackendJob& b) { return b.state != JobState::kAdmitted; });
  ASSERT_TRUE(running.has_value());
  ASSERT_EQ(running->state, JobState::kRunning) << running->reason;

  const absl::Time asked = absl::Now();
  ASSERT_TRUE(backend_->Cancel(*id).ok());
  std::optional<BackendJob> end = WaitForEnd(*id, absl::Seconds(10));
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->state, JobState::kCancelled) << JobStateName(end->state);
  EXPECT_LT(absl::Now() - asked, absl::Seconds(10));
  EXPECT_NE(end->end_time, absl::InfinitePast());

  EXPECT_TRUE(backend_->Cancel(*id).ok()) << "an ended job is already gone: OK";
  EXPECT_TRUE(backend_->Cancel(4'000'000'000).ok()) << "an unknown job is gone: OK";
}

TEST_F(SlurmClusterTest, RequeuedJobIsReportedRequeuedNeverBackToAdmitted) {
  absl::StatusOr<uint64_t> id = Submit(AliceJob("#!/bin/bash\nsleep 600\n"));
  ASSERT_TRUE(id.ok()) << id.status();
  std::optional<BackendJob> running = WaitFor(
      *id, absl::Seconds(30), [](const BackendJob& b) { return b.state != JobState::kAdmitted; });
  ASSERT_TRUE(running.has_value());
  ASSERT_EQ(running->state, JobState::kRunning);

  // What droccd does when the job's runtime asks for it after its final checkpoint (and what
  // preemption does).
  ASSERT_TRUE(backend_->Requeue(*id).ok());
  // Slurm holds a requeued job (BeginTime) for about two minutes: watch it for a while.
  int requeued = 0;
  const absl::Time until = absl::Now() + absl::Seconds(8);
  while (absl::Now() < until) {
    std::optional<BackendJob> b = Find(*id);
    ASSERT_TRUE(b.has_value());
    ASSERT_TRUE(b->state == JobState::kRequeued || b->state == JobState::kRunning)
        << JobStateName(b->state) << " " << b->reason;
    requeued += b->state == JobState::kRequeued ? 1 : 0;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_GT(requeued, 0);
  EXPECT_EQ(Find(*id)->state, JobState::kRequeued);
  absl::Status again = backend_->Requeue(*id);  // not running: Slurm refuses
  EXPECT_FALSE(again.ok());
  absl::Status unknown = backend_->Requeue(4'000'000'000);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kFailedPrecondition) << unknown;
  ASSERT_TRUE(backend_->Cancel(*id).ok());
}

TEST_F(SlurmClusterTest, SignalBeforeTheTimeLimitReachesTheBatchShell) {
  // --signal=B:USR1@50 with a one-minute limit: USR1 is due 10 s after the start, and
  // slurmctld may send it up to its check interval (30 s) early. Without it the job would
  // hit its limit (TIMEOUT).
  queue::Job job = AliceJob(
      "#!/bin/bash\n"
      "trap 'echo got USR1; exit 0' USR1\n"
      "sleep 120 &\n"
      "wait\n"
      "echo no signal\n");
  job.spec.time_limit_s = 60;
  job.spec.signal = {SIGUSR1, 50, true};
  job.spec.output = "signal-%j.out";
  absl::StatusOr<uint64_t> id = Submit(job);
  ASSERT_TRUE(id.ok()) << id.status();
  std::optional<BackendJob> end = WaitForEnd(*id, absl::Seconds(90));
  ASSERT_TRUE(end.has_value());
  EXPECT_EQ(end->state, JobState::kCompleted) << JobStateName(end->state) << " " << end->reason;
  // slurmstepd follows the signal with SIGCONT and, the shell having exited, may append
  // "_handle_signal_container: failed signal 18 ... No such process" to the output.
  const std::string out = Read(absl::StrCat(workdir_, "/signal-", *id, ".out"));
  EXPECT_TRUE(out.starts_with("got USR1\n")) << out;
  EXPECT_THAT(out, Not(HasSubstr("no signal")));
}

TEST_F(SlurmClusterTest, InvalidPartitionIsInvalidArgumentWithSlurmsWords) {
  queue::Job job = AliceJob("#!/bin/bash\ntrue\n");
  job.spec.partition = "no-such-partition";
  absl::StatusOr<uint64_t> id = Submit(job);
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("Invalid partition name specified"));
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("\"no-such-partition\""));
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("sinfo"));
}

TEST_F(SlurmClusterTest, RequestsNoNodeCanMeetAreInvalidArgument) {
  queue::Job memory = AliceJob("#!/bin/bash\ntrue\n");
  memory.spec.mem_mb = 100'000'000;
  absl::StatusOr<uint64_t> id = Submit(memory);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << id.status();
  EXPECT_THAT(std::string(id.status().message()), HasSubstr("Requested node configuration"));
  // Slurm quirk the job manager must live with: slurmctld created a job record before it
  // refused the job, and lists it (FAILED, BadConstraints, with our comment) until
  // MinJobAge purges it. Its Slurm id was never returned to us.
  absl::StatusOr<std::vector<BackendJob>> listed = backend_->ListJobs();
  ASSERT_TRUE(listed.ok()) << listed.status();
  bool leftover = false;
  for (const BackendJob& b : *listed) {
    if (b.drocc_id != memory.id) continue;
    leftover = true;
    EXPECT_EQ(b.state, JobState::kFailed);
    EXPECT_THAT(b.reason, HasSubstr("BadConstraints"));
  }
  EXPECT_TRUE(leftover) << "Slurm no longer leaves a record of a refused job: update the docs";

  queue::Job gpus = AliceJob("#!/bin/bash\ntrue\n");
  gpus.spec.gres = "gpu:64";
  id = Submit(gpus);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << id.status();

  queue::Job bogus = AliceJob("#!/bin/bash\ntrue\n");
  bogus.spec.gres = "nosuchgres:1";
  id = Submit(bogus);
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << id.status();
}

}  // namespace
}  // namespace drocc::slurm
