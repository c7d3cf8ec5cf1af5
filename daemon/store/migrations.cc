#include "daemon/store/migrations.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace drocc::store {
namespace {

struct Migration {
  int version;
  const char* what;
  std::vector<const char*> steps;
};

// Times are integer microseconds since the Unix epoch, NULL when unset. `state` holds the
// drocc.v1.JobState number. spec_json is the whole JobSpec (spec_json.h).
const std::vector<Migration>& Migrations() {
  static const auto* const kMigrations = new std::vector<Migration>{
      {1,
       "jobs and their events",
       {
           // AUTOINCREMENT: an id is never reused, even if old jobs are purged one day;
           // Slurm jobs carry drocc ids in their comment.
           R"sql(CREATE TABLE jobs (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             uid INTEGER NOT NULL,
             gid INTEGER NOT NULL,
             user TEXT NOT NULL,
             project TEXT NOT NULL,
             state INTEGER NOT NULL,
             reason TEXT NOT NULL DEFAULT '',
             exit_code INTEGER,
             slurm_job_id INTEGER NOT NULL DEFAULT 0,
             nodes TEXT NOT NULL DEFAULT '',
             submit_time INTEGER,
             admit_time INTEGER,
             start_time INTEGER,
             end_time INTEGER,
             requeue_count INTEGER NOT NULL DEFAULT 0,
             idempotency_key TEXT NOT NULL DEFAULT '',
             name TEXT NOT NULL DEFAULT '',
             spec_json TEXT NOT NULL DEFAULT '{}'))sql",
           R"sql(CREATE TABLE job_events (
             job_id INTEGER NOT NULL REFERENCES jobs(id),
             seq INTEGER NOT NULL,
             state INTEGER NOT NULL,
             time INTEGER,
             reason TEXT NOT NULL DEFAULT '',
             PRIMARY KEY (job_id, seq)) WITHOUT ROWID)sql",
       }},
      {2,
       "settings, idempotency keys and indexes",
       {
           "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
           // Version 1 had no unique index, so duplicates are possible in principle: keep
           // the key on the oldest job (the one a retry must get) so the index can be built.
           R"sql(UPDATE jobs SET idempotency_key = ''
                 WHERE idempotency_key <> '' AND id NOT IN (
                   SELECT min(id) FROM jobs WHERE idempotency_key <> ''
                   GROUP BY uid, idempotency_key))sql",
           R"sql(CREATE UNIQUE INDEX jobs_by_idempotency_key ON jobs (uid, idempotency_key)
                 WHERE idempotency_key <> '')sql",
           "CREATE INDEX jobs_by_uid ON jobs (uid, id)",
           "CREATE INDEX jobs_by_state ON jobs (state)",
       }},
      {3,
       "quota: accounts, projects, members, grants, limits, charges and the audit log",
       {
           // Amounts are integer milli-units; *_json columns hold {"gpu-hours": 1500, ...}.
           "ALTER TABLE jobs ADD COLUMN reserved_json TEXT NOT NULL DEFAULT '{}'",
           "ALTER TABLE jobs ADD COLUMN charged_json TEXT NOT NULL DEFAULT '{}'",
           // `kind` and `role` hold the quota::AccountKind and quota::ProjectRole numbers.
           R"sql(CREATE TABLE accounts (
             name TEXT PRIMARY KEY,
             kind INTEGER NOT NULL,
             description TEXT NOT NULL DEFAULT '',
             create_time INTEGER) WITHOUT ROWID)sql",
           R"sql(CREATE TABLE projects (
             name TEXT PRIMARY KEY,
             account TEXT NOT NULL REFERENCES accounts(name),
             share INTEGER NOT NULL DEFAULT 1,
             description TEXT NOT NULL DEFAULT '',
             create_time INTEGER) WITHOUT ROWID)sql",
           "CREATE INDEX projects_by_account ON projects (account)",
           R"sql(CREATE TABLE members (
             project TEXT NOT NULL REFERENCES projects(name),
             user TEXT NOT NULL,
             role INTEGER NOT NULL,
             is_default INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (project, user)) WITHOUT ROWID)sql",
           // AUTOINCREMENT: a grant id is never reused, so charges rows always name the grant
           // they drew from. valid_from NULL: open start; valid_until NULL: open end.
           R"sql(CREATE TABLE grants (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             project TEXT NOT NULL REFERENCES projects(name),
             resource TEXT NOT NULL,
             amount_milli INTEGER NOT NULL,
             valid_from INTEGER,
             valid_until INTEGER,
             reference TEXT NOT NULL DEFAULT ''))sql",
           "CREATE INDEX grants_by_project ON grants (project)",
           // user '' is the project-wide limit. 0 means unlimited.
           R"sql(CREATE TABLE limits (
             project TEXT NOT NULL REFERENCES projects(name),
             user TEXT NOT NULL,
             max_gpus INTEGER NOT NULL DEFAULT 0,
             max_cpus INTEGER NOT NULL DEFAULT 0,
             max_nodes INTEGER NOT NULL DEFAULT 0,
             max_pending_jobs INTEGER NOT NULL DEFAULT 0,
             max_walltime_s INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (project, user)) WITHOUT ROWID)sql",
           // A settled job's draws: grant_id 0 is overdraft (no grant row). project and user
           // are copied from the job, so usage reports need no join and outlive a deleted
           // project. time is the job's end.
           R"sql(CREATE TABLE charges (
             job_id INTEGER NOT NULL REFERENCES jobs(id),
             grant_id INTEGER NOT NULL,
             resource TEXT NOT NULL,
             milli INTEGER NOT NULL,
             project TEXT NOT NULL,
             user TEXT NOT NULL,
             time INTEGER))sql",
           "CREATE INDEX charges_by_project ON charges (project, time)",
           "CREATE INDEX charges_by_grant ON charges (grant_id, project, resource)",
           "CREATE INDEX charges_by_time ON charges (time)",
           R"sql(CREATE TABLE audit (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             time INTEGER NOT NULL,
             user TEXT NOT NULL,
             peer TEXT NOT NULL,
             action TEXT NOT NULL,
             target TEXT NOT NULL,
             details TEXT NOT NULL,
             ok INTEGER NOT NULL))sql",
           "CREATE INDEX audit_by_user ON audit (user, id)",
           // Deleting a project looks for its jobs not ended; listings filter by project.
           "CREATE INDEX jobs_by_project ON jobs (project, id)",
       }},
      {4,
       "checkpoints reported by jobs",
       {
           // What libdrocc-runtime reported through RuntimeService.ReportCheckpoint; seq
           // numbers a job's reports from 1. duration_us: how long the save took.
           R"sql(CREATE TABLE checkpoints (
             job_id INTEGER NOT NULL REFERENCES jobs(id),
             seq INTEGER NOT NULL,
             step INTEGER NOT NULL,
             bytes INTEGER NOT NULL,
             duration_us INTEGER NOT NULL,
             time INTEGER NOT NULL,
             path TEXT NOT NULL,
             ranks INTEGER NOT NULL,
             PRIMARY KEY (job_id, seq)) WITHOUT ROWID)sql",
       }},
      {5,
       "the latest progress of each phase of a job",
       {
           // What libdrocc-runtime reported through RuntimeService.ReportProgress: one row per
           // (job, phase), replaced by each report. seq numbers a job's phases from 1 in the
           // order they first reported; step -1: none; time: when droccd received the report.
           R"sql(CREATE TABLE progress (
             job_id INTEGER NOT NULL REFERENCES jobs(id),
             phase TEXT NOT NULL,
             seq INTEGER NOT NULL,
             step INTEGER NOT NULL,
             bytes_done INTEGER NOT NULL,
             bytes_total INTEGER NOT NULL,
             message TEXT NOT NULL,
             time INTEGER NOT NULL,
             PRIMARY KEY (job_id, phase)) WITHOUT ROWID)sql",
       }},
      {6,
       "service tokens",
       {
           // Bearer tokens for the TLS listener (SPEC §8). Only the SHA-256 of the secret is
           // kept; times in microseconds since the epoch, expire_time/last_used_time NULL for
           // never.
           R"sql(CREATE TABLE service_tokens (
             id TEXT PRIMARY KEY,
             secret_hash TEXT NOT NULL,
             user TEXT NOT NULL,
             uid INTEGER NOT NULL,
             project TEXT NOT NULL,
             description TEXT NOT NULL,
             created_by TEXT NOT NULL,
             create_time INTEGER NOT NULL,
             expire_time INTEGER,
             last_used_time INTEGER,
             revoked INTEGER NOT NULL) WITHOUT ROWID)sql",
       }},
  };
  return *kMigrations;
}

