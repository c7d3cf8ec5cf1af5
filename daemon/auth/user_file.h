#pragma once

// Opening a user's file from a root daemon without lending it root's rights: the open runs
// with the user's filesystem identity (setfsuid/setfsgid and supplementary groups, per
// thread) and refuses to traverse any symbolic link (openat2 RESOLVE_NO_SYMLINKS), so a job
// whose output path points at /etc/shadow gets its owner's "permission denied".

#include <string>

#include "absl/status/statusor.h"
#include "daemon/auth/users.h"

namespace drocc::auth {

// Opens `path` (absolute) read-only as `user`. Returns the descriptor, owned by the caller.
// NOT_FOUND if it does not exist, PERMISSION_DENIED if the user may not read it or a path
// component is a symbolic link. Thread-safe: only the calling thread's identity changes,
// and it is restored before returning.
absl::StatusOr<int> OpenForUser(const std::string& path, const UserInfo& user);

}  // namespace drocc::auth
