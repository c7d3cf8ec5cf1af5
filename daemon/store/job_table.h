#pragma once

// The SQL of SqliteStore: reads and writes of the jobs, job_events, checkpoints, progress and
// settings tables on one connection (schema in migrations.cc); a settling update also appends
// its charges rows (usage_table.h). The caller owns the connection and the transaction;
// SqliteStore runs the writes inside its group-commit transaction and the reads on its read
// connection.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "daemon/queue/job.h"
#include "daemon/store/sqlite_connection.h"
#include "daemon/store/store.h"

namespace drocc::store {

// Store::InsertJob's body: finds the earlier job with the same (uid, idempotency key) or
// inserts `job` (whose spec is already `spec_json`) with its first event.
absl::StatusOr<InsertResult> InsertJobRow(Connection& conn, queue::Job job,
                                          const std::string& spec_json);

// Store::UpdateJob's body: the rules are queue::ApplyUpdate's; only the columns `u` sets are
// written, and u.charges once the compare-and-set has succeeded.
absl::Status UpdateJobRow(Connection& conn, const queue::JobUpdate& u);

// "1, 2, 3, 8": the job states that may still change (not queue::IsTerminal), for an SQL
// `state IN (...)`.
const std::string& ActiveStatesSql();

// Appends a checkpoint report (NOT_FOUND for an unknown job) and drops the job's reports
// beyond queue::kMaxCheckpointsKept.
absl::Status InsertCheckpointRow(Connection& conn, queue::JobId id,
                                 const queue::CheckpointRecord& c);

// Stores the latest progress of a phase (NOT_FOUND for an unknown job) with Store::PutProgress's
// rules: the phase's row replaced or added, the phases reported least recently dropped beyond
// queue::kMaxProgressPhases.
absl::Status PutProgressRow(Connection& conn, queue::JobId id, const queue::ProgressRecord& p);

absl::Status PutSettingRow(Connection& conn, const std::string& key, const std::string& value);

// The reads of Store, same contracts. SelectJob makes several queries when with_events: run it
// in a read transaction for a consistent answer.
// The job of `uid` submitted with idempotency key `key` (not empty), with its script.
absl::StatusOr<std::optional<queue::Job>> FindByIdempotencyKey(Connection& conn, uint32_t uid,
                                                               const std::string& key);
absl::StatusOr<queue::Job> SelectJob(Connection& conn, queue::JobId id, bool with_events);
absl::StatusOr<std::vector<queue::Job>> SelectJobs(Connection& conn, const JobFilter& filter);
absl::StatusOr<std::vector<queue::Job>> SelectActiveJobs(Connection& conn);
absl::StatusOr<std::optional<std::string>> SelectSetting(Connection& conn, const std::string& key);

}  // namespace drocc::store
