// The attacks of attack_test.sh that the drocc CLI cannot make: raw requests against a running
// droccd on its Unix socket, run as an ordinary user (alice). Each is refused with a clear
// error and changes nothing, or (the request naming another user) is accepted as the caller.
//
// Environment: DROCC_SOCKET (the socket path), ATTACK_DIR (the user's directory for scripts
// and results), ATTACK_OTHER_USER / ATTACK_OTHER_UID (a user who is not the caller).

#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "drocc/v1/admin.grpc.pb.h"
#include "drocc/v1/job.grpc.pb.h"

namespace drocc {
namespace {

using Clock = std::chrono::steady_clock;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

class AttackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    socket_ = Env("DROCC_SOCKET");
    dir_ = Env("ATTACK_DIR");
    ASSERT_FALSE(socket_.empty()) << "set DROCC_SOCKET";
    ASSERT_FALSE(dir_.empty()) << "set ATTACK_DIR";
    channel_ = NewChannel();
    jobs_ = v1::JobService::NewStub(channel_);
    admin_ = v1::AdminService::NewStub(channel_);
  }

  std::shared_ptr<grpc::Channel> NewChannel() const {
    grpc::ChannelArguments args;
    args.SetInt("grpc.use_local_subchannel_pool", 1);  // its own connection
    return grpc::CreateCustomChannel("unix:" + socket_, grpc::InsecureChannelCredentials(), args);
  }

  static void Deadline(grpc::ClientContext& ctx, int seconds = 30) {
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  }

  v1::SubmitJobRequest Job(const std::string& body = "true") const {
    v1::SubmitJobRequest req;
    v1::JobSpec* s = req.mutable_spec();
    s->set_name("attack");
    s->set_script(absl::StrCat("#!/bin/bash\n", body, "\n"));
    s->set_workdir(dir_);
    s->set_time_limit_s(60);
    s->add_environment("PATH=/usr/bin:/bin");
    return req;
  }

  grpc::Status Submit(const v1::SubmitJobRequest& req, v1::SubmitJobResponse* resp) {
    grpc::ClientContext ctx;
    Deadline(ctx);
    return jobs_->SubmitJob(&ctx, req, resp);
  }

  // The ids of the caller's jobs, every page.
  std::set<uint64_t> MyJobs() {
    std::set<uint64_t> ids;
    v1::ListJobsRequest req;
    req.mutable_page()->set_page_size(1000);
    for (;;) {
      grpc::ClientContext ctx;
      Deadline(ctx);
      v1::ListJobsResponse resp;
      grpc::Status s = jobs_->ListJobs(&ctx, req, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) return ids;
      for (const v1::Job& j : resp.jobs()) ids.insert(j.id());
      if (resp.next_page_token().empty()) return ids;
      req.mutable_page()->set_page_token(resp.next_page_token());
    }
  }

  grpc::Status Healthy(std::shared_ptr<grpc::Channel> channel = nullptr) {
    auto stub = channel ? v1::AdminService::NewStub(channel) : nullptr;
    grpc::ClientContext ctx;
    Deadline(ctx, 10);
    v1::AdmissionState state;
    return (stub ? *stub : *admin_).GetAdmissionState(&ctx, {}, &state);
  }

  std::string socket_, dir_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
};

