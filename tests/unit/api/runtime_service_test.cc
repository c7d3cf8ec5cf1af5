// RuntimeService over a real gRPC server on a Unix socket: a job's token opens that job only,
// checkpoint and progress reports are stored with the job, requeue requests reach Slurm
// (FakeBackend).

#include <grpcpp/create_channel.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>

#include "daemon/api/runtime_service.h"
#include "daemon/slurm/fake_backend.h"
#include "daemon/store/in_memory_store.h"
#include "spdlog/spdlog.h"

namespace drocc::api {
namespace {

using queue::JobState;

class RuntimeServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    std::string tmpl = ::testing::TempDir() + "/drocc-rt-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto key = auth::JobTokens::NewKey();
    ASSERT_TRUE(key.ok());
    auto tokens = auth::JobTokens::FromKey(*key);
    ASSERT_TRUE(tokens.ok());
    tokens_.emplace(*tokens);
    // carol in project "lab", with hours to spare.
    std::vector<store::QuotaChange> model = {
        {.value = quota::Account{.name = "uni", .kind = quota::AccountKind::kLab}},
        {.value = quota::Project{.name = "lab", .account = "uni"}},
        {.value = quota::Member{.project = "lab", .user = "carol", .is_default = true}},
        {.value = store::StoredGrant{.grant = {.project = "lab",
                                               .amount = quota::MilliUnits::FromMilli(1'000'000),
                                               .valid_from = clock_.Now() - absl::Hours(1),
                                               .reference = "grant-1"},
                                     .resource = "node-hours"}},
    };
    ASSERT_TRUE(store::ApplyQuotaChangesAndWait(store_, model, {.user = "test"}).ok());
    manager_ = std::make_unique<manager::JobManager>(
        &store_, &backend_, &clock_,
        manager::JobManagerOptions{.poll_interval = absl::Milliseconds(5),
                                   .min_admission_interval = absl::Milliseconds(1),
                                   .job_tokens = &*tokens_,
                                   .runtime_server = "unix:/run/drocc/droccd.sock"});
    ASSERT_TRUE(manager_->Start().ok());
    service_ = std::make_unique<RuntimeServiceImpl>(ApiDeps{.store = &store_,
                                                            .manager = manager_.get(),
                                                            .authenticator = &authenticator_,
                                                            .policy = &policy_,
                                                            .clock = &clock_,
                                                            .job_tokens = &*tokens_});
    grpc::ServerBuilder builder;
    const std::string address = "unix:" + dir_ + "/droccd.sock";
    builder.AddListeningPort(address, grpc::InsecureServerCredentials());
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    stub_ = v1::RuntimeService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    server_->Shutdown();
    manager_->Stop();
    std::filesystem::remove_all(dir_);
  }

