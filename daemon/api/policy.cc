#include "daemon/api/policy.h"

#include "absl/strings/str_cat.h"

namespace drocc::api {

absl::Status Policy::CheckJob(const auth::Caller& caller, const queue::Job& job,
                              JobAction action) const {
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
