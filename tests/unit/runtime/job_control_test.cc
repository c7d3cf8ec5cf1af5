// JobControl in one process on fakes: stop signals (real signals, raised in this process),
// the report queue, the requeue order, and the environment droccd and Slurm set. The gRPC
// path to a droccd stand-in is in job_control_grpc_test.cc; several ranks agreeing to stop,
// under mpirun, in jobctl_mpi_test.sh.

#include "drocc/runtime/job_control.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "runtime/src/job_control/grpc_daemon_client.h"
#include "runtime/src/job_control/stop_signals.h"
#include "tests/unit/runtime/fake_job_services.h"

namespace drocc::runtime {
namespace {

using job_control::ParseStopSignals;
using job_control::ResolveDaemonTarget;
using ::testing::AllOf;
using ::testing::ElementsAre;
using testing::FakeCommunicator;
using testing::FakeDaemonClient;
using testing::FakeSlurmRequeuer;
using ::testing::HasSubstr;
using testing::ReportRun;
using testing::ReportThenDestroy;
using testing::ScopedEnv;
using testing::TestCommit;

// The environment of a job that neither droccd nor Slurm started, whatever the test runs in.
class JobControlTest : public ::testing::Test {
 protected:
  ScopedEnv clean_{{kCheckpointSignalEnv, std::nullopt},
                   {kJobTokenEnv, std::nullopt},
                   {kJobIdEnv, std::nullopt},
                   {kServerEnv, std::nullopt},
                   {"SLURM_JOB_ID", std::nullopt}};
  LocalCommunicator comm_;

