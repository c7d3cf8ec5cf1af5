#pragma once

// Establishes who is calling: on the Unix socket from the connection's peer credentials,
// on TCP from the MUNGE credential in the call's "x-drocc-munge" metadata (bound to the
// method's full name). Answers UNAUTHENTICATED otherwise. Thread-safe.

#include <grpcpp/server_context.h>

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "daemon/auth/caller.h"
#include "daemon/auth/peer_table.h"

namespace drocc::api {

inline constexpr char kMungeMetadataKey[] = "x-drocc-munge";

struct AuthenticatorOptions {
  std::optional<uint32_t> admin_gid;  // members of this group are admins (root always is)
  int64_t munge_max_age_s = 300;
};

class Authenticator {
 public:
  Authenticator(const auth::PeerTable* peers, AuthenticatorOptions options)
      : peers_(peers), options_(options) {}

  // `method` is the full RPC name, e.g. "/drocc.v1.JobService/SubmitJob".
  absl::StatusOr<auth::Caller> Authenticate(const grpc::ServerContextBase& ctx,
                                            absl::string_view method) const;

 private:
  const auth::PeerTable* const peers_;
  const AuthenticatorOptions options_;
};

}  // namespace drocc::api
