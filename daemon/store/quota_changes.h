#pragma once

// Store::ApplyQuotaChanges once for both stores: the order of work, the integrity rules and
// their messages. Each store implements QuotaTables over its own data (SQL tables, maps) and
// runs ApplyQuotaChangeList inside whatever makes it all-or-nothing (a savepoint, a copy).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/queue/job.h"
#include "daemon/quota/model.h"
#include "daemon/store/store.h"

namespace drocc::store {

// What still refers to a project (a project is deleted only when all are empty).
struct ProjectUse {
  int64_t members = 0;
  std::vector<quota::GrantId> grants;  // ascending
  int64_t limits = 0;
  std::vector<queue::JobId> open_jobs;  // not in a terminal state, ascending
};

// The quota tables of one store, as ApplyQuotaChangeList reads and writes them. Not
// thread-safe: the store holds its lock (or runs on its writer thread) around the whole list.
class QuotaTables {
 public:
  virtual ~QuotaTables() = default;

  virtual absl::StatusOr<bool> HasAccount(const std::string& name) = 0;
  virtual absl::StatusOr<bool> HasProject(const std::string& name) = 0;
  // Names, ascending.
  virtual absl::StatusOr<std::vector<std::string>> ProjectsOf(const std::string& account) = 0;
  virtual absl::StatusOr<ProjectUse> UseOf(const std::string& project) = 0;
  // Sum charged from the grant per resource; empty if it never was.
  virtual absl::StatusOr<queue::AmountMap> ChargedFrom(quota::GrantId id) = 0;

  // Insert or replace by key.
  virtual absl::Status Put(const quota::Account& a) = 0;
  virtual absl::Status Put(const quota::Project& p) = 0;
  virtual absl::Status Put(const quota::Member& m) = 0;
  virtual absl::Status Put(const quota::Limit& l) = 0;
  // g.grant.id 0: insert with the next id (never reused); answers the grant's id.
  virtual absl::StatusOr<quota::GrantId> Put(const StoredGrant& g) = 0;
  // Delete by key; nothing to delete is not an error.
  virtual absl::Status Remove(const quota::Account& a) = 0;
  virtual absl::Status Remove(const quota::Project& p) = 0;
  virtual absl::Status Remove(const quota::Member& m) = 0;
  virtual absl::Status Remove(const quota::Limit& l) = 0;
  virtual absl::Status Remove(const StoredGrant& g) = 0;

  // Assigns audit.id.
  virtual absl::Status Append(AuditRecord& audit) = 0;
};

// Store::ApplyQuotaChanges' body: checks and applies `changes` in order (each change is
// checked against the tables as the earlier ones left them), then appends `audit` with its
// time set to now if unset. Answers the id of the first grant inserted with id 0, or 0. On
// error the caller must undo what was written: this stops at the first refusal.
absl::StatusOr<uint64_t> ApplyQuotaChangeList(QuotaTables& tables,
                                              const std::vector<QuotaChange>& changes,
                                              AuditRecord audit);

// Sets an unset audit time to now (absl::Now(): the store has no clock of its own).
void StampAudit(AuditRecord& audit);

}  // namespace drocc::store