  std::unique_ptr<JobControl> MustCreate(JobControlOptions options, Communicator* comm = nullptr) {
    auto jc = JobControl::Create(std::move(options), comm != nullptr ? comm : &comm_);
    EXPECT_TRUE(jc.ok()) << jc.status();
    return jc.ok() ? *std::move(jc) : nullptr;
  }
};

using sighandler = void (*)(int);
sighandler CurrentHandler(int signo) {
  struct sigaction now {};
  sigaction(signo, nullptr, &now);
  return now.sa_handler;
}

std::atomic<int> g_test_handler_calls{0};
extern "C" void CountingHandler(int) { g_test_handler_calls.fetch_add(1); }

// ---- stop signals ----------------------------------------------------------------------------

TEST(ParseStopSignalsTest, NamesWithOrWithoutSigInAnyCase) {
  EXPECT_THAT(*ParseStopSignals("USR1"), ElementsAre(SIGUSR1));
  EXPECT_THAT(*ParseStopSignals(" usr2, SIGTERM ,USR2,sigxcpu"),
              ElementsAre(SIGUSR2, SIGTERM, SIGXCPU));
}

TEST(ParseStopSignalsTest, RefusesWhatIsNotAStopSignal) {
  for (const char* bad : {"", "USR3", "10", "KILL", "SIGSEGV", "USR1,,TERM", "USR1;TERM"}) {
    auto parsed = ParseStopSignals(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(parsed.status().message(), HasSubstr("use one or more of HUP INT USR1 USR2"));
  }
}

TEST_F(JobControlTest, CatchesSigusr1ByDefaultAndLeavesSigtermAlone) {
  const sighandler term_before = CurrentHandler(SIGTERM);
  auto jc = MustCreate({});
  ASSERT_NE(jc, nullptr);
  EXPECT_THAT(jc->stop_signals(), ElementsAre(SIGUSR1));
  EXPECT_EQ(CurrentHandler(SIGTERM), term_before);
  EXPECT_FALSE(jc->StopRequested());
  EXPECT_FALSE(jc->AgreeStop());

  ASSERT_EQ(raise(SIGUSR1), 0);
  EXPECT_TRUE(jc->StopRequested());
  EXPECT_EQ(jc->StopSignal(), SIGUSR1);
  EXPECT_TRUE(jc->AgreeStop());
}

TEST_F(JobControlTest, AgreeStopIsOneReductionPerStepUntilTrue) {
  FakeCommunicator comm(0, 1);
  auto jc = MustCreate({}, &comm);
  ASSERT_NE(jc, nullptr);
  const int after_create = comm.allreduces;
  EXPECT_FALSE(jc->AgreeStop());
  EXPECT_FALSE(jc->AgreeStop());
  EXPECT_EQ(comm.allreduces, after_create + 2);
  raise(SIGUSR1);
  EXPECT_TRUE(jc->AgreeStop());
  EXPECT_TRUE(jc->AgreeStop());  // every rank agreed already: no further communication
  EXPECT_EQ(comm.allreduces, after_create + 3);
}

TEST_F(JobControlTest, EnvironmentChoosesTheSignalsOverTheOptions) {
  const sighandler usr1_before = CurrentHandler(SIGUSR1);
  ScopedEnv env{{kCheckpointSignalEnv, "usr2,TERM"}};
  auto jc = MustCreate({.stop_signals = {SIGHUP}});
  ASSERT_NE(jc, nullptr);
  EXPECT_THAT(jc->stop_signals(), ElementsAre(SIGUSR2, SIGTERM));
  EXPECT_EQ(CurrentHandler(SIGUSR1), usr1_before);
  EXPECT_EQ(CurrentHandler(SIGHUP), SIG_DFL);
  raise(SIGTERM);
  EXPECT_EQ(jc->StopSignal(), SIGTERM);
}

TEST_F(JobControlTest, OptionsChooseTheSignalsWithoutEnvironment) {
  auto jc = MustCreate({.stop_signals = {SIGUSR2}});
  ASSERT_NE(jc, nullptr);
  EXPECT_THAT(jc->stop_signals(), ElementsAre(SIGUSR2));
  raise(SIGUSR2);
  EXPECT_EQ(jc->StopSignal(), SIGUSR2);
}

TEST_F(JobControlTest, BadSignalSettingsFailCreateClearly) {
  const sighandler usr1_before = CurrentHandler(SIGUSR1);
  {
    ScopedEnv env{{kCheckpointSignalEnv, "USR1,USR3"}};
    auto jc = JobControl::Create({}, &comm_);
    ASSERT_FALSE(jc.ok());
    EXPECT_EQ(jc.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(jc.status().message(), AllOf(HasSubstr("DROCC_CHECKPOINT_SIGNAL=\"USR1,USR3\""),
                                             HasSubstr("\"USR3\""), HasSubstr("USR1")));
  }
  auto kill = JobControl::Create({.stop_signals = {SIGKILL}}, &comm_);
  ASSERT_FALSE(kill.ok());
  EXPECT_EQ(kill.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(kill.status().message(), HasSubstr("cannot be a stop signal"));
  EXPECT_EQ(CurrentHandler(SIGUSR1), usr1_before);
}

TEST_F(JobControlTest, RestoresThePreviousHandlersWhenDestroyed) {
  struct sigaction counting {};
  counting.sa_handler = CountingHandler;
  sigemptyset(&counting.sa_mask);
  struct sigaction old_usr1 {
  }, old_usr2{};
  ASSERT_EQ(sigaction(SIGUSR1, &counting, &old_usr1), 0);
  ASSERT_EQ(sigaction(SIGUSR2, &counting, &old_usr2), 0);
  g_test_handler_calls = 0;
  {
    ScopedEnv env{{kCheckpointSignalEnv, "USR1,USR2"}};
    auto jc = MustCreate({});
    ASSERT_NE(jc, nullptr);
    EXPECT_NE(CurrentHandler(SIGUSR1), CountingHandler);
    EXPECT_NE(CurrentHandler(SIGUSR2), CountingHandler);
    raise(SIGUSR2);
    EXPECT_TRUE(jc->StopRequested());
    EXPECT_EQ(g_test_handler_calls, 0);
  }
  EXPECT_EQ(CurrentHandler(SIGUSR1), CountingHandler);
  EXPECT_EQ(CurrentHandler(SIGUSR2), CountingHandler);
  raise(SIGUSR1);
  raise(SIGUSR2);
  EXPECT_EQ(g_test_handler_calls, 2);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  sigaction(SIGUSR2, &old_usr2, nullptr);
}

TEST_F(JobControlTest, OneJobControlPerProcessHandlesSignals) {
  auto first = MustCreate({});
  ASSERT_NE(first, nullptr);
  auto second = JobControl::Create({}, &comm_);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.status().message(), HasSubstr("handle_signals = false"));

  auto quiet = MustCreate({.handle_signals = false});
  ASSERT_NE(quiet, nullptr);
  EXPECT_TRUE(quiet->stop_signals().empty());
  raise(SIGUSR1);
  EXPECT_TRUE(first->StopRequested());
  EXPECT_FALSE(quiet->StopRequested());  // it handles no signal
}

TEST_F(JobControlTest, ANewJobControlStartsWithoutAStop) {
  {
    auto jc = MustCreate({});
    ASSERT_NE(jc, nullptr);
    raise(SIGUSR1);
    EXPECT_TRUE(jc->StopRequested());
  }
  auto jc = MustCreate({});
  ASSERT_NE(jc, nullptr);
  EXPECT_FALSE(jc->StopRequested());
}

// ---- reports ---------------------------------------------------------------------------------

// Polls `stats` until nothing is pending (at most 10 s).
ReportStats WaitUntilSent(const JobControl& jc) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (jc.report_stats().pending > 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return jc.report_stats();
}

TEST_F(JobControlTest, WithoutDroccdReportingIsANoOp) {
  auto jc = MustCreate({.handle_signals = false});
  ASSERT_NE(jc, nullptr);
  EXPECT_FALSE(jc->reporting());
  jc->ReportCheckpoint(TestCommit(1));
  jc->ReportProgress({.phase = "train", .step = 1});
  const ReportStats s = jc->report_stats();
  EXPECT_EQ(s.sent + s.failed + s.dropped + s.pending, 0u);
}

TEST_F(JobControlTest, ReportsReachDroccdInOrder) {
  auto droccd = std::make_shared<FakeDaemonClient>();
  auto jc = MustCreate({.handle_signals = false, .daemon = droccd});
  ASSERT_NE(jc, nullptr);
  EXPECT_TRUE(jc->reporting());
  jc->ReportCheckpoint(TestCommit(10));
  jc->ReportProgress({.phase = "train", .step = 15});
  jc->ReportCheckpoint(TestCommit(20));
  const ReportStats s = WaitUntilSent(*jc);
  EXPECT_EQ(s.sent, 3u);
  EXPECT_EQ(s.failed + s.dropped, 0u);
  jc.reset();
  const auto calls = droccd->calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].method, "ReportCheckpoint");
  EXPECT_EQ(calls[0].step, 10);
  EXPECT_EQ(calls[0].text, "/scratch/run/ckpt-10");
  EXPECT_EQ(calls[1].method, "ReportProgress");
  EXPECT_EQ(calls[1].text, "train");
  EXPECT_EQ(calls[2].step, 20);
}

TEST_F(JobControlTest, OnlyRankZeroReports) {
  FakeCommunicator rank1(1, 4);
  auto droccd = std::make_shared<FakeDaemonClient>();
  auto jc = MustCreate({.handle_signals = false, .daemon = droccd}, &rank1);
  ASSERT_NE(jc, nullptr);
  EXPECT_FALSE(jc->reporting());
  jc->ReportCheckpoint(TestCommit(10));
  jc.reset();
  EXPECT_TRUE(droccd->calls().empty());
}

TEST_F(JobControlTest, AFullQueueDropsTheOldestReports) {
  auto droccd = std::make_shared<FakeDaemonClient>();
  droccd->CloseGate();
  auto jc = MustCreate({.handle_signals = false,
                        .report_queue_capacity = 2,
                        .report_timeout = absl::Seconds(30),
                        .daemon = droccd});
  ASSERT_NE(jc, nullptr);
  jc->ReportCheckpoint(TestCommit(0));
  ASSERT_TRUE(droccd->WaitForCalls(1));  // step 0 is being sent; the queue is empty
  for (int64_t step = 1; step <= 4; ++step) jc->ReportCheckpoint(TestCommit(step));
  ReportStats s = jc->report_stats();
  EXPECT_EQ(s.dropped, 2u);  // steps 1 and 2
  EXPECT_EQ(s.pending, 3u);  // step 0 in flight, 3 and 4 queued
  droccd->OpenGate();
  s = WaitUntilSent(*jc);
  EXPECT_EQ(s.sent, 3u);
  jc.reset();
  std::vector<int64_t> steps;
  for (const auto& c : droccd->calls()) steps.push_back(c.step);
  EXPECT_THAT(steps, ElementsAre(0, 3, 4));
}

TEST_F(JobControlTest, AHungDroccdNeverBlocksTrainingAndBoundsTheDestructor) {
  auto droccd = std::make_shared<FakeDaemonClient>();
  droccd->CloseGate();  // never answers: every call runs into its deadline
  auto jc = MustCreate({.handle_signals = false,
                        .report_timeout = absl::Milliseconds(200),
                        .flush_timeout = absl::Milliseconds(500),
                        .daemon = droccd});
  ASSERT_NE(jc, nullptr);
  const ReportRun run = ReportThenDestroy(std::move(jc), 1000);
  EXPECT_LT(run.reporting, std::chrono::milliseconds(200));
  EXPECT_LT(run.total, std::chrono::milliseconds(1500));
  EXPECT_THAT(run.stderr_text,
              HasSubstr("drocc-runtime: cannot report to droccd at fake:droccd: fake droccd "
                        "did not answer in time; training goes on"));
  EXPECT_THAT(run.stderr_text, HasSubstr("were dropped (droccd slow or unreachable)"));
}

TEST_F(JobControlTest, AFailingDroccdIsLoggedOnceAndCounted) {
  auto droccd = std::make_shared<FakeDaemonClient>();
  droccd->SetReportStatus(absl::UnavailableError("connection refused"));
  auto jc = MustCreate({.handle_signals = false, .daemon = droccd});
  ASSERT_NE(jc, nullptr);
  ::testing::internal::CaptureStderr();
  for (int64_t step = 0; step < 5; ++step) jc->ReportCheckpoint(TestCommit(step));
  const ReportStats s = WaitUntilSent(*jc);
  jc.reset();
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(s.failed, 5u);
  EXPECT_EQ(s.sent, 0u);
  EXPECT_THAT(err, HasSubstr("drocc-runtime: cannot report to droccd at fake:droccd: connection "
                             "refused; training goes on (further failures are not logged)\n"));
  EXPECT_EQ(err.find("cannot report"), err.rfind("cannot report")) << err;
}

// ---- requeue ---------------------------------------------------------------------------------

TEST_F(JobControlTest, RequeueAcceptedByDroccdAfterTheLastReport) {
  ScopedEnv slurm{{"SLURM_JOB_ID", "77"}};
  auto droccd = std::make_shared<FakeDaemonClient>();
  auto scheduler = std::make_shared<FakeSlurmRequeuer>();
  auto jc = MustCreate({.handle_signals = false, .daemon = droccd, .slurm = scheduler});
  ASSERT_NE(jc, nullptr);
  jc->ReportCheckpoint(TestCommit(40));
  EXPECT_TRUE(jc->RequestRequeue(40, "time limit").ok());
  EXPECT_TRUE(scheduler->requeued.empty());
  const auto calls = droccd->calls();
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].method, "ReportCheckpoint");  // sent before asking
  EXPECT_EQ(calls[1].method, "RequestRequeue");
  EXPECT_EQ(calls[1].step, 40);
  EXPECT_EQ(calls[1].text, "time limit");
}

