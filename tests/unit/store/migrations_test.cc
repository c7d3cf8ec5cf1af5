// Schema migrations on real files: a new or empty file, a version-1 database with jobs in
// it, a database from a newer droccd, and a migration that fails half way.

#include <filesystem>
#include <fstream>
#include <future>
#include <memory>

#include "daemon/store/migrations.h"
#include "daemon/store/sqlite_connection.h"
#include "daemon/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {
namespace {

using queue::Job;
using queue::JobEvent;
using queue::JobState;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class MigrationsTest : public ::testing::Test {
 protected:
  std::string path() const { return dir_.File("droccd.db"); }

  std::unique_ptr<Connection> Connect() {
    absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(path(), {});
    EXPECT_TRUE(conn.ok()) << conn.status();
    return conn.ok() ? std::move(*conn) : nullptr;
  }

  int Version() {
    absl::StatusOr<int> v = ReadSchemaVersion(*Connect());
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : -1;
  }

  std::unique_ptr<SqliteStore> Open() {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open({.path = path()});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // The database as a droccd at schema `version` left it: kVersion1Rows, migrated to
  // `version`, then `rows` (SQL of that version).
  void WriteOldDatabase(int version, const std::string& rows = "");

  // Opens the database written by WriteOldDatabase, which migrates it, and reads job 1 back.
  std::unique_ptr<SqliteStore> OpenUpgraded(int from, Job* job1) {
    EXPECT_EQ(Version(), from);
    auto store = Open();
    if (store == nullptr) return nullptr;
    EXPECT_EQ(Version(), kSchemaVersion);
    absl::StatusOr<Job> job = store->GetJob(1, /*with_events=*/true);
    EXPECT_TRUE(job.ok()) << job.status();
    if (job.ok()) *job1 = *std::move(job);
    return store;
  }

  TempDir dir_;
};

TEST_F(MigrationsTest, ANewFileIsCreatedAtTheCurrentVersion) {
  ASSERT_NE(Open(), nullptr);
  EXPECT_EQ(Version(), kSchemaVersion);
}

TEST_F(MigrationsTest, AnEmptyFileIsMigratedToTheCurrentVersion) {
  std::ofstream{path()};  // zero bytes, as `touch` leaves it
  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Version(), kSchemaVersion);
  EXPECT_TRUE(PutSettingAndWait(*store, "k", "v").ok());
  EXPECT_EQ(InsertJobAndWait(*store, MakeJob())->job.id, 1u);
  for (const char* index :
       {"jobs_by_idempotency_key", "jobs_by_uid", "jobs_by_state", "jobs_by_project",
        "charges_by_project", "charges_by_grant", "charges_by_time", "audit_by_user"}) {
    EXPECT_EQ(*QueryText(path(), std::string("SELECT count(*) FROM sqlite_schema WHERE name = '") +
                                     index + "'"),
              "1")
        << index;
  }
}

// Rows as droccd wrote them at schema version 1 (times in microseconds since the epoch).
constexpr char kVersion1Rows[] = R"sql(
  INSERT INTO jobs (id, uid, gid, user, project, state, reason, exit_code, slurm_job_id, nodes,
                    submit_time, admit_time, start_time, end_time, requeue_count,
                    idempotency_key, name, spec_json)
  VALUES
    (1, 1000, 1000, 'alice', 'ml-lab', 3, '', NULL, 4242, 'gpu01', 1767225600000000,
     1767225601000000, 1767225602000000, NULL, 0, 'k1', 'train',
     '{"name":"train","project":"ml-lab","script":"#!/bin/bash\nsrun train\n","nodes":1,"labels":{"team":"vision"}}'),
    (2, 1001, 1001, 'bob', 'physics', 4, 'exit 0', 0, 4243, 'cpu01', 1767225610000000,
     1767225611000000, 1767225612000000, 1767225613000000, 1, '', 'sim',
     '{"name":"sim","script":"echo hi"}'),
    (3, 1000, 1000, 'alice', 'ml-lab', 1, 'waiting for budget', NULL, 0, '', 1767225620000000,
     NULL, NULL, NULL, 0, 'k1', 'duplicate key, as version 1 could not prevent', '{}');
  INSERT INTO job_events (job_id, seq, state, time, reason) VALUES
    (1, 1, 1, 1767225600000000, 'submitted'),
    (1, 2, 2, 1767225601000000, ''),
    (1, 3, 3, 1767225602000000, ''),
    (2, 1, 1, 1767225610000000, ''),
    (2, 2, 4, 1767225613000000, 'exit 0'),
    (3, 1, 1, 1767225620000000, 'waiting for budget');
)sql";