// The proto has no field naming a user; the attacker tries what there is: the environment,
// and unknown fields numbered like Job.user (3) and Job.uid (4). The job must run as the
// caller. Writes the job id to $ATTACK_DIR/other-user.id for the shell to follow.
TEST_F(AttackTest, RequestNamingAnotherUserRunsAsTheCaller) {
  const std::string other = Env("ATTACK_OTHER_USER");
  const std::string other_uid = Env("ATTACK_OTHER_UID");
  ASSERT_FALSE(other.empty());
  v1::SubmitJobRequest req = Job("echo \"ran as $(id -un) uid $(id -u) USER=$USER\"");
  v1::JobSpec* s = req.mutable_spec();
  s->set_name("other-user");
  s->set_output(dir_ + "/other-user.out");
  for (const std::string& e :
       {"USER=" + other, "LOGNAME=" + other, "HOME=/home/" + other, "SLURM_JOB_USER=" + other,
        "SLURM_JOB_UID=" + other_uid, "SUDO_USER=" + other}) {
    s->add_environment(e);
  }
  auto* unknown = req.GetReflection()->MutableUnknownFields(&req);
  unknown->AddLengthDelimited(3, other);
  unknown->AddVarint(4, std::stoull(other_uid));
  auto* spec_unknown = s->GetReflection()->MutableUnknownFields(s);
  spec_unknown->AddLengthDelimited(100, other);
  spec_unknown->AddVarint(101, 0);  // "uid 0"
  v1::SubmitJobResponse resp;
  grpc::Status st = Submit(req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.job().uid(), getuid());
  EXPECT_NE(resp.job().user(), other);
  std::ofstream(dir_ + "/other-user.id") << resp.job().id() << "\n";
}