TEST_F(JobControlTest, RequeueRefusedByDroccdFallsBackToSlurm) {
  ScopedEnv slurm{{"SLURM_JOB_ID", "77"}};
  auto droccd = std::make_shared<FakeDaemonClient>();
  droccd->SetRequeueAnswer(RequeueAnswer{.accepted = false, .message = "requeue limit reached"});
  auto scheduler = std::make_shared<FakeSlurmRequeuer>();
  auto jc = MustCreate({.handle_signals = false, .daemon = droccd, .slurm = scheduler});
  ASSERT_NE(jc, nullptr);
  ::testing::internal::CaptureStderr();
  const absl::Status s = jc->RequestRequeue(40, "preempted");
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_THAT(scheduler->requeued, ElementsAre(77u));
  EXPECT_THAT(err, HasSubstr("droccd refused: requeue limit reached; Slurm requeues job 77"));
}

TEST_F(JobControlTest, RequeueFailsWhenDroccdIsDownAndSlurmRefuses) {
  ScopedEnv slurm{{"SLURM_JOB_ID", "77"}};
  auto droccd = std::make_shared<FakeDaemonClient>();
  droccd->SetRequeueAnswer(absl::UnavailableError("connection refused"));
  auto scheduler = std::make_shared<FakeSlurmRequeuer>(absl::FailedPreconditionError(
      "Slurm did not requeue job 77: Requested operation is presently disabled"));
  auto jc = MustCreate({.handle_signals = false, .daemon = droccd, .slurm = scheduler});
  ASSERT_NE(jc, nullptr);
  const absl::Status s = jc->RequestRequeue(40, "preempted");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("this job cannot be requeued"),
                    HasSubstr("droccd at fake:droccd did not answer: connection refused"),
                    HasSubstr("Slurm did not requeue job 77"),
                    HasSubstr("Resubmit it: it resumes from its checkpoint of step 40")));
  EXPECT_THAT(scheduler->requeued, ElementsAre(77u));
}

