// JobControl against a stand-in for droccd's side of RuntimeService: a real gRPC server in this
// process, on a Unix socket in a temporary directory, found the way a job finds droccd
// (DROCC_SERVER, DROCC_JOB_ID, DROCC_JOB_TOKEN). Checks what arrives (fields and the token in
// the metadata), that a droccd that is down or hung never holds the job up, and requeue; and
// that data staging reports its progress the same way.

#include <gmock/gmock.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <grpcpp/server_context.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drocc/runtime/job_control.h"
#include "drocc/runtime/staging.h"
#include "drocc/v1/runtime.grpc.pb.h"
#include "tests/unit/runtime/fake_job_services.h"
#include "tests/unit/runtime/test_dir.h"

namespace drocc::runtime {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::ElementsAre;
using testing::FakeSlurmRequeuer;
using ::testing::HasSubstr;
using testing::ReportRun;
using testing::ReportThenDestroy;
using testing::ScopedEnv;
using testing::TestCommit;
using testing::TestDir;

// What droccd's RuntimeService would receive; answers requeue as told.
class RecordingRuntimeService final : public v1::RuntimeService::Service {
 public:
  grpc::Status ReportCheckpoint(grpc::ServerContext* ctx, const v1::ReportCheckpointRequest* req,
                                v1::ReportCheckpointResponse*) override {
    std::lock_guard<std::mutex> lock(mu_);
    checkpoints_.push_back(*req);
    tokens_.push_back(TokenOf(ctx));
    return grpc::Status::OK;
  }
  grpc::Status ReportProgress(grpc::ServerContext* ctx, const v1::ReportProgressRequest* req,
                              v1::ReportProgressResponse*) override {
    std::lock_guard<std::mutex> lock(mu_);
    progress_.push_back(*req);
    tokens_.push_back(TokenOf(ctx));
    return grpc::Status::OK;
  }
  grpc::Status RequestRequeue(grpc::ServerContext* ctx, const v1::RequestRequeueRequest* req,
                              v1::RequestRequeueResponse* resp) override {
    std::lock_guard<std::mutex> lock(mu_);
    requeues_.push_back(*req);
    tokens_.push_back(TokenOf(ctx));
    resp->set_accepted(accept_);
    resp->set_message(accept_ ? "" : refusal_);
    return grpc::Status::OK;
  }

  void Refuse(std::string why) {
    std::lock_guard<std::mutex> lock(mu_);
    accept_ = false;
    refusal_ = std::move(why);
  }
  std::vector<v1::ReportCheckpointRequest> checkpoints() const {
    std::lock_guard<std::mutex> lock(mu_);
    return checkpoints_;
  }
  std::vector<v1::ReportProgressRequest> progress() const {
    std::lock_guard<std::mutex> lock(mu_);
    return progress_;
  }
  std::vector<v1::RequestRequeueRequest> requeues() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requeues_;
  }
  std::vector<std::string> tokens() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tokens_;
  }

 private:
  static std::string TokenOf(grpc::ServerContext* ctx) {
    auto it = ctx->client_metadata().find(kJobTokenMetadataKey);
    if (it == ctx->client_metadata().end()) return "(none)";
    return std::string(it->second.data(), it->second.size());
  }

  mutable std::mutex mu_;
  bool accept_ = true;
  std::string refusal_;
  std::vector<v1::ReportCheckpointRequest> checkpoints_;
  std::vector<v1::ReportProgressRequest> progress_;
  std::vector<v1::RequestRequeueRequest> requeues_;
  std::vector<std::string> tokens_;
};

class JobControlGrpcTest : public ::testing::Test {
 protected:
  void StartDroccd() {
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr) << "cannot listen on " << socket_;
  }
  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }
  std::unique_ptr<JobControl> MustCreate(JobControlOptions options = {.handle_signals = false}) {
    auto jc = JobControl::Create(std::move(options), &comm_);
    EXPECT_TRUE(jc.ok()) << jc.status();
    return jc.ok() ? *std::move(jc) : nullptr;
  }

  TestDir dir_;
  const std::string socket_ = dir_.path() + "/droccd.sock";
  // A job droccd started, not under Slurm.
  ScopedEnv env_{{kServerEnv, "unix:" + socket_},
                 {kJobIdEnv, "42"},
                 {kJobTokenEnv, "t0ken-of-job-42"},
                 {kCheckpointSignalEnv, std::nullopt},
                 {"SLURM_JOB_ID", std::nullopt}};
  RecordingRuntimeService service_;
  std::unique_ptr<grpc::Server> server_;
  LocalCommunicator comm_;
};

