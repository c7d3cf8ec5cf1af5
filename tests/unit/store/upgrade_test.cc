// Upgrades from every earlier schema. tests/unit/store/schemas/vN.sql is a database exactly as
// the droccd of schema version N left it (made by make_fixture.sh from that release's own
// code): jobs in every state with their events, keys and Slurm ids, settings, the quota model,
// reservations, charges and audit records, checkpoints and progress, as far as version N had
// them. Each is loaded into a file and opened with SqliteStore, which migrates it to
// kSchemaVersion; then everything is read back through the Store API, the database is checked
// whole, and a JobManager starts on it. The fixtures also pin the released migrations: this
// code's migrations 1..N must make exactly the schema of vN.sql.

#include <filesystem>
#include <future>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "daemon/manager/job_manager.h"
#include "daemon/slurm/fake_backend.h"
#include "daemon/store/migrations.h"
#include "daemon/store/sqlite_connection.h"
#include "daemon/store/sqlite_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "spdlog/spdlog.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {
namespace {

using queue::AmountMap;
using queue::Job;
using queue::JobState;
using ::testing::ElementsAre;

std::string FixturePath(int version) {
  return absl::StrCat(DROCC_SCHEMA_FIXTURES, "/v", version, ".sql");
}

// Every row of `sql`, its first `columns` columns joined with "|" (NULL as "").
std::vector<std::string> Rows(Connection& conn, const std::string& sql, int columns) {
  std::vector<std::string> out;
  auto stmt = conn.Prepare(sql);
  EXPECT_TRUE(stmt.ok()) << stmt.status();
  if (!stmt.ok()) return out;
  while (true) {
    absl::StatusOr<bool> row = stmt->Step();
    EXPECT_TRUE(row.ok()) << row.status();
    if (!row.ok() || !*row) return out;
    std::vector<std::string> cols;
    for (int c = 0; c < columns; ++c) cols.push_back(stmt->IsNull(c) ? "" : stmt->Text(c));
    out.push_back(absl::StrJoin(cols, "|"));
  }
}

constexpr char kSchemaQuery[] =
    "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name";

// What each job of the fixtures is, as of the newest fixture; Expected() adjusts it to what a
// version had.
struct JobRow {
  queue::JobId id;
  JobState state;
  uint32_t uid;
  std::string project;
  std::string key;
  uint64_t slurm_id;
  std::string nodes;
  std::optional<int> exit_code;
  int64_t submit_s, admit_s, start_s, end_s;  // -1: unset
  uint32_t requeue_count;
  std::vector<JobState> events;
  AmountMap reserved, charged;  // from version 3
};

std::vector<JobRow> Expected(int version) {
  using S = JobState;
  const AmountMap none;
  const AmountMap gpu250 = {{"gpu-hours", 250}};
  // clang-format off
  std::vector<JobRow> rows = {
    // id state       uid   project    key          slurm nodes        exit submit admit start end
    //   requeues events; reserved, charged
    {1, S::kPending,   1001, "ml-lab",  "k-pending",  0,    "",           {}, 0,   -1,  -1,  -1,
     0, {S::kPending}, none, none},
    {2, S::kAdmitted,  1001, "ml-lab",  "k-admitted", 4001, "",           {}, 10,  11,  -1,  -1,
     0, {S::kPending, S::kAdmitted}, {{"gpu-hours", 2000}}, none},
    {3, S::kRunning,   1001, "ml-lab",  "",           4002, "gpu[01-02]", {}, 20,  21,  24,  -1,
     0, {S::kPending, S::kAdmitted, S::kRunning}, {{"gpu-hours", 4000}}, none},
    {4, S::kCompleted, 1002, "physics", "k-ended-0",  4010, "n1",         0,  100, 101, 102, 159,
     0, {S::kPending, S::kAdmitted, S::kRunning, S::kCompleted}, none, {{"cpu-hours", 1500}}},
    {5, S::kFailed,    1001, "ml-lab",  "k-ended-1",  4011, "n1",         3,  200, 201, 202, 259,
     0, {S::kPending, S::kAdmitted, S::kRunning, S::kFailed}, none, gpu250},
    {6, S::kCancelled, 1002, "physics", "k-ended-2",  4012, "n1",         0,  300, 301, 302, 359,
     0, {S::kPending, S::kAdmitted, S::kRunning, S::kCancelled}, none, {{"cpu-hours", 40}}},
    {7, S::kTimeout,   1001, "ml-lab",  "k-ended-3",  4013, "n1",         0,  400, 401, 402, 459,
     0, {S::kPending, S::kAdmitted, S::kRunning, S::kTimeout}, none, {{"gpu-hours", 2000}}},
    {8, S::kCancelled, 1002, "physics", "k-cancelled", 0,   "",           {}, 500, -1,  -1,  510,
     0, {S::kPending, S::kCancelled}, none, none},
    {9, S::kRequeued,  1001, "ml-lab",  "k-requeued", 4020, "",           {}, 600, 601, -1,  -1,
     1, {S::kPending, S::kAdmitted, S::kRunning, S::kRequeued}, {{"gpu-hours", 1000}}, gpu250},
    {10, S::kRejected, 1002, "physics", "k-rejected", 0,    "",           {}, 700, -1,  -1,  700,
     0, {S::kRejected}, none, none},
    {11, S::kLost,     1003, "sme-ai",  "k-lost",     4030, "n3",         {}, 800, 801, 802, 2600,
     0, {S::kPending, S::kAdmitted, S::kRunning, S::kLost}, none, {{"gpu-hours", 500}}},
  };
  // clang-format on
  for (JobRow& r : rows) {
    if (version < 3) r.reserved = r.charged = {};
  }
  if (version < 4) {  // a requeue could not carry the run's charge, nor clear its start
    rows[8].charged = {};
    rows[8].start_s = 602;
  }
  return rows;
}

absl::Time At(int64_t s) { return s < 0 ? absl::InfinitePast() : T(s); }

class UpgradeTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { spdlog::set_level(spdlog::level::warn); }

