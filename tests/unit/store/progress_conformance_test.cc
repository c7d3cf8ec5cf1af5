// The Store contract for the progress jobs report (RuntimeService.ReportProgress): the latest
// report of each phase, replaced in place, bounded per job. Run against every implementation,
// like store_conformance_test.cc.

#include <cstdint>
#include <future>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "daemon/store/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/store_conformance.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {
namespace {

using queue::Job;
using queue::ProgressRecord;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

template <typename Impl>
class ProgressStoreTest : public StoreTest<Impl> {
 protected:
  absl::Status Put(queue::JobId id, ProgressRecord p) {
    std::promise<absl::Status> done;
    this->store_->PutProgress(id, std::move(p), [&](absl::Status s) { done.set_value(s); });
    return done.get_future().get();
  }

  std::vector<std::string> Phases(queue::JobId id) {
    std::vector<std::string> phases;
    for (const ProgressRecord& p : this->Get(id).progress) phases.push_back(p.phase);
    return phases;
  }
};

TYPED_TEST_SUITE(ProgressStoreTest, StoreImpls, StoreImplName);

TYPED_TEST(ProgressStoreTest, EachPhaseKeepsItsLatestReportInTheOrderPhasesFirstReported) {
  Job job = this->Insert(MakeJob(1000, "ml-lab", 1));
  Job other = this->Insert(MakeJob(1001, "ml-lab", 2));
  const ProgressRecord stage_in{.phase = "stage-in",
                                .step = -1,
                                .bytes_done = 1 << 20,
                                .bytes_total = 4 << 20,
                                .message = "copying 3 of 12 files",
                                .time = T(10)};
  ASSERT_TRUE(this->Put(job.id, stage_in).ok());
  ASSERT_TRUE(this->Put(job.id, {.phase = "train", .step = 40, .time = T(20)}).ok());
  ASSERT_TRUE(this->Put(other.id, {.phase = "stage-in", .step = -1, .time = T(21)}).ok());
  EXPECT_THAT(this->Get(job.id).progress,
              ElementsAre(stage_in, ProgressRecord{.phase = "train", .step = 40, .time = T(20)}));

  // A later report of a phase replaces it where it stands; the other job is untouched.
  const ProgressRecord done{.phase = "stage-in",
                            .step = -1,
                            .bytes_done = 4 << 20,
                            .bytes_total = 4 << 20,
                            .message = "done, verified",
                            .time = T(30)};
  ASSERT_TRUE(this->Put(job.id, done).ok());
  EXPECT_THAT(this->Get(job.id).progress,
              ElementsAre(done, ProgressRecord{.phase = "train", .step = 40, .time = T(20)}));
  EXPECT_THAT(this->Phases(other.id), ElementsAre("stage-in"));
  EXPECT_EQ(this->Get(other.id).progress[0].time, T(21));

  // Only GetJob with events carries progress.
  absl::StatusOr<Job> slim = this->store_->GetJob(job.id, /*with_events=*/false);
  ASSERT_TRUE(slim.ok()) << slim.status();
  EXPECT_THAT(slim->progress, IsEmpty());
  absl::StatusOr<std::vector<Job>> listed = this->store_->ListJobs({});
  ASSERT_TRUE(listed.ok()) << listed.status();
  for (const Job& j : *listed) EXPECT_THAT(j.progress, IsEmpty());
}

TYPED_TEST(ProgressStoreTest, AReportForAnUnknownJobIsNotFound) {
  Job job = this->Insert(MakeJob());
  EXPECT_EQ(this->Put(job.id + 1, {.phase = "train", .time = T(1)}).code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(this->Get(job.id).progress, IsEmpty());
}

TYPED_TEST(ProgressStoreTest, FullRangeValuesSurvive) {
  Job job = this->Insert(MakeJob());
  const ProgressRecord p{.phase = "stage-out",
                         .step = std::numeric_limits<int64_t>::max(),
                         .bytes_done = std::numeric_limits<uint64_t>::max() - 1,
                         .bytes_total = std::numeric_limits<uint64_t>::max(),
                         .message = "écrit 99 % — ok",
                         .time = T(5)};
  ASSERT_TRUE(this->Put(job.id, p).ok());
  EXPECT_THAT(this->Get(job.id).progress, ElementsAre(p));
}

TYPED_TEST(ProgressStoreTest, BeyondTheLimitThePhaseReportedLeastRecentlyIsDropped) {
  Job job = this->Insert(MakeJob());
  std::vector<std::string> want;
  for (size_t i = 0; i < queue::kMaxProgressPhases; ++i) {
    const std::string phase = absl::StrCat("p", i);
    ASSERT_TRUE(this->Put(job.id, {.phase = phase, .time = T(static_cast<int64_t>(i))}).ok());
    want.push_back(phase);
  }
  EXPECT_THAT(this->Phases(job.id), ElementsAreArray(want));

  // p0 reports again, so p1 is now the least recent: a new phase drops it, not p0.
  ASSERT_TRUE(this->Put(job.id, {.phase = "p0", .time = T(100)}).ok());
  ASSERT_TRUE(this->Put(job.id, {.phase = "new", .time = T(101)}).ok());
  want.erase(want.begin() + 1);
  want.push_back("new");
  EXPECT_THAT(this->Phases(job.id), ElementsAreArray(want));

  // The phase just reported stays even when its time is the oldest (droccd's clock went
  // back): p2 goes instead.
  ASSERT_TRUE(this->Put(job.id, {.phase = "late", .time = T(0)}).ok());
  want.erase(want.begin() + 1);
  want.push_back("late");
  EXPECT_THAT(this->Phases(job.id), ElementsAreArray(want));

  // Equal times: the phase that first reported earliest goes.
  Job same = this->Insert(MakeJob());
  for (size_t i = 0; i <= queue::kMaxProgressPhases; ++i) {
    ASSERT_TRUE(this->Put(same.id, {.phase = absl::StrCat("q", i), .time = T(7)}).ok());
  }
  std::vector<std::string> phases = this->Phases(same.id);
  ASSERT_EQ(phases.size(), queue::kMaxProgressPhases);
  EXPECT_EQ(phases.front(), "q1");
  EXPECT_EQ(phases.back(), absl::StrCat("q", queue::kMaxProgressPhases));
}

}  // namespace
}  // namespace drocc::store
