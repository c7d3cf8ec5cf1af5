#include "daemon/api/job_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/retry_after.h"
#include "common/status.h"
#include "daemon/api/convert.h"
#include "daemon/api/log_stream.h"
#include "daemon/api/request_bounds.h"
#include "daemon/api/user_path.h"
#include "daemon/auth/users.h"
#include "daemon/slurm/filename_pattern.h"

namespace drocc::api {
namespace {

constexpr char kSubmit[] = "/drocc.v1.JobService/SubmitJob";
constexpr char kEstimate[] = "/drocc.v1.JobService/EstimateJob";
constexpr char kGet[] = "/drocc.v1.JobService/GetJob";
constexpr char kList[] = "/drocc.v1.JobService/ListJobs";
constexpr char kCancel[] = "/drocc.v1.JobService/CancelJob";

grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* ctx, const absl::Status& s) {
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpc(s));
  return reactor;
}

absl::Status Invalid(absl::string_view msg) { return absl::InvalidArgumentError(msg); }

// A PENDING job of `caller` as submitted; the manager resolves its project and time limit.
queue::Job NewJob(const v1::JobSpec& spec, const auth::Caller& caller, absl::Time now) {
  queue::Job job;
  job.spec = FromProto(spec);
  job.user = caller.user;
  job.uid = caller.uid;
  job.gid = caller.gid;
  job.project = job.spec.project;
  job.state = queue::JobState::kPending;
  job.reason = "queued";
  job.submit_time = now;
  return job;
}

// SubmitJob and EstimateJob share one bucket per user. Over the limit: RESOURCE_EXHAUSTED
// saying when to retry, in words and in the "retry-after-ms" trailing metadata.
absl::Status CheckSubmitRate(RateLimiter* limiter, grpc::CallbackServerContext* ctx,
                             const auth::Caller& caller) {
  if (limiter == nullptr) return absl::OkStatus();
  const absl::Duration wait = limiter->Take(caller.uid);
  if (wait == absl::ZeroDuration()) return absl::OkStatus();
  ctx->AddTrailingMetadata(kRetryAfterMetadataKey, FormatRetryAfter(wait));
  spdlog::debug("submit rate limit: refused a call of {} ({})", caller.user, ctx->peer());
  return absl::ResourceExhaustedError(
      absl::StrCat("submit rate limit for ", caller.user, ": ", limiter->limit().per_second,
                   "/s, burst ", limiter->limit().burst, "; retry in ", RetryAfterText(wait)));
}

}  // namespace

OutputPaths ResolveOutputPaths(const queue::Job& job) {
  if (job.slurm_job_id == 0) return {};
  slurm::OutputPatternValues v;
  v.slurm_job_id = job.slurm_job_id;
  v.job_name = job.spec.name;
  v.user = job.user;
  v.node = slurm::FirstNodeName(job.nodes);  // %N: the batch host, the list's first node
  v.workdir = job.spec.workdir;
  std::string out = job.spec.output.empty() ? "slurm-%j.out" : job.spec.output;
  OutputPaths p;
  p.stdout_path = slurm::ExpandOutputPattern(out, v);
  p.stderr_path =
      job.spec.error.empty() ? p.stdout_path : slurm::ExpandOutputPattern(job.spec.error, v);
  return p;
}

absl::Status ValidateSubmit(const v1::SubmitJobRequest& req, const auth::Caller& caller,
                            const ApiLimits& limits) {
  if (caller.uid < limits.min_uid) {
    return absl::PermissionDeniedError(
        absl::StrCat("drocc does not run jobs as root or system accounts (uid ", caller.uid, " < ",
                     limits.min_uid, "); submit as your own user"));
  }
  const v1::JobSpec& s = req.spec();
  if (s.script().empty()) return Invalid("the job has no script");
  if (!s.script().starts_with("#!")) {
    return Invalid("the script does not start with #! (a batch script needs an interpreter line)");
  }
  if (s.script().size() > limits.max_script_bytes) {
    return Invalid(absl::StrCat("the script is ", s.script().size(), " bytes; the limit is ",
                                limits.max_script_bytes));
  }
  if (s.script().find('\0') != std::string::npos) return Invalid("the script contains a NUL byte");
  if (s.workdir().empty() || s.workdir()[0] != '/') {
    return Invalid("the working directory must be an absolute path");
  }
  size_t env_bytes = 0;
  for (const auto& e : s.environment()) {
    env_bytes += e.size();
    if (e.find('=') == std::string::npos || e.front() == '=') {
      return Invalid(absl::StrCat("environment entry \"", e.substr(0, 64), "\" is not NAME=value"));
    }
  }
  if (env_bytes > limits.max_environment_bytes) {
    return Invalid(absl::StrCat("the environment is ", env_bytes, " bytes; the limit is ",
                                limits.max_environment_bytes, " (use --export to send less)"));
  }
  if (s.max_nodes() != 0 && s.max_nodes() < s.nodes()) {
    return Invalid("the maximum node count is below the minimum");
  }
  if (s.time_limit_s() < -1) return Invalid("the time limit is negative");
  if (!s.open_mode().empty() && s.open_mode() != queue::kOpenModeAppend &&
      s.open_mode() != queue::kOpenModeTruncate) {
    return Invalid(absl::StrCat("unknown open mode \"", absl::CEscape(s.open_mode().substr(0, 64)),
                                "\": use \"", queue::kOpenModeAppend, "\" or \"",
                                queue::kOpenModeTruncate,
                                "\", or leave it empty for Slurm's default"));
  }
  RETURN_IF_ERROR(CheckUserPath("spec.workdir", s.workdir()));
  RETURN_IF_ERROR(CheckUserPath("spec.script_path", s.script_path()));
  for (const auto& [field, pattern] :
       {std::pair{"spec.output", &s.output()}, std::pair{"spec.error", &s.error()}}) {
    RETURN_IF_ERROR(CheckUserPath(field, *pattern));
    // Expansion (%x is the job name; backslashes are dropped) can put a ".." into the path
    // Slurm opens.
    if (pattern->find_first_of("%\\") == std::string::npos) continue;
    const std::string expanded = slurm::ExpandOutputPattern(*pattern, {.slurm_job_id = 1,
                                                                       .job_name = s.name(),
                                                                       .user = caller.user,
                                                                       .node = "node",
                                                                       .workdir = s.workdir()});
    if (HasDotDot(expanded)) {
      return Invalid(absl::StrCat(
          field, " \"", absl::CHexEscape(pattern->substr(0, 120)),
          "\" has a \"..\" component once Slurm expands it (%x is the job name): rename the job "
          "or write the path without %x or backslashes"));
    }
  }
  return CheckRequestBounds(req);
}