  int version() const { return GetParam(); }
  std::string path() const { return dir_.File("droccd.db"); }

  // The fixture of version(), loaded with SQLite into path().
  void Load() {
    const std::string dump = ReadBytes(FixturePath(version()));
    ASSERT_FALSE(dump.empty()) << "no fixture " << FixturePath(version());
    auto conn = Connection::Open(path(), {});
    ASSERT_TRUE(conn.ok()) << conn.status();
    absl::Status s = (*conn)->Exec(dump);
    ASSERT_TRUE(s.ok()) << s;
  }

  std::unique_ptr<SqliteStore> Open() {
    auto store = SqliteStore::Open({.path = path()});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  TempDir dir_;
};

TEST(UpgradeFixtures, EveryEarlierVersionHasOne) {
  for (int v = 1; v < kSchemaVersion; ++v) {
    EXPECT_TRUE(std::filesystem::exists(FixturePath(v)))
        << "no fixture for schema version " << v
        << ": when a version ships, add the fixture of the one before it (docs/reliability.md)";
  }
  EXPECT_FALSE(std::filesystem::exists(FixturePath(kSchemaVersion)))
      << "a fixture of the current version tests no upgrade; version " << kSchemaVersion
      << " gets one when the next version ships";
}

TEST_P(UpgradeTest, TheReleasedMigrationsAreUnchanged) {
  ASSERT_NO_FATAL_FAILURE(Load());
  auto fixture = Connection::Open(path(), {.create = false, .read_only = true});
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  EXPECT_EQ(*ReadSchemaVersion(**fixture), version());

  auto fresh = Connection::Open(dir_.File("fresh.db"), {});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_TRUE(Migrate(**fresh, version()).ok());
  EXPECT_EQ(Rows(**fresh, kSchemaQuery, 4), Rows(**fixture, kSchemaQuery, 4))
      << "migrations 1.." << version() << " no longer make the schema version " << version()
      << " shipped with: never edit a released migration, append a new one";
}

TEST_P(UpgradeTest, EverythingReadsBackAfterTheUpgrade) {
  ASSERT_NO_FATAL_FAILURE(Load());
  std::unique_ptr<SqliteStore> store = Open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*QueryText(path(), "PRAGMA user_version"), std::to_string(kSchemaVersion));
  EXPECT_EQ(*QueryText(path(), "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryText(path(), "PRAGMA foreign_key_check").status().code(),
            absl::StatusCode::kNotFound)
      << "a row breaks a foreign key";

  const std::vector<JobRow> expected = Expected(version());
  auto listed = store->ListJobs({.limit = 0});
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->size(), expected.size());
  for (const JobRow& e : expected) {
    SCOPED_TRACE(absl::StrCat("job ", e.id));
    absl::StatusOr<Job> job = store->GetJob(e.id, /*with_events=*/true);
    ASSERT_TRUE(job.ok()) << job.status();
    EXPECT_EQ(job->state, e.state);
    EXPECT_EQ(job->uid, e.uid);
    EXPECT_EQ(job->project, e.project);
    EXPECT_EQ(job->idempotency_key, e.key);
    EXPECT_EQ(job->slurm_job_id, e.slurm_id);
    EXPECT_EQ(job->nodes, e.nodes);
    EXPECT_EQ(job->exit_code, e.exit_code);
    EXPECT_EQ(job->submit_time, At(e.submit_s));
    EXPECT_EQ(job->admit_time, At(e.admit_s));
    EXPECT_EQ(job->start_time, At(e.start_s));
    EXPECT_EQ(job->end_time, At(e.end_s));
    EXPECT_EQ(job->requeue_count, e.requeue_count);
    EXPECT_EQ(job->reserved, e.reserved);
    EXPECT_EQ(job->charged, e.charged);
    std::vector<JobState> events;
    for (const queue::JobEvent& ev : job->events) events.push_back(ev.state);
    EXPECT_EQ(events, e.events);
    EXPECT_EQ(job->events.front().time, At(e.submit_s));
    EXPECT_EQ(job->spec.workdir, "/home/" + job->user);
    EXPECT_EQ(job->spec.labels.at("team"), e.project);
    if (!e.key.empty()) {
      auto found = store->FindJobByKey(e.uid, e.key);
      ASSERT_TRUE(found.ok() && found->has_value()) << "key " << e.key;
      EXPECT_EQ((*found)->id, e.id);
    }
  }
  EXPECT_EQ(store->GetJob(1, false)->reason, "waiting for budget");
  EXPECT_EQ(store->ListActiveJobs()->size(), 4u);  // PENDING, ADMITTED, RUNNING, REQUEUED

