#pragma once

// Authorization in one place. Every handler asks the policy before acting; the rules are
// written down in docs/security.md and tested role by role.
//
// Jobs: a user sees and acts on their own jobs only; admins (root and the admin group) see
// and act on every job. Listings of other users' jobs are refused rather than filtered, so
// nothing of another user's job (name, script, environment, paths) is ever shown to a
// non-admin.
// Projects: a member sees their project's balances, grants and total usage; a manager also
// its usage per user; nobody else sees anything of it, not even that it exists. Only admins
// change anything (accounts, projects, members, grants, limits, admission) and read reports
// and the audit log.

#include "absl/status/status.h"
#include "daemon/auth/caller.h"
#include "daemon/queue/job.h"
#include "daemon/quota/model.h"

namespace drocc::api {

enum class JobAction { kView, kCancel, kReadLogs };

class Policy {
 public:
  absl::Status CheckJob(const auth::Caller& caller, const queue::Job& job, JobAction action) const;
  // Listing jobs of `uid` (nullopt: every user).
  absl::Status CheckListJobs(const auth::Caller& caller, std::optional<uint32_t> uid) const;
  // Reading project `project`; `membership`: the caller's, or null. `per_user`: usage per user.
  absl::Status CheckProjectView(const auth::Caller& caller, const std::string& project,
                                const quota::Member* membership, bool per_user) const;
  // Anything under AdminService.
  absl::Status CheckAdmin(const auth::Caller& caller, absl::string_view what) const;
};

}  // namespace drocc::api