  // A job submitted by carol and waiting in Slurm (no quota model: nothing to charge).
  queue::Job RunningJob() {
    queue::Job job;
    job.spec.name = "train";
    job.spec.script = "#!/bin/bash\ntrain\n";
    job.spec.workdir = "/home/carol";
    job.spec.environment = {"HOME=/home/carol", "DROCC_JOB_TOKEN=inherited-from-a-parent"};
    job.user = "carol";
    job.uid = 1003;
    job.gid = 1003;
    job.reason = "queued";
    job.submit_time = clock_.Now();
    std::promise<absl::StatusOr<store::InsertResult>> p;
    manager_->Submit(job, [&p](absl::StatusOr<store::InsertResult> r) { p.set_value(r); });
    auto inserted = p.get_future().get();
    EXPECT_TRUE(inserted.ok()) << inserted.status();
    const queue::JobId id = inserted->job.id;
    std::optional<uint64_t> slurm_id;
    for (int i = 0; i < 2000 && !slurm_id; ++i) {
      slurm_id = backend_.SlurmIdOf(id);
      if (!slurm_id) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    EXPECT_TRUE(slurm_id.has_value());
    EXPECT_TRUE(backend_.Start(*slurm_id, "n1").ok());
    WaitForState(id, JobState::kRunning);
    return *store_.GetJob(id, false);
  }

  void WaitForState(queue::JobId id, JobState state) {
    for (int i = 0; i < 2000; ++i) {
      auto j = store_.GetJob(id, false);
      if (j.ok() && j->state == state) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL() << "job " << id << " never reached " << queue::JobStateName(state);
  }

  grpc::Status Report(uint64_t job_id, const std::string& token, int64_t step) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata(kJobTokenMetadataKey, token);
    v1::ReportCheckpointRequest req;
    req.set_job_id(job_id);
    req.set_ranks(4);
    req.mutable_checkpoint()->set_step(step);
    req.mutable_checkpoint()->set_bytes(1 << 20);
    req.mutable_checkpoint()->set_seconds(0.25);
    req.mutable_checkpoint()->set_path("/scratch/carol/run/ckpt-000000000040");
    v1::ReportCheckpointResponse resp;
    return stub_->ReportCheckpoint(&ctx, req, &resp);
  }

  grpc::Status Progress(uint64_t job_id, const std::string& token, const std::string& phase,
                        int64_t step, uint64_t done, uint64_t total, const std::string& message) {
    grpc::ClientContext ctx;
    if (!token.empty()) ctx.AddMetadata(kJobTokenMetadataKey, token);
    v1::ReportProgressRequest req;
    req.set_job_id(job_id);
    req.set_phase(phase);
    req.set_step(step);
    req.set_bytes_done(done);
    req.set_bytes_total(total);
    req.set_message(message);
    v1::ReportProgressResponse resp;
    return stub_->ReportProgress(&ctx, req, &resp);
  }

  std::vector<queue::ProgressRecord> StoredProgress(queue::JobId id) {
    absl::StatusOr<queue::Job> job = store_.GetJob(id, /*with_events=*/true);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? job->progress : std::vector<queue::ProgressRecord>{};
  }

  std::string dir_;
  FakeClock clock_;
  slurm::FakeBackend backend_{&clock_, 100};
  store::InMemoryStore store_;
  std::optional<auth::JobTokens> tokens_;
  std::unique_ptr<manager::JobManager> manager_;
  std::unique_ptr<RuntimeServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  auth::PeerTable peers_;
  Policy policy_;
  Authenticator authenticator_{&peers_, &policy_, /*tokens=*/nullptr, {}};
  std::unique_ptr<v1::RuntimeService::Stub> stub_;
};

TEST_F(RuntimeServiceTest, TheJobGetsItsOwnTokenAndServerInItsEnvironment) {
  queue::Job job = RunningJob();
  std::vector<queue::Job> handed = backend_.submitted();
  ASSERT_EQ(handed.size(), 1u);
  const auto& env = handed[0].spec.environment;
  auto has = [&](const std::string& entry) {
    return std::find(env.begin(), env.end(), entry) != env.end();
  };
  EXPECT_TRUE(has("HOME=/home/carol"));
  EXPECT_TRUE(has("DROCC_JOB_ID=" + std::to_string(job.id)));
  EXPECT_TRUE(has("DROCC_JOB_TOKEN=" + tokens_->TokenFor(job.id)));
  EXPECT_TRUE(has("DROCC_SERVER=unix:/run/drocc/droccd.sock"));
  EXPECT_FALSE(has("DROCC_JOB_TOKEN=inherited-from-a-parent"));
  // The token is handed to Slurm only: never stored with the job.
  auto stored = store_.GetJob(job.id, true);
  ASSERT_TRUE(stored.ok());
  for (const std::string& e : stored->spec.environment) EXPECT_FALSE(e.starts_with("DROCC_JOB"));
}

TEST_F(RuntimeServiceTest, ReportsWithTheJobsTokenAreStoredAndListed) {
  queue::Job job = RunningJob();
  ASSERT_TRUE(Report(job.id, tokens_->TokenFor(job.id), 40).ok());
  ASSERT_TRUE(Report(job.id, tokens_->TokenFor(job.id), 80).ok());
  auto stored = store_.GetJob(job.id, /*with_events=*/true);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->checkpoints.size(), 2u);
  EXPECT_EQ(stored->checkpoints[0].step, 40);
  EXPECT_EQ(stored->checkpoints[1].step, 80);
  EXPECT_EQ(stored->checkpoints[1].bytes, 1u << 20);
  EXPECT_EQ(stored->checkpoints[1].ranks, 4u);
  EXPECT_EQ(stored->checkpoints[1].duration, absl::Milliseconds(250));
  EXPECT_EQ(stored->checkpoints[1].path, "/scratch/carol/run/ckpt-000000000040");
}

