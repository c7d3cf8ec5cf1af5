#include "daemon/api/policy.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace drocc::api {
namespace {

constexpr uint8_t kAnyone = kUsers | kServiceTokens;

// Debian's abseil has its own string_view: StrCat takes std::string.
std::string ShortName(std::string_view method) {
  return std::string(method.substr(method.rfind('/') + 1));
}

}  // namespace

const std::vector<MethodRule>& Policy::Rules() {
  // Users may call every AdminService RPC: CheckAdmin then refuses non-admins with an audit
  // record. Service tokens act for one user in one project and never administer.
  static const auto* const kRules = new std::vector<MethodRule>{
      {"/drocc.v1.JobService/SubmitJob", kAnyone},
      {"/drocc.v1.JobService/EstimateJob", kAnyone},
      {"/drocc.v1.JobService/GetJob", kAnyone},
      {"/drocc.v1.JobService/ListJobs", kAnyone},
      {"/drocc.v1.JobService/CancelJob", kAnyone},
      {"/drocc.v1.JobService/WatchJob", kAnyone},
      {"/drocc.v1.JobService/StreamLogs", kAnyone},
      {"/drocc.v1.ProjectService/ListMyProjects", kAnyone},
      {"/drocc.v1.ProjectService/GetBalance", kAnyone},
      {"/drocc.v1.ProjectService/ListGrants", kAnyone},
      {"/drocc.v1.ProjectService/GetUsage", kAnyone},
      {"/drocc.v1.AdminService/CreateAccount", kUsers},
      {"/drocc.v1.AdminService/ListAccounts", kUsers},
      {"/drocc.v1.AdminService/UpdateAccount", kUsers},
      {"/drocc.v1.AdminService/DeleteAccount", kUsers},
      {"/drocc.v1.AdminService/CreateProject", kUsers},
      {"/drocc.v1.AdminService/ListProjects", kUsers},
      {"/drocc.v1.AdminService/UpdateProject", kUsers},
      {"/drocc.v1.AdminService/DeleteProject", kUsers},
      {"/drocc.v1.AdminService/AddMember", kUsers},
      {"/drocc.v1.AdminService/ListMembers", kUsers},
      {"/drocc.v1.AdminService/UpdateMember", kUsers},
      {"/drocc.v1.AdminService/RemoveMember", kUsers},
      {"/drocc.v1.AdminService/CreateGrant", kUsers},
      {"/drocc.v1.AdminService/ListGrants", kUsers},
      {"/drocc.v1.AdminService/UpdateGrant", kUsers},
      {"/drocc.v1.AdminService/DeleteGrant", kUsers},
      {"/drocc.v1.AdminService/SetLimit", kUsers},
      {"/drocc.v1.AdminService/ListLimits", kUsers},
      {"/drocc.v1.AdminService/DeleteLimit", kUsers},
      {"/drocc.v1.AdminService/UsageReport", kUsers},
      {"/drocc.v1.AdminService/ListAuditEvents", kUsers},
      {"/drocc.v1.AdminService/DrainAdmission", kUsers},
      {"/drocc.v1.AdminService/ResumeAdmission", kUsers},
      {"/drocc.v1.AdminService/GetAdmissionState", kAnyone},
      {"/drocc.v1.AdminService/CreateToken", kUsers},
      {"/drocc.v1.AdminService/ListTokens", kUsers},
      {"/drocc.v1.AdminService/RevokeToken", kUsers},
      {"/drocc.v1.AdminService/Backup", kUsers},
      {"/drocc.v1.RuntimeService/ReportCheckpoint", kJobTokens},
      {"/drocc.v1.RuntimeService/ReportProgress", kJobTokens},
      {"/drocc.v1.RuntimeService/RequestRequeue", kJobTokens},
  };
  return *kRules;
}

