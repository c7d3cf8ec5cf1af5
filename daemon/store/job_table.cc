#include "daemon/store/job_table.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status.h"
#include "daemon/store/spec_json.h"
#include "daemon/store/usage_table.h"

namespace drocc::store {
namespace {

using queue::Job;
using queue::JobState;

// Read by ReadJob, in this order.
constexpr char kJobColumns[] =
    "id, uid, gid, user, project, state, reason, exit_code, slurm_job_id, nodes, submit_time, "
    "admit_time, start_time, end_time, requeue_count, idempotency_key, spec_json, reserved_json, "
    "charged_json";

absl::StatusOr<JobState> ToState(int64_t value, int64_t id) {
  auto state = static_cast<JobState>(value);
  if (queue::ParseJobState(queue::JobStateName(state)) != state) {
    return absl::DataLossError(
        absl::StrCat("job ", id, " has an unknown state (", value,
                     ") in the job database; was it written by a newer droccd?"));
  }
  return state;
}

// The job at the statement's current row (selected with kJobColumns).
absl::StatusOr<Job> ReadJob(const Statement& row, bool with_script) {
  Job job;
  job.id = static_cast<queue::JobId>(row.Int(0));
  job.uid = static_cast<uint32_t>(row.Int(1));
  job.gid = static_cast<uint32_t>(row.Int(2));
  job.user = row.Text(3);
  job.project = row.Text(4);
  ASSIGN_OR_RETURN(job.state, ToState(row.Int(5), row.Int(0)));
  job.reason = row.Text(6);
  if (!row.IsNull(7)) job.exit_code = static_cast<int>(row.Int(7));
  job.slurm_job_id = static_cast<uint64_t>(row.Int(8));
  job.nodes = row.Text(9);
  job.submit_time = row.Time(10);
  job.admit_time = row.Time(11);
  job.start_time = row.Time(12);
  job.end_time = row.Time(13);
  job.requeue_count = static_cast<uint32_t>(row.Int(14));
  job.idempotency_key = row.Text(15);
  absl::StatusOr<queue::JobSpec> spec = JobSpecFromJson(row.Text(16));
  if (!spec.ok()) {
    return absl::DataLossError(absl::StrCat("job ", job.id, ": ", spec.status().message(),
                                            "; restore the job database from backup"));
  }
  job.spec = *std::move(spec);
  if (!with_script) job.spec.script.clear();
  for (auto [col, out] : {std::pair{17, &job.reserved}, std::pair{18, &job.charged}}) {
    absl::StatusOr<queue::AmountMap> amounts = AmountMapFromJson(row.Text(col));
    if (!amounts.ok()) {
      return absl::DataLossError(absl::StrCat("job ", job.id, ": ", amounts.status().message(),
                                              "; restore the job database from backup"));
    }
    *out = *std::move(amounts);
  }
  return job;
}

absl::StatusOr<std::vector<Job>> ReadJobs(Statement& stmt, bool with_script) {
  std::vector<Job> jobs;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return jobs;
    ASSIGN_OR_RETURN(Job job, ReadJob(stmt, with_script));
    jobs.push_back(std::move(job));
  }
}

absl::Status InsertEvent(Connection& conn, queue::JobId id, const queue::JobEvent& e) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(R"sql(
      INSERT INTO job_events (job_id, seq, state, time, reason)
      SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4 FROM job_events WHERE job_id = ?1)sql"));
  stmt.Bind(1, static_cast<int64_t>(id))
      .Bind(2, static_cast<int64_t>(e.state))
      .BindTime(3, e.time)
      .Bind(4, e.reason);
  return stmt.Run();
}

absl::StatusOr<std::vector<queue::JobEvent>> SelectEvents(Connection& conn, queue::JobId id) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT state, time, reason FROM job_events "
                                                "WHERE job_id = ?1 ORDER BY seq"));
  stmt.Bind(1, static_cast<int64_t>(id));
  std::vector<queue::JobEvent> events;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return events;
    ASSIGN_OR_RETURN(JobState state, ToState(stmt.Int(0), static_cast<int64_t>(id)));
    events.push_back({state, stmt.Time(1), stmt.Text(2)});
  }
}