TEST_F(RuntimeServiceTest, AnotherJobsTokenOrNoTokenIsRefusedAndChangesNothing) {
  queue::Job mine = RunningJob();
  queue::Job other = RunningJob();
  grpc::Status s = Report(mine.id, tokens_->TokenFor(other.id), 10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_NE(s.error_message().find("not that of job"), std::string::npos);
  s = Report(mine.id, "", 10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  s = Report(mine.id, std::string(64, '0'), 10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A token for a job that does not exist opens nothing either.
  s = Report(999, tokens_->TokenFor(999), 10);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(store_.GetJob(mine.id, true)->checkpoints.empty());

  grpc::ClientContext ctx;
  ctx.AddMetadata(kJobTokenMetadataKey, tokens_->TokenFor(other.id));
  v1::RequestRequeueRequest req;
  req.set_job_id(mine.id);
  v1::RequestRequeueResponse resp;
  EXPECT_EQ(stub_->RequestRequeue(&ctx, req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(backend_.Get(mine.slurm_job_id)->state, JobState::kRunning);
}

TEST_F(RuntimeServiceTest, BadReportsAreRefusedWithTheField) {
  queue::Job job = RunningJob();
  grpc::Status s = Report(job.id, tokens_->TokenFor(job.id), -1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("checkpoint.step"), std::string::npos);
  EXPECT_TRUE(store_.GetJob(job.id, true)->checkpoints.empty());
}

TEST_F(RuntimeServiceTest, ProgressIsKeptPerPhaseAndEachReportReplacesItsPhase) {
  queue::Job job = RunningJob();
  const std::string token = tokens_->TokenFor(job.id);
  const absl::Time t0 = clock_.Now();
  ASSERT_TRUE(Progress(job.id, token, "stage-in", -1, 1 << 20, 4 << 20, "file 3 of 12").ok());
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Progress(job.id, token, "train", 10, 0, 0, "").ok());
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Progress(job.id, token, "stage-in", -1, 4 << 20, 4 << 20, "done").ok());
  std::vector<queue::ProgressRecord> stored = StoredProgress(job.id);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0], (queue::ProgressRecord{.phase = "stage-in",
                                              .step = -1,
                                              .bytes_done = 4 << 20,
                                              .bytes_total = 4 << 20,
                                              .message = "done",
                                              .time = t0 + absl::Seconds(10)}));
  EXPECT_EQ(stored[1],
            (queue::ProgressRecord{.phase = "train", .step = 10, .time = t0 + absl::Seconds(5)}));
  // Any negative step means "none"; a total of 0 means unknown, so any bytes_done goes.
  ASSERT_TRUE(Progress(job.id, token, "train", -7, 123, 0, "").ok());
  stored = StoredProgress(job.id);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[1].step, -1);
  EXPECT_EQ(stored[1].bytes_done, 123u);
}

