#pragma once

// The service tokens droccd knows (auth/service_token.h has their format): every token ever
// made, kept in memory for the TLS listener's checks and written through to the store.
// Each use, good or refused, is written to the audit log with the token's id (never its
// secret), and the token's last use is kept. Thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "daemon/store/store.h"

namespace drocc::api {

class ServiceTokenRegistry {
 public:
  // Reads every token from `store`.
  static absl::StatusOr<std::unique_ptr<ServiceTokenRegistry>> Load(store::Store* store,
                                                                    const Clock* clock);

  // The record of the live token `text` (the whole "drocc_..." text). UNAUTHENTICATED, saying
  // why but never echoing the text, for a text that is not a token, an unknown one, a wrong
  // secret, or a revoked or expired token; a refused known token is audited.
  absl::StatusOr<store::ServiceTokenRecord> Verify(std::string_view text, std::string_view rpc,
                                                   const std::string& peer);
  // Records that token `id` called `rpc` from `peer` with `outcome` (the policy's answer): an
  // audit record, and the token's last use when the call is allowed.
  void RecordUse(const std::string& id, std::string_view rpc, const std::string& peer,
                 const absl::Status& outcome);

  struct Created {
    store::ServiceTokenRecord record;
    std::string text;  // the token, shown once
  };
  // Makes a token for `spec` (user, uid, project, description, created_by, expire_time), stores
  // it with `audit`, and answers once it is durable.
  void Create(store::ServiceTokenRecord spec, store::AuditRecord audit,
              std::function<void(absl::StatusOr<Created>)> done);
  // Revokes token `id` at once (refused from this moment on) and stores that with `audit`.
  // NOT_FOUND for an unknown id; revoking a revoked token changes nothing and answers it.
  void Revoke(const std::string& id, store::AuditRecord audit,
              std::function<void(absl::StatusOr<store::ServiceTokenRecord>)> done);
  std::vector<store::ServiceTokenRecord> List() const;

 private:
  ServiceTokenRegistry(store::Store* store, const Clock* clock) : store_(store), clock_(clock) {}
  // Audits a refused use of `record` (why, never the secret).
  void AuditRefused(const store::ServiceTokenRecord& record, std::string_view rpc,
                    const std::string& peer, const std::string& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // AuditRefused, logged, and the UNAUTHENTICATED answer saying why.
  absl::Status Refuse(const store::ServiceTokenRecord& record, std::string_view rpc,
                      const std::string& peer, std::string why) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  store::Store* const store_;
  const Clock* const clock_;
  mutable std::mutex mu_;
  // Writes to the store are queued under mu_, so they reach it in the order they happened
  // here: a use never overwrites a later revocation.
  std::map<std::string, store::ServiceTokenRecord> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace drocc::api