absl::Status WithContext(const absl::Status& s, absl::string_view context) {
  return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
}

// One migration in one transaction. Reads the version again under the write lock: another
// process may have migrated since we looked.
absl::Status Apply(Connection& conn, const Migration& m) {
  RETURN_IF_ERROR(conn.Exec("BEGIN IMMEDIATE"));
  absl::Status s = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(int current, ReadSchemaVersion(conn));
    if (current >= m.version) return absl::OkStatus();
    for (const char* step : m.steps) RETURN_IF_ERROR(conn.Exec(step));
    RETURN_IF_ERROR(conn.Exec(absl::StrCat("PRAGMA user_version = ", m.version)));
    return conn.Exec("COMMIT");
  }();
  if (conn.InTransaction()) (void)conn.Exec("ROLLBACK");
  if (!s.ok()) {
    return WithContext(s, absl::StrCat("migrating job database \"", conn.path(),
                                       "\" to schema version ", m.version, " (", m.what, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<int> ReadSchemaVersion(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::InternalError("PRAGMA user_version returned no row");
  return static_cast<int>(stmt.Int(0));
}

absl::Status CheckNotNewer(Connection& conn) {
  ASSIGN_OR_RETURN(int current, ReadSchemaVersion(conn));
  if (current <= kSchemaVersion) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "job database \"", conn.path(), "\" has schema version ", current,
      " but this droccd knows versions up to ", kSchemaVersion,
      ": a newer droccd wrote it. Run a droccd at least as new, or restore a backup made "
      "by this version"));
}

absl::Status Migrate(Connection& conn, int target) {
  RETURN_IF_ERROR(CheckNotNewer(conn));
  ASSIGN_OR_RETURN(int current, ReadSchemaVersion(conn));
  if (current > target) {
    return absl::FailedPreconditionError(absl::StrCat("job database \"", conn.path(),
                                                      "\" has schema version ", current,
                                                      "; it cannot go back to ", target));
  }
  for (const Migration& m : Migrations()) {
    if (m.version <= current || m.version > target) continue;
    RETURN_IF_ERROR(Apply(conn, m));
  }
  return absl::OkStatus();
}

}  // namespace drocc::store
