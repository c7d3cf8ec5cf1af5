// The Store contract for quota (SPEC §4): the configuration (accounts, projects, members,
// grants, limits) with its integrity rules, the audit log, and usage summed from charges. Run
// against every implementation, like store_conformance_test.cc.

#include <string>
#include <utility>
#include <vector>

#include "daemon/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/store_conformance.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {
namespace {

using queue::ChargeRecord;
using queue::Job;
using queue::JobState;
using quota::AccountKind;
using quota::MilliUnits;
using quota::ProjectRole;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr int64_t kDay = 86'400;

quota::Account Acct(std::string name, AccountKind kind = AccountKind::kLab) {
  return {.name = std::move(name), .kind = kind};
}

quota::Project Proj(std::string name, std::string account, uint32_t share = 1) {
  return {.name = std::move(name), .account = std::move(account), .share = share};
}

quota::Member Mem(std::string project, std::string user, ProjectRole role = ProjectRole::kMember,
                  bool is_default = false) {
  return {.project = std::move(project),
          .user = std::move(user),
          .role = role,
          .is_default = is_default};
}

// `units` of `resource` for `project`, valid through 2026 unless said otherwise.
StoredGrant Grant(std::string project, int64_t units, std::string resource = "gpu-hours",
                  quota::GrantId id = 0) {
  StoredGrant g;
  g.grant.id = id;
  g.grant.project = std::move(project);
  g.grant.amount = MilliUnits::FromUnits(units);
  g.grant.valid_from = T(0);
  g.grant.valid_until = T(365 * kDay);
  g.grant.reference = "EuroHPC-2026-117";
  g.resource = std::move(resource);
  return g;
}

quota::Limit Lim(std::string project, std::string user, uint32_t max_gpus) {
  return {.project = std::move(project), .user = std::move(user), .max_gpus = max_gpus};
}

template <typename T>
QuotaChange Put(T value) {
  return {.value = std::move(value)};
}

template <typename T>
QuotaChange Del(T value) {
  return {.value = std::move(value), .remove = true};
}

AuditRecord Audit(std::string action, int64_t time_s = 0, std::string user = "root") {
  return {.time = T(time_s),
          .user = std::move(user),
          .peer = "unix:uid=0",
          .action = std::move(action),
          .target = "quota",
          .details = "{}"};
}

void ExpectSameModel(const QuotaModel& got, const QuotaModel& want) {
  EXPECT_EQ(got.accounts, want.accounts);
  EXPECT_EQ(got.projects, want.projects);
  EXPECT_EQ(got.members, want.members);
  EXPECT_EQ(got.grants, want.grants);
  EXPECT_EQ(got.limits, want.limits);
}

template <typename Impl>
class QuotaStoreTest : public StoreTest<Impl> {
 protected:
  absl::StatusOr<uint64_t> Apply(std::vector<QuotaChange> changes,
                                 AuditRecord audit = Audit("UpdateQuota")) {
    return ApplyQuotaChangesAndWait(*this->store_, std::move(changes), std::move(audit));
  }

  // Applies changes that must be accepted; answers the new grant's id.
  uint64_t ApplyOk(std::vector<QuotaChange> changes) {
    absl::StatusOr<uint64_t> id = Apply(std::move(changes));
    EXPECT_TRUE(id.ok()) << id.status();
    return id.ok() ? *id : 0;
  }

  QuotaModel Model() {
    absl::StatusOr<QuotaModel> model = this->store_->LoadQuotaModel();
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? *model : QuotaModel{};
  }

  std::vector<AuditRecord> AuditLog(const AuditFilter& filter = {.limit = 0}) {
    absl::StatusOr<std::vector<AuditRecord>> records = this->store_->ListAudit(filter);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? *records : std::vector<AuditRecord>{};
  }

  std::vector<uint64_t> AuditIds(const AuditFilter& filter) {
    std::vector<uint64_t> ids;
    for (const AuditRecord& r : AuditLog(filter)) ids.push_back(r.id);
    return ids;
  }

  std::vector<UsageRow> Usage(const UsageQuery& query) {
    absl::StatusOr<std::vector<UsageRow>> rows = this->store_->QueryUsage(query);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<UsageRow>{};
  }

  std::vector<UsageEvent> UsageSince(absl::Time since) {
    absl::StatusOr<std::vector<UsageEvent>> events = this->store_->ListUsageSince(since);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *events : std::vector<UsageEvent>{};
  }

