// The Store contract for jobs and settings, run against every implementation: InMemoryStore
// and SqliteStore (on a real file). The quota part is in quota_conformance_test.cc. What only
// SQLite can show (durability, group commit, migrations) is in sqlite_store_test.cc.

#include <algorithm>
#include <future>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "daemon/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/store_conformance.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {
namespace {

using queue::Job;
using queue::JobEvent;
using queue::JobState;
using queue::JobUpdate;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TYPED_TEST_SUITE(StoreTest, StoreImpls, StoreImplName);

// Compares every stored field (events aside).
void ExpectSameJob(const Job& got, const Job& want) {
  EXPECT_EQ(got.id, want.id);
  EXPECT_EQ(got.spec, want.spec);
  EXPECT_EQ(got.user, want.user);
  EXPECT_EQ(got.uid, want.uid);
  EXPECT_EQ(got.gid, want.gid);
  EXPECT_EQ(got.project, want.project);
  EXPECT_EQ(got.state, want.state);
  EXPECT_EQ(got.reason, want.reason);
  EXPECT_EQ(got.exit_code, want.exit_code);
  EXPECT_EQ(got.slurm_job_id, want.slurm_job_id);
  EXPECT_EQ(got.nodes, want.nodes);
  EXPECT_EQ(got.submit_time, want.submit_time);
  EXPECT_EQ(got.admit_time, want.admit_time);
  EXPECT_EQ(got.start_time, want.start_time);
  EXPECT_EQ(got.end_time, want.end_time);
  EXPECT_EQ(got.idempotency_key, want.idempotency_key);
  EXPECT_EQ(got.requeue_count, want.requeue_count);
  EXPECT_EQ(got.reserved, want.reserved);
  EXPECT_EQ(got.charged, want.charged);
}

TYPED_TEST(StoreTest, InsertAssignsIdsFromOneAndGetReturnsEverything) {
  Job a = MakeJob(1000, "ml-lab", 1);
  Job b = MakeJob(1001, "physics", 2, "key-b");
  Job got_a = this->Insert(a);
  Job got_b = this->Insert(b);
  EXPECT_EQ(got_a.id, 1u);
  EXPECT_EQ(got_b.id, 2u);
  EXPECT_THAT(got_a.events, IsEmpty());  // events come from GetJob only

  a.id = 1;
  b.id = 2;
  ExpectSameJob(got_a, a);
  ExpectSameJob(this->Get(1), a);
  ExpectSameJob(this->Get(2), b);
  // The full spec, script included.
  EXPECT_EQ(this->Get(1).spec.script, a.spec.script);
}

TYPED_TEST(StoreTest, InsertRecordsTheFirstEventAtSubmitTime) {
  Job job = this->Insert(MakeJob(1000, "ml-lab", 7));
  EXPECT_THAT(this->Get(job.id).events,
              ElementsAre(JobEvent{JobState::kPending, T(7), "waiting for budget"}));
  absl::StatusOr<Job> without = this->store_->GetJob(job.id, /*with_events=*/false);
  ASSERT_TRUE(without.ok());
  EXPECT_THAT(without->events, IsEmpty());
}

TYPED_TEST(StoreTest, UnsetOptionalFieldsStayUnset) {
  Job job = MakeJob();
  job.spec = {};
  job.reason.clear();
  Job got = this->Get(this->Insert(job).id);
  EXPECT_EQ(got.exit_code, std::nullopt);
  EXPECT_EQ(got.admit_time, absl::InfinitePast());
  EXPECT_EQ(got.end_time, absl::InfinitePast());
  EXPECT_EQ(got.spec, queue::JobSpec{});
}

TYPED_TEST(StoreTest, GetUnknownJobIsNotFound) {
  absl::StatusOr<Job> job = this->store_->GetJob(42, true);
  EXPECT_EQ(job.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(job.status().message(), HasSubstr("job 42"));
}

TYPED_TEST(StoreTest, ListIsNewestFirstWithoutScripts) {
  for (int i = 0; i < 5; ++i) this->Insert(MakeJob(1000, "ml-lab", i));
  absl::StatusOr<std::vector<Job>> jobs = this->store_->ListJobs({});
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  ASSERT_EQ(jobs->size(), 5u);
  EXPECT_EQ(jobs->front().id, 5u);
  for (const Job& j : *jobs) {
    EXPECT_EQ(j.spec.script, "");
    EXPECT_EQ(j.spec.environment, MakeJob().spec.environment);  // only the script is left out
    EXPECT_THAT(j.events, IsEmpty());
  }
  EXPECT_THAT(this->Ids({}), ElementsAre(5, 4, 3, 2, 1));
}

TYPED_TEST(StoreTest, ListFiltersByUidProjectAndState) {
  this->Insert(MakeJob(1000, "ml-lab", 1));   // 1
  this->Insert(MakeJob(1001, "ml-lab", 2));   // 2
  this->Insert(MakeJob(1000, "physics", 3));  // 3
  this->Insert(MakeJob(1001, "physics", 4));  // 4
  ASSERT_TRUE(
      UpdateJobAndWait(*this->store_, this->Update(2, JobState::kPending, JobState::kAdmitted, 5))
          .ok());
  ASSERT_TRUE(
      UpdateJobAndWait(*this->store_, this->Update(3, JobState::kPending, JobState::kCancelled, 6))
          .ok());

  EXPECT_THAT(this->Ids({.uid = 1000}), ElementsAre(3, 1));
  EXPECT_THAT(this->Ids({.project = "physics"}), ElementsAre(4, 3));
  EXPECT_THAT(this->Ids({.states = {JobState::kPending}}), ElementsAre(4, 1));
  EXPECT_THAT(this->Ids({.states = {JobState::kAdmitted, JobState::kCancelled}}),
              ElementsAre(3, 2));
  EXPECT_THAT(this->Ids({.uid = 1001, .states = {JobState::kPending}, .project = "physics"}),
              ElementsAre(4));
  EXPECT_THAT(this->Ids({.uid = 7}), IsEmpty());
}

TYPED_TEST(StoreTest, ListPagesNewestFirst) {
  for (int i = 0; i < 7; ++i) this->Insert(MakeJob(1000 + i % 2, "ml-lab", i));
  EXPECT_THAT(this->Ids({.limit = 3}), ElementsAre(7, 6, 5));
  EXPECT_THAT(this->Ids({.before_id = 5, .limit = 3}), ElementsAre(4, 3, 2));
  EXPECT_THAT(this->Ids({.before_id = 2, .limit = 3}), ElementsAre(1));
  EXPECT_THAT(this->Ids({.before_id = 1, .limit = 3}), IsEmpty());
  // Paging within a filter: uid 1000 has 1, 3, 5, 7.
  EXPECT_THAT(this->Ids({.uid = 1000, .limit = 2}), ElementsAre(7, 5));
  EXPECT_THAT(this->Ids({.uid = 1000, .before_id = 5, .limit = 2}), ElementsAre(3, 1));
  EXPECT_THAT(this->Ids({.limit = 0}), ElementsAre(7, 6, 5, 4, 3, 2, 1));  // 0: no limit
}

TYPED_TEST(StoreTest, ListActiveJobsIsOldestFirstWithScripts) {
  for (int i = 0; i < 4; ++i) this->Insert(MakeJob(1000, "ml-lab", i));
  ASSERT_TRUE(
      UpdateJobAndWait(*this->store_, this->Update(2, JobState::kPending, JobState::kCancelled, 9))
          .ok());
  ASSERT_TRUE(
      UpdateJobAndWait(*this->store_, this->Update(3, JobState::kPending, JobState::kAdmitted, 9))
          .ok());
  absl::StatusOr<std::vector<Job>> jobs = this->store_->ListActiveJobs();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  std::vector<queue::JobId> ids;
  for (const Job& j : *jobs) {
    ids.push_back(j.id);
    EXPECT_EQ(j.spec, MakeJob(1000, "ml-lab", static_cast<int64_t>(j.id) - 1).spec);
    EXPECT_FALSE(j.spec.script.empty());
  }
  EXPECT_THAT(ids, ElementsAre(1, 3, 4));
  EXPECT_EQ((*jobs)[1].state, JobState::kAdmitted);
}

TYPED_TEST(StoreTest, IdempotentInsertReturnsTheSameJob) {
  Job first = this->Insert(MakeJob(1000, "ml-lab", 1, "retry-key"));

  Job retry = MakeJob(1000, "ml-lab", 2, "retry-key");
  retry.spec.name = "a retry may differ; the first job wins";
  absl::StatusOr<InsertResult> again = InsertJobAndWait(*this->store_, retry);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id, first.id);
  EXPECT_EQ(again->job.spec.name, first.spec.name);
  EXPECT_EQ(again->job.submit_time, T(1));

  // The same key from another user is another job; so is an empty key.
  Job other = this->Insert(MakeJob(1001, "ml-lab", 3, "retry-key"));
  EXPECT_NE(other.id, first.id);
  Job no_key_1 = this->Insert(MakeJob(1000, "ml-lab", 4));
  Job no_key_2 = this->Insert(MakeJob(1000, "ml-lab", 5));
  EXPECT_NE(no_key_1.id, no_key_2.id);
  EXPECT_THAT(this->Ids({}), ElementsAre(4, 3, 2, 1));
  EXPECT_THAT(this->Get(first.id).events, ::testing::SizeIs(1));

  // FindJobByKey finds the first job by (uid, key), and nothing else.
  auto found = this->store_->FindJobByKey(1000, "retry-key");
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, first.id);
  EXPECT_EQ((*found)->spec.script, first.spec.script);
  for (auto [uid, key] :
       {std::pair<uint32_t, std::string>{1002, "retry-key"}, {1000, "other-key"}, {1000, ""}}) {
    auto none = this->store_->FindJobByKey(uid, key);
    ASSERT_TRUE(none.ok()) << none.status();
    EXPECT_FALSE(none->has_value()) << uid << " " << key;
  }
}