TEST_F(JobControlGrpcTest, ReportsArriveWithTheTokenAndEveryField) {
  StartDroccd();
  auto jc = MustCreate();
  ASSERT_NE(jc, nullptr);
  ASSERT_TRUE(jc->reporting());
  const absl::Time before = absl::Now();
  jc->ReportCheckpoint(CommitInfo{
      .step = 7, .bytes = 4096, .seconds = 1.25, .path = "/scratch/run/ckpt-7", .ranks = 4});
  const absl::Time after = absl::Now();
  jc->ReportProgress(
      {.phase = "stage-in", .step = 7, .bytes_done = 10, .bytes_total = 20, .message = "half way"});
  jc.reset();  // flushes

  const auto checkpoints = service_.checkpoints();
  ASSERT_EQ(checkpoints.size(), 1u);
  const v1::ReportCheckpointRequest& c = checkpoints[0];
  EXPECT_EQ(c.job_id(), 42u);
  EXPECT_EQ(c.ranks(), 4u);
  EXPECT_EQ(c.checkpoint().step(), 7);
  EXPECT_EQ(c.checkpoint().bytes(), 4096u);
  EXPECT_EQ(c.checkpoint().seconds(), 1.25);
  EXPECT_EQ(c.checkpoint().path(), "/scratch/run/ckpt-7");
  const absl::Time at = absl::FromUnixSeconds(c.checkpoint().time().seconds()) +
                        absl::Nanoseconds(c.checkpoint().time().nanos());
  EXPECT_GE(at, before);
  EXPECT_LE(at, after);

  const auto progress = service_.progress();
  ASSERT_EQ(progress.size(), 1u);
  EXPECT_EQ(progress[0].job_id(), 42u);
  EXPECT_EQ(progress[0].phase(), "stage-in");
  EXPECT_EQ(progress[0].step(), 7);
  EXPECT_EQ(progress[0].bytes_done(), 10u);
  EXPECT_EQ(progress[0].bytes_total(), 20u);
  EXPECT_EQ(progress[0].message(), "half way");
  EXPECT_THAT(service_.tokens(), ElementsAre("t0ken-of-job-42", "t0ken-of-job-42"));
}

TEST_F(JobControlGrpcTest, ASocketPathWithoutUnixPrefixWorksToo) {
  StartDroccd();
  ScopedEnv env{{kServerEnv, socket_}};
  auto jc = MustCreate();
  ASSERT_NE(jc, nullptr);
  jc->ReportCheckpoint(TestCommit(3));
  jc.reset();
  ASSERT_EQ(service_.checkpoints().size(), 1u);
  EXPECT_EQ(service_.checkpoints()[0].checkpoint().step(), 3);
}

TEST_F(JobControlGrpcTest, ADroccdThatIsDownDoesNotHoldTheJobUp) {
  // No server: the socket does not exist. Default timeouts (2 s a call, 3 s to flush).
  auto jc = MustCreate();
  ASSERT_NE(jc, nullptr);
  const ReportRun run = ReportThenDestroy(std::move(jc), 50);
  EXPECT_LT(run.reporting, std::chrono::milliseconds(200));
  EXPECT_LT(run.total, std::chrono::seconds(4));
  EXPECT_THAT(run.stderr_text,
              HasSubstr("drocc-runtime: cannot report to droccd at unix:" + socket_));
  EXPECT_EQ(run.stderr_text.find("cannot report"), run.stderr_text.rfind("cannot report"))
      << run.stderr_text;
}

TEST_F(JobControlGrpcTest, AHungDroccdCostsAtMostTheFlushTimeout) {
  // Something listens on the socket but never accepts nor answers: every call hits its deadline.
  const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
  ASSERT_EQ(listen(fd, 16), 0);

  auto jc = MustCreate();
  ASSERT_NE(jc, nullptr);
  const ReportRun run = ReportThenDestroy(std::move(jc), 5);
  close(fd);
  EXPECT_LT(run.reporting, std::chrono::milliseconds(100));
  EXPECT_LT(run.total, std::chrono::milliseconds(4000));  // 3 s of flush, and some slack
  EXPECT_THAT(run.stderr_text, HasSubstr("cannot report to droccd at unix:" + socket_));
  EXPECT_THAT(run.stderr_text, HasSubstr("were dropped"));
}

