#pragma once

// SqliteStore: the production Store, one SQLite database file.
//
// Durability: the database runs in WAL mode with synchronous=FULL, so the write-ahead log is
// fsync'ed at every commit. A write's callback runs only after its commit returned, hence an
// acknowledged write survives a crash of droccd, of the machine, or a power loss (given a
// disk that honours fsync).
//
// Group commit: one writer thread owns the write connection. Every write (InsertJob,
// UpdateJob, PutSetting, ApplyQuotaChanges, AppendAudit) queues an operation and returns at
// once. The writer takes everything queued (up
// to max_batch), runs it in one transaction with each operation inside its own savepoint (a
// failed operation, e.g. a lost compare-and-set, is rolled back alone), commits once, and
// then runs the callbacks in queue order, each with its operation's own result. If the
// commit fails, every operation of the group gets that error. So 64 concurrent submissions
// cost a few fsyncs, not 64.
//
// Reads use a second connection guarded by a mutex; WAL lets them run beside the writer.
// A read sees every write whose callback has run.
//
// Thread-safe. Callbacks run on the writer thread: they must not block, and must not call
// the *AndWait helpers or Close() on this store (that would wait on their own thread).

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "daemon/store/store.h"

namespace drocc::store {

class Connection;

struct SqliteStoreOptions {
  // The database file; created if missing, but its directory must exist.
  std::string path;
  // The most operations committed in one transaction.
  size_t max_batch = 512;
  // How long a statement waits for a lock held by another process (e.g. an sqlite3 shell)
  // before it fails with UNAVAILABLE.
  absl::Duration busy_timeout = absl::Seconds(5);
};

class SqliteStore final : public Store {
 public:
  // Counters since Open, for tests, metrics and the benchmark.
  struct Stats {
    uint64_t commits = 0;        // write transactions committed: one fsync each
    uint64_t ops_committed = 0;  // writes that succeeded and are durable
    uint64_t ops_failed = 0;     // writes answered with an error (their own or the group's)
    uint64_t largest_batch = 0;  // the most operations run in one transaction
    uint64_t queued = 0;         // writes waiting for the writer right now
  };

  // Opens (or creates) the database, applies the schema migrations (migrations.h) and starts
  // the writer thread. Errors say what to do: NOT_FOUND when the directory is missing,
  // FAILED_PRECONDITION for a database written by a newer droccd, DATA_LOSS when it is
  // corrupt or not a database.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);

  // Close().
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  // Commits every queued write and runs its callback (writes queued by those callbacks too),
  // stops the writer and closes the database. Later writes fail with FAILED_PRECONDITION
  // (callback run on the caller's thread), later reads too. Idempotent; thread-safe.
  void Close();

  Stats stats() const;
  const std::string& path() const { return options_.path; }

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
  struct Op;

  SqliteStore(SqliteStoreOptions options, std::unique_ptr<Connection> writer,
              std::unique_ptr<Connection> reader);
  void Enqueue(std::unique_ptr<Op> op);
  void WriterLoop();
  void RunGroup(std::vector<std::unique_ptr<Op>>& group);
  absl::Status RunInSavepoint(Op& op, absl::Status& group_status);
  // Runs `read` on the read connection, or fails if the store is closed.
  template <typename Fn>
  auto Read(Fn read) -> decltype(read(std::declval<Connection&>()));

  const SqliteStoreOptions options_;

  // Owned by the writer thread while it runs.
  std::unique_ptr<Connection> writer_;
  std::thread writer_thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Op>> queue_ ABSL_GUARDED_BY(mu_);
  bool closing_ ABSL_GUARDED_BY(mu_) = false;  // Close() was called: drain, then stop
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;  // the writer has exited: writes are refused

  std::mutex close_mu_;  // serializes Close()

  std::mutex read_mu_;
  std::unique_ptr<Connection> reader_ ABSL_GUARDED_BY(read_mu_);

  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> ops_committed_{0};
  std::atomic<uint64_t> ops_failed_{0};
  std::atomic<uint64_t> largest_batch_{0};
};

}  // namespace drocc::store
