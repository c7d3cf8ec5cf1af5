#pragma once

#include <cstdint>
#include <string>

namespace drocc::auth {

// How a caller proved who it is.
enum class Via {
  kUnixSocket,    // the Unix socket's peer credentials
  kMunge,         // a MUNGE credential on the plain TCP listener
  kServiceToken,  // a service token on the TLS listener
  kJobToken,      // a job's own token (RuntimeService)
};

// An authenticated caller, as every handler and the policy see it.
struct Caller {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user;       // login name of uid; empty for a job token
  bool is_admin = false;  // root, or a member of the configured admin group; never via a token
  std::string peer;       // where the call came from, for logs and the audit trail
  Via via = Via::kUnixSocket;
  // A service token: its id and the one project it may act in.
  std::string token_id;
  std::string token_project;
};

}  // namespace drocc::auth
