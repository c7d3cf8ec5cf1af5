#include "daemon/store/sqlite_store.h"

#include <algorithm>
#include <filesystem>
#include <functional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "daemon/store/job_table.h"
#include "daemon/store/migrations.h"
#include "daemon/store/quota_table.h"
#include "daemon/store/spec_json.h"
#include "daemon/store/sqlite_connection.h"
#include "daemon/store/token_table.h"
#include "daemon/store/usage_table.h"

namespace drocc::store {

// One queued write.
struct SqliteStore::Op {
  // Runs on the writer thread inside the group's transaction, within the op's savepoint.
  std::function<absl::Status(Connection&)> run;
  // Runs after the group's commit with run()'s status, or with the group's error if the
  // group did not commit (then run() had no lasting effect).
  std::function<void(absl::Status)> finish;
};

namespace {

// Runs a statement without results through the connection's statement cache.
absl::Status Run(Connection& conn, absl::string_view sql) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql));
  return stmt.Run();
}

absl::Status Closed() {
  return absl::FailedPreconditionError("the job store is closed (droccd is shutting down)");
}

// The checks that deserve a better message than SQLite's "unable to open database file".
absl::Status CheckPath(const SqliteStoreOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError(
        "the job database path is empty; set store.path in "
        "droccd.toml");
  }
  if (options.path == ":memory:" || absl::StartsWith(options.path, "file:")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job database path \"", options.path,
        "\" is not a file path; give a file (tests that need no file use InMemoryStore)"));
  }
  if (options.max_batch == 0) {
    return absl::InvalidArgumentError("SqliteStoreOptions.max_batch must be at least 1");
  }
  std::filesystem::path dir = std::filesystem::path(options.path).parent_path();
  if (dir.empty()) dir = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    bool exists = std::filesystem::exists(dir, ec);
    return absl::NotFoundError(
        absl::StrCat("cannot open job database \"", options.path, "\": ",
                     exists ? absl::StrCat("\"", dir.string(), "\" is not a directory")
                            : absl::StrCat("no such directory; create \"", dir.string(), "\""),
                     " or set store.path in droccd.toml"));
  }
  return absl::OkStatus();
}

// Runs `read` in one read transaction, so that its queries see one snapshot.
template <typename Fn>
auto InSnapshot(Connection& conn, Fn read) -> decltype(read()) {
  RETURN_IF_ERROR(Run(conn, "BEGIN"));
  auto result = read();
  (void)Run(conn, "COMMIT");  // ends the read; nothing to lose
  if (conn.InTransaction()) (void)conn.Exec("ROLLBACK");
  return result;
}

absl::Status UseWal(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("PRAGMA journal_mode = WAL"));
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  std::string mode = row ? stmt.Text(0) : "";
  if (!absl::EqualsIgnoreCase(mode, "wal")) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job database \"", conn.path(), "\" cannot use write-ahead logging (journal mode \"", mode,
        "\"); put it on a local filesystem"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  RETURN_IF_ERROR(CheckPath(options));
  ConnectionOptions write_options{.busy_timeout = options.busy_timeout, .create = true};
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                   Connection::Open(options.path, write_options));
  // The first read of the file: reports a corrupt one, and refuses one from a newer droccd
  // before anything in it changes.
  RETURN_IF_ERROR(CheckNotNewer(*writer));
  RETURN_IF_ERROR(UseWal(*writer));
  // FULL: the WAL is synced at every commit, so an acknowledged write survives power loss.
  RETURN_IF_ERROR(writer->Exec("PRAGMA synchronous = FULL"));
  RETURN_IF_ERROR(Migrate(*writer));

  ConnectionOptions read_options{
      .busy_timeout = options.busy_timeout, .create = false, .read_only = true};
  ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                   Connection::Open(options.path, read_options));
  return std::unique_ptr<SqliteStore>(
      new SqliteStore(options, std::move(writer), std::move(reader)));
}

SqliteStore::SqliteStore(SqliteStoreOptions options, std::unique_ptr<Connection> writer,
                         std::unique_ptr<Connection> reader)
    : options_(std::move(options)), writer_(std::move(writer)), reader_(std::move(reader)) {
  writer_thread_ = std::thread([this] { WriterLoop(); });
}

SqliteStore::~SqliteStore() { Close(); }

void SqliteStore::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    std::lock_guard<std::mutex> lock(read_mu_);
    reader_.reset();
  }
  // Last, so that the writer's close checkpoints the WAL into the database file.
  writer_.reset();
}