TEST_F(JobControlTest, RequeueUnderSlurmWithoutDroccd) {
  ScopedEnv slurm{{"SLURM_JOB_ID", "123"}};
  auto scheduler = std::make_shared<FakeSlurmRequeuer>();
  auto jc = MustCreate({.handle_signals = false, .slurm = scheduler});
  ASSERT_NE(jc, nullptr);
  EXPECT_TRUE(jc->RequestRequeue(8, "time limit").ok());
  EXPECT_THAT(scheduler->requeued, ElementsAre(123u));
}

TEST_F(JobControlTest, RequeueWithNeitherDroccdNorSlurmSaysToResubmit) {
  auto jc = MustCreate({.handle_signals = false});
  ASSERT_NE(jc, nullptr);
  absl::Status s = jc->RequestRequeue(12, "time limit");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), AllOf(HasSubstr("this job cannot be requeued"),
                                 HasSubstr("not started by droccd (DROCC_JOB_TOKEN is not set)"),
                                 HasSubstr("not a Slurm job (SLURM_JOB_ID is not set)"),
                                 HasSubstr("Resubmit it: it resumes from its checkpoint of step "
                                           "12")));
  s = jc->RequestRequeue(-1, "time limit");
  EXPECT_THAT(s.message(), HasSubstr("from the start (no checkpoint was taken)"));
}