void MigrationsTest::WriteOldDatabase(int version, const std::string& rows) {
  std::unique_ptr<Connection> conn = Connect();
  ASSERT_TRUE(Migrate(*conn, 1).ok());
  ASSERT_TRUE(conn->Exec(kVersion1Rows).ok());
  ASSERT_TRUE(Migrate(*conn, version).ok());
  if (!rows.empty()) {
    ASSERT_TRUE(conn->Exec(rows).ok());
  }
}

TEST_F(MigrationsTest, AVersion1DatabaseWithJobsIsUpgradedIntact) {
  ASSERT_NO_FATAL_FAILURE(WriteOldDatabase(1));
  ASSERT_EQ(Version(), 1);

  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Version(), kSchemaVersion);

  absl::StatusOr<Job> job = store->GetJob(1, /*with_events=*/true);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->user, "alice");
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_EQ(job->slurm_job_id, 4242u);
  EXPECT_EQ(job->nodes, "gpu01");
  EXPECT_EQ(job->submit_time, T(0));
  EXPECT_EQ(job->start_time, T(2));
  EXPECT_EQ(job->end_time, absl::InfinitePast());
  EXPECT_EQ(job->exit_code, std::nullopt);
  EXPECT_EQ(job->spec.script, "#!/bin/bash\nsrun train\n");
  EXPECT_EQ(job->spec.labels.at("team"), "vision");
  EXPECT_THAT(job->events, ElementsAre(JobEvent{JobState::kPending, T(0), "submitted"},
                                       JobEvent{JobState::kAdmitted, T(1), ""},
                                       JobEvent{JobState::kRunning, T(2), ""}));
  absl::StatusOr<Job> done = store->GetJob(2, false);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->exit_code, 0);
  EXPECT_EQ(done->requeue_count, 1u);
  EXPECT_EQ(done->end_time, T(13));

  // The active jobs, as droccd reloads them at start-up.
  absl::StatusOr<std::vector<Job>> active = store->ListActiveJobs();
  ASSERT_TRUE(active.ok());
  ASSERT_EQ(active->size(), 2u);
  EXPECT_EQ((*active)[0].id, 1u);
  EXPECT_EQ((*active)[1].id, 3u);

  // What version 2 added works on the old data: settings, and idempotency (the duplicate key
  // stays with the oldest job, which a retry must get).
  ASSERT_TRUE(PutSettingAndWait(*store, "admission.drained", "false").ok());
  EXPECT_EQ(*store->GetSetting("admission.drained"), "false");
  Job retry = MakeJob(1000, "ml-lab", 30, "k1");
  absl::StatusOr<InsertResult> again = InsertJobAndWait(*store, retry);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id, 1u);
  EXPECT_EQ(store->GetJob(3, false)->idempotency_key, "");
  absl::StatusOr<InsertResult> fresh = InsertJobAndWait(*store, MakeJob(1000, "ml-lab", 31, "k2"));
  ASSERT_TRUE(fresh.ok());
  EXPECT_TRUE(fresh->created);
  EXPECT_EQ(fresh->job.id, 4u);
}