  std::vector<ChargeTotal> Totals() {
    absl::StatusOr<std::vector<ChargeTotal>> totals = this->store_->SumCharges();
    EXPECT_TRUE(totals.ok()) << totals.status();
    return totals.ok() ? *totals : std::vector<ChargeTotal>{};
  }

  // Account "uni" with projects "ml-lab" and "physics".
  void Base() {
    ApplyOk({Put(Acct("uni")), Put(Proj("ml-lab", "uni")), Put(Proj("physics", "uni"))});
  }

  // Submits a job of `uid` in `project`, runs it and settles it at T(end_s) with `charges`.
  queue::JobId Settle(uint32_t uid, const std::string& project, int64_t end_s,
                      std::vector<ChargeRecord> charges) {
    Job job = this->Insert(MakeJob(uid, project, 0));
    EXPECT_TRUE(UpdateJobAndWait(*this->store_,
                                 this->Update(job.id, JobState::kPending, JobState::kAdmitted, 1))
                    .ok());
    EXPECT_TRUE(UpdateJobAndWait(*this->store_,
                                 this->Update(job.id, JobState::kAdmitted, JobState::kRunning, 2))
                    .ok());
    queue::JobUpdate end =
        this->Update(job.id, JobState::kRunning, JobState::kCompleted, end_s + 60);
    end.end_time = T(end_s);
    end.charges = std::move(charges);
    absl::Status s = UpdateJobAndWait(*this->store_, end);
    EXPECT_TRUE(s.ok()) << s;
    return job.id;
  }

  // The changes are refused with FAILED_PRECONDITION and a message holding each of `words`,
  // and nothing is written: neither the model nor the audit log changes.
  void ExpectRefused(std::vector<QuotaChange> changes, const std::vector<std::string>& words) {
    QuotaModel before = Model();
    size_t audit_before = AuditLog().size();
    absl::StatusOr<uint64_t> r = Apply(std::move(changes));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition) << r.status();
    for (const std::string& w : words) EXPECT_THAT(r.status().message(), HasSubstr(w));
    ExpectSameModel(Model(), before);
    EXPECT_EQ(AuditLog().size(), audit_before);
  }
};

TYPED_TEST_SUITE(QuotaStoreTest, StoreImpls, StoreImplName);

TYPED_TEST(QuotaStoreTest, ANewStoreIsEmpty) {
  ExpectSameModel(this->Model(), {});
  EXPECT_THAT(this->AuditLog(), IsEmpty());
  EXPECT_THAT(this->Usage({}), IsEmpty());
  EXPECT_THAT(this->Totals(), IsEmpty());
  EXPECT_THAT(this->UsageSince(absl::InfinitePast()), IsEmpty());
}

