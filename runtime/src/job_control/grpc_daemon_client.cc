#include "runtime/src/job_control/grpc_daemon_client.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "drocc/v1/runtime.grpc.pb.h"

namespace drocc::runtime::job_control {
namespace {

absl::Status ToAbsl(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  // gRPC's and absl's status codes have the same numbers.
  return absl::Status(
      static_cast<absl::StatusCode>(s.error_code()),
      s.error_message().empty() ? absl::StrCat("gRPC status ", s.error_code()) : s.error_message());
}

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t ns = absl::ToUnixNanos(t);
  int64_t seconds = ns / 1'000'000'000;
  int64_t nanos = ns % 1'000'000'000;
  if (nanos < 0) {  // Timestamp wants 0 <= nanos < 1e9
    nanos += 1'000'000'000;
    --seconds;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(nanos));
}

class GrpcDaemonClient final : public DaemonClient {
 public:
  explicit GrpcDaemonClient(DaemonEnvironment env)
      : env_(std::move(env)),
        stub_(v1::RuntimeService::NewStub(
            grpc::CreateChannel(env_.target, grpc::InsecureChannelCredentials()))) {}

  std::string Target() const override { return env_.target; }

  absl::Status ReportCheckpoint(const CheckpointReport& report, absl::Duration timeout) override {
    v1::ReportCheckpointRequest req;
    req.set_job_id(env_.job_id);
    req.set_ranks(static_cast<uint32_t>(report.commit.ranks));
    v1::CheckpointRecord* rec = req.mutable_checkpoint();
    rec->set_step(report.commit.step);
    rec->set_bytes(report.commit.bytes);
    rec->set_seconds(report.commit.seconds);
    SetTime(report.time, rec->mutable_time());
    rec->set_path(report.commit.path);
    v1::ReportCheckpointResponse resp;
    auto ctx = NewContext(timeout);
    return ToAbsl(stub_->ReportCheckpoint(ctx.get(), req, &resp));
  }

  absl::Status ReportProgress(const ProgressReport& report, absl::Duration timeout) override {
    v1::ReportProgressRequest req;
    req.set_job_id(env_.job_id);
    req.set_phase(report.phase);
    req.set_step(report.step);
    req.set_bytes_done(report.bytes_done);
    req.set_bytes_total(report.bytes_total);
    req.set_message(report.message);
    v1::ReportProgressResponse resp;
    auto ctx = NewContext(timeout);
    return ToAbsl(stub_->ReportProgress(ctx.get(), req, &resp));
  }

  absl::StatusOr<RequeueAnswer> RequestRequeue(int64_t checkpoint_step, const std::string& reason,
                                               absl::Duration timeout) override {
    v1::RequestRequeueRequest req;
    req.set_job_id(env_.job_id);
    req.set_reason(reason);
    req.set_checkpoint_step(checkpoint_step);
    v1::RequestRequeueResponse resp;
    auto ctx = NewContext(timeout);
    if (absl::Status s = ToAbsl(stub_->RequestRequeue(ctx.get(), req, &resp)); !s.ok()) return s;
    return RequeueAnswer{.accepted = resp.accepted(), .message = resp.message()};
  }

 private:
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration timeout) const {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
    ctx->AddMetadata(kJobTokenMetadataKey, env_.token);
    return ctx;
  }

  const DaemonEnvironment env_;
  const std::unique_ptr<v1::RuntimeService::Stub> stub_;  // thread-safe
};

}  // namespace

absl::StatusOr<std::string> ResolveDaemonTarget(const char* server) {
  const std::string raw = server != nullptr && server[0] != '\0' ? server : kDefaultServer;
  if (raw.starts_with("unix:")) return raw;
  if (raw.starts_with("/")) return absl::StrCat("unix:", raw);
  const size_t colon = raw.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == raw.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kServerEnv, "=\"", raw,
                     "\" is neither a socket path (unix:/path or /path) nor host:port; droccd "
                     "sets it for the jobs it starts: do not override it in the job script"));
  }
  return raw;
}

absl::StatusOr<std::optional<DaemonEnvironment>> DaemonEnvironmentFromEnv() {
  const char* token = std::getenv(kJobTokenEnv);
  if (token == nullptr || token[0] == '\0') return std::nullopt;
  DaemonEnvironment env;
  env.token = token;
  const char* id = std::getenv(kJobIdEnv);
  if (id == nullptr || !absl::SimpleAtoi(id, &env.job_id) || env.job_id == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        kJobTokenEnv, " is set but ", kJobIdEnv, "=\"", id == nullptr ? "" : id,
        "\" is not a drocc job id (a positive decimal number); droccd sets both for the jobs it "
        "starts: do not set or change them in the job script"));
  }
  auto target = ResolveDaemonTarget(std::getenv(kServerEnv));
  if (!target.ok()) return target.status();
  env.target = *std::move(target);
  return env;
}

std::unique_ptr<DaemonClient> NewGrpcDaemonClient(DaemonEnvironment env) {
  return std::make_unique<GrpcDaemonClient>(std::move(env));
}

}  // namespace drocc::runtime::job_control