TEST_F(JobControlTest, RequeueRefusesAMalformedSlurmJobId) {
  ScopedEnv slurm{{"SLURM_JOB_ID", "12x"}};
  auto scheduler = std::make_shared<FakeSlurmRequeuer>();
  auto jc = MustCreate({.handle_signals = false, .slurm = scheduler});
  ASSERT_NE(jc, nullptr);
  const absl::Status s = jc->RequestRequeue(3, "time limit");
  EXPECT_THAT(s.message(), HasSubstr("SLURM_JOB_ID=\"12x\" is not a Slurm job id"));
  EXPECT_TRUE(scheduler->requeued.empty());
}

// ---- the environment droccd sets ---------------------------------------------------------------

TEST(ResolveDaemonTargetTest, TheFormsTheCliAccepts) {
  EXPECT_EQ(*ResolveDaemonTarget("unix:/run/d.sock"), "unix:/run/d.sock");
  EXPECT_EQ(*ResolveDaemonTarget("/run/d.sock"), "unix:/run/d.sock");
  EXPECT_EQ(*ResolveDaemonTarget("head01:7890"), "head01:7890");
  EXPECT_EQ(*ResolveDaemonTarget(nullptr), kDefaultServer);
  EXPECT_EQ(*ResolveDaemonTarget(""), kDefaultServer);
  for (const char* bad : {"head01", ":7890", "head01:"}) {
    auto t = ResolveDaemonTarget(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_THAT(t.status().message(), HasSubstr("neither a socket path"));
  }
}

TEST_F(JobControlTest, AMalformedDroccdEnvironmentFailsCreate) {
  {
    ScopedEnv env{{kJobTokenEnv, "secret"}, {kJobIdEnv, "forty-two"}};
    auto jc = JobControl::Create({.handle_signals = false}, &comm_);
    ASSERT_FALSE(jc.ok());
    EXPECT_EQ(jc.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(jc.status().message(), HasSubstr("DROCC_JOB_ID=\"forty-two\""));
  }
  {
    ScopedEnv env{{kJobTokenEnv, "secret"}, {kJobIdEnv, "42"}, {kServerEnv, "droccd"}};
    auto jc = JobControl::Create({.handle_signals = false}, &comm_);
    ASSERT_FALSE(jc.ok());
    EXPECT_THAT(jc.status().message(), HasSubstr("DROCC_SERVER=\"droccd\""));
  }
  // Without the token the rest is not looked at: not a droccd job.
  ScopedEnv env{{kJobIdEnv, "forty-two"}, {kServerEnv, "droccd"}};
  auto jc = MustCreate({.handle_signals = false});
  ASSERT_NE(jc, nullptr);
  EXPECT_FALSE(jc->reporting());
}

}  // namespace
}  // namespace drocc::runtime