TYPED_TEST(QuotaStoreTest, CreatesEveryKindAndLoadsThemInKeyOrder) {
  StoredGrant gpu = Grant("ml-lab", 1000);
  gpu.grant.resource = quota::kCpuHours;  // ignored: the store keeps the resource by name
  StoredGrant open = Grant("physics", 50, "cpu-hours");
  open.grant.valid_from = absl::InfinitePast();
  open.grant.valid_until = absl::InfiniteFuture();
  open.grant.reference = "";
  open.grant.amount = MilliUnits::FromMilli(12'345);
  quota::Limit bob = Lim("ml-lab", "bob", 8);
  bob.max_cpus = 256;
  bob.max_nodes = 4;
  bob.max_pending_jobs = 20;
  bob.max_walltime = absl::Hours(48);
  quota::Limit project_wide = Lim("ml-lab", "", 32);
  quota::Account uni = Acct("uni");
  uni.description = "University of Somewhere";
  uni.create_time = T(5);
  quota::Project ml = Proj("ml-lab", "uni", 2);
  ml.description = "Machine learning lab — GPU heavy";
  ml.create_time = T(6);

  // Deliberately out of key order.
  uint64_t id = this->ApplyOk({
      Put(uni),
      Put(Acct("acme", AccountKind::kSme)),
      Put(Proj("physics", "uni")),
      Put(ml),
      Put(Proj("widgets", "acme", 3)),
      Put(Mem("ml-lab", "bob", ProjectRole::kManager, true)),
      Put(Mem("ml-lab", "alice")),
      Put(Mem("physics", "alice", ProjectRole::kMember, true)),
      Put(gpu),
      Put(open),
      Put(bob),
      Put(project_wide),
  });
  EXPECT_EQ(id, 1u);  // the first grant inserted

  QuotaModel want;
  want.accounts = {Acct("acme", AccountKind::kSme), uni};
  want.projects = {ml, Proj("physics", "uni"), Proj("widgets", "acme", 3)};
  want.members = {Mem("ml-lab", "alice"), Mem("ml-lab", "bob", ProjectRole::kManager, true),
                  Mem("physics", "alice", ProjectRole::kMember, true)};
  gpu.grant.id = 1;
  gpu.grant.resource = 0;
  open.grant.id = 2;
  want.grants = {gpu, open};
  want.limits = {project_wide, bob};
  ExpectSameModel(this->Model(), want);
  EXPECT_EQ(this->Model().grants[1].grant.valid_until, absl::InfiniteFuture());
}

TYPED_TEST(QuotaStoreTest, APutReplacesTheWholeRecord) {
  quota::Account described = Acct("uni");
  described.description = "before";
  described.create_time = T(1);
  this->ApplyOk({Put(described)});
  this->Base();  // replaces "uni" whole: no description, no create time
  EXPECT_EQ(this->ApplyOk({Put(Mem("ml-lab", "alice")), Put(Grant("ml-lab", 100)),
                           Put(Lim("ml-lab", "alice", 4))}),
            1u);
  EXPECT_THAT(this->Model().accounts, ElementsAre(Acct("uni")));

  StoredGrant ended = Grant("ml-lab", 250, "gpu-hours", 1);
  ended.grant.valid_until = T(10 * kDay);
  ended.grant.reference = "amended";
  quota::Project moved = Proj("ml-lab", "acme", 5);
  moved.description = "moved to acme";
  moved.create_time = T(2);
  quota::Limit limit = Lim("ml-lab", "alice", 0);
  limit.max_pending_jobs = 5;
  EXPECT_EQ(this->ApplyOk({
                Put(Acct("acme", AccountKind::kSme)),
                Put(Acct("uni", AccountKind::kInternal)),
                Put(moved),
                Put(Mem("ml-lab", "alice", ProjectRole::kManager, true)),
                Put(ended),
                Put(limit),
            }),
            0u);  // no grant inserted

  QuotaModel want;
  want.accounts = {Acct("acme", AccountKind::kSme), Acct("uni", AccountKind::kInternal)};
  want.projects = {moved, Proj("physics", "uni")};
  want.members = {Mem("ml-lab", "alice", ProjectRole::kManager, true)};
  want.grants = {ended};
  want.limits = {limit};
  ExpectSameModel(this->Model(), want);
}

TYPED_TEST(QuotaStoreTest, RemoveDeletesByKey) {
  this->Base();
  this->ApplyOk({Put(Mem("ml-lab", "alice")), Put(Mem("ml-lab", "bob")), Put(Grant("ml-lab", 1)),
                 Put(Grant("ml-lab", 2)), Put(Lim("ml-lab", "", 1)), Put(Lim("ml-lab", "bob", 1))});

  // Only the key matters: the other fields of a removed value are ignored.
  StoredGrant second = Grant("ignored", 0, "ignored", 2);
  EXPECT_EQ(this->ApplyOk({Del(Mem("ml-lab", "bob", ProjectRole::kManager)), Del(second),
                           Del(Lim("ml-lab", "", 99))}),
            0u);
  QuotaModel model = this->Model();
  EXPECT_THAT(model.members, ElementsAre(Mem("ml-lab", "alice")));
  ASSERT_EQ(model.grants.size(), 1u);
  EXPECT_EQ(model.grants[0].grant.id, 1u);
  EXPECT_THAT(model.limits, ElementsAre(Lim("ml-lab", "bob", 1)));

  this->ApplyOk({Del(Mem("ml-lab", "alice")), Del(Grant("", 0, "", 1)),
                 Del(Lim("ml-lab", "bob", 0)), Del(Proj("ml-lab", "")), Del(Proj("physics", "")),
                 Del(Acct("uni"))});
  ExpectSameModel(this->Model(), {});
  // Removing what is not there is no error.
  this->ApplyOk({Del(Acct("nobody")), Del(Mem("ml-lab", "nobody")), Del(Grant("", 0, "", 42))});
}

TYPED_TEST(QuotaStoreTest, ChangesApplyInOrder) {
  // Each change sees the ones before it: create a chain, then tear it down, in one list.
  this->ApplyOk({Put(Acct("uni")), Put(Proj("ml-lab", "uni")), Put(Mem("ml-lab", "alice")),
                 Put(Lim("ml-lab", "alice", 2)), Del(Lim("ml-lab", "alice", 0)),
                 Del(Mem("ml-lab", "alice")), Del(Proj("ml-lab", "uni")), Put(Acct("acme"))});
  QuotaModel want;
  want.accounts = {Acct("acme"), Acct("uni")};
  ExpectSameModel(this->Model(), want);
  EXPECT_EQ(this->AuditLog().size(), 1u);  // one list, one audit record
}

TYPED_TEST(QuotaStoreTest, GrantIdsStartAtOneAndAreNeverReused) {
  this->Base();
  // Two new grants in one list: the answer is the first one's id.
  EXPECT_EQ(this->ApplyOk({Put(Grant("ml-lab", 10)), Put(Grant("physics", 20))}), 1u);
  EXPECT_EQ(this->ApplyOk({Del(Grant("", 0, "", 2))}), 0u);
  EXPECT_EQ(this->ApplyOk({Put(Grant("physics", 30))}), 3u);  // not 2
  // A put with an id the store never gave inserts it with that id; later ids go beyond it.
  EXPECT_EQ(this->ApplyOk({Put(Grant("ml-lab", 40, "gpu-hours", 10))}), 0u);
  EXPECT_EQ(this->ApplyOk({Put(Grant("ml-lab", 50))}), 11u);
  std::vector<quota::GrantId> ids;
  for (const StoredGrant& g : this->Model().grants) ids.push_back(g.grant.id);
  EXPECT_THAT(ids, ElementsAre(1, 3, 10, 11));
}

TYPED_TEST(QuotaStoreTest, RefusesAProjectOfAnUnknownAccount) {
  this->Base();
  this->ExpectRefused({Put(Proj("chem", "nope"))},
                      {"project \"chem\"", "account \"nope\"", "create the account first"});
  // Nor may a project move to one.
  this->ExpectRefused({Put(Proj("ml-lab", "nope"))}, {"account \"nope\""});
}

TYPED_TEST(QuotaStoreTest, RefusesMembersGrantsAndLimitsOfAnUnknownProject) {
  this->Base();
  this->ExpectRefused({Put(Mem("chem", "alice"))},
                      {"member \"alice\"", "project \"chem\"", "create the project first"});
  this->ExpectRefused({Put(Grant("chem", 10))}, {"new grant", "project \"chem\""});
  this->ExpectRefused({Put(Lim("chem", "", 1))}, {"project-wide limit", "project \"chem\""});
  this->ExpectRefused({Put(Lim("chem", "bob", 1))}, {"user \"bob\"", "project \"chem\""});
}

TYPED_TEST(QuotaStoreTest, RefusesDeletingAnAccountThatHasProjects) {
  this->Base();
  this->ExpectRefused({Del(Acct("uni"))},
                      {"account \"uni\" still has 2 projects (ml-lab, physics)", "delete them"});
  // Once its projects are gone, it goes.
  this->ApplyOk({Del(Proj("ml-lab", "")), Del(Proj("physics", "")), Del(Acct("uni"))});
  EXPECT_THAT(this->Model().accounts, IsEmpty());
}

TYPED_TEST(QuotaStoreTest, RefusesDeletingAProjectInUseAndSaysWhatIsInTheWay) {
  this->Base();
  this->ApplyOk({Put(Mem("ml-lab", "alice")), Put(Mem("ml-lab", "bob")), Put(Grant("ml-lab", 5)),
                 Put(Lim("ml-lab", "", 3))});
  Job pending = this->Insert(MakeJob(1000, "ml-lab", 1));
  this->Insert(MakeJob(1000, "physics", 2));  // another project's job is no obstacle

  this->ExpectRefused({Del(Proj("ml-lab", "uni"))},
                      {"project \"ml-lab\" still has 2 members, 1 grant (1), 1 limit, 1 job not "
                       "ended (1)",
                       "remove the members", "delete the grant", "delete the limit", "cancel it"});
  // One obstacle at a time, each named alone.
  this->ApplyOk(
      {Del(Mem("ml-lab", "alice")), Del(Mem("ml-lab", "bob")), Del(Lim("ml-lab", "", 0))});
  this->ExpectRefused({Del(Proj("ml-lab", "uni"))}, {"still has 1 grant (1), 1 job not ended"});
  this->ApplyOk({Del(Grant("", 0, "", 1))});
  this->ExpectRefused({Del(Proj("ml-lab", "uni"))}, {"still has 1 job not ended (1)"});
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, this->Update(pending.id, JobState::kPending,
                                                           JobState::kCancelled, 3))
                  .ok());
  // A job that ended does not hold its project.
  this->ApplyOk({Del(Proj("ml-lab", "uni"))});
  EXPECT_THAT(this->Model().projects, ElementsAre(Proj("physics", "uni")));
}