absl::StatusOr<std::vector<queue::CheckpointRecord>> SelectCheckpoints(Connection& conn,
                                                                       queue::JobId id) {
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("SELECT step, bytes, duration_us, time, path, ranks FROM "
                                "checkpoints WHERE job_id = ?1 ORDER BY seq"));
  stmt.Bind(1, static_cast<int64_t>(id));
  std::vector<queue::CheckpointRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.push_back({.step = stmt.Int(0),
                   .bytes = static_cast<uint64_t>(stmt.Int(1)),
                   .duration = absl::Microseconds(stmt.Int(2)),
                   .time = stmt.Time(3),
                   .path = stmt.Text(4),
                   .ranks = static_cast<uint32_t>(stmt.Int(5))});
  }
}

absl::StatusOr<std::vector<queue::ProgressRecord>> SelectProgress(Connection& conn,
                                                                  queue::JobId id) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT phase, step, bytes_done, bytes_total, "
                                                "message, time FROM progress WHERE job_id = ?1 "
                                                "ORDER BY seq"));
  stmt.Bind(1, static_cast<int64_t>(id));
  std::vector<queue::ProgressRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.push_back({.phase = stmt.Text(0),
                   .step = stmt.Int(1),
                   .bytes_done = static_cast<uint64_t>(stmt.Int(2)),
                   .bytes_total = static_cast<uint64_t>(stmt.Int(3)),
                   .message = stmt.Text(4),
                   .time = stmt.Time(5)});
  }
}

// NOT_FOUND unless job `id` exists: what a job's reports hang on.
absl::Status CheckJobExists(Connection& conn, queue::JobId id) {
  ASSIGN_OR_RETURN(Statement exists, conn.Prepare("SELECT 1 FROM jobs WHERE id = ?1"));
  exists.Bind(1, static_cast<int64_t>(id));
  ASSIGN_OR_RETURN(bool found, exists.Step());
  if (!found) return absl::NotFoundError(absl::StrCat("job ", id, " does not exist"));
  return absl::OkStatus();
}

}  // namespace

