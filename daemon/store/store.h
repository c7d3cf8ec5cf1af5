#pragma once

// The durable store of droccd. Writes are asynchronous so that a group of concurrent writes
// shares one commit (and one fsync); a write's callback runs only once it is durable.
// Reads are synchronous and see every write whose callback has run.
// Implementations: SqliteStore (production), InMemoryStore (tests); thread-safe.
//
// Callbacks run exactly once: on a store thread once durable (SqliteStore, in the order the
// writes were made), or inline before the call returns (InMemoryStore). Either way a callback
// must not block, and may not wait on this store (the *AndWait helpers).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/queue/job.h"
#include "daemon/quota/model.h"

namespace drocc::store {

struct InsertResult {
  queue::Job job;
  bool created = true;  // false: an earlier job with the same (uid, idempotency key)
};

struct JobFilter {
  std::optional<uint32_t> uid;          // only this user's jobs
  std::vector<queue::JobState> states;  // empty: any
  std::string project;                  // empty: any
  queue::JobId before_id = 0;           // paging: only ids below this; 0: from the newest
  uint32_t limit = 100;                 // 0: no limit
};

// ---- Quota (SPEC §4) ----

// A grant as stored. The store keeps the resource by name: the quota code's ResourceIds depend
// on the site's configured billing units. grant.resource is ignored on write and 0 on read.
struct StoredGrant {
  quota::Grant grant;
  std::string resource;  // "gpu-hours", "cpu-hours", "node-hours" or a billing unit's name
  bool operator==(const StoredGrant&) const = default;
};

// Everything an admin configures, as loaded at start-up. Each list in key order.
struct QuotaModel {
  std::vector<quota::Account> accounts;  // by name
  std::vector<quota::Project> projects;  // by name
  std::vector<quota::Member> members;    // by (project, user)
  std::vector<StoredGrant> grants;       // by id
  std::vector<quota::Limit> limits;      // by (project, user)
};

// One change to the quota configuration. `remove` deletes the record with the value's key
// (account: name; project: name; member: project+user; grant: id; limit: project+user);
// otherwise the record is inserted or replaced whole. A grant with id 0 is inserted with the
// next id (ids from 1, never reused).
struct QuotaChange {
  std::variant<quota::Account, quota::Project, quota::Member, StoredGrant, quota::Limit> value;
  bool remove = false;
};

// One entry of the audit log: who did what, from where, and whether it was allowed.
struct AuditRecord {
  uint64_t id = 0;  // assigned by the store, from 1
  absl::Time time = absl::InfinitePast();
  std::string user;     // who
  std::string peer;     // from where ("unix:uid=1000", "ipv4:127.0.0.1:5432")
  std::string action;   // the RPC, e.g. "CreateGrant"
  std::string target;   // what it acted on, e.g. "grant 7" or "project ml"
  std::string details;  // the request as JSON
  bool ok = true;       // false: refused or failed (details then end with the error)
  bool operator==(const AuditRecord&) const = default;
};

// A service token (SPEC §8): a bearer credential for a remote pipeline, bound to one Unix
// user and one project. Only the hash of its secret is kept.
struct ServiceTokenRecord {
  std::string id;           // public, e.g. "4f1c9a0be27d"; names the token in lists and audits
  std::string secret_hash;  // SHA-256 of the secret, hex
  std::string user;         // the Unix user it acts as
  uint32_t uid = 0;
  std::string project;
  std::string description;
  std::string created_by;
  absl::Time create_time = absl::InfinitePast();
  absl::Time expire_time = absl::InfiniteFuture();
  absl::Time last_used_time = absl::InfinitePast();  // InfinitePast: never used
  bool revoked = false;
  bool operator==(const ServiceTokenRecord&) const = default;
};

struct AuditFilter {
  absl::Time from = absl::InfinitePast();     // time >= from
  absl::Time until = absl::InfiniteFuture();  // time < until
  std::string user;                           // empty: anyone
  uint64_t before_id = 0;                     // paging: only ids below this; 0: from the newest
  uint32_t limit = 100;                       // 0: no limit
};

// Store::QueryUsage: charged usage (overdraft included) summed per project and resource, and
// per user and/or month if asked. A charge counts in the month of its job's end, in UTC.
struct UsageQuery {
  std::vector<std::string> projects;  // empty: every project
  bool per_user = false;
  bool per_month = false;
  absl::Time from = absl::InfinitePast();     // job end >= from
  absl::Time until = absl::InfiniteFuture();  // job end < until
};
struct UsageRow {
  std::string project;
  std::string user;   // empty unless per_user
  std::string month;  // "2026-11"; empty unless per_month
  std::string resource;
  int64_t milli = 0;
  uint32_t jobs = 0;  // distinct jobs in the row
  bool operator==(const UsageRow&) const = default;
};

// What start-up needs to rebuild the ledger: the sum charged per (grant, project, resource);
// grant_id 0 is the project's overdraft in that resource.
struct ChargeTotal {
  uint64_t grant_id = 0;
  std::string project;
  std::string resource;
  int64_t milli = 0;
  bool operator==(const ChargeTotal&) const = default;
};

// One job's usage in one resource at its end, for fair share.
struct UsageEvent {
  std::string project;
  std::string resource;
  int64_t milli = 0;
  absl::Time time = absl::InfinitePast();
  bool operator==(const UsageEvent&) const = default;
};

class Store {
 public:
  using InsertCallback = std::function<void(absl::StatusOr<InsertResult>)>;
  using DoneCallback = std::function<void(absl::Status)>;

  virtual ~Store() = default;