TYPED_TEST(StoreTest, UpdateWritesOnlyTheFieldsItSets) {
  Job job = this->Insert(MakeJob());
  JobUpdate admit = this->Update(job.id, JobState::kPending, JobState::kAdmitted, 10, "admitted");
  admit.admit_time = T(10);
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, admit).ok());

  JobUpdate slurm = this->Update(job.id, JobState::kAdmitted, JobState::kAdmitted, 11, "in slurm");
  slurm.slurm_job_id = 4242;
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, slurm).ok());

  JobUpdate run = this->Update(job.id, JobState::kAdmitted, JobState::kRunning, 12);
  run.start_time = T(12);
  run.nodes = "gpu[01-02]";
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, run).ok());

  JobUpdate requeue =
      this->Update(job.id, JobState::kRunning, JobState::kRequeued, 13, "preempted");
  requeue.increment_requeue_count = true;
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, requeue).ok());

  JobUpdate end = this->Update(job.id, JobState::kRequeued, JobState::kFailed, 14, "exit 3");
  end.exit_code = 3;
  end.end_time = T(14);
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, end).ok());

  // The store agrees with queue::ApplyUpdate applied in memory.
  Job want = job;
  want.events = {{JobState::kPending, T(0), "waiting for budget"}};
  for (const JobUpdate& u : {admit, slurm, run, requeue, end}) {
    ASSERT_TRUE(queue::ApplyUpdate(u, want).ok());
  }
  Job got = this->Get(job.id);
  ExpectSameJob(got, want);
  EXPECT_EQ(got.events, want.events);
  EXPECT_EQ(got.slurm_job_id, 4242u);
  EXPECT_EQ(got.nodes, "gpu[01-02]");
  EXPECT_EQ(got.requeue_count, 1u);
  EXPECT_EQ(got.exit_code, 3);
  EXPECT_EQ(got.admit_time, T(10));  // not touched by the later updates
  EXPECT_EQ(got.spec, job.spec);
}