TEST_F(MigrationsTest, AVersion2DatabaseWithJobsGainsQuotaAndKeepsItsJobs) {
  // As a version-2 droccd leaves it: job 3 lost its duplicate key to the unique index.
  ASSERT_NO_FATAL_FAILURE(
      WriteOldDatabase(2, "INSERT INTO settings VALUES ('admission.drained', 'true')"));
  ASSERT_EQ(Version(), 2);

  auto store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(Version(), kSchemaVersion);

  // The jobs read as before, with nothing reserved or charged.
  absl::StatusOr<Job> job = store->GetJob(1, /*with_events=*/true);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->user, "alice");
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_EQ(job->spec.script, "#!/bin/bash\nsrun train\n");
  EXPECT_EQ(job->events.size(), 3u);
  EXPECT_TRUE(job->reserved.empty());
  EXPECT_TRUE(job->charged.empty());
  absl::StatusOr<std::vector<Job>> all = store->ListJobs({.limit = 0});
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->size(), 3u);
  EXPECT_EQ(*store->GetSetting("admission.drained"), "true");

  // What version 3 added works on the old data: an old running job settles with charges, and
  // its project (which no quota table knew) can now be configured.
  absl::StatusOr<uint64_t> grant = ApplyQuotaChangesAndWait(
      *store,
      {{quota::Account{.name = "uni"}},
       {quota::Project{.name = "ml-lab", .account = "uni"}},
       {StoredGrant{.grant = {.project = "ml-lab", .amount = quota::MilliUnits::FromUnits(10)},
                    .resource = "gpu-hours"}}},
      {.user = "root", .action = "Setup"});
  ASSERT_TRUE(grant.ok()) << grant.status();
  EXPECT_EQ(*grant, 1u);
  queue::JobUpdate end{
      .id = 1, .from = JobState::kRunning, .to = JobState::kCompleted, .at = T(20)};
  end.charged = queue::AmountMap{{"gpu-hours", 750}};
  end.charges = {{.grant_id = 1, .resource = "gpu-hours", .milli = 750}};
  ASSERT_TRUE(UpdateJobAndWait(*store, end).ok());
  EXPECT_EQ(store->GetJob(1, false)->charged, (queue::AmountMap{{"gpu-hours", 750}}));
  absl::StatusOr<std::vector<UsageRow>> usage = store->QueryUsage({.per_user = true});
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_THAT(*usage, ElementsAre(UsageRow{"ml-lab", "alice", "", "gpu-hours", 750, 1}));
  // The project still has an old job that has not ended (job 3, PENDING).
  absl::Status s =
      ApplyQuotaChangesAndWait(
          *store, {{.value = quota::Project{.name = "ml-lab", .account = "uni"}, .remove = true}},
          {.user = "root", .action = "DeleteProject"})
          .status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("1 job not ended (3)"));
}

TEST_F(MigrationsTest, AVersion3DatabaseGainsCheckpointReportsAndKeepsItsJobs) {
  ASSERT_NO_FATAL_FAILURE(WriteOldDatabase(3));
  Job job;
  auto store = OpenUpgraded(3, &job);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.events.size(), 3u);
  EXPECT_TRUE(job.checkpoints.empty());
  std::promise<absl::Status> done;
  store->AppendCheckpoint(1, {.step = 7, .bytes = 42, .time = T(30), .path = "/s/c", .ranks = 2},
                          [&](absl::Status s) { done.set_value(s); });
  ASSERT_TRUE(done.get_future().get().ok());
  EXPECT_EQ(store->GetJob(1, true)->checkpoints.size(), 1u);
}