TEST_F(RuntimeServiceTest, ProgressWithAnotherJobsTokenOrNoneIsRefusedAndChangesNothing) {
  queue::Job mine = RunningJob();
  queue::Job other = RunningJob();
  grpc::Status s = Progress(mine.id, tokens_->TokenFor(other.id), "train", 1, 0, 0, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED) << s.error_message();
  EXPECT_NE(s.error_message().find("not that of job"), std::string::npos);
  s = Progress(mine.id, "", "train", 1, 0, 0, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  EXPECT_NE(s.error_message().find("ReportProgress needs the job's token"), std::string::npos);
  s = Progress(999, tokens_->TokenFor(999), "train", 1, 0, 0, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_TRUE(StoredProgress(mine.id).empty());
  EXPECT_TRUE(StoredProgress(other.id).empty());
}

TEST_F(RuntimeServiceTest, BadProgressIsRefusedWithWhatToFixAndChangesNothing) {
  queue::Job job = RunningJob();
  const std::string token = tokens_->TokenFor(job.id);
  ASSERT_TRUE(Progress(job.id, token, "stage-in", -1, 1, 2, "half").ok());
  const std::vector<queue::ProgressRecord> before = StoredProgress(job.id);
  ASSERT_EQ(before.size(), 1u);

  struct Case {
    std::string phase;
    uint64_t done;
    uint64_t total;
    std::string message;
    std::string expected;  // in the error message
  };
  const std::vector<Case> cases = {
      {"", 1, 2, "", "phase is missing"},
      {std::string(33, 'p'), 1, 2, "", "1 to 32 printable ASCII characters"},
      {"stage in", 1, 2, "", "phase \"stage in\" is not a phase name"},
      {"stage-in\n", 1, 2, "", "phase \"stage-in\\n\""},
      {"\xc3\xa9tape", 1, 2, "", "without spaces"},
      {"stage-in", 1, 2, std::string(513, 'm'), "message is 513 bytes; at most 512"},
      {"stage-in", 1, 2, "two\nlines", "without control characters"},
      {"stage-in", 3, 2, "", "bytes_done (3) exceeds bytes_total (2)"},
  };
  for (const Case& c : cases) {
    grpc::Status s = Progress(job.id, token, c.phase, 5, c.done, c.total, c.message);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.expected;
    EXPECT_NE(s.error_message().find(c.expected), std::string::npos)
        << s.error_message() << " lacks " << c.expected;
    EXPECT_EQ(StoredProgress(job.id), before) << c.expected;
  }
  // The limits themselves are fine, and UTF-8 in the message too.
  ASSERT_TRUE(Progress(job.id, token, std::string(32, 'p'), 1, 2, 2, std::string(512, 'm')).ok());
  ASSERT_TRUE(Progress(job.id, token, "stage-in", -1, 2, 2, "fini, vérifié").ok());
  EXPECT_EQ(StoredProgress(job.id).size(), 2u);
  EXPECT_EQ(StoredProgress(job.id)[0].message, "fini, vérifié");
}

TEST_F(RuntimeServiceTest, ProgressOfAJobThatEndedIsRefused) {
  queue::Job job = RunningJob();
  ASSERT_TRUE(backend_.Finish(job.slurm_job_id, JobState::kCompleted, 0).ok());
  WaitForState(job.id, JobState::kCompleted);
  grpc::Status s = Progress(job.id, tokens_->TokenFor(job.id), "stage-out", -1, 1, 1, "");
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("has ended"), std::string::npos) << s.error_message();
  EXPECT_TRUE(StoredProgress(job.id).empty());
}

TEST_F(RuntimeServiceTest, ARequeueRequestRequeuesTheJobInSlurmAndTheTokenEndsWithTheJob) {
  queue::Job job = RunningJob();
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata(kJobTokenMetadataKey, tokens_->TokenFor(job.id));
    v1::RequestRequeueRequest req;
    req.set_job_id(job.id);
    req.set_checkpoint_step(120);
    req.set_reason("SIGUSR1 from Slurm");
    v1::RequestRequeueResponse resp;
    grpc::Status s = stub_->RequestRequeue(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.accepted());
  }
  WaitForState(job.id, JobState::kRequeued);
  EXPECT_EQ(store_.GetJob(job.id, false)->reason,
            "requeued at the job's request: checkpoint at step 120 (SIGUSR1 from Slurm)");
  ASSERT_TRUE(backend_.Start(job.slurm_job_id, "n2").ok());
  WaitForState(job.id, JobState::kRunning);
  ASSERT_TRUE(Report(job.id, tokens_->TokenFor(job.id), 121).ok());  // still its token
  ASSERT_TRUE(backend_.Finish(job.slurm_job_id, JobState::kCompleted, 0).ok());
  WaitForState(job.id, JobState::kCompleted);
  grpc::Status s = Report(job.id, tokens_->TokenFor(job.id), 122);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
}

}  // namespace
}  // namespace drocc::api