SqliteStore::Stats SqliteStore::stats() const {
  Stats s;
  s.commits = commits_.load();
  s.ops_committed = ops_committed_.load();
  s.ops_failed = ops_failed_.load();
  s.largest_batch = largest_batch_.load();
  std::lock_guard<std::mutex> lock(mu_);
  s.queued = queue_.size();
  return s;
}

void SqliteStore::Enqueue(std::unique_ptr<Op> op) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopped_) {
      queue_.push_back(std::move(op));
      cv_.notify_one();
      return;
    }
  }
  op->finish(Closed());
}

void SqliteStore::WriterLoop() {
  std::vector<std::unique_ptr<Op>> group;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) {  // closing, and everything is committed
        stopped_ = true;
        return;
      }
      size_t n = std::min(queue_.size(), options_.max_batch);
      for (size_t i = 0; i < n; ++i) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunGroup(group);
    group.clear();
  }
}

void SqliteStore::RunGroup(std::vector<std::unique_ptr<Op>>& group) {
  std::vector<absl::Status> results(group.size());
  // IMMEDIATE takes the write lock now, waiting up to busy_timeout for another process.
  absl::Status group_status = Run(*writer_, "BEGIN IMMEDIATE");
  for (size_t i = 0; i < group.size() && group_status.ok(); ++i) {
    results[i] = RunInSavepoint(*group[i], group_status);
  }
  if (group_status.ok()) group_status = Run(*writer_, "COMMIT");
  if (writer_->InTransaction()) (void)writer_->Exec("ROLLBACK");

  if (group_status.ok()) {
    commits_.fetch_add(1);
    uint64_t ok = std::count_if(results.begin(), results.end(), [](auto& s) { return s.ok(); });
    ops_committed_.fetch_add(ok);
    ops_failed_.fetch_add(group.size() - ok);
  } else {
    ops_failed_.fetch_add(group.size());
  }
  uint64_t size = group.size();
  uint64_t largest = largest_batch_.load();
  while (size > largest && !largest_batch_.compare_exchange_weak(largest, size)) {
  }
  // Only now, durable or not, does anyone hear about it.
  for (size_t i = 0; i < group.size(); ++i) {
    group[i]->finish(group_status.ok() ? std::move(results[i]) : group_status);
  }
}

// Returns the op's own status; sets `group_status` if the transaction itself broke.
absl::Status SqliteStore::RunInSavepoint(Op& op, absl::Status& group_status) {
  group_status = Run(*writer_, "SAVEPOINT op");
  if (!group_status.ok()) return group_status;
  absl::Status status = op.run(*writer_);
  if (!writer_->InTransaction()) {
    // SQLite rolled the whole transaction back (I/O error, disk full, out of memory): the
    // ops before this one are lost too, so the whole group fails.
    group_status = status.ok() ? absl::InternalError("the write transaction ended early") : status;
    return status;
  }
  if (!status.ok()) group_status = Run(*writer_, "ROLLBACK TO op");
  if (group_status.ok()) group_status = Run(*writer_, "RELEASE op");
  return status;
}

void SqliteStore::InsertJob(queue::Job job, InsertCallback done) {
  // Serialized on the caller's thread, so concurrent submissions share the work.
  absl::StatusOr<std::string> spec = JobSpecToJson(job.spec);
  auto result = std::make_shared<absl::StatusOr<InsertResult>>();
  auto op = std::make_unique<Op>();
  op->run = [job = std::move(job), spec = std::move(spec), result](Connection& conn) mutable {
    if (!spec.ok()) return spec.status();
    *result = InsertJobRow(conn, std::move(job), *spec);
    return result->status();
  };
  op->finish = [result, done = std::move(done)](absl::Status status) {
    if (status.ok()) {
      done(std::move(*result));
    } else {
      done(std::move(status));
    }
  };
  Enqueue(std::move(op));
}

void SqliteStore::UpdateJob(queue::JobUpdate u, DoneCallback done) {
  auto op = std::make_unique<Op>();
  op->run = [u = std::move(u)](Connection& conn) { return UpdateJobRow(conn, u); };
  op->finish = std::move(done);
  Enqueue(std::move(op));
}

void SqliteStore::PutSetting(std::string key, std::string value, DoneCallback done) {
  auto op = std::make_unique<Op>();
  op->run = [key = std::move(key), value = std::move(value)](Connection& conn) {
    return PutSettingRow(conn, key, value);
  };
  op->finish = std::move(done);
  Enqueue(std::move(op));
}

void SqliteStore::AppendCheckpoint(queue::JobId id, queue::CheckpointRecord checkpoint,
                                   DoneCallback done) {
  auto op = std::make_unique<Op>();
  op->run = [id, c = std::move(checkpoint)](Connection& conn) {
    return InsertCheckpointRow(conn, id, c);
  };
  op->finish = std::move(done);
  Enqueue(std::move(op));
}