absl::Status Policy::CheckMethod(const auth::Caller& caller, std::string_view method) const {
  // Every call asks: a hash lookup, built once from Rules().
  static const auto* const kByMethod = [] {
    auto* m = new absl::flat_hash_map<std::string_view, uint8_t>();
    for (const MethodRule& r : Rules()) m->emplace(r.method, r.callers);
    return m;
  }();
  auto rule = kByMethod->find(method);
  if (rule == kByMethod->end()) {
    return absl::PermissionDeniedError(absl::StrCat(
        std::string(method), " has no authorization rule in this droccd; it is refused"));
  }
  uint8_t kind = kUsers;
  if (caller.via == auth::Via::kServiceToken) kind = kServiceTokens;
  if (caller.via == auth::Via::kJobToken) kind = kJobTokens;
  if ((rule->second & kind) != 0) return absl::OkStatus();
  switch (caller.via) {
    case auth::Via::kJobToken:
      return absl::PermissionDeniedError(
          absl::StrCat("a job token may only report about its own job to RuntimeService, not call ",
                       ShortName(method), "; call it as a user (the drocc CLI does)"));
    case auth::Via::kServiceToken:
      return absl::PermissionDeniedError(
          absl::StrCat(ShortName(method), " is not open to service tokens (token ", caller.token_id,
                       "); administration is done on site by drocc admins"));
    default:
      // Only RuntimeService is closed to users: it speaks for a job, which only its token can.
      return absl::UnauthenticatedError(
          absl::StrCat(ShortName(method),
                       " needs the job's token in the \"x-drocc-job-token\" metadata; "
                       "libdrocc-runtime sends DROCC_JOB_TOKEN from the job's environment"));
  }
}

absl::StatusOr<std::string> Policy::ScopedProject(const auth::Caller& caller,
                                                  const std::string& requested) const {
  if (caller.via != auth::Via::kServiceToken) return requested;
  if (requested.empty() || requested == caller.token_project) return caller.token_project;
  return absl::PermissionDeniedError(absl::StrCat("service token ", caller.token_id,
                                                  " acts in project \"", caller.token_project,
                                                  "\" only, not in \"", requested, "\""));
}

absl::Status Policy::CheckJob(const auth::Caller& caller, const queue::Job& job,
                              JobAction action) const {
  if (caller.via == auth::Via::kServiceToken && caller.uid == job.uid &&
      job.project != caller.token_project) {
    return absl::PermissionDeniedError(
        absl::StrCat("job ", job.id, " is not in project \"", caller.token_project,
                     "\", the only one service token ", caller.token_id, " acts in"));
  }
  if (caller.is_admin || caller.uid == job.uid) return absl::OkStatus();
  const char* verb = action == JobAction::kCancel     ? "cancel"
                     : action == JobAction::kReadLogs ? "read the output of"
                                                      : "see";
  return absl::PermissionDeniedError(absl::StrCat(
      "job ", job.id, " belongs to another user; you may only ", verb, " your own jobs"));
}

absl::Status Policy::CheckListJobs(const auth::Caller& caller, std::optional<uint32_t> uid) const {
  if (caller.is_admin || (uid && *uid == caller.uid)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      "only drocc admins may list other users' jobs; drop --all / --user to list yours");
}

absl::Status Policy::CheckProjectView(const auth::Caller& caller, const std::string& project,
                                      const quota::Member* membership, bool per_user) const {
  if (caller.via == auth::Via::kServiceToken && project != caller.token_project) {
    return absl::PermissionDeniedError(absl::StrCat(
        "service token ", caller.token_id, " acts in project \"", caller.token_project, "\" only"));
  }
  if (caller.is_admin) return absl::OkStatus();
  if (membership == nullptr) {
    // The same answer whether the project exists or not: membership is not public.
    return absl::PermissionDeniedError(absl::StrCat("you (", caller.user,
                                                    ") are not a member of project \"", project,
                                                    "\"; see yours with `drocc balance`"));
  }
  if (per_user && membership->role != quota::ProjectRole::kManager) {
    return absl::PermissionDeniedError(
        absl::StrCat("usage per user of project \"", project,
                     "\" is for its managers; drop --per-user to see the project's total"));
  }
  return absl::OkStatus();
}

absl::Status Policy::CheckAdmin(const auth::Caller& caller, absl::string_view what) const {
  if (caller.is_admin) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat(what, " is for drocc admins; user ", caller.user, " is not in the admin group"));
}

}  // namespace drocc::api
