// What only SqliteStore can show: durability across reopen, group commit, callbacks after
// commit, draining on close, and errors that say what to do. On real files in a temp dir.

#include <sys/stat.h>

#include <filesystem>

#include <atomic>
#include <chrono>
#include <fstream>
#include <future>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "common/status.h"
#include "daemon/store/sqlite_connection.h"
#include "daemon/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {
namespace {

using queue::Job;
using queue::JobState;
using queue::JobUpdate;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<SqliteStore> OpenOrDie(SqliteStoreOptions options) {
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// Holds the writer thread inside a callback, so that every write queued meanwhile is taken
// as one group when Release() is called. Makes group composition deterministic in tests.
class Plug {
 public:
  explicit Plug(SqliteStore& store) {
    auto entered = std::make_shared<std::promise<void>>();
    std::future<void> in = entered->get_future();
    store.PutSetting("test.plug", "",
                     [entered, release = release_.get_future().share()](absl::Status) {
                       entered->set_value();
                       release.wait();
                     });
    in.wait();
  }
  ~Plug() { Release(); }
  void Release() {
    if (!released_) release_.set_value();
    released_ = true;
  }

 private:
  std::promise<void> release_;
  bool released_ = false;
};

// Waits until `n` writes are queued (the writer is held by a Plug).
void WaitForQueued(const SqliteStore& store, uint64_t n) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (store.stats().queued < n && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(store.stats().queued, n);
}

// Counts callbacks down; Wait() returns once all have run.
class Latch {
 public:
  explicit Latch(int n) : left_(n) {}
  void CountDown() {
    if (--left_ == 0) done_.set_value();
  }
  // Fails the test instead of hanging it.
  void Wait() {
    ASSERT_EQ(done_.get_future().wait_for(std::chrono::seconds(30)), std::future_status::ready)
        << left_ << " callbacks never ran";
  }

 private:
  std::atomic<int> left_;
  std::promise<void> done_;
};

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.File("droccd.db"); }
  std::unique_ptr<SqliteStore> Open() { return OpenOrDie({.path = path()}); }

  TempDir dir_;
};

TEST_F(SqliteStoreTest, UsesWriteAheadLogging) {
  auto store = Open();
  EXPECT_EQ(*QueryText(path(), "PRAGMA journal_mode"), "wal");
}

TEST_F(SqliteStoreTest, DataSurvivesCloseAndReopen) {
  Job job = MakeJob(1000, "ml-lab", 1, "key-1");
  {
    auto store = Open();
    ASSERT_TRUE(InsertJobAndWait(*store, job).ok());
    JobUpdate u{.id = 1, .from = JobState::kPending, .to = JobState::kAdmitted, .at = T(2)};
    u.slurm_job_id = 77;
    ASSERT_TRUE(UpdateJobAndWait(*store, u).ok());
    ASSERT_TRUE(PutSettingAndWait(*store, "admission.drained", "true").ok());
  }
  auto store = Open();
  absl::StatusOr<Job> got = store->GetJob(1, /*with_events=*/true);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->spec, job.spec);
  EXPECT_EQ(got->state, JobState::kAdmitted);
  EXPECT_EQ(got->slurm_job_id, 77u);
  EXPECT_EQ(got->events.size(), 2u);
  EXPECT_EQ(*store->GetSetting("admission.drained"), "true");
  // Idempotency and id assignment carry on where they were.
  absl::StatusOr<InsertResult> retry = InsertJobAndWait(*store, job);
  ASSERT_TRUE(retry.ok());
  EXPECT_FALSE(retry->created);
  EXPECT_EQ(retry->job.id, 1u);
  EXPECT_EQ(InsertJobAndWait(*store, MakeJob())->job.id, 2u);
}

