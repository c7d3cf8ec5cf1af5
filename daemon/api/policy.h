#pragma once

// Authorization in one place. Every handler asks the policy before acting; the rules are
// written down in docs/security.md and tested role by role.
//
// Today (before projects exist): a user sees and acts on their own jobs only; admins (root
// and the admin group) see and act on every job and alone may drain or resume admission.
// Listings of other users' jobs are refused rather than filtered, so nothing of another
// user's job (name, script, environment, paths) is ever shown to a non-admin.

#include "absl/status/status.h"
#include "daemon/auth/caller.h"
#include "daemon/queue/job.h"

namespace drocc::api {

enum class JobAction { kView, kCancel, kReadLogs };

class Policy {
 public:
  absl::Status CheckJob(const auth::Caller& caller, const queue::Job& job, JobAction action) const;
  // Listing jobs of `uid` (nullopt: every user).
  absl::Status CheckListJobs(const auth::Caller& caller, std::optional<uint32_t> uid) const;
  // Anything under AdminService.
  absl::Status CheckAdmin(const auth::Caller& caller, absl::string_view what) const;
};

}  // namespace drocc::api