  // A client retrying its submission gets the job it made before the upgrade.
  Job retry = MakeJob(1001, "ml-lab", 0, "k-pending");
  absl::StatusOr<InsertResult> again = InsertJobAndWait(*store, retry);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id, 1u);

  const auto drain = store->GetSetting("admission.drain");
  ASSERT_TRUE(drain.ok());
  if (version() >= 2) {
    EXPECT_EQ(*drain, R"({"by":"dana","drained":true,"reason":"upgrade","time":1767229200})");
  } else {
    EXPECT_EQ(*drain, std::nullopt);
  }

  auto model = store->LoadQuotaModel();
  ASSERT_TRUE(model.ok()) << model.status();
  auto totals = store->SumCharges();
  ASSERT_TRUE(totals.ok()) << totals.status();
  auto audit = store->ListAudit({});
  ASSERT_TRUE(audit.ok()) << audit.status();
  if (version() < 3) {
    EXPECT_TRUE(model->accounts.empty());
    EXPECT_TRUE(totals->empty());
    EXPECT_TRUE(audit->empty());
  } else {
    std::vector<std::string> accounts, projects, members, grants, limits;
    for (const auto& a : model->accounts) {
      accounts.push_back(absl::StrCat(a.name, ":", quota::AccountKindName(a.kind)));
    }
    for (const auto& p : model->projects) {
      projects.push_back(absl::StrCat(p.name, ":", p.account, ":", p.share));
    }
    for (const auto& m : model->members) {
      members.push_back(absl::StrCat(m.project, ":", m.user, ":", quota::ProjectRoleName(m.role),
                                     m.is_default ? ":default" : ""));
    }
    for (const auto& g : model->grants) {
      grants.push_back(absl::StrCat(g.grant.id, ":", g.grant.project, ":", g.resource, ":",
                                    g.grant.amount.milli(), ":", g.grant.reference));
    }
    for (const auto& l : model->limits) {
      limits.push_back(absl::StrCat(l.project, ":", l.user, ":", l.max_gpus, ":",
                                    l.max_pending_jobs, ":", absl::ToInt64Hours(l.max_walltime)));
    }
    EXPECT_THAT(accounts, ElementsAre("acme:sme", "ops:internal", "uni:lab"));
    EXPECT_THAT(projects, ElementsAre("ml-lab:uni:2", "physics:uni:1", "sme-ai:acme:1"));
    EXPECT_THAT(members, ElementsAre("ml-lab:alice:manager:default", "physics:alice:member",
                                     "physics:bob:member:default", "sme-ai:carol:member:default"));
    EXPECT_THAT(grants,
                ElementsAre("1:ml-lab:gpu-hours:100000:ERC-1",
                            "2:physics:cpu-hours:5000000:", "3:ml-lab:gpu-hours:10000:pilot"));
    EXPECT_EQ(model->grants[0].grant.valid_from, T(-30 * 86400));
    EXPECT_EQ(model->grants[0].grant.valid_until, T(365 * 86400));
    EXPECT_EQ(model->grants[1].grant.valid_from, absl::InfinitePast());
    EXPECT_EQ(model->grants[1].grant.valid_until, absl::InfiniteFuture());
    EXPECT_THAT(limits, ElementsAre("ml-lab::16:100:0", "ml-lab:alice:0:0:24"));
    const int64_t ml = 250 + 2000 + (version() >= 4 ? 250 : 0);
    EXPECT_THAT(*totals, ElementsAre(ChargeTotal{0, "sme-ai", "gpu-hours", 500},
                                     ChargeTotal{1, "ml-lab", "gpu-hours", ml},
                                     ChargeTotal{2, "physics", "cpu-hours", 1540}));
    ASSERT_EQ(audit->size(), 2u);
    EXPECT_EQ((*audit)[0].action, "CreateGrant");
    EXPECT_FALSE((*audit)[0].ok);
    EXPECT_EQ((*audit)[0].time, T(-1800));
    EXPECT_EQ((*audit)[1].action, "Setup");
    EXPECT_TRUE((*audit)[1].ok);
  }

  const Job running = *store->GetJob(3, /*with_events=*/true);
  EXPECT_EQ(running.checkpoints.size(), version() >= 4 ? 2u : 0u);
  if (version() >= 4) {
    EXPECT_EQ(running.checkpoints[1], (queue::CheckpointRecord{.step = 200,
                                                               .bytes = 1 << 20,
                                                               .duration = absl::Milliseconds(250),
                                                               .time = T(230),
                                                               .path = "/scratch/alice/ckpt-200",
                                                               .ranks = 8}));
  }
  EXPECT_EQ(running.progress.size(), version() >= 5 ? 2u : 0u);
  if (version() >= 5) {
    EXPECT_EQ(running.progress[1],
              (queue::ProgressRecord{
                  .phase = "train", .step = 120, .message = "loss 0.31", .time = T(300)}));
  }

  // What later versions added works on the upgraded data.
  std::promise<absl::Status> checkpoint, progress;
  store->AppendCheckpoint(3, {.step = 300, .time = T(400), .path = "/s/c", .ranks = 8},
                          [&](absl::Status s) { checkpoint.set_value(s); });
  store->PutProgress(3, {.phase = "stage-out", .time = T(401)},
                     [&](absl::Status s) { progress.set_value(s); });
  EXPECT_TRUE(checkpoint.get_future().get().ok());
  EXPECT_TRUE(progress.get_future().get().ok());
  std::promise<absl::Status> token;
  store->PutServiceToken({.id = "4f1c9a0be27d",
                          .secret_hash = "ab",
                          .user = "alice",
                          .uid = 1001,
                          .project = "ml-lab",
                          .create_time = T(500)},
                         {}, [&](absl::Status s) { token.set_value(s); });
  EXPECT_TRUE(token.get_future().get().ok());
  EXPECT_EQ(store->ListServiceTokens()->size(), 1u);
}