TEST_F(SqliteStoreTest, QuotaDataSurvivesCloseAndReopen) {
  StoredGrant grant;
  grant.grant.project = "ml-lab";
  grant.grant.amount = quota::MilliUnits::FromMilli(1'000'500);
  grant.grant.valid_from = T(0);  // valid_until open
  grant.grant.reference = "EuroHPC-2026-117";
  grant.resource = "gpu-hours";
  quota::Limit limit{.project = "ml-lab", .user = "alice", .max_gpus = 8};
  limit.max_walltime = absl::Hours(12);
  AuditRecord audit{.time = T(1), .user = "root", .peer = "unix:uid=0", .action = "Setup"};
  {
    auto store = Open();
    absl::StatusOr<uint64_t> id = ApplyQuotaChangesAndWait(
        *store,
        {{quota::Account{.name = "uni",
                         .kind = quota::AccountKind::kSme,
                         .description = "Uni",
                         .create_time = T(1)}},
         {quota::Project{.name = "ml-lab", .account = "uni", .share = 3, .description = "ML"}},
         {quota::Member{.project = "ml-lab", .user = "alice", .is_default = true}},
         {grant},
         {grant},
         {limit}},
        audit);
    ASSERT_TRUE(id.ok()) << id.status();
    ASSERT_EQ(*id, 1u);
    // Grant 2 is the highest id; deleting it must not let a later grant take its id.
    ASSERT_TRUE(ApplyQuotaChangesAndWait(
                    *store, {{.value = StoredGrant{.grant = {.id = 2}}, .remove = true}}, audit)
                    .ok());
    ASSERT_TRUE(InsertJobAndWait(*store, MakeJob(1000, "ml-lab", 1)).ok());
    JobUpdate admit{.id = 1, .from = JobState::kPending, .to = JobState::kAdmitted, .at = T(2)};
    admit.reserved = queue::AmountMap{{"gpu-hours", 4'000}};
    ASSERT_TRUE(UpdateJobAndWait(*store, admit).ok());
    ASSERT_TRUE(InsertJobAndWait(*store, MakeJob(1001, "ml-lab", 1)).ok());
    JobUpdate cancel{.id = 2, .from = JobState::kPending, .to = JobState::kCancelled, .at = T(3)};
    cancel.charged = queue::AmountMap{{"gpu-hours", 1}};
    cancel.charges = {{.grant_id = 1, .resource = "gpu-hours", .milli = 1}};
    ASSERT_TRUE(UpdateJobAndWait(*store, cancel).ok());
  }
  auto store = Open();
  absl::StatusOr<QuotaModel> model = store->LoadQuotaModel();
  ASSERT_TRUE(model.ok()) << model.status();
  const quota::Account account{
      .name = "uni", .kind = quota::AccountKind::kSme, .description = "Uni", .create_time = T(1)};
  const quota::Project project{.name = "ml-lab", .account = "uni", .share = 3, .description = "ML"};
  EXPECT_THAT(model->accounts, ElementsAre(account));
  EXPECT_THAT(model->projects, ElementsAre(project));
  EXPECT_EQ(model->members.size(), 1u);
  EXPECT_TRUE(model->members[0].is_default);
  grant.grant.id = 1;
  EXPECT_EQ(model->grants, std::vector<StoredGrant>{grant});
  EXPECT_EQ(model->limits, std::vector<quota::Limit>{limit});
  absl::StatusOr<std::vector<AuditRecord>> log = store->ListAudit({});
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->size(), 2u);
  audit.id = 1;
  EXPECT_EQ(log->back(), audit);
  EXPECT_EQ(store->GetJob(1, false)->reserved, (queue::AmountMap{{"gpu-hours", 4'000}}));
  EXPECT_EQ(store->GetJob(2, false)->charged, (queue::AmountMap{{"gpu-hours", 1}}));
  EXPECT_EQ(*store->SumCharges(),
            (std::vector<ChargeTotal>{
                {.grant_id = 1, .project = "ml-lab", .resource = "gpu-hours", .milli = 1}}));
  // Ids carry on where they were.
  grant.grant.id = 0;
  EXPECT_EQ(*ApplyQuotaChangesAndWait(*store, {{grant}}, audit), 3u);
  ASSERT_TRUE(AppendAuditAndWait(*store, audit).ok());
  EXPECT_EQ(store->ListAudit({.limit = 1})->front().id, 4u);
}

TEST_F(SqliteStoreTest, ABackupIsAWholeDatabaseInANewPrivateFileMadeWhileTheStoreServes) {
  auto store = Open();
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(InsertJobAndWait(*store, MakeJob(1000 + i)).ok());
  const std::string copy = dir_.File("backup.db");
  absl::StatusOr<uint64_t> bytes = store->Backup(copy);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_GT(*bytes, 0u);
  struct stat st {};
  ASSERT_EQ(stat(copy.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(static_cast<uint64_t>(st.st_size), *bytes);
  // The store goes on; the copy opens as a store with every job of the moment.
  ASSERT_TRUE(InsertJobAndWait(*store, MakeJob(2000)).ok());
  auto restored = OpenOrDie({.path = copy});
  absl::StatusOr<std::vector<Job>> jobs = restored->ListJobs({.limit = 0});
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(jobs->size(), 50u);

  // Never over a file, never a relative or ".." path; a refusal leaves nothing behind.
  EXPECT_EQ(store->Backup(copy).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->Backup("backup2.db").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Backup(dir_.File("sub/../backup3.db")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Backup(dir_.File("no/such/dir.db")).status().code(),
            absl::StatusCode::kFailedPrecondition);
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".partial"), std::string::npos) << e.path();
    EXPECT_FALSE(e.path().filename().string().starts_with("backup2"));
  }
}

TEST_F(SqliteStoreTest, ConcurrentInsertsShareCommits) {
  auto store = Open();
  constexpr int kThreads = 64;
  std::vector<absl::StatusOr<InsertResult>> results(kThreads, absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  SqliteStore::Stats before;
  {
    // Without the plug the grouping depends on timing (how fast fsync is); with it, all 64
    // submissions are queued while a commit is in flight, as under load.
    Plug plug(*store);
    before = store->stats();
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back(
          [&, t] { results[t] = InsertJobAndWait(*store, MakeJob(1000 + t, "ml-lab", t, "key")); });
    }
    WaitForQueued(*store, kThreads);
  }
  for (std::thread& t : threads) t.join();

  std::set<queue::JobId> ids;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->created);
    ids.insert(r->job.id);
  }
  EXPECT_EQ(ids.size(), size_t{kThreads});
  EXPECT_EQ(*ids.rbegin(), queue::JobId{kThreads});
  SqliteStore::Stats after = store->stats();
  EXPECT_EQ(after.ops_committed - before.ops_committed, uint64_t{kThreads});
  EXPECT_LT(after.commits - before.commits, uint64_t{kThreads});
  EXPECT_EQ(after.commits - before.commits, 1u);
  EXPECT_EQ(after.largest_batch, uint64_t{kThreads});
  absl::StatusOr<std::vector<Job>> all = store->ListJobs({.limit = 0});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), size_t{kThreads});
}

TEST_F(SqliteStoreTest, AFailingOpInAGroupFailsAlone) {
  auto store = Open();
  ASSERT_TRUE(InsertJobAndWait(*store, MakeJob()).ok());  // job 1, PENDING
  Job bad_utf8 = MakeJob();
  bad_utf8.spec.script = "echo \xff\xfe";
  // An insert that fails after writing its jobs row: only its savepoint may undo that row.
  ASSERT_TRUE((*Connection::Open(path(), {}))
                  ->Exec("CREATE TRIGGER fail_event BEFORE INSERT ON job_events "
                         "WHEN NEW.reason = 'boom' BEGIN SELECT RAISE(ABORT, 'injected'); END")
                  .ok());
  Job half_written = MakeJob();
  half_written.reason = "boom";

  std::vector<absl::Status> results(7, absl::UnknownError("not run"));
  Latch latch(7);
  auto record = [&](int i) {
    return [&, i](absl::Status s) {
      results[i] = std::move(s);
      latch.CountDown();
    };
  };
  auto record_insert = [&](int i) {
    return [&, i](absl::StatusOr<InsertResult> r) {
      results[i] = r.status();
      latch.CountDown();
    };
  };
  SqliteStore::Stats before;
  {
    Plug plug(*store);
    before = store->stats();
    store->InsertJob(MakeJob(1001), record_insert(0));  // job 2
    store->UpdateJob({.id = 1, .from = JobState::kRunning, .to = JobState::kCompleted},
                     record(1));  // stale compare-and-set
    store->UpdateJob({.id = 99, .from = JobState::kPending, .to = JobState::kAdmitted},
                     record(2));                        // unknown job
    store->InsertJob(bad_utf8, record_insert(3));       // refused spec
    store->InsertJob(MakeJob(1002), record_insert(4));  // job 3
    store->UpdateJob({.id = 1, .from = JobState::kPending, .to = JobState::kAdmitted}, record(5));
    store->InsertJob(half_written, record_insert(6));  // fails after writing
    WaitForQueued(*store, 7);
  }
  ASSERT_NO_FATAL_FAILURE(latch.Wait());

  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_EQ(results[1].code(), absl::StatusCode::kFailedPrecondition) << results[1];
  EXPECT_EQ(results[2].code(), absl::StatusCode::kNotFound) << results[2];
  EXPECT_EQ(results[3].code(), absl::StatusCode::kInvalidArgument) << results[3];
  EXPECT_THAT(results[3].message(), HasSubstr("UTF-8"));
  EXPECT_TRUE(results[4].ok()) << results[4];
  EXPECT_TRUE(results[5].ok()) << results[5];
  EXPECT_FALSE(results[6].ok());
  EXPECT_THAT(results[6].message(), HasSubstr("injected"));

  SqliteStore::Stats after = store->stats();
  EXPECT_EQ(after.commits - before.commits, 1u);  // one transaction for all seven
  EXPECT_EQ(after.ops_committed - before.ops_committed, 3u);
  EXPECT_EQ(after.ops_failed - before.ops_failed, 4u);
  EXPECT_EQ(*QueryText(path(), "SELECT count(*) FROM jobs WHERE reason = 'boom'"), "0");
  EXPECT_EQ(store->GetJob(1, false)->state, JobState::kAdmitted);
  EXPECT_EQ(store->GetJob(2, false)->uid, 1001u);
  EXPECT_EQ(store->GetJob(3, false)->uid, 1002u);
  EXPECT_EQ(store->GetJob(4, false).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, GroupsAreAtMostMaxBatch) {
  auto store = OpenOrDie({.path = path(), .max_batch = 4});
  Latch latch(10);
  SqliteStore::Stats before;
  {
    Plug plug(*store);
    before = store->stats();
    for (int i = 0; i < 10; ++i) {
      store->PutSetting("k" + std::to_string(i), "v", [&](absl::Status s) {
        EXPECT_TRUE(s.ok()) << s;
        latch.CountDown();
      });
    }
    WaitForQueued(*store, 10);
  }
  ASSERT_NO_FATAL_FAILURE(latch.Wait());
  SqliteStore::Stats after = store->stats();
  EXPECT_EQ(after.commits - before.commits, 3u);  // 4 + 4 + 2
  EXPECT_EQ(after.largest_batch, 4u);
}

TEST_F(SqliteStoreTest, CallbacksRunOnlyAfterCommit) {
  auto store = Open();
  const std::string db = path();
  // Inside each callback, a connection of its own must already see the write.
  std::promise<std::string> inserted, updated, setting;
  store->InsertJob(MakeJob(), [&](absl::StatusOr<InsertResult> r) {
    EXPECT_TRUE(r.ok());
    absl::StatusOr<std::string> n = QueryText(db, "SELECT count(*) FROM jobs WHERE id = 1");
    EXPECT_TRUE(store->GetJob(1, true).ok());  // and so do the store's reads
    inserted.set_value(n.ok() ? *n : n.status().ToString());
  });
  store->UpdateJob(
      {.id = 1, .from = JobState::kPending, .to = JobState::kAdmitted}, [&](absl::Status s) {
        EXPECT_TRUE(s.ok()) << s;
        absl::StatusOr<std::string> state = QueryText(db, "SELECT state FROM jobs WHERE id = 1");
        updated.set_value(state.ok() ? *state : state.status().ToString());
      });
  store->PutSetting("admission.drained", "true", [&](absl::Status s) {
    EXPECT_TRUE(s.ok()) << s;
    absl::StatusOr<std::string> v =
        QueryText(db, "SELECT value FROM settings WHERE key = 'admission.drained'");
    setting.set_value(v.ok() ? *v : v.status().ToString());
  });
  EXPECT_EQ(inserted.get_future().get(), "1");
  EXPECT_EQ(updated.get_future().get(), std::to_string(static_cast<int>(JobState::kAdmitted)));
  EXPECT_EQ(setting.get_future().get(), "true");
}

TEST_F(SqliteStoreTest, CloseCommitsEverythingQueued) {
  constexpr int kJobs = 200;
  std::atomic<int> acked{0};
  absl::Status chained = absl::UnknownError("not run");
  {
    auto store = Open();
    for (int i = 0; i < kJobs; ++i) {
      store->InsertJob(MakeJob(1000, "ml-lab", i), [&](absl::StatusOr<InsertResult> r) {
        if (r.ok()) ++acked;
      });
    }
    // A write queued by a callback while closing is committed too.
    SqliteStore* s = store.get();
    store->PutSetting("a", "1", [&, s](absl::Status) {
      s->PutSetting("chained", "yes", [&](absl::Status st) { chained = st; });
    });
  }  // the destructor drains
  EXPECT_EQ(acked.load(), kJobs);
  EXPECT_TRUE(chained.ok()) << chained;
  auto store = Open();
  EXPECT_EQ(store->ListJobs({.limit = 0})->size(), size_t{kJobs});
  EXPECT_EQ(*store->GetSetting("chained"), "yes");
}

TEST_F(SqliteStoreTest, WritesAndReadsAfterCloseFail) {
  auto store = Open();
  store->Close();
  store->Close();  // idempotent
  absl::Status insert;
  store->InsertJob(MakeJob(), [&](absl::StatusOr<InsertResult> r) { insert = r.status(); });
  EXPECT_EQ(insert.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(insert.message(), HasSubstr("closed"));
  EXPECT_EQ(store->GetJob(1, false).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->ListJobs({}).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, MissingDirectoryIsAClearError) {
  std::string p = dir_.File("no/such/droccd.db");
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open({.path = p});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store.status().message(),
            "cannot open job database \"" + p + "\": no such directory; create \"" +
                dir_.File("no/such") + "\" or set store.path in droccd.toml");
}

TEST_F(SqliteStoreTest, BadPathsAreRefused) {
  std::ofstream(dir_.File("file")) << "x";
  EXPECT_THAT(SqliteStore::Open({.path = dir_.File("file/droccd.db")}).status().message(),
              HasSubstr("is not a directory"));
  EXPECT_EQ(SqliteStore::Open({.path = ""}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStore::Open({.path = ":memory:"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SqliteStore::Open({.path = path(), .max_batch = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, AFileThatIsNotADatabaseIsDataLoss) {
  std::ofstream(path()) << std::string(8192, 'x');
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open({.path = path()});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(store.status().message(), HasSubstr(path()));
  EXPECT_THAT(store.status().message(), HasSubstr("restore the database from backup"));
}

TEST_F(SqliteStoreTest, ACorruptTableIsDataLossOnRead) {
  // The schema (page 1 and the tables' first pages) fills the file up to `schema_size`; pages
  // after it are allocated as the jobs are written.
  std::streamoff schema_size = 0;
  Open().reset();
  {
    std::ifstream f(path(), std::ios::binary | std::ios::ate);
    schema_size = f.tellg();
  }
  {
    auto store = Open();
    for (int i = 0; i < 50; ++i) ASSERT_TRUE(InsertJobAndWait(*store, MakeJob()).ok());
  }
  {
    // Scribble over the jobs' pages, leaving the schema readable.
    std::fstream f(path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(0, std::ios::end);
    std::streamoff size = f.tellg();
    ASSERT_GT(size, schema_size);
    f.seekp(schema_size);
    f << std::string(static_cast<size_t>(size - schema_size), '\xab');
  }
  auto store = Open();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<std::vector<Job>> jobs = store->ListJobs({});
  EXPECT_EQ(jobs.status().code(), absl::StatusCode::kDataLoss) << jobs.status();
  EXPECT_THAT(jobs.status().message(), HasSubstr("restore"));
}

TEST_F(SqliteStoreTest, ADatabaseLockedTooLongIsUnavailableForTheWholeGroup) {
  auto store = OpenOrDie({.path = path(), .busy_timeout = absl::Milliseconds(50)});
  ASSERT_TRUE(InsertJobAndWait(*store, MakeJob()).ok());
  // Another process (say, an sqlite3 shell) holds the write lock.
  absl::StatusOr<std::unique_ptr<Connection>> other = Connection::Open(path(), {});
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE((*other)->Exec("BEGIN IMMEDIATE").ok());

  absl::Status put = PutSettingAndWait(*store, "k", "v");
  EXPECT_EQ(put.code(), absl::StatusCode::kUnavailable) << put;
  EXPECT_THAT(put.message(), HasSubstr("locked"));
  // Reads still work beside the lock (WAL).
  EXPECT_TRUE(store->GetJob(1, true).ok());

  ASSERT_TRUE((*other)->Exec("ROLLBACK").ok());
  EXPECT_TRUE(PutSettingAndWait(*store, "k", "v").ok());
  EXPECT_EQ(store->stats().ops_failed, 1u);
}

// The codes are SQLite's (sqlite3.h), which this test does not include.
TEST(SqliteStatusTest, MapsErrorsToStatusesThatSayWhatToDo) {
  constexpr int kBusy = 5, kReadOnly = 8, kIoErr = 10, kCorrupt = 11, kFull = 13, kNotADb = 26;
  constexpr int kConstraintUnique = 19 | (8 << 8), kIoErrFsync = 10 | (4 << 8);
  auto status = [](int code) { return SqliteStatus(code, "/var/lib/drocc/droccd.db", "msg"); };
  EXPECT_EQ(status(kFull).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(status(kFull).message(), HasSubstr("disk is full"));
  EXPECT_THAT(status(kFull).message(), HasSubstr("/var/lib/drocc/droccd.db"));
  EXPECT_EQ(status(kBusy).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status(kCorrupt).code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(status(kCorrupt).message(), HasSubstr("restore the database from backup"));
  EXPECT_EQ(status(kNotADb).code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(status(kIoErr).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status(kIoErrFsync).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(status(kReadOnly).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status(kConstraintUnique).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(status(0).ok());
}

}  // namespace
}  // namespace drocc::store
