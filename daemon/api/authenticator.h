#pragma once

// Establishes who is calling, then asks the Policy whether that kind of caller may call the
// method at all (Policy::CheckMethod):
// - a call carrying a job token ("x-drocc-job-token") is that job, on any listener; the
//   RuntimeService handlers check the token against the job they are asked about;
// - on the TLS listener, a service token in "authorization: Bearer drocc_..." (and nothing
//   else) names the user and the project;
// - on the Unix socket, the connection's peer credentials;
// - on the plain TCP listener, the MUNGE credential in "x-drocc-munge" (bound to the
//   method's full name).
// Answers UNAUTHENTICATED otherwise. Thread-safe.

#include <grpcpp/server_context.h>

#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/job_env.h"
#include "daemon/api/policy.h"
#include "daemon/api/service_tokens.h"
#include "daemon/auth/caller.h"
#include "daemon/auth/peer_table.h"
#include "daemon/auth/users.h"

namespace drocc::api {

inline constexpr char kMungeMetadataKey[] = "x-drocc-munge";
inline constexpr char kAuthorizationMetadataKey[] = "authorization";

struct AuthenticatorOptions {
  std::optional<uint32_t> admin_gid;  // members of this group are admins (root always is)
  int64_t munge_max_age_s = 300;
  // How long a uid's name and groups are reused before NSS is asked again (like nscd):
  // group changes take effect within this time.
  absl::Duration user_cache_ttl = absl::Seconds(60);
};

class Authenticator {
 public:
  // `tokens` null: no service tokens (then the TLS listener accepts only job tokens).
  Authenticator(const auth::PeerTable* peers, const Policy* policy, ServiceTokenRegistry* tokens,
                AuthenticatorOptions options, const Clock* clock = SystemClock::Get())
      : peers_(peers), policy_(policy), tokens_(tokens), options_(options), clock_(clock) {}

  // `method` is the full RPC name, e.g. "/drocc.v1.JobService/SubmitJob".
  absl::StatusOr<auth::Caller> Authenticate(const grpc::ServerContextBase& ctx,
                                            absl::string_view method) const;

 private:
  struct CachedUser {
    auth::UserInfo info;
    absl::Time expires;
  };
  // NSS lookups open and parse /etc/passwd and /etc/group on every call; cache them.
  absl::StatusOr<auth::UserInfo> User(uint32_t uid) const;

  absl::StatusOr<auth::Caller> Identify(const grpc::ServerContextBase& ctx,
                                        absl::string_view method) const;

  const auth::PeerTable* const peers_;
  const Policy* const policy_;
  ServiceTokenRegistry* const tokens_;
  const AuthenticatorOptions options_;
  const Clock* const clock_;
  mutable std::mutex mu_;
  mutable std::unordered_map<uint32_t, CachedUser> users_;  // GUARDED_BY(mu_)
};

}  // namespace drocc::api