TYPED_TEST(QuotaStoreTest, RefusesDeletingAChargedGrantButLetsItBeEnded) {
  this->Base();
  ASSERT_EQ(this->ApplyOk({Put(Grant("ml-lab", 100))}), 1u);
  ASSERT_EQ(this->ApplyOk({Put(Grant("ml-lab", 100))}), 2u);
  this->Settle(1000, "ml-lab", 5,
               {{.grant_id = 1, .resource = "gpu-hours", .milli = 1'000},
                {.grant_id = 2, .resource = "gpu-hours", .milli = 0}});
  this->Settle(1001, "ml-lab", 6, {{.grant_id = 1, .resource = "gpu-hours", .milli = 500}});

  this->ExpectRefused({Del(Grant("", 0, "", 1))},
                      {"grant 1 has been charged 1.5 gpu-hours", "valid_until"});
  // Even a charge of nothing is history that names the grant.
  this->ExpectRefused({Del(Grant("", 0, "", 2))}, {"grant 2 has been charged 0.0 gpu-hours"});
  StoredGrant ended = Grant("ml-lab", 100, "gpu-hours", 1);
  ended.grant.valid_until = T(7);
  this->ApplyOk({Put(ended)});
  EXPECT_EQ(this->Model().grants[0], ended);
}

TYPED_TEST(QuotaStoreTest, ARefusedListWritesNothingAndTheFailureIsAuditedSeparately) {
  this->Base();
  // The first changes are fine; the last is not: none of them may stay.
  this->ExpectRefused(
      {Put(Acct("acme")), Put(Proj("widgets", "acme")), Put(Grant("widgets", 9)), Del(Acct("uni"))},
      {"account \"uni\""});
  AuditRecord failed = Audit("DeleteAccount", 5, "alice");
  failed.ok = false;
  failed.details = R"({"name":"uni"} account "uni" still has 2 projects)";
  ASSERT_TRUE(AppendAuditAndWait(*this->store_, failed).ok());
  failed.id = 2;  // after Base()'s
  EXPECT_THAT(this->AuditLog({.limit = 1}), ElementsAre(failed));
  // The refused list took no grant id.
  EXPECT_EQ(this->ApplyOk({Put(Grant("ml-lab", 1))}), 1u);
}

TYPED_TEST(QuotaStoreTest, AuditRecordsGetIdsFromOneAndATimeIfUnset) {
  AuditRecord create = Audit("CreateAccount", 10);
  create.target = "account uni";
  create.details = R"({"name":"uni","kind":"lab"})";
  create.id = 77;  // assigned by the store
  ASSERT_TRUE(this->Apply({Put(Acct("uni"))}, create).ok());

  AuditRecord refused = Audit("CreateGrant", 20, "mallory");
  refused.peer = "ipv4:10.0.0.9:5432";
  refused.ok = false;
  ASSERT_TRUE(AppendAuditAndWait(*this->store_, refused).ok());

  AuditRecord unset = Audit("DrainAdmission");
  unset.time = absl::InfinitePast();
  absl::Time before = absl::Now();
  ASSERT_TRUE(AppendAuditAndWait(*this->store_, unset).ok());
  absl::Time after = absl::Now();

  std::vector<AuditRecord> log = this->AuditLog();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].id, 3u);                                                  // newest first
  EXPECT_GE(log[0].time, absl::FromUnixMicros(absl::ToUnixMicros(before)));  // µs in SQLite
  EXPECT_LE(log[0].time, after);
  EXPECT_EQ(log[0].action, "DrainAdmission");
  create.id = 1;
  refused.id = 2;
  EXPECT_EQ(log[1], refused);
  EXPECT_EQ(log[2], create);
}