grpc::ServerUnaryReactor* JobServiceImpl::SubmitJob(grpc::CallbackServerContext* ctx,
                                                    const v1::SubmitJobRequest* req,
                                                    v1::SubmitJobResponse* resp) {
  auto caller = deps_.authenticator->Authenticate(*ctx, kSubmit);
  if (!caller.ok()) return Done(ctx, caller.status());
  if (absl::Status s = CheckSubmitRate(deps_.submit_limiter, ctx, *caller); !s.ok()) {
    return Done(ctx, s);
  }
  if (absl::Status s = ValidateSubmit(*req, *caller, deps_.limits); !s.ok()) return Done(ctx, s);
  absl::StatusOr<std::string> project = deps_.policy->ScopedProject(*caller, req->spec().project());
  if (!project.ok()) return Done(ctx, project.status());

  queue::Job job = NewJob(req->spec(), *caller, deps_.clock->Now());
  job.project = job.spec.project = *project;
  job.idempotency_key = req->idempotency_key();

  auto* reactor = ctx->DefaultReactor();
  manager::JobManager* manager = deps_.manager;
  manager->Submit(std::move(job), [reactor, resp, manager](absl::StatusOr<store::InsertResult> r) {
    if (!r.ok()) {
      spdlog::error("submit failed: {}", r.status().ToString());
      reactor->Finish(ToGrpc(r.status()));
      return;
    }
    ToProto(r->job, /*full=*/false, resp->mutable_job());
    resp->set_created(r->created);
    if (!manager->slurm_reachable()) {
      resp->add_warnings(manager::SlurmOutageText(manager->admission_status()));
    }
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerUnaryReactor* JobServiceImpl::EstimateJob(grpc::CallbackServerContext* ctx,
                                                      const v1::EstimateJobRequest* req,
                                                      v1::EstimateJobResponse* resp) {
  auto caller = deps_.authenticator->Authenticate(*ctx, kEstimate);
  if (!caller.ok()) return Done(ctx, caller.status());
  if (absl::Status s = CheckSubmitRate(deps_.submit_limiter, ctx, *caller); !s.ok()) {
    return Done(ctx, s);
  }
  v1::SubmitJobRequest as_submit;
  *as_submit.mutable_spec() = req->spec();
  if (absl::Status s = ValidateSubmit(as_submit, *caller, deps_.limits); !s.ok()) {
    return Done(ctx, s);
  }
  absl::StatusOr<std::string> project = deps_.policy->ScopedProject(*caller, req->spec().project());
  if (!project.ok()) return Done(ctx, project.status());
  queue::Job job = NewJob(req->spec(), *caller, deps_.clock->Now());
  job.project = job.spec.project = *project;
  auto* reactor = ctx->DefaultReactor();
  const quota::ResourceCatalog* catalog = &deps_.manager->catalog();
  deps_.manager->Estimate(std::move(job),
                          [reactor, resp, catalog](absl::StatusOr<manager::JobEstimate> e) {
                            if (!e.ok()) return reactor->Finish(ToGrpc(e.status()));
                            resp->set_project(e->project);
                            for (size_t i = 0; i < catalog->size(); ++i) {
                              const auto r = static_cast<quota::ResourceId>(i);
                              if (!e->billed[r]) continue;
                              v1::Amount* cost = resp->add_cost();
                              cost->set_resource(catalog->Name(r));
                              cost->set_milli(e->cost[r].milli());
                              v1::Amount* available = resp->add_available();
                              available->set_resource(catalog->Name(r));
                              available->set_milli(e->budget.Available(r).milli());
                            }
                            resp->set_admissible_now(e->admissible_now);
                            resp->set_reason(e->reason);
                            resp->set_affordable_ever(e->affordable_ever);
                            reactor->Finish(grpc::Status::OK);
                          });
  return reactor;
}

grpc::ServerUnaryReactor* JobServiceImpl::GetJob(grpc::CallbackServerContext* ctx,
                                                 const v1::GetJobRequest* req, v1::Job* resp) {
  auto caller = deps_.authenticator->Authenticate(*ctx, kGet);
  if (!caller.ok()) return Done(ctx, caller.status());
  auto job = deps_.store->GetJob(req->id(), /*with_events=*/true);
  if (!job.ok()) return Done(ctx, job.status());
  if (absl::Status s = deps_.policy->CheckJob(*caller, *job, JobAction::kView); !s.ok()) {
    return Done(ctx, s);
  }
  ToProto(*job, /*full=*/true, resp);
  OutputPaths paths = ResolveOutputPaths(*job);
  resp->set_stdout_path(paths.stdout_path);
  resp->set_stderr_path(paths.stderr_path);
  return Done(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* JobServiceImpl::ListJobs(grpc::CallbackServerContext* ctx,
                                                   const v1::ListJobsRequest* req,
                                                   v1::ListJobsResponse* resp) {
  auto caller = deps_.authenticator->Authenticate(*ctx, kList);
  if (!caller.ok()) return Done(ctx, caller.status());
  if (absl::Status s = CheckRequestBounds(*req); !s.ok()) return Done(ctx, s);
  store::JobFilter filter;
  if (!req->user().empty()) {
    auto user = auth::LookupUserByName(req->user());
    if (!user.ok()) return Done(ctx, absl::InvalidArgumentError(user.status().message()));
    filter.uid = user->uid;
  } else if (!req->all_users()) {
    filter.uid = caller->uid;
  }
  if (absl::Status s = deps_.policy->CheckListJobs(*caller, filter.uid); !s.ok()) {
    return Done(ctx, s);
  }
  for (int st : req->states()) {
    if (st < static_cast<int>(queue::JobState::kPending) ||
        st > static_cast<int>(queue::JobState::kLost)) {
      return Done(ctx, Invalid(absl::StrCat("unknown job state ", st)));
    }
    filter.states.push_back(static_cast<queue::JobState>(st));
  }
  absl::StatusOr<std::string> project = deps_.policy->ScopedProject(*caller, req->project());
  if (!project.ok()) return Done(ctx, project.status());
  filter.project = *project;
  uint32_t size = req->page().page_size();
  if (size == 0) size = deps_.limits.default_page_size;
  filter.limit = std::min(size, deps_.limits.max_page_size);
  if (!req->page().page_token().empty() &&
      !absl::SimpleAtoi(req->page().page_token(), &filter.before_id)) {
    return Done(ctx, Invalid("invalid page token; pass next_page_token from the last answer"));
  }
  auto jobs = deps_.store->ListJobs(filter);
  if (!jobs.ok()) return Done(ctx, jobs.status());
  for (const queue::Job& j : *jobs) ToProto(j, /*full=*/false, resp->add_jobs());
  if (jobs->size() == filter.limit && !jobs->empty()) {
    resp->set_next_page_token(absl::StrCat(jobs->back().id));
  }
  return Done(ctx, absl::OkStatus());
}

grpc::ServerUnaryReactor* JobServiceImpl::CancelJob(grpc::CallbackServerContext* ctx,
                                                    const v1::CancelJobRequest* req,
                                                    v1::CancelJobResponse* resp) {
  auto caller = deps_.authenticator->Authenticate(*ctx, kCancel);
  if (!caller.ok()) return Done(ctx, caller.status());
  auto job = deps_.store->GetJob(req->id(), /*with_events=*/false);
  if (!job.ok()) return Done(ctx, job.status());
  if (absl::Status s = deps_.policy->CheckJob(*caller, *job, JobAction::kCancel); !s.ok()) {
    return Done(ctx, s);
  }
  auto* reactor = ctx->DefaultReactor();
  deps_.manager->Cancel(req->id(), caller->user, [reactor, resp](absl::StatusOr<queue::Job> j) {
    if (!j.ok()) return reactor->Finish(ToGrpc(j.status()));
    ToProto(*j, /*full=*/false, resp->mutable_job());
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

grpc::ServerWriteReactor<v1::WatchJobResponse>* JobServiceImpl::WatchJob(
    grpc::CallbackServerContext* ctx, const v1::WatchJobRequest* req) {
  return NewWatchReactor(deps_, ctx, *req);
}

grpc::ServerWriteReactor<v1::StreamLogsResponse>* JobServiceImpl::StreamLogs(
    grpc::CallbackServerContext* ctx, const v1::StreamLogsRequest* req) {
  return NewLogReactor(deps_, ctx, *req);
}

}  // namespace drocc::api