TEST_F(JobControlGrpcTest, RequeueAcceptedByDroccd) {
  StartDroccd();
  auto jc = MustCreate();
  ASSERT_NE(jc, nullptr);
  jc->ReportCheckpoint(TestCommit(40));
  EXPECT_TRUE(jc->RequestRequeue(40, "time limit").ok());
  ASSERT_EQ(service_.checkpoints().size(), 1u);  // reported before asking
  const auto requeues = service_.requeues();
  ASSERT_EQ(requeues.size(), 1u);
  EXPECT_EQ(requeues[0].job_id(), 42u);
  EXPECT_EQ(requeues[0].checkpoint_step(), 40);
  EXPECT_EQ(requeues[0].reason(), "time limit");
  EXPECT_THAT(service_.tokens(), ElementsAre("t0ken-of-job-42", "t0ken-of-job-42"));
}

TEST_F(JobControlGrpcTest, RequeueRefusedByDroccdOutsideSlurmSaysToResubmit) {
  StartDroccd();
  service_.Refuse("job 42 was requeued 5 times already");
  auto jc = MustCreate();
  ASSERT_NE(jc, nullptr);
  const absl::Status s = jc->RequestRequeue(40, "time limit");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(),
              AllOf(HasSubstr("droccd refused: job 42 was requeued 5 times already"),
                    HasSubstr("SLURM_JOB_ID is not set"),
                    HasSubstr("Resubmit it: it resumes from its checkpoint of step 40")));
}

TEST_F(JobControlGrpcTest, RequeueRefusedByDroccdFallsBackToSlurm) {
  StartDroccd();
  service_.Refuse("no");
  ScopedEnv slurm{{"SLURM_JOB_ID", "99"}};
  auto scheduler = std::make_shared<FakeSlurmRequeuer>();
  auto jc = MustCreate({.handle_signals = false, .slurm = scheduler});
  ASSERT_NE(jc, nullptr);
  ::testing::internal::CaptureStderr();
  EXPECT_TRUE(jc->RequestRequeue(40, "preempted").ok());
  ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(scheduler->requeued, ElementsAre(99u));
}

TEST_F(JobControlGrpcTest, RequeueWithDroccdDownFallsBackToSlurmQuickly) {
  ScopedEnv slurm{{"SLURM_JOB_ID", "99"}};
  auto scheduler = std::make_shared<FakeSlurmRequeuer>();
  auto jc = MustCreate({.handle_signals = false, .slurm = scheduler});
  ASSERT_NE(jc, nullptr);
  ::testing::internal::CaptureStderr();
  const auto start = std::chrono::steady_clock::now();
  const absl::Status s = jc->RequestRequeue(40, "preempted");
  const auto took = std::chrono::steady_clock::now() - start;
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_LT(took, std::chrono::seconds(6));
  EXPECT_THAT(scheduler->requeued, ElementsAre(99u));
  EXPECT_THAT(err, AllOf(HasSubstr("droccd at unix:" + socket_ + " did not answer"),
                         HasSubstr("Slurm requeues job 99 instead")));
}

// Data staging reports its progress through the same RuntimeService (staging.h,
// report_to_daemon), and never depends on droccd.
TEST_F(JobControlGrpcTest, StagingReportsItsProgressToDroccd) {
  StartDroccd();
  fs::create_directories(dir_.path() + "/src/d");
  std::ofstream(dir_.path() + "/src/d/f") << std::string(100000, 'x');
  std::ofstream(dir_.path() + "/src/g") << "y";
  absl::StatusOr<StageStats> st = StageIn(dir_.path() + "/src", dir_.path() + "/dst",
                                          {.progress_interval = absl::ZeroDuration()}, &comm_);
  ASSERT_TRUE(st.ok()) << st.status();
  const auto progress = service_.progress();
  ASSERT_FALSE(progress.empty());
  for (const auto& p : progress) {
    EXPECT_EQ(p.job_id(), 42u);
    EXPECT_EQ(p.phase(), "stage-in");
    EXPECT_EQ(p.bytes_total(), 100001u);
  }
  EXPECT_EQ(progress.back().bytes_done(), 100001u);
  EXPECT_EQ(progress.back().message(), "2 of 2 files, done");
  EXPECT_THAT(service_.tokens(), ::testing::Each("t0ken-of-job-42"));

  st = StageOut(dir_.path() + "/dst", dir_.path() + "/out", {}, &comm_);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(service_.progress().back().phase(), "stage-out");
}

TEST_F(JobControlGrpcTest, StagingWithDroccdDownSucceedsWithoutWaitingForIt) {
  // No server: the reports fail in the background; the destructor's flush is bounded (1 s).
  std::ofstream(dir_.path() + "/f") << "data";
  ::testing::internal::CaptureStderr();
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<StageStats> st = StageIn(dir_.path() + "/f", dir_.path() + "/copy", {}, &comm_);
  const auto took = std::chrono::steady_clock::now() - start;
  ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_LT(took, std::chrono::seconds(3));
}

}  // namespace
}  // namespace drocc::runtime
