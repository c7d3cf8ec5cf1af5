#pragma once

// InMemoryStore: a Store in a few maps, for fast tests of the components above the store.
// Same semantics as SqliteStore (ids from 1, idempotency per (uid, key), compare-and-set
// updates through queue::ApplyUpdate, events, filters, newest-first paging, no script in
// listings; quota changes all-or-nothing with the same integrity rules, grant and audit ids
// from 1, usage sums), nothing durable. A limit's max_walltime is kept in whole seconds, as
// SqliteStore keeps it.
//
// Thread-safe. Callbacks run inline, on the caller's thread, before the write call returns
// and with no lock held (so a callback may call the store again).

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "daemon/store/store.h"

namespace drocc::store {

class InMemoryStore final : public Store {
 public:
  InMemoryStore() = default;
  InMemoryStore(const InMemoryStore&) = delete;
  InMemoryStore& operator=(const InMemoryStore&) = delete;

  void InsertJob(queue::Job job, InsertCallback done) override;
  void UpdateJob(queue::JobUpdate u, DoneCallback done) override;
  void PutSetting(std::string key, std::string value, DoneCallback done) override;
  void AppendCheckpoint(queue::JobId id, queue::CheckpointRecord checkpoint,
                        DoneCallback done) override;
  void PutProgress(queue::JobId id, queue::ProgressRecord progress, DoneCallback done) override;

  absl::StatusOr<queue::Job> GetJob(queue::JobId id, bool with_events) override;
  absl::StatusOr<std::optional<queue::Job>> FindJobByKey(uint32_t uid,
                                                         const std::string& key) override;
  absl::StatusOr<std::vector<queue::Job>> ListJobs(const JobFilter& filter) override;
  absl::StatusOr<std::vector<queue::Job>> ListActiveJobs() override;
  absl::StatusOr<std::optional<std::string>> GetSetting(const std::string& key) override;

  // In in_memory_quota.cc.
  void ApplyQuotaChanges(std::vector<QuotaChange> changes, AuditRecord audit,
                         IdCallback done) override;
  void AppendAudit(AuditRecord audit, DoneCallback done) override;
  void PutServiceToken(ServiceTokenRecord token, AuditRecord audit, DoneCallback done) override;
  absl::StatusOr<std::vector<ServiceTokenRecord>> ListServiceTokens() override;
  absl::StatusOr<uint64_t> Backup(const std::string& dest) override;

  absl::StatusOr<QuotaModel> LoadQuotaModel() override;
  absl::StatusOr<std::vector<AuditRecord>> ListAudit(const AuditFilter& filter) override;
  absl::StatusOr<std::vector<UsageRow>> QueryUsage(const UsageQuery& query) override;
  absl::StatusOr<std::vector<ChargeTotal>> SumCharges() override;
  absl::StatusOr<std::vector<UsageEvent>> ListUsageSince(absl::Time since) override;

 private:
  // The quota configuration: ApplyQuotaChanges works on a copy and keeps it only if every
  // change was accepted.
  struct QuotaState {
    std::map<std::string, quota::Account> accounts;
    std::map<std::string, quota::Project> projects;
    std::map<std::pair<std::string, std::string>, quota::Member> members;
    std::map<quota::GrantId, StoredGrant> grants;  // grant.resource always 0
    std::map<std::pair<std::string, std::string>, quota::Limit> limits;
    quota::GrantId next_grant_id = 1;
  };
  // One row of the charges table.
  struct Charge {
    queue::JobId job_id = 0;
    queue::ChargeRecord record;
    std::string project;
    std::string user;
    absl::Time time = absl::InfinitePast();  // the job's end
  };
  class Tables;  // QuotaTables over a QuotaState

  absl::StatusOr<InsertResult> Insert(queue::Job job);
  absl::Status Update(const queue::JobUpdate& u);
  absl::StatusOr<uint64_t> ApplyQuota(const std::vector<QuotaChange>& changes, AuditRecord audit);
  // Runs `change` on the stored job `id` under the lock; NOT_FOUND for an unknown id.
  absl::Status ChangeJob(queue::JobId id, const std::function<void(queue::Job&)>& change);

  std::mutex mu_;
  queue::JobId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<queue::JobId, queue::Job> jobs_ ABSL_GUARDED_BY(mu_);  // with their events
  std::map<std::pair<uint32_t, std::string>, queue::JobId> by_key_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> settings_ ABSL_GUARDED_BY(mu_);
  QuotaState quota_ ABSL_GUARDED_BY(mu_);
  std::vector<Charge> charges_ ABSL_GUARDED_BY(mu_);
  std::vector<AuditRecord> audit_ ABSL_GUARDED_BY(mu_);  // audit_[i].id == i + 1
  std::map<std::string, ServiceTokenRecord> service_tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace drocc::store