TYPED_TEST(QuotaStoreTest, AuditFiltersAndPagesNewestFirst) {
  // Ids 1..6 at T(10)..T(60), by alice and bob in turn.
  for (int i = 1; i <= 6; ++i) {
    ASSERT_TRUE(AppendAuditAndWait(*this->store_,
                                   Audit("Op" + std::to_string(i), 10 * i, i % 2 ? "alice" : "bob"))
                    .ok());
  }
  EXPECT_THAT(this->AuditIds({}), ElementsAre(6, 5, 4, 3, 2, 1));  // default limit 100
  EXPECT_THAT(this->AuditIds({.limit = 2}), ElementsAre(6, 5));
  EXPECT_THAT(this->AuditIds({.before_id = 5, .limit = 2}), ElementsAre(4, 3));
  EXPECT_THAT(this->AuditIds({.before_id = 2, .limit = 2}), ElementsAre(1));
  EXPECT_THAT(this->AuditIds({.user = "alice", .limit = 0}), ElementsAre(5, 3, 1));
  EXPECT_THAT(this->AuditIds({.user = "bob", .before_id = 6, .limit = 1}), ElementsAre(4));
  EXPECT_THAT(this->AuditIds({.user = "carol"}), IsEmpty());
  // [from, until)
  EXPECT_THAT(this->AuditIds({.from = T(20), .until = T(50)}), ElementsAre(4, 3, 2));
  EXPECT_THAT(this->AuditIds({.from = T(20), .until = T(50), .user = "bob"}), ElementsAre(4, 2));
  EXPECT_THAT(this->AuditIds({.from = T(55)}), ElementsAre(6));
  EXPECT_THAT(this->AuditIds({.until = T(10)}), IsEmpty());
  EXPECT_EQ(this->AuditLog({.limit = 1})[0].action, "Op6");
}