TEST_F(MigrationsTest, AVersion4DatabaseGainsProgressAndKeepsItsJobsAndCheckpoints) {
  // With a checkpoint as droccd wrote it at version 4.
  ASSERT_NO_FATAL_FAILURE(WriteOldDatabase(4, R"sql(
      INSERT INTO checkpoints (job_id, seq, step, bytes, duration_us, time, path, ranks)
      VALUES (1, 1, 40, 1048576, 250000, 1767225630000000, '/scratch/ckpt-40', 4))sql"));
  Job job;
  auto store = OpenUpgraded(4, &job);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.events.size(), 3u);
  EXPECT_THAT(job.checkpoints,
              ElementsAre(queue::CheckpointRecord{.step = 40,
                                                  .bytes = 1 << 20,
                                                  .duration = absl::Milliseconds(250),
                                                  .time = T(30),
                                                  .path = "/scratch/ckpt-40",
                                                  .ranks = 4}));
  EXPECT_TRUE(job.progress.empty());
  EXPECT_EQ(store->GetJob(2, true)->state, JobState::kCompleted);

  const queue::ProgressRecord p{
      .phase = "stage-in", .bytes_done = 5, .bytes_total = 10, .message = "half", .time = T(40)};
  std::promise<absl::Status> done;
  store->PutProgress(1, p, [&](absl::Status s) { done.set_value(s); });
  ASSERT_TRUE(done.get_future().get().ok());
  EXPECT_THAT(store->GetJob(1, true)->progress, ElementsAre(p));
}

TEST_F(MigrationsTest, ADatabaseFromANewerDroccdIsRefused) {
  ASSERT_NE(Open(), nullptr);
  const int newer = kSchemaVersion + 1;
  ASSERT_TRUE(Connect()->Exec("PRAGMA user_version = " + std::to_string(newer)).ok());

  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open({.path = path()});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("schema version " + std::to_string(newer)));
  EXPECT_THAT(store.status().message(),
              HasSubstr("knows versions up to " + std::to_string(kSchemaVersion)));
  EXPECT_THAT(store.status().message(), HasSubstr("newer droccd"));
  EXPECT_EQ(Version(), newer);  // left alone
}

// Refused before anything is written, its journal mode included: the newer droccd must find
// the file as it left it. In WAL mode, as droccd leaves it, and in rollback mode, as a copy
// made with the sqlite3 shell may be.
TEST_F(MigrationsTest, ADatabaseFromANewerDroccdIsLeftByteForByte) {
  for (const std::string mode : {"WAL", "DELETE"}) {
    SCOPED_TRACE("journal mode " + mode);
    const std::string file = dir_.File(mode + ".db");
    {
      absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open({.path = file});
      ASSERT_TRUE(store.ok()) << store.status();
      ASSERT_TRUE(InsertJobAndWait(**store, MakeJob()).ok());
    }
    {
      absl::StatusOr<std::unique_ptr<Connection>> conn = Connection::Open(file, {});
      ASSERT_TRUE(conn.ok()) << conn.status();
      ASSERT_TRUE((*conn)->Exec("PRAGMA journal_mode = " + mode).ok());
      ASSERT_TRUE(
          (*conn)->Exec("PRAGMA user_version = " + std::to_string(kSchemaVersion + 1)).ok());
    }
    const std::string before = ReadBytes(file);
    ASSERT_FALSE(before.empty());

    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open({.path = file});
    EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(store.status().message(), HasSubstr("Run a droccd at least as new"));
    const std::string after = ReadBytes(file);
    EXPECT_TRUE(after == before) << "the refused database changed: " << before.size()
                                 << " bytes before, " << after.size() << " after, first change at "
                                 << FirstDifference(before, after);
    EXPECT_FALSE(std::filesystem::exists(file + "-wal"));
    EXPECT_FALSE(std::filesystem::exists(file + "-shm"));
  }
}

TEST_F(MigrationsTest, AFailedMigrationLeavesThePreviousVersion) {
  {
    std::unique_ptr<Connection> conn = Connect();
    ASSERT_TRUE(Migrate(*conn, 1).ok());
    // Something migration 2 will trip over, after its first steps.
    ASSERT_TRUE(conn->Exec("CREATE TABLE jobs_by_uid (x)").ok());
  }
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open({.path = path()});
  EXPECT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("to schema version 2"));
  EXPECT_EQ(Version(), 1);
  // Migration 2's earlier steps were rolled back with it.
  EXPECT_EQ(*QueryText(path(), "SELECT count(*) FROM sqlite_schema WHERE name = 'settings'"), "0");
}

TEST_F(MigrationsTest, NoMigratingDown) {
  ASSERT_NE(Open(), nullptr);
  absl::Status s = Migrate(*Connect(), 1);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace drocc::store
