#pragma once

// Authorization in one place. Every handler asks the policy before acting; the rules are
// written down in docs/security.md and tested role by role (tests/e2e/authz_matrix_test).
//
// Two layers, both here:
// - CheckMethod (called by the Authenticator for every call): which kinds of caller may call
//   an RPC at all. Users (Unix socket, MUNGE) may call JobService, ProjectService and
//   AdminService; service tokens JobService, ProjectService and GetAdmissionState, inside
//   their one project; job tokens only RuntimeService. An RPC the table does not name is
//   refused: a new RPC is closed until someone decides who may call it.
// - The checks below, on what a call touches (whose job, which project, admin or not).
//
// Jobs: a user sees and acts on their own jobs only; admins (root and the admin group) see
// and act on every job. Listings of other users' jobs are refused rather than filtered, so
// nothing of another user's job (name, script, environment, paths) is ever shown to a
// non-admin.
// Projects: a member sees their project's balances, grants and total usage; a manager also
// its usage per user; nobody else sees anything of it, not even that it exists. Only admins
// change anything (accounts, projects, members, grants, limits, admission) and read reports
// and the audit log.

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/auth/caller.h"
#include "daemon/queue/job.h"
#include "daemon/quota/model.h"

namespace drocc::api {

enum class JobAction { kView, kCancel, kReadLogs };

// Kinds of caller, as bits of MethodRule::callers.
enum CallerKinds : uint8_t {
  kUsers = 1,          // auth::Via::kUnixSocket, kMunge
  kServiceTokens = 2,  // auth::Via::kServiceToken
  kJobTokens = 4,      // auth::Via::kJobToken
};

struct MethodRule {
  std::string_view method;  // full name, "/drocc.v1.JobService/SubmitJob"
  uint8_t callers;          // CallerKinds
};

class Policy {
 public:
  // Every RPC of drocc.v1 and who may call it.
  static const std::vector<MethodRule>& Rules();

  // PERMISSION_DENIED (or UNAUTHENTICATED for a RuntimeService call without a job token) if
  // `caller`'s kind may not call `method`.
  absl::Status CheckMethod(const auth::Caller& caller, std::string_view method) const;
  // The project a submission or a listing of `caller` is about: `requested` (empty: any, or
  // the user's default project), but a service token's own project when it is empty.
  // PERMISSION_DENIED for a service token naming another project.
  absl::StatusOr<std::string> ScopedProject(const auth::Caller& caller,
                                            const std::string& requested) const;

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