void SqliteStore::PutProgress(queue::JobId id, queue::ProgressRecord progress, DoneCallback done) {
  auto op = std::make_unique<Op>();
  op->run = [id, p = std::move(progress)](Connection& conn) { return PutProgressRow(conn, id, p); };
  op->finish = std::move(done);
  Enqueue(std::move(op));
}

template <typename Fn>
auto SqliteStore::Read(Fn read) -> decltype(read(std::declval<Connection&>())) {
  std::lock_guard<std::mutex> lock(read_mu_);
  if (reader_ == nullptr) return Closed();
  return read(*reader_);
}

absl::StatusOr<queue::Job> SqliteStore::GetJob(queue::JobId id, bool with_events) {
  return Read([&](Connection& conn) -> absl::StatusOr<queue::Job> {
    if (!with_events) return SelectJob(conn, id, /*with_events=*/false);
    return InSnapshot(conn, [&] { return SelectJob(conn, id, /*with_events=*/true); });
  });
}

absl::StatusOr<std::optional<queue::Job>> SqliteStore::FindJobByKey(uint32_t uid,
                                                                    const std::string& key) {
  if (key.empty()) return std::nullopt;
  return Read([&](Connection& conn) { return FindByIdempotencyKey(conn, uid, key); });
}

absl::StatusOr<std::vector<queue::Job>> SqliteStore::ListJobs(const JobFilter& filter) {
  return Read([&](Connection& conn) { return SelectJobs(conn, filter); });
}

absl::StatusOr<std::vector<queue::Job>> SqliteStore::ListActiveJobs() {
  return Read([](Connection& conn) { return SelectActiveJobs(conn); });
}

absl::StatusOr<std::optional<std::string>> SqliteStore::GetSetting(const std::string& key) {
  return Read([&](Connection& conn) { return SelectSetting(conn, key); });
}

void SqliteStore::ApplyQuotaChanges(std::vector<QuotaChange> changes, AuditRecord audit,
                                    IdCallback done) {
  auto id = std::make_shared<uint64_t>(0);
  auto op = std::make_unique<Op>();
  op->run = [changes = std::move(changes), audit = std::move(audit), id](Connection& conn) {
    absl::StatusOr<uint64_t> result = ApplyQuotaChangeRows(conn, changes, audit);
    if (!result.ok()) return result.status();  // the savepoint undoes every change and audit
    *id = *result;
    return absl::OkStatus();
  };
  op->finish = [id, done = std::move(done)](absl::Status status) {
    if (status.ok()) {
      done(*id);
    } else {
      done(std::move(status));
    }
  };
  Enqueue(std::move(op));
}

void SqliteStore::AppendAudit(AuditRecord audit, DoneCallback done) {
  auto op = std::make_unique<Op>();
  op->run = [audit = std::move(audit)](Connection& conn) { return InsertAuditRow(conn, audit); };
  op->finish = std::move(done);
  Enqueue(std::move(op));
}

void SqliteStore::PutServiceToken(ServiceTokenRecord token, AuditRecord audit, DoneCallback done) {
  auto op = std::make_unique<Op>();
  op->run = [token = std::move(token), audit = std::move(audit)](Connection& conn) {
    return PutServiceTokenRow(conn, token, audit);
  };
  op->finish = std::move(done);
  Enqueue(std::move(op));
}

absl::StatusOr<std::vector<ServiceTokenRecord>> SqliteStore::ListServiceTokens() {
  return Read([](Connection& conn) { return SelectServiceTokens(conn); });
}

absl::StatusOr<QuotaModel> SqliteStore::LoadQuotaModel() {
  return Read(
      [](Connection& conn) { return InSnapshot(conn, [&] { return SelectQuotaModel(conn); }); });
}

absl::StatusOr<std::vector<AuditRecord>> SqliteStore::ListAudit(const AuditFilter& filter) {
  return Read([&](Connection& conn) { return SelectAudit(conn, filter); });
}

absl::StatusOr<std::vector<UsageRow>> SqliteStore::QueryUsage(const UsageQuery& query) {
  return Read([&](Connection& conn) { return SelectUsage(conn, query); });
}

absl::StatusOr<std::vector<ChargeTotal>> SqliteStore::SumCharges() {
  return Read([](Connection& conn) { return SelectChargeTotals(conn); });
}

absl::StatusOr<std::vector<UsageEvent>> SqliteStore::ListUsageSince(absl::Time since) {
  return Read([&](Connection& conn) { return SelectUsageSince(conn, since); });
}

}  // namespace drocc::store
