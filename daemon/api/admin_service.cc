#include "daemon/api/admin_service.h"

#include <google/protobuf/util/time_util.h>

namespace drocc::api {
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
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::SetDrained(grpc::CallbackServerContext* ctx,
                                                       const char* method, bool drained,
                                                       std::string reason,
                                                       v1::AdmissionState* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, method);
  absl::Status s = caller.status();
  if (s.ok()) {
    s = deps_.policy->CheckAdmin(*caller, drained ? "draining admission" : "resuming admission");
  }
  if (!s.ok()) {
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  if (reason.size() > 1024) {
    reactor->Finish(
        ToGrpc(absl::InvalidArgumentError("the reason is longer than 1024 characters")));
    return reactor;
  }
  deps_.manager->SetDrained(drained, std::move(reason), caller->user,
                            [reactor, resp](absl::StatusOr<manager::AdmissionStatus> st) {
                              if (!st.ok()) return reactor->Finish(ToGrpc(st.status()));
                              ToProto(*st, resp);
                              reactor->Finish(grpc::Status::OK);
                            });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::DrainAdmission(grpc::CallbackServerContext* ctx,
                                                           const v1::DrainAdmissionRequest* req,
                                                           v1::AdmissionState* resp) {
  return SetDrained(ctx, "/drocc.v1.AdminService/DrainAdmission", true, req->reason(), resp);
}

grpc::ServerUnaryReactor* AdminServiceImpl::ResumeAdmission(grpc::CallbackServerContext* ctx,
                                                            const v1::ResumeAdmissionRequest*,
                                                            v1::AdmissionState* resp) {
  return SetDrained(ctx, "/drocc.v1.AdminService/ResumeAdmission", false, "", resp);
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

}  // namespace drocc::api
