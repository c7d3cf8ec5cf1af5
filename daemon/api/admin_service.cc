#include "daemon/api/admin_service.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "daemon/api/request_bounds.h"

namespace drocc::api {

store::AuditRecord NewAudit(const auth::Caller& caller, absl::string_view rpc, std::string target,
                            const google::protobuf::Message& req, absl::Time now) {
  store::AuditRecord a;
  a.time = now;
  a.user = caller.user;
  a.peer = caller.peer;
  a.action = std::string(rpc);
  a.target = std::move(target);
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(req, &a.details, options);
  return a;
}

void AppendAudit(store::Store& store, store::AuditRecord a, const absl::Status& outcome) {
  if (!outcome.ok()) {
    a.ok = false;
    absl::StrAppend(&a.details, " -> ", outcome.ToString());
  }
  store.AppendAudit(std::move(a), [](absl::Status s) {
    if (!s.ok()) spdlog::error("cannot write the audit log: {}", s.ToString());
  });
}

namespace {

void ToProto(const manager::AdmissionStatus& s, v1::AdmissionState* p) {
  p->set_drained(s.drained);
  p->set_reason(s.reason);
  p->set_changed_by(s.changed_by);
  if (s.change_time != absl::InfinitePast()) {
    *p->mutable_change_time() =
        google::protobuf::util::TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(s.change_time));
  }
  p->set_jobs_in_slurm(s.jobs_in_slurm);
  p->set_max_jobs_in_slurm(s.max_jobs_in_slurm);
  p->set_pending_jobs(s.pending_jobs);
  p->set_slurm_unreachable(!s.slurm_reachable);
  p->set_slurm_error(s.slurm_error);
  if (s.slurm_down_since != absl::InfinitePast()) {
    *p->mutable_slurm_down_since() = google::protobuf::util::TimeUtil::SecondsToTimestamp(
        absl::ToUnixSeconds(s.slurm_down_since));
  }
  if (s.last_reconcile != absl::InfinitePast()) {
    *p->mutable_last_reconciliation() =
        google::protobuf::util::TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(s.last_reconcile));
  }
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::SetDrained(grpc::CallbackServerContext* ctx,
                                                       const char* method, bool drained,
                                                       std::string reason, v1::AdmissionState* resp,
                                                       const google::protobuf::Message& req) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, method);
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  absl::string_view rpc(method);
  rpc.remove_prefix(rpc.rfind('/') + 1);
  store::AuditRecord audit = NewAudit(*caller, rpc, "admission", req, deps_.clock->Now());
  absl::Status s =
      deps_.policy->CheckAdmin(*caller, drained ? "draining admission" : "resuming admission");
  if (s.ok()) s = CheckRequestBounds(req);
  if (!s.ok()) {
    AppendAudit(*deps_.store, std::move(audit), s);
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  deps_.manager->SetDrained(drained, std::move(reason), caller->user,
                            [reactor, resp, store = deps_.store, audit = std::move(audit)](
                                absl::StatusOr<manager::AdmissionStatus> st) mutable {
                              AppendAudit(*store, std::move(audit), st.status());
                              if (!st.ok()) return reactor->Finish(ToGrpc(st.status()));
                              ToProto(*st, resp);
                              reactor->Finish(grpc::Status::OK);
                            });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::DrainAdmission(grpc::CallbackServerContext* ctx,
                                                           const v1::DrainAdmissionRequest* req,
                                                           v1::AdmissionState* resp) {
  return SetDrained(ctx, "/drocc.v1.AdminService/DrainAdmission", true, req->reason(), resp, *req);
}

grpc::ServerUnaryReactor* AdminServiceImpl::ResumeAdmission(grpc::CallbackServerContext* ctx,
                                                            const v1::ResumeAdmissionRequest* req,
                                                            v1::AdmissionState* resp) {
  return SetDrained(ctx, "/drocc.v1.AdminService/ResumeAdmission", false, "", resp, *req);
}

grpc::ServerUnaryReactor* AdminServiceImpl::GetAdmissionState(grpc::CallbackServerContext* ctx,
                                                              const v1::GetAdmissionStateRequest*,
                                                              v1::AdmissionState* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, "/drocc.v1.AdminService/GetAdmissionState");
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  // Anyone may see whether admission is open: it explains why their jobs wait.
  ToProto(deps_.manager->admission_status(), resp);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::Backup(grpc::CallbackServerContext* ctx,
                                                   const v1::BackupRequest* req,
                                                   v1::BackupResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, "/drocc.v1.AdminService/Backup");
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  store::AuditRecord audit =
      NewAudit(*caller, "Backup", req->path().substr(0, 4096), *req, deps_.clock->Now());
  absl::Status s = deps_.policy->CheckAdmin(*caller, "Backup");
  if (s.ok()) s = CheckRequestBounds(*req);
  if (!s.ok()) {
    AppendAudit(*deps_.store, std::move(audit), s);
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  // Runs on this gRPC thread for as long as the copy takes (about a second per 100 MB): a
  // rare admin call, and one that server shutdown waits for rather than cutting short.
  absl::StatusOr<uint64_t> bytes = deps_.store->Backup(req->path());
  AppendAudit(*deps_.store, std::move(audit), bytes.status());
  if (bytes.ok()) {
    spdlog::info("backed up the job database to {} ({} bytes)", req->path(), *bytes);
    resp->set_path(req->path());
    resp->set_bytes(*bytes);
  }
  reactor->Finish(ToGrpc(bytes.status()));
  return reactor;
}

}  // namespace drocc::api