TEST_P(UpgradeTest, AJobManagerStartsOnTheUpgradedDatabase) {
  ASSERT_NO_FATAL_FAILURE(Load());
  std::unique_ptr<SqliteStore> store = Open();
  ASSERT_NE(store, nullptr);
  FakeClock clock(T(3600));
  slurm::FakeBackend backend(&clock);
  manager::JobManager manager(store.get(), &backend, &clock, {.run_worker = false});
  absl::Status s = manager.Start();
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(manager.admission_status().drained, version() >= 2);
  EXPECT_EQ(manager.admission_status().pending_jobs, 1u);
  EXPECT_EQ(manager.admission_status().jobs_in_slurm, 3u);  // ADMITTED, RUNNING, REQUEUED
  using Entry = std::pair<const std::string, int64_t>;
  std::map<std::string, int64_t> book;
  manager.ReadQuota([&](const manager::QuotaBook& q, absl::Time now) {
    book["reservations"] = static_cast<int64_t>(q.ledger().reservation_count());
    for (const char* project : {"ml-lab", "physics", "sme-ai"}) {
      for (const quota::GrantStatus& g : q.ledger().Grants(project, now)) {
        book[absl::StrCat("grant ", g.grant.id)] = g.charged.milli();
      }
    }
    book["sme-ai overdraft"] =
        q.ledger().Balance("sme-ai", quota::kGpuHours, now).overdraft.milli();
  });
  manager.RunPosted();
  if (version() < 3) {
    EXPECT_THAT(book, ElementsAre(Entry{"reservations", 0}, Entry{"sme-ai overdraft", 0}));
  } else {
    // The jobs in Slurm hold their reservations again; earlier charges are charged.
    EXPECT_THAT(book, ElementsAre(Entry{"grant 1", 2250 + (version() >= 4 ? 250 : 0)},
                                  Entry{"grant 2", 1540}, Entry{"grant 3", 0},
                                  Entry{"reservations", 3}, Entry{"sme-ai overdraft", 500}));
  }
}

INSTANTIATE_TEST_SUITE_P(EveryEarlierVersion, UpgradeTest, ::testing::Range(1, kSchemaVersion),
                         [](const ::testing::TestParamInfo<int>& v) {
                           return absl::StrCat("V", v.param);
                         });

}  // namespace
}  // namespace drocc::store