TYPED_TEST(StoreTest, EventsAreRecordedInOrderWithTimes) {
  Job job = this->Insert(MakeJob(1000, "ml-lab", 1));
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, this->Update(job.id, JobState::kPending,
                                                           JobState::kAdmitted, 2, "budget ok"))
                  .ok());
  // A field update in the same state adds no event.
  ASSERT_TRUE(UpdateJobAndWait(*this->store_,
                               this->Update(job.id, JobState::kAdmitted, JobState::kAdmitted, 3))
                  .ok());
  ASSERT_TRUE(UpdateJobAndWait(*this->store_,
                               this->Update(job.id, JobState::kAdmitted, JobState::kRunning, 4))
                  .ok());
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, this->Update(job.id, JobState::kRunning,
                                                           JobState::kCompleted, 5, "exit 0"))
                  .ok());
  EXPECT_THAT(this->Get(job.id).events,
              ElementsAre(JobEvent{JobState::kPending, T(1), "waiting for budget"},
                          JobEvent{JobState::kAdmitted, T(2), "budget ok"},
                          JobEvent{JobState::kRunning, T(4), ""},
                          JobEvent{JobState::kCompleted, T(5), "exit 0"}));
}

TYPED_TEST(StoreTest, StaleFromIsRefusedAndChangesNothing) {
  Job job = this->Insert(MakeJob());
  ASSERT_TRUE(UpdateJobAndWait(*this->store_,
                               this->Update(job.id, JobState::kPending, JobState::kAdmitted, 1))
                  .ok());
  // A second writer still believes the job is PENDING.
  JobUpdate stale = this->Update(job.id, JobState::kPending, JobState::kCancelled, 2, "by alice");
  stale.exit_code = 9;
  absl::Status s = UpdateJobAndWait(*this->store_, stale);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("ADMITTED"));
  Job got = this->Get(job.id);
  EXPECT_EQ(got.state, JobState::kAdmitted);
  EXPECT_EQ(got.exit_code, std::nullopt);
  EXPECT_EQ(got.events.size(), 2u);
}

