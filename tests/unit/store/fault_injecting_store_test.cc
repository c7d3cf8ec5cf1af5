// FaultInjectingStore over an InMemoryStore: which writes fail, how, and that everything
// else passes through.

#include "daemon/store/fault_injecting_store.h"

#include "daemon/store/in_memory_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {
namespace {

using queue::JobState;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class FaultInjectingStoreTest : public ::testing::Test {
 protected:
  absl::Status Admit(queue::JobId id) {
    return UpdateJobAndWait(faulty_, {.id = id,
                                      .from = JobState::kPending,
                                      .to = JobState::kAdmitted,
                                      .at = T(10),
                                      .reason = "admitted"});
  }

  InMemoryStore inner_;
  FaultInjectingStore faulty_{&inner_};
};

TEST_F(FaultInjectingStoreTest, UnarmedItForwardsEverythingAndNumbersTheWrites) {
  absl::StatusOr<InsertResult> r = InsertJobAndWait(faulty_, MakeJob(1000, "ml", 0, "k"));
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(Admit(r->job.id).ok());
  ASSERT_TRUE(PutSettingAndWait(faulty_, "admission.drain", "{}").ok());
  ASSERT_TRUE(AppendAuditAndWait(faulty_, {.user = "dana", .action = "CreateGrant"}).ok());
  EXPECT_EQ(faulty_.GetJob(r->job.id, false)->state, JobState::kAdmitted);
  EXPECT_EQ(**faulty_.GetSetting("admission.drain"), "{}");
  EXPECT_EQ(faulty_.ListAudit({})->size(), 1u);
  EXPECT_EQ(faulty_.writes(), 4u);
  EXPECT_EQ(faulty_.faults_injected(), 0u);
  EXPECT_THAT(faulty_.history(), ElementsAre("write 1: InsertJob (PENDING job of user1000, key k)",
                                             "write 2: UpdateJob job 1 PENDING -> ADMITTED",
                                             "write 3: PutSetting admission.drain",
                                             "write 4: AppendAudit CreateGrant"));
}

TEST_F(FaultInjectingStoreTest, BeforeWriteStoresNothingAndFailsOnce) {
  faulty_.Arm(Fault::NthWrite(1, FaultMode::kBeforeWrite));
  absl::StatusOr<InsertResult> r = InsertJobAndWait(faulty_, MakeJob());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("injected"));
  EXPECT_TRUE(inner_.ListJobs({})->empty());
  // Disarmed by its one hit: the retry is stored.
  r = InsertJobAndWait(faulty_, MakeJob());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(inner_.ListJobs({})->size(), 1u);
  EXPECT_EQ(faulty_.faults_injected(), 1u);
}

TEST_F(FaultInjectingStoreTest, AfterWriteStoresButReportsAFailure) {
  queue::JobId id = InsertJobAndWait(faulty_, MakeJob())->job.id;
  faulty_.Arm({.match = Fault::NthWrite(2, FaultMode::kAfterWrite).match,
               .mode = FaultMode::kAfterWrite,
               .error = absl::DataLossError("disk I/O error")});
  absl::Status s = Admit(id);
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(inner_.GetJob(id, false)->state, JobState::kAdmitted);  // stored all the same
}

TEST_F(FaultInjectingStoreTest, ATransitionFaultHitsOnlyThatTransition) {
  queue::JobId a = InsertJobAndWait(faulty_, MakeJob(1000, "ml", 0))->job.id;
  queue::JobId b = InsertJobAndWait(faulty_, MakeJob(1000, "ml", 1))->job.id;
  faulty_.Arm(Fault::Transition(JobState::kAdmitted, JobState::kRunning, FaultMode::kBeforeWrite));
  ASSERT_TRUE(Admit(a).ok());
  ASSERT_TRUE(PutSettingAndWait(faulty_, "k", "v").ok());
  EXPECT_FALSE(
      UpdateJobAndWait(
          faulty_, {.id = a, .from = JobState::kAdmitted, .to = JobState::kRunning, .at = T(20)})
          .ok());
  EXPECT_EQ(inner_.GetJob(a, false)->state, JobState::kAdmitted);
  ASSERT_TRUE(Admit(b).ok());
  EXPECT_TRUE(
      UpdateJobAndWait(
          faulty_, {.id = b, .from = JobState::kAdmitted, .to = JobState::kRunning, .at = T(20)})
          .ok());
  EXPECT_EQ(faulty_.faults_injected(), 1u);
}

TEST_F(FaultInjectingStoreTest, AFaultWithoutACountFailsEveryMatchUntilDisarmed) {
  faulty_.Arm({.match = [](const WriteCall& w) { return w.kind == WriteCall::Kind::kPutSetting; },
               .times = 0});
  EXPECT_FALSE(PutSettingAndWait(faulty_, "k", "1").ok());
  EXPECT_FALSE(PutSettingAndWait(faulty_, "k", "2").ok());
  EXPECT_TRUE(AppendAuditAndWait(faulty_, {.user = "dana", .action = "Drain"}).ok());
  faulty_.Disarm();
  EXPECT_TRUE(PutSettingAndWait(faulty_, "k", "3").ok());
  EXPECT_EQ(**inner_.GetSetting("k"), "3");
  EXPECT_EQ(faulty_.faults_injected(), 2u);
}

}  // namespace
}  // namespace drocc::store