// Four settled jobs, as the usage tests read them:
//   1: user1000 ml-lab  Jan 2   grant 1: 3.0 gpu-hours, 10.0 cpu-hours
//   2: user1001 ml-lab  Jan 3   grant 1: 1.0 gpu, grant 2: 0.5 gpu, overdraft: 0.25 gpu
//   3: user1002 physics Jan 4   overdraft: 7.0 cpu-hours
//   4: user1000 ml-lab  Feb 10  grant 2: 2.0 gpu-hours
template <typename Impl>
class UsageTest : public QuotaStoreTest<Impl> {
 protected:
  void SetUp() override {
    QuotaStoreTest<Impl>::SetUp();
    this->Settle(1000, "ml-lab", 1 * kDay,
                 {{.grant_id = 1, .resource = "gpu-hours", .milli = 3'000},
                  {.grant_id = 1, .resource = "cpu-hours", .milli = 10'000}});
    this->Settle(1001, "ml-lab", 2 * kDay,
                 {{.grant_id = 1, .resource = "gpu-hours", .milli = 1'000},
                  {.grant_id = 2, .resource = "gpu-hours", .milli = 500},
                  {.grant_id = 0, .resource = "gpu-hours", .milli = 250}});
    this->Settle(1002, "physics", 3 * kDay,
                 {{.grant_id = 0, .resource = "cpu-hours", .milli = 7'000}});
    this->Settle(1000, "ml-lab", 40 * kDay,
                 {{.grant_id = 2, .resource = "gpu-hours", .milli = 2'000}});
  }
};

TYPED_TEST_SUITE(UsageTest, StoreImpls, StoreImplName);

TYPED_TEST(UsageTest, PerProjectAndResource) {
  EXPECT_THAT(this->Usage({}), ElementsAre(UsageRow{"ml-lab", "", "", "cpu-hours", 10'000, 1},
                                           UsageRow{"ml-lab", "", "", "gpu-hours", 6'750, 3},
                                           UsageRow{"physics", "", "", "cpu-hours", 7'000, 1}));
}

TYPED_TEST(UsageTest, PerUser) {
  EXPECT_THAT(this->Usage({.per_user = true}),
              ElementsAre(UsageRow{"ml-lab", "user1000", "", "cpu-hours", 10'000, 1},
                          UsageRow{"ml-lab", "user1000", "", "gpu-hours", 5'000, 2},
                          UsageRow{"ml-lab", "user1001", "", "gpu-hours", 1'750, 1},
                          UsageRow{"physics", "user1002", "", "cpu-hours", 7'000, 1}));
}

TYPED_TEST(UsageTest, PerMonthOfTheJobsEnd) {
  EXPECT_THAT(this->Usage({.per_month = true}),
              ElementsAre(UsageRow{"ml-lab", "", "2026-01", "cpu-hours", 10'000, 1},
                          UsageRow{"ml-lab", "", "2026-01", "gpu-hours", 4'750, 2},
                          UsageRow{"ml-lab", "", "2026-02", "gpu-hours", 2'000, 1},
                          UsageRow{"physics", "", "2026-01", "cpu-hours", 7'000, 1}));
  EXPECT_THAT(this->Usage({.per_user = true, .per_month = true}),
              ElementsAre(UsageRow{"ml-lab", "user1000", "2026-01", "cpu-hours", 10'000, 1},
                          UsageRow{"ml-lab", "user1000", "2026-01", "gpu-hours", 3'000, 1},
                          UsageRow{"ml-lab", "user1000", "2026-02", "gpu-hours", 2'000, 1},
                          UsageRow{"ml-lab", "user1001", "2026-01", "gpu-hours", 1'750, 1},
                          UsageRow{"physics", "user1002", "2026-01", "cpu-hours", 7'000, 1}));
}

TYPED_TEST(UsageTest, FiltersByProjectAndEndTime) {
  EXPECT_THAT(this->Usage({.projects = {"physics"}}),
              ElementsAre(UsageRow{"physics", "", "", "cpu-hours", 7'000, 1}));
  EXPECT_EQ(this->Usage({.projects = {"physics", "no-such", "ml-lab"}}).size(), 3u);
  EXPECT_THAT(this->Usage({.projects = {"no-such"}}), IsEmpty());
  // [from, until) on the job's end: job 2 (Jan 3) and job 3 (Jan 4), not job 4 (Feb 10).
  EXPECT_THAT(this->Usage({.from = T(2 * kDay), .until = T(40 * kDay)}),
              ElementsAre(UsageRow{"ml-lab", "", "", "gpu-hours", 1'750, 1},
                          UsageRow{"physics", "", "", "cpu-hours", 7'000, 1}));
  EXPECT_THAT(this->Usage({.projects = {"ml-lab"}, .from = T(2 * kDay + 1)}),
              ElementsAre(UsageRow{"ml-lab", "", "", "gpu-hours", 2'000, 1}));
  EXPECT_THAT(this->Usage({.until = T(1 * kDay)}), IsEmpty());
}

TYPED_TEST(UsageTest, SumChargesPerGrantProjectAndResource) {
  EXPECT_THAT(this->Totals(), ElementsAre(ChargeTotal{0, "ml-lab", "gpu-hours", 250},
                                          ChargeTotal{0, "physics", "cpu-hours", 7'000},
                                          ChargeTotal{1, "ml-lab", "cpu-hours", 10'000},
                                          ChargeTotal{1, "ml-lab", "gpu-hours", 4'000},
                                          ChargeTotal{2, "ml-lab", "gpu-hours", 2'500}));
}

TYPED_TEST(UsageTest, UsageSinceIsPerJobAndResourceOldestFirst) {
  EXPECT_THAT(this->UsageSince(absl::InfinitePast()),
              ElementsAre(UsageEvent{"ml-lab", "cpu-hours", 10'000, T(1 * kDay)},
                          UsageEvent{"ml-lab", "gpu-hours", 3'000, T(1 * kDay)},
                          UsageEvent{"ml-lab", "gpu-hours", 1'750, T(2 * kDay)},
                          UsageEvent{"physics", "cpu-hours", 7'000, T(3 * kDay)},
                          UsageEvent{"ml-lab", "gpu-hours", 2'000, T(40 * kDay)}));
  EXPECT_THAT(this->UsageSince(T(2 * kDay)),  // at or after
              ElementsAre(UsageEvent{"ml-lab", "gpu-hours", 1'750, T(2 * kDay)},
                          UsageEvent{"physics", "cpu-hours", 7'000, T(3 * kDay)},
                          UsageEvent{"ml-lab", "gpu-hours", 2'000, T(40 * kDay)}));
  EXPECT_THAT(this->UsageSince(T(40 * kDay + 1)), IsEmpty());
}

}  // namespace
}  // namespace drocc::store