absl::Status InsertCheckpointRow(Connection& conn, queue::JobId id,
                                 const queue::CheckpointRecord& c) {
  RETURN_IF_ERROR(CheckJobExists(conn, id));
  ASSIGN_OR_RETURN(Statement insert, conn.Prepare(R"sql(
      INSERT INTO checkpoints (job_id, seq, step, bytes, duration_us, time, path, ranks)
      SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6, ?7 FROM checkpoints
      WHERE job_id = ?1)sql"));
  insert.Bind(1, static_cast<int64_t>(id))
      .Bind(2, c.step)
      .Bind(3, static_cast<int64_t>(c.bytes))
      .Bind(4, absl::ToInt64Microseconds(c.duration))
      .BindTime(5, c.time)
      .Bind(6, c.path)
      .Bind(7, int64_t{c.ranks});
  RETURN_IF_ERROR(insert.Run());
  ASSIGN_OR_RETURN(Statement trim, conn.Prepare(R"sql(
      DELETE FROM checkpoints WHERE job_id = ?1 AND seq <= (
        SELECT max(seq) FROM checkpoints WHERE job_id = ?1) - ?2)sql"));
  trim.Bind(1, static_cast<int64_t>(id)).Bind(2, static_cast<int64_t>(queue::kMaxCheckpointsKept));
  return trim.Run();
}

absl::Status PutProgressRow(Connection& conn, queue::JobId id, const queue::ProgressRecord& p) {
  RETURN_IF_ERROR(CheckJobExists(conn, id));
  // A phase seen before keeps its seq (its place in the list); a new one comes last.
  ASSIGN_OR_RETURN(Statement upsert, conn.Prepare(R"sql(
      INSERT INTO progress (job_id, phase, seq, step, bytes_done, bytes_total, message, time)
      SELECT ?1, ?2, coalesce(max(seq), 0) + 1, ?3, ?4, ?5, ?6, ?7 FROM progress
      WHERE job_id = ?1
      ON CONFLICT (job_id, phase) DO UPDATE SET step = excluded.step,
        bytes_done = excluded.bytes_done, bytes_total = excluded.bytes_total,
        message = excluded.message, time = excluded.time)sql"));
  upsert.Bind(1, static_cast<int64_t>(id))
      .Bind(2, p.phase)
      .Bind(3, p.step)
      .Bind(4, static_cast<int64_t>(p.bytes_done))
      .Bind(5, static_cast<int64_t>(p.bytes_total))
      .Bind(6, p.message)
      .BindTime(7, p.time);
  RETURN_IF_ERROR(upsert.Run());
  // Beyond kMaxProgressPhases, the phases reported least recently go (never the one just
  // reported). A negative LIMIT would mean none, hence max(0, ...).
  ASSIGN_OR_RETURN(Statement trim, conn.Prepare(R"sql(
      DELETE FROM progress WHERE job_id = ?1 AND phase IN (
        SELECT phase FROM progress WHERE job_id = ?1 AND phase <> ?2 ORDER BY time, seq
        LIMIT max(0, (SELECT count(*) FROM progress WHERE job_id = ?1) - ?3)))sql"));
  trim.Bind(1, static_cast<int64_t>(id))
      .Bind(2, p.phase)
      .Bind(3, static_cast<int64_t>(queue::kMaxProgressPhases));
  return trim.Run();
}

absl::StatusOr<std::optional<Job>> FindByIdempotencyKey(Connection& conn, uint32_t uid,
                                                        const std::string& key) {
  // `idempotency_key <> ''` lets SQLite use the partial unique index.
  ASSIGN_OR_RETURN(Statement find,
                   conn.Prepare(absl::StrCat("SELECT ", kJobColumns,
                                             " FROM jobs WHERE uid = ?1 AND idempotency_key = ?2"
                                             " AND idempotency_key <> ''")));
  find.Bind(1, int64_t{uid}).Bind(2, key);
  ASSIGN_OR_RETURN(bool found, find.Step());
  if (!found) return std::nullopt;
  return ReadJob(find, /*with_script=*/true);
}

const std::string& ActiveStatesSql() {
  static const std::string* const kStates = [] {
    std::vector<int> active;
    for (int s = static_cast<int>(JobState::kPending); s <= static_cast<int>(JobState::kLost);
         ++s) {
      if (!queue::IsTerminal(static_cast<JobState>(s))) active.push_back(s);
    }
    return new std::string(absl::StrJoin(active, ", "));
  }();
  return *kStates;
}

absl::StatusOr<InsertResult> InsertJobRow(Connection& conn, Job job, const std::string& spec_json) {
  if (!job.idempotency_key.empty()) {
    ASSIGN_OR_RETURN(std::optional<Job> earlier,
                     FindByIdempotencyKey(conn, job.uid, job.idempotency_key));
    if (earlier) return InsertResult{*std::move(earlier), /*created=*/false};
  }
  ASSIGN_OR_RETURN(Statement insert, conn.Prepare(R"sql(
      INSERT INTO jobs (uid, gid, user, project, state, reason, exit_code, slurm_job_id, nodes,
                        submit_time, admit_time, start_time, end_time, requeue_count,
                        idempotency_key, name, spec_json, reserved_json, charged_json)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
              ?19))sql"));
  insert.Bind(1, int64_t{job.uid})
      .Bind(2, int64_t{job.gid})
      .Bind(3, job.user)
      .Bind(4, job.project)
      .Bind(5, static_cast<int64_t>(job.state))
      .Bind(6, job.reason);
  if (job.exit_code) {
    insert.Bind(7, int64_t{*job.exit_code});
  } else {
    insert.BindNull(7);
  }
  insert.Bind(8, static_cast<int64_t>(job.slurm_job_id))
      .Bind(9, job.nodes)
      .BindTime(10, job.submit_time)
      .BindTime(11, job.admit_time)
      .BindTime(12, job.start_time)
      .BindTime(13, job.end_time)
      .Bind(14, int64_t{job.requeue_count})
      .Bind(15, job.idempotency_key)
      .Bind(16, job.spec.name)
      .Bind(17, spec_json)
      .Bind(18, AmountMapToJson(job.reserved))
      .Bind(19, AmountMapToJson(job.charged));
  RETURN_IF_ERROR(insert.Run());
  job.id = static_cast<queue::JobId>(conn.LastInsertId());
  job.events.clear();
  RETURN_IF_ERROR(InsertEvent(conn, job.id, {job.state, job.submit_time, job.reason}));
  return InsertResult{std::move(job), /*created=*/true};
}

absl::Status UpdateJobRow(Connection& conn, const queue::JobUpdate& u) {
  // The columns ApplyUpdate may change; the spec is not read.
  Job job;
  job.id = u.id;
  {
    ASSIGN_OR_RETURN(Statement read, conn.Prepare(R"sql(
        SELECT state, reason, exit_code, slurm_job_id, nodes, admit_time, start_time, end_time,
               requeue_count, project, user
        FROM jobs WHERE id = ?1)sql"));
    read.Bind(1, static_cast<int64_t>(u.id));
    ASSIGN_OR_RETURN(bool found, read.Step());
    if (!found) return absl::NotFoundError(absl::StrCat("job ", u.id, " does not exist"));
    ASSIGN_OR_RETURN(job.state, ToState(read.Int(0), static_cast<int64_t>(u.id)));
    job.reason = read.Text(1);
    if (!read.IsNull(2)) job.exit_code = static_cast<int>(read.Int(2));
    job.slurm_job_id = static_cast<uint64_t>(read.Int(3));
    job.nodes = read.Text(4);
    job.admit_time = read.Time(5);
    job.start_time = read.Time(6);
    job.end_time = read.Time(7);
    job.requeue_count = static_cast<uint32_t>(read.Int(8));
    job.project = read.Text(9);
    job.user = read.Text(10);
  }
  RETURN_IF_ERROR(queue::ApplyUpdate(u, job));

  // ?N-1 says whether to write column ?N: only what `u` sets is written, with the value
  // ApplyUpdate computed.
  ASSIGN_OR_RETURN(Statement write, conn.Prepare(R"sql(
      UPDATE jobs SET
        state = ?2,
        reason = ?3,
        exit_code = CASE WHEN ?4 THEN ?5 ELSE exit_code END,
        slurm_job_id = CASE WHEN ?6 THEN ?7 ELSE slurm_job_id END,
        nodes = CASE WHEN ?8 THEN ?9 ELSE nodes END,
        admit_time = CASE WHEN ?10 THEN ?11 ELSE admit_time END,
        start_time = CASE WHEN ?12 THEN ?13 ELSE start_time END,
        end_time = CASE WHEN ?14 THEN ?15 ELSE end_time END,
        requeue_count = CASE WHEN ?16 THEN ?17 ELSE requeue_count END,
        reserved_json = CASE WHEN ?18 THEN ?19 ELSE reserved_json END,
        charged_json = CASE WHEN ?20 THEN ?21 ELSE charged_json END
      WHERE id = ?1)sql"));
  write.Bind(1, static_cast<int64_t>(job.id))
      .Bind(2, static_cast<int64_t>(job.state))
      .Bind(3, job.reason)
      .Bind(4, int64_t{u.exit_code.has_value()})
      .Bind(5, int64_t{job.exit_code.value_or(0)})
      .Bind(6, int64_t{u.slurm_job_id.has_value()})
      .Bind(7, static_cast<int64_t>(job.slurm_job_id))
      .Bind(8, int64_t{u.nodes.has_value()})
      .Bind(9, job.nodes)
      .Bind(10, int64_t{u.admit_time.has_value()})
      .BindTime(11, job.admit_time)
      .Bind(12, int64_t{u.start_time.has_value()})
      .BindTime(13, job.start_time)
      .Bind(14, int64_t{u.end_time.has_value()})
      .BindTime(15, job.end_time)
      .Bind(16, int64_t{u.increment_requeue_count})
      .Bind(17, int64_t{job.requeue_count})
      .Bind(18, int64_t{u.reserved.has_value()})
      .Bind(19, AmountMapToJson(job.reserved))
      .Bind(20, int64_t{u.charged.has_value()})
      .Bind(21, AmountMapToJson(job.charged));
  RETURN_IF_ERROR(write.Run());
  for (const queue::JobEvent& e : job.events) RETURN_IF_ERROR(InsertEvent(conn, job.id, e));
  // ApplyUpdate allowed charges only with the transition to an end state or to REQUEUED,
  // which this update just won: each settlement is written once.
  return InsertChargeRows(conn, job.id, job.project, job.user, u.end_time.value_or(u.at),
                          u.charges);
}

absl::Status PutSettingRow(Connection& conn, const std::string& key, const std::string& value) {
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("INSERT INTO settings (key, value) VALUES (?1, ?2) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"));
  stmt.Bind(1, key).Bind(2, value);
  return stmt.Run();
}

absl::StatusOr<Job> SelectJob(Connection& conn, queue::JobId id, bool with_events) {
  Job job;
  {
    ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(absl::StrCat("SELECT ", kJobColumns,
                                                               " FROM jobs WHERE id = ?1")));
    stmt.Bind(1, static_cast<int64_t>(id));
    ASSIGN_OR_RETURN(bool found, stmt.Step());
    if (!found) return absl::NotFoundError(absl::StrCat("job ", id, " does not exist"));
    ASSIGN_OR_RETURN(job, ReadJob(stmt, /*with_script=*/true));
  }
  if (with_events) {
    ASSIGN_OR_RETURN(job.events, SelectEvents(conn, id));
    ASSIGN_OR_RETURN(job.checkpoints, SelectCheckpoints(conn, id));
    ASSIGN_OR_RETURN(job.progress, SelectProgress(conn, id));
  }
  return job;
}

absl::StatusOr<std::vector<Job>> SelectJobs(Connection& conn, const JobFilter& filter) {
  // The text depends only on which filters are set and how many states, so the statement
  // cache holds a few dozen shapes at most.
  std::set<JobState> states(filter.states.begin(), filter.states.end());
  std::string sql = absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE 1");
  int n = 0;
  if (filter.uid) absl::StrAppend(&sql, " AND uid = ?", ++n);
  if (!filter.project.empty()) absl::StrAppend(&sql, " AND project = ?", ++n);
  if (filter.before_id != 0) absl::StrAppend(&sql, " AND id < ?", ++n);
  if (!states.empty()) {
    std::vector<std::string> params;
    for (size_t i = 0; i < states.size(); ++i) params.push_back(absl::StrCat("?", ++n));
    absl::StrAppend(&sql, " AND state IN (", absl::StrJoin(params, ", "), ")");
  }
  absl::StrAppend(&sql, " ORDER BY id DESC");
  if (filter.limit != 0) absl::StrAppend(&sql, " LIMIT ?", ++n);

  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql));
  n = 0;
  if (filter.uid) stmt.Bind(++n, int64_t{*filter.uid});
  if (!filter.project.empty()) stmt.Bind(++n, filter.project);
  if (filter.before_id != 0) stmt.Bind(++n, static_cast<int64_t>(filter.before_id));
  for (JobState s : states) stmt.Bind(++n, static_cast<int64_t>(s));
  if (filter.limit != 0) stmt.Bind(++n, int64_t{filter.limit});
  return ReadJobs(stmt, /*with_script=*/false);
}

absl::StatusOr<std::vector<Job>> SelectActiveJobs(Connection& conn) {
  static const std::string* const kSql = new std::string(absl::StrCat(
      "SELECT ", kJobColumns, " FROM jobs WHERE state IN (", ActiveStatesSql(), ") ORDER BY id"));
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(*kSql));
  return ReadJobs(stmt, /*with_script=*/true);
}

absl::StatusOr<std::optional<std::string>> SelectSetting(Connection& conn, const std::string& key) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT value FROM settings WHERE key = ?1"));
  stmt.Bind(1, key);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return std::nullopt;
  return stmt.Text(0);
}

}  // namespace drocc::store