TYPED_TEST(StoreTest, InvalidTransitionIsRefused) {
  Job job = this->Insert(MakeJob());
  absl::Status s = UpdateJobAndWait(
      *this->store_, this->Update(job.id, JobState::kPending, JobState::kCompleted, 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("cannot go from PENDING to COMPLETED"));
  EXPECT_EQ(this->Get(job.id).state, JobState::kPending);

  // Nothing moves a terminal job, not even a field update.
  ASSERT_TRUE(UpdateJobAndWait(*this->store_,
                               this->Update(job.id, JobState::kPending, JobState::kCancelled, 2))
                  .ok());
  EXPECT_EQ(UpdateJobAndWait(*this->store_,
                             this->Update(job.id, JobState::kCancelled, JobState::kCancelled, 3))
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

TYPED_TEST(StoreTest, UpdateOfUnknownJobIsNotFound) {
  absl::Status s =
      UpdateJobAndWait(*this->store_, this->Update(99, JobState::kPending, JobState::kAdmitted, 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("job 99"));
}

TYPED_TEST(StoreTest, Settings) {
  absl::StatusOr<std::optional<std::string>> v = this->store_->GetSetting("admission.drained");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, std::nullopt);

  ASSERT_TRUE(PutSettingAndWait(*this->store_, "admission.drained", "true").ok());
  ASSERT_TRUE(PutSettingAndWait(*this->store_, "admission.reason", "").ok());
  EXPECT_EQ(*this->store_->GetSetting("admission.drained"), "true");
  EXPECT_EQ(*this->store_->GetSetting("admission.reason"), "");  // set, though empty

  ASSERT_TRUE(PutSettingAndWait(*this->store_, "admission.drained", "false").ok());
  EXPECT_EQ(*this->store_->GetSetting("admission.drained"), "false");
}

TYPED_TEST(StoreTest, ConcurrentWritersGetDistinctIds) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 8;
  std::vector<std::vector<queue::JobId>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<InsertResult> r =
            InsertJobAndWait(*this->store_, MakeJob(1000 + t, "ml-lab", i));
        if (r.ok()) ids[t].push_back(r->job.id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  std::set<queue::JobId> all;
  for (const auto& v : ids) {
    EXPECT_EQ(v.size(), size_t{kPerThread});
    EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));  // one writer's jobs in its order
    all.insert(v.begin(), v.end());
  }
  EXPECT_EQ(all.size(), size_t{kThreads * kPerThread});
  EXPECT_EQ(*all.begin(), 1u);
  EXPECT_EQ(*all.rbegin(), queue::JobId{kThreads * kPerThread});
}

TYPED_TEST(StoreTest, AFailedUpdateDoesNotFailTheWritesAroundIt) {
  Job job = this->Insert(MakeJob());
  std::vector<absl::Status> results(4);
  // Asynchronous: on SqliteStore these may well share one transaction.
  this->store_->InsertJob(MakeJob(1000, "ml-lab", 1),
                          [&](absl::StatusOr<InsertResult> r) { results[0] = r.status(); });
  this->store_->UpdateJob(this->Update(job.id, JobState::kRunning, JobState::kCompleted, 2),
                          [&](absl::Status s) { results[1] = s; });
  this->store_->UpdateJob(this->Update(job.id, JobState::kPending, JobState::kAdmitted, 3),
                          [&](absl::Status s) { results[2] = s; });
  absl::Status last = PutSettingAndWait(*this->store_, "k", "v");  // after all the others
  results[3] = last;
  EXPECT_TRUE(results[0].ok()) << results[0];
  EXPECT_EQ(results[1].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(results[2].ok()) << results[2];
  EXPECT_TRUE(results[3].ok()) << results[3];
  EXPECT_EQ(this->Get(job.id).state, JobState::kAdmitted);
  EXPECT_THAT(this->Ids({}), ElementsAre(2, 1));
}

TYPED_TEST(StoreTest, ReservedAndChargedAreWrittenWithAnUpdateAndReadEverywhere) {
  Job job = this->Insert(MakeJob(1000, "ml-lab", 1));
  EXPECT_THAT(this->Get(job.id).reserved, IsEmpty());
  EXPECT_THAT(this->Get(job.id).charged, IsEmpty());

  JobUpdate admit = this->Update(job.id, JobState::kPending, JobState::kAdmitted, 2);
  admit.reserved = queue::AmountMap{{"gpu-hours", 8'000}, {"cpu-hours", 64'500}};
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, admit).ok());
  // An update that does not set them leaves them alone.
  ASSERT_TRUE(UpdateJobAndWait(*this->store_,
                               this->Update(job.id, JobState::kAdmitted, JobState::kRunning, 3))
                  .ok());

  const queue::AmountMap reserved = {{"cpu-hours", 64'500}, {"gpu-hours", 8'000}};
  EXPECT_EQ(this->Get(job.id).reserved, reserved);
  absl::StatusOr<std::vector<Job>> listed = this->store_->ListJobs({});
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().reserved, reserved);
  absl::StatusOr<std::vector<Job>> active = this->store_->ListActiveJobs();
  ASSERT_TRUE(active.ok()) << active.status();
  ASSERT_EQ(active->size(), 1u);
  EXPECT_EQ(active->front().reserved, reserved);
  EXPECT_THAT(active->front().charged, IsEmpty());

  // Settlement: the escrow is released (an empty map clears it) and the usage recorded.
  JobUpdate end = this->Update(job.id, JobState::kRunning, JobState::kCompleted, 4);
  end.end_time = T(4);
  end.reserved = queue::AmountMap{};
  end.charged = queue::AmountMap{{"gpu-hours", 6'250}, {"cpu-hours", 0}};
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, end).ok());
  Job got = this->Get(job.id);
  EXPECT_THAT(got.reserved, IsEmpty());
  EXPECT_EQ(got.charged, (queue::AmountMap{{"cpu-hours", 0}, {"gpu-hours", 6'250}}));
  listed = this->store_->ListJobs({});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->front().charged, got.charged);
  EXPECT_THAT(listed->front().reserved, IsEmpty());
}

TYPED_TEST(StoreTest, InsertStoresReservedAndChargedAsGiven) {
  Job job = MakeJob();
  job.reserved = {{"node-hours", 1'000}};
  Job got = this->Get(this->Insert(job).id);
  EXPECT_EQ(got.reserved, job.reserved);
  EXPECT_THAT(got.charged, IsEmpty());
}

TYPED_TEST(StoreTest, ChargesAreWrittenOnlyByTheWinningTerminalTransition) {
  Job job = this->Insert(MakeJob(1000, "ml-lab", 1));
  ASSERT_TRUE(UpdateJobAndWait(*this->store_,
                               this->Update(job.id, JobState::kPending, JobState::kAdmitted, 2))
                  .ok());
  ASSERT_TRUE(UpdateJobAndWait(*this->store_,
                               this->Update(job.id, JobState::kAdmitted, JobState::kRunning, 3))
                  .ok());

  // Charges without a transition to an end state are refused, and nothing is written.
  JobUpdate early = this->Update(job.id, JobState::kRunning, JobState::kRunning, 4);
  early.charges = {{.grant_id = 1, .resource = "gpu-hours", .milli = 500}};
  early.reserved = queue::AmountMap{{"gpu-hours", 1}};
  EXPECT_EQ(UpdateJobAndWait(*this->store_, early).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(this->Get(job.id).reserved, IsEmpty());
  absl::StatusOr<std::vector<ChargeTotal>> none = this->store_->SumCharges();
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_THAT(*none, IsEmpty());

  // Two settlements race (the job completed; an admin cancels): the first one wins.
  JobUpdate complete = this->Update(job.id, JobState::kRunning, JobState::kCompleted, 10);
  complete.end_time = T(9);
  complete.charged = queue::AmountMap{{"gpu-hours", 2'500}};
  complete.charges = {{.grant_id = 1, .resource = "gpu-hours", .milli = 2'000},
                      {.grant_id = 0, .resource = "gpu-hours", .milli = 500}};
  JobUpdate cancel = this->Update(job.id, JobState::kRunning, JobState::kCancelled, 11);
  cancel.charged = queue::AmountMap{{"gpu-hours", 9'000}};
  cancel.charges = {{.grant_id = 1, .resource = "gpu-hours", .milli = 9'000}};
  absl::Status first = absl::UnknownError("not run");
  absl::Status second = absl::UnknownError("not run");
  // Asynchronous: on SqliteStore both may share one transaction; the loser's savepoint must
  // take nothing with it.
  this->store_->UpdateJob(complete, [&](absl::Status s) { first = s; });
  this->store_->UpdateJob(cancel, [&](absl::Status s) { second = s; });
  ASSERT_TRUE(PutSettingAndWait(*this->store_, "k", "v").ok());  // after both
  EXPECT_TRUE(first.ok()) << first;
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition) << second;

  Job got = this->Get(job.id);
  EXPECT_EQ(got.state, JobState::kCompleted);
  EXPECT_EQ(got.charged, (queue::AmountMap{{"gpu-hours", 2'500}}));
  absl::StatusOr<std::vector<ChargeTotal>> totals = this->store_->SumCharges();
  ASSERT_TRUE(totals.ok()) << totals.status();
  EXPECT_THAT(*totals, ElementsAre(ChargeTotal{0, "ml-lab", "gpu-hours", 500},
                                   ChargeTotal{1, "ml-lab", "gpu-hours", 2'000}));
  // Stamped with the job's end time, not the update's.
  absl::StatusOr<std::vector<UsageEvent>> usage = this->store_->ListUsageSince(T(0));
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_THAT(*usage, ElementsAre(UsageEvent{"ml-lab", "gpu-hours", 2'500, T(9)}));
}

TYPED_TEST(StoreTest, ChargesWithoutAnEndTimeAreStampedWithTheUpdateTime) {
  Job job = this->Insert(MakeJob(1000, "physics", 1));
  JobUpdate reject = this->Update(job.id, JobState::kPending, JobState::kRejected, 5, "no budget");
  reject.charges = {{.grant_id = 0, .resource = "cpu-hours", .milli = 1}};
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, reject).ok());
  absl::StatusOr<std::vector<UsageEvent>> usage = this->store_->ListUsageSince(T(5));
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_THAT(*usage, ElementsAre(UsageEvent{"physics", "cpu-hours", 1, T(5)}));
}

}  // namespace
TYPED_TEST(StoreTest, ARequeueTransitionWritesTheChargesOfTheRunThatEnded) {
  Job job = this->Insert(MakeJob(1000, "ml-lab", 1));
  for (auto [from, to] : {std::pair{JobState::kPending, JobState::kAdmitted},
                          std::pair{JobState::kAdmitted, JobState::kRunning}}) {
    ASSERT_TRUE(UpdateJobAndWait(*this->store_, this->Update(job.id, from, to, 2)).ok());
  }
  JobUpdate requeue = this->Update(job.id, JobState::kRunning, JobState::kRequeued, 6);
  requeue.charged = queue::AmountMap{{"gpu-hours", 700}};
  requeue.reserved = queue::AmountMap{{"gpu-hours", 1'000}};
  requeue.charges = {{.grant_id = 1, .resource = "gpu-hours", .milli = 700}};
  requeue.increment_requeue_count = true;
  ASSERT_TRUE(UpdateJobAndWait(*this->store_, requeue).ok());
  // The same transition again loses the compare-and-set and writes nothing.
  EXPECT_EQ(UpdateJobAndWait(*this->store_, requeue).code(), absl::StatusCode::kFailedPrecondition);
  Job got = this->Get(job.id);
  EXPECT_EQ(got.state, JobState::kRequeued);
  EXPECT_EQ(got.requeue_count, 1u);
  EXPECT_EQ(got.charged, (queue::AmountMap{{"gpu-hours", 700}}));
  EXPECT_EQ(got.reserved, (queue::AmountMap{{"gpu-hours", 1'000}}));
  absl::StatusOr<std::vector<UsageEvent>> usage = this->store_->ListUsageSince(T(0));
  ASSERT_TRUE(usage.ok()) << usage.status();
  EXPECT_THAT(*usage, ElementsAre(UsageEvent{"ml-lab", "gpu-hours", 700, T(6)}));
}

TYPED_TEST(StoreTest, CheckpointReportsAreListedWithTheJobOldestFirstAndBounded) {
  Job job = this->Insert(MakeJob(1000, "ml-lab", 1));
  auto append = [&](queue::JobId id, int64_t step) {
    std::promise<absl::Status> done;
    this->store_->AppendCheckpoint(id,
                                   {.step = step,
                                    .bytes = 1000 + static_cast<uint64_t>(step),
                                    .duration = absl::Milliseconds(1500),
                                    .time = T(step),
                                    .path = absl::StrCat("/scratch/ckpt-", step),
                                    .ranks = 4},
                                   [&](absl::Status s) { done.set_value(s); });
    return done.get_future().get();
  };
  ASSERT_TRUE(append(job.id, 10).ok());
  ASSERT_TRUE(append(job.id, 20).ok());
  Job got = this->Get(job.id);
  ASSERT_EQ(got.checkpoints.size(), 2u);
  EXPECT_EQ(got.checkpoints[0], (queue::CheckpointRecord{.step = 10,
                                                         .bytes = 1010,
                                                         .duration = absl::Milliseconds(1500),
                                                         .time = T(10),
                                                         .path = "/scratch/ckpt-10",
                                                         .ranks = 4}));
  EXPECT_EQ(got.checkpoints[1].step, 20);
  absl::StatusOr<Job> slim = this->store_->GetJob(job.id, /*with_events=*/false);
  ASSERT_TRUE(slim.ok());
  EXPECT_THAT(slim->checkpoints, IsEmpty());
  EXPECT_EQ(append(99, 1).code(), absl::StatusCode::kNotFound);

  for (size_t i = 0; i < queue::kMaxCheckpointsKept; ++i) {
    ASSERT_TRUE(append(job.id, 100 + static_cast<int64_t>(i)).ok());
  }
  got = this->Get(job.id);
  ASSERT_EQ(got.checkpoints.size(), queue::kMaxCheckpointsKept);
  EXPECT_EQ(got.checkpoints.front().step, 100);  // the oldest two went
  EXPECT_EQ(got.checkpoints.back().step,
            100 + static_cast<int64_t>(queue::kMaxCheckpointsKept) - 1);
}

}  // namespace drocc::store
