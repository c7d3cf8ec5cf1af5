#include "daemon/api/runtime_service.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "daemon/api/convert.h"
#include "daemon/api/request_bounds.h"

namespace drocc::api {
namespace {

constexpr char kReportCheckpoint[] = "/drocc.v1.RuntimeService/ReportCheckpoint";
constexpr char kReportProgress[] = "/drocc.v1.RuntimeService/ReportProgress";
constexpr char kRequestRequeue[] = "/drocc.v1.RuntimeService/RequestRequeue";

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

// A phase names a column of `drocc show` and a key in its JSON: short, printable, no spaces.
absl::Status CheckPhase(absl::string_view phase) {
  if (phase.empty()) {
    return absl::InvalidArgumentError(
        "phase is missing: name the phase being reported, e.g. \"stage-in\", \"train\" or "
        "\"stage-out\"");
  }
  const bool ok =
      phase.size() <= RuntimeServiceImpl::kMaxPhaseBytes &&
      std::all_of(phase.begin(), phase.end(), [](char c) { return c > ' ' && c < 0x7f; });
  if (ok) return absl::OkStatus();
  constexpr size_t kQuoted = RuntimeServiceImpl::kMaxPhaseBytes + 8;
  return absl::InvalidArgumentError(absl::StrCat(
      "phase \"", absl::CHexEscape(phase.substr(0, kQuoted)), phase.size() > kQuoted ? "..." : "",
      "\" is not a phase name: use 1 to ", RuntimeServiceImpl::kMaxPhaseBytes,
      " printable ASCII characters without spaces, e.g. \"stage-in\", \"train\" or "
      "\"stage-out\""));
}

}  // namespace

absl::StatusOr<queue::Job> RuntimeServiceImpl::AuthorizeJob(const grpc::CallbackServerContext& ctx,
                                                            uint64_t job_id,
                                                            absl::string_view method) const {
  if (deps_.job_tokens == nullptr) {
    return absl::FailedPreconditionError("this droccd issues no job tokens");
  }
  // Without a job token this is UNAUTHENTICATED (Policy::CheckMethod).
  absl::StatusOr<auth::Caller> caller = deps_.authenticator->Authenticate(ctx, method);
  if (!caller.ok()) return caller.status();
  const auto& md = ctx.client_metadata();
  auto it = md.find(kJobTokenMetadataKey);
  if (it == md.end()) return absl::UnauthenticatedError("the call carries no job token");
  if (job_id == 0) return absl::InvalidArgumentError("job_id is missing");
  const std::string_view token(it->second.data(), it->second.size());
  if (!deps_.job_tokens->Verify(job_id, token)) {
    spdlog::warn("{}: refused a call about job {} with a token that is not its own ({})", method,
                 job_id, ctx.peer());
    return absl::PermissionDeniedError(
        absl::StrCat("the job token is not that of job ", job_id,
                     "; a job may only report about itself (DROCC_JOB_ID)"));
  }
  absl::StatusOr<queue::Job> job = deps_.store->GetJob(job_id, /*with_events=*/false);
  if (!job.ok()) return job.status();
  if (queue::IsTerminal(job->state)) {
    return absl::FailedPreconditionError(absl::StrCat("job ", job_id, " has ended (",
                                                      queue::JobStateName(job->state),
                                                      "); its token is no longer valid"));
  }
  return job;
}

grpc::ServerUnaryReactor* RuntimeServiceImpl::ReportCheckpoint(
    grpc::CallbackServerContext* ctx, const v1::ReportCheckpointRequest* req,
    v1::ReportCheckpointResponse*) {
  absl::StatusOr<queue::Job> job = AuthorizeJob(*ctx, req->job_id(), kReportCheckpoint);
  if (!job.ok()) return Done(ctx, job.status());
  const v1::CheckpointRecord& c = req->checkpoint();
  if (c.step() < 0) {
    return Done(ctx, absl::InvalidArgumentError(
                         absl::StrCat("checkpoint.step ", c.step(), " is negative")));
  }
  if (!std::isfinite(c.seconds()) || c.seconds() < 0 || c.seconds() > 1e9) {
    return Done(ctx, absl::InvalidArgumentError(absl::StrCat("checkpoint.seconds ", c.seconds(),
                                                             " is not a duration in seconds")));
  }
  if (c.path().size() > kMaxPathBytes || !IsOneLine(c.path())) {
    return Done(ctx, absl::InvalidArgumentError(absl::StrCat("checkpoint.path must be at most ",
                                                             kMaxPathBytes,
                                                             " bytes without control characters")));
  }
  if (absl::Status s = CheckRequestBounds(*req); !s.ok()) return Done(ctx, s);
  queue::CheckpointRecord record{.step = c.step(),
                                 .bytes = c.bytes(),
                                 .duration = absl::Seconds(c.seconds()),
                                 .time = deps_.clock->Now(),
                                 .path = c.path(),
                                 .ranks = req->ranks() != 0 ? req->ranks() : c.ranks()};
  auto* reactor = ctx->DefaultReactor();
  deps_.store->AppendCheckpoint(job->id, std::move(record),
                                [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeServiceImpl::ReportProgress(grpc::CallbackServerContext* ctx,
                                                             const v1::ReportProgressRequest* req,
                                                             v1::ReportProgressResponse*) {
  absl::StatusOr<queue::Job> job = AuthorizeJob(*ctx, req->job_id(), kReportProgress);
  if (!job.ok()) return Done(ctx, job.status());
  if (absl::Status s = CheckPhase(req->phase()); !s.ok()) return Done(ctx, s);
  if (req->message().size() > kMaxProgressMessageBytes) {
    return Done(ctx, absl::InvalidArgumentError(
                         absl::StrCat("message is ", req->message().size(), " bytes; at most ",
                                      kMaxProgressMessageBytes, " are allowed: shorten it")));
  }
  if (!IsOneLine(req->message())) {
    return Done(ctx, absl::InvalidArgumentError(
                         "message must be one line without control characters (newline, tab, "
                         "escape ...)"));
  }
  if (req->bytes_total() > 0 && req->bytes_done() > req->bytes_total()) {
    return Done(ctx, absl::InvalidArgumentError(absl::StrCat(
                         "bytes_done (", req->bytes_done(), ") exceeds bytes_total (",
                         req->bytes_total(), "); send bytes_total 0 when the total is unknown")));
  }
  if (absl::Status s = CheckRequestBounds(*req); !s.ok()) return Done(ctx, s);
  queue::ProgressRecord record{.phase = req->phase(),
                               .step = std::max<int64_t>(req->step(), -1),
                               .bytes_done = req->bytes_done(),
                               .bytes_total = req->bytes_total(),
                               .message = req->message(),
                               .time = deps_.clock->Now()};
  auto* reactor = ctx->DefaultReactor();
  deps_.store->PutProgress(job->id, std::move(record),
                           [reactor](absl::Status s) { reactor->Finish(ToGrpc(s)); });
  return reactor;
}

grpc::ServerUnaryReactor* RuntimeServiceImpl::RequestRequeue(grpc::CallbackServerContext* ctx,
                                                             const v1::RequestRequeueRequest* req,
                                                             v1::RequestRequeueResponse* resp) {
  absl::StatusOr<queue::Job> job = AuthorizeJob(*ctx, req->job_id(), kRequestRequeue);
  if (!job.ok()) return Done(ctx, job.status());
  const std::string reason(absl::StripAsciiWhitespace(req->reason()));
  if (reason.size() > kMaxTextBytes || !IsOneLine(reason)) {
    return Done(ctx,
                absl::InvalidArgumentError(absl::StrCat("reason must be at most ", kMaxTextBytes,
                                                        " bytes without control characters")));
  }
  if (absl::Status s = CheckRequestBounds(*req); !s.ok()) return Done(ctx, s);
  std::string why = req->checkpoint_step() >= 0
                        ? absl::StrCat("checkpoint at step ", req->checkpoint_step())
                        : std::string("no checkpoint");
  if (!reason.empty()) absl::StrAppend(&why, " (", reason, ")");
  auto* reactor = ctx->DefaultReactor();
  deps_.manager->RequestRequeue(job->id, why, [reactor, resp, id = job->id](absl::Status s) {
    if (!s.ok()) return reactor->Finish(ToGrpc(s));
    resp->set_accepted(true);
    resp->set_message(absl::StrCat("job ", id,
                                   " is requeued: Slurm stops it and runs it again, "
                                   "where it resumes from its last checkpoint"));
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace drocc::api