TEST_F(AttackTest, DotDotPathsAreRefusedAndStoreNothing) {
  struct Case {
    const char* field;
    std::function<void(v1::JobSpec&)> set;
  };
  const std::string d = dir_;
  const std::vector<Case> cases = {
      {"spec.workdir", [&](v1::JobSpec& s) { s.set_workdir(d + "/../../etc"); }},
      {"spec.output", [&](v1::JobSpec& s) { s.set_output("../../../etc/cron.d/x"); }},
      {"spec.output", [&](v1::JobSpec& s) { s.set_output(d + "/../../../root/x.out"); }},
      {"spec.error", [&](v1::JobSpec& s) { s.set_error("/tmp/../etc/x"); }},
      {"spec.script_path", [&](v1::JobSpec& s) { s.set_script_path(d + "/../x.sh"); }},
      {"spec.output",  // only once %x is expanded
       [&](v1::JobSpec& s) {
         s.set_name("../../../etc/x");
         s.set_output(d + "/%x.out");
       }},
  };
  const std::set<uint64_t> before = MyJobs();
  for (const Case& c : cases) {
    v1::SubmitJobRequest req = Job();
    c.set(*req.mutable_spec());
    v1::SubmitJobResponse resp;
    grpc::Status st = Submit(req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_TRUE(absl::StartsWith(st.error_message(), c.field)) << st.error_message();
    EXPECT_TRUE(absl::StrContains(st.error_message(), "\"..\" component")) << st.error_message();
  }
  EXPECT_EQ(MyJobs(), before);
}

TEST_F(AttackTest, OversizedFieldsAreRefusedNamingTheField) {
  const std::set<uint64_t> before = MyJobs();
  v1::SubmitJobRequest req = Job();
  req.mutable_spec()->set_partition(std::string(10'000, 'p'));
  v1::SubmitJobResponse resp;
  grpc::Status st = Submit(req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "spec.partition is 10000 bytes; the limit is 256: shorten it");
  v1::ListJobsRequest list;
  list.set_project(std::string(5000, 'x'));
  grpc::ClientContext ctx;
  Deadline(ctx);
  v1::ListJobsResponse listed;
  st = jobs_->ListJobs(&ctx, list, &listed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "project is 5000 bytes; the limit is 256: shorten it");
  EXPECT_EQ(MyJobs(), before);
}

// 100 MB in one request: refused by gRPC's 16 MiB limit before any handler; droccd still
// answers (the shell checks its memory).
TEST_F(AttackTest, HundredMegabyteRequestIsResourceExhausted) {
  const std::set<uint64_t> before = MyJobs();
  v1::SubmitJobRequest req = Job();
  req.mutable_spec()->set_script("#!/bin/bash\n" + std::string(100 << 20, '#'));
  v1::SubmitJobResponse resp;
  grpc::Status st = Submit(req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  EXPECT_FALSE(st.error_message().empty());
  grpc::Status health = Healthy();
  EXPECT_TRUE(health.ok()) << health.error_message();
  EXPECT_EQ(MyJobs(), before);
}

// 10,000 submissions with 64 in flight against a limit of 50/s, burst 100 (the test's
// droccd.toml): most are RESOURCE_EXHAUSTED with the retry advice, exactly the accepted
// ones are stored, and droccd keeps answering other calls throughout.
TEST_F(AttackTest, BurstOfTenThousandSubmitsIsRateLimited) {
  constexpr int kCalls = 10'000;
  constexpr int kInFlight = 64;
  const std::set<uint64_t> before = MyJobs();
  std::atomic<int> next{0}, refused{0}, other{0}, bad_advice{0};
  std::mutex mu;
  std::set<uint64_t> accepted;
  std::string first_other, first_bad;
  std::atomic<bool> done{false};

  // A second connection asks droccd something else every 50 ms during the burst.
  std::atomic<int> probes{0}, probe_failures{0};
  std::atomic<int64_t> worst_probe_ms{0};
  std::thread prober([&] {
    auto channel = NewChannel();
    while (!done) {
      const auto t0 = Clock::now();
      grpc::Status s = Healthy(channel);
      const int64_t ms =
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
      ++probes;
      if (!s.ok()) ++probe_failures;
      if (ms > worst_probe_ms) worst_probe_ms = ms;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });

  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kInFlight; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < kCalls; i = next++) {
        v1::SubmitJobRequest req = Job();
        req.mutable_spec()->set_name(absl::StrCat("burst-", i));
        grpc::ClientContext ctx;
        Deadline(ctx);
        v1::SubmitJobResponse resp;
        grpc::Status s = jobs_->SubmitJob(&ctx, req, &resp);
        if (s.ok()) {
          std::lock_guard lock(mu);
          accepted.insert(resp.job().id());
          continue;
        }
        if (s.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
          if (other++ == 0) {
            std::lock_guard lock(mu);
            first_other = absl::StrCat(s.error_code(), " ", s.error_message());
          }
          continue;
        }
        ++refused;
        const auto& md = ctx.GetServerTrailingMetadata();
        auto it = md.find("retry-after-ms");
        const bool advice = it != md.end() && !it->second.empty() &&
                            absl::StrContains(s.error_message(), "submit rate limit for ") &&
                            absl::StrContains(s.error_message(), "50/s, burst 100; retry in ");
        if (!advice && bad_advice++ == 0) {
          std::lock_guard lock(mu);
          first_bad = s.error_message();
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  done = true;
  prober.join();

  std::printf(
      "burst: %d calls in %.1f s: %zu accepted, %d RESOURCE_EXHAUSTED, %d other; %d "
      "probes, worst %ld ms\n",
      kCalls, seconds, accepted.size(), refused.load(), other.load(), probes.load(),
      static_cast<long>(worst_probe_ms.load()));
  EXPECT_LT(seconds, 60);
  EXPECT_EQ(other.load(), 0) << first_other;
  EXPECT_EQ(bad_advice.load(), 0) << first_bad;
  EXPECT_EQ(accepted.size() + static_cast<size_t>(refused.load()), static_cast<size_t>(kCalls));
  // The bucket: at most the burst plus the refill over the run (and a little slack).
  EXPECT_GE(accepted.size(), 50u);
  EXPECT_LE(accepted.size(), static_cast<size_t>(100 + 50 * (seconds + 1)));
  EXPECT_GT(refused.load(), kCalls * 8 / 10);
  EXPECT_EQ(probe_failures.load(), 0);
  EXPECT_GT(probes.load(), 0);
  EXPECT_LT(worst_probe_ms.load(), 5000);

  std::set<uint64_t> after = MyJobs();
  std::set<uint64_t> added;
  for (uint64_t id : after) {
    if (!before.contains(id)) added.insert(id);
  }
  EXPECT_EQ(added, accepted) << "the stored jobs are not exactly the accepted ones";
  grpc::Status health = Healthy();
  EXPECT_TRUE(health.ok()) << health.error_message();
}

}  // namespace
}  // namespace drocc