  // Stores a new job as given (normally PENDING): assigns job.id (from 1, never reused) and
  // records its first event (job.state, job.submit_time, job.reason). If job.idempotency_key
  // is not empty and this uid already has a job with that key, stores nothing and answers
  // that job with created=false. Answers the stored job without events. `done` runs once
  // durable, on a store thread: it must not block.
  virtual void InsertJob(queue::Job job, InsertCallback done) = 0;

  // Applies `u` atomically if the job is still in u.from (see queue::JobUpdate):
  // NOT_FOUND for an unknown id, FAILED_PRECONDITION if the state moved on or the
  // transition is not allowed.
  virtual void UpdateJob(queue::JobUpdate u, DoneCallback done) = 0;

  // Stores a daemon setting (e.g. whether admission is drained).
  virtual void PutSetting(std::string key, std::string value, DoneCallback done) = 0;

  // Appends a checkpoint report to job `id` (keeping its newest queue::kMaxCheckpointsKept).
  // NOT_FOUND for an unknown job.
  virtual void AppendCheckpoint(queue::JobId id, queue::CheckpointRecord checkpoint,
                                DoneCallback done) = 0;

  // Stores the latest progress of phase progress.phase of job `id`: replaces that phase's
  // report (the phase keeps its place in the list), or adds the phase at the end, dropping
  // the phase whose report is oldest (by time, then place) when the job would have more than
  // queue::kMaxProgressPhases. NOT_FOUND for an unknown job. The caller validates the record.
  virtual void PutProgress(queue::JobId id, queue::ProgressRecord progress, DoneCallback done) = 0;

  // NOT_FOUND for an unknown id. Events, checkpoints and progress are filled in when
  // with_events.
  virtual absl::StatusOr<queue::Job> GetJob(queue::JobId id, bool with_events) = 0;
  // The job `uid` submitted with idempotency key `key`, or nullopt (also for an empty key).
  virtual absl::StatusOr<std::optional<queue::Job>> FindJobByKey(uint32_t uid,
                                                                 const std::string& key) = 0;
  // Newest first; spec.script left empty to keep listings small.
  virtual absl::StatusOr<std::vector<queue::Job>> ListJobs(const JobFilter& filter) = 0;
  // Every job not in a terminal state, oldest first, with its spec.
  virtual absl::StatusOr<std::vector<queue::Job>> ListActiveJobs() = 0;
  // nullopt when never set.
  virtual absl::StatusOr<std::optional<std::string>> GetSetting(const std::string& key) = 0;

  // ---- Quota ----
  // Applies `changes` in order and appends `audit` (its id and, if unset, time assigned), all
  // in one transaction: all or nothing. Answers the id given to the first grant inserted with
  // id 0, or 0 if none. The caller has validated the changes against the model; the store
  // still refuses (FAILED_PRECONDITION, nothing written) a change that would break its
  // integrity: a project of an unknown account, a member/grant/limit of an unknown project,
  // deleting an account that has projects, a project that has members, grants, limits or jobs
  // not ended, or a grant that has charges.
  using IdCallback = std::function<void(absl::StatusOr<uint64_t>)>;
  virtual void ApplyQuotaChanges(std::vector<QuotaChange> changes, AuditRecord audit,
                                 IdCallback done) = 0;
  // Appends one audit record on its own (a refused request).
  virtual void AppendAudit(AuditRecord audit, DoneCallback done) = 0;

  // ---- Service tokens ----
  // Inserts or replaces token.id's row, and appends `audit` (if its action is not empty), in
  // one transaction: creation, revocation and each use (last_used_time) go through here.
  virtual void PutServiceToken(ServiceTokenRecord token, AuditRecord audit, DoneCallback done) = 0;
  // Every token ever created (revoked ones too), by id.
  virtual absl::StatusOr<std::vector<ServiceTokenRecord>> ListServiceTokens() = 0;

  // ---- Backup ----
  // Writes a consistent copy of the whole store to `dest`, a new file (never replacing one),
  // while the store goes on serving; answers its size in bytes. Blocks for as long as the
  // copy takes: not for gRPC or store threads. INVALID_ARGUMENT for a path that is not
  // absolute or has "..", ALREADY_EXISTS for an existing file, FAILED_PRECONDITION for a
  // store that has no file (InMemoryStore).
  virtual absl::StatusOr<uint64_t> Backup(const std::string& dest) = 0;

  virtual absl::StatusOr<QuotaModel> LoadQuotaModel() = 0;
  // Newest first.
  virtual absl::StatusOr<std::vector<AuditRecord>> ListAudit(const AuditFilter& filter) = 0;
  // Rows ordered by project, user, month, resource.
  virtual absl::StatusOr<std::vector<UsageRow>> QueryUsage(const UsageQuery& query) = 0;
  // Ordered by grant id, project, resource.
  virtual absl::StatusOr<std::vector<ChargeTotal>> SumCharges() = 0;
  // Per job and resource (overdraft included) for jobs that ended at or after `since`,
  // oldest first.
  virtual absl::StatusOr<std::vector<UsageEvent>> ListUsageSince(absl::Time since) = 0;
};

// Blocking forms of the writes, for callers that may wait (start-up, the manager's worker,
// tests). Never call them from a gRPC handler, nor from a store callback (it would wait for
// its own thread).
absl::StatusOr<InsertResult> InsertJobAndWait(Store& store, queue::Job job);
absl::Status UpdateJobAndWait(Store& store, queue::JobUpdate u);
absl::Status PutSettingAndWait(Store& store, std::string key, std::string value);
absl::StatusOr<uint64_t> ApplyQuotaChangesAndWait(Store& store, std::vector<QuotaChange> changes,
                                                  AuditRecord audit);
absl::Status AppendAuditAndWait(Store& store, AuditRecord audit);

}  // namespace drocc::store
