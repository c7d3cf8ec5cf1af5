#pragma once

#include <cstdint>
#include <string>

namespace drocc::auth {

// An authenticated caller, as every handler and the policy see it.
struct Caller {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;       // login name of uid
  bool is_admin = false;  // root, or a member of the configured admin group
  std::string peer;       // where the call came from, for logs and the audit trail
  std::string method;     // "unix-peercred" or "munge"
};

}  // namespace drocc::auth
