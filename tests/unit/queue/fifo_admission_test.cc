#include "daemon/queue/fifo_admission.h"

#include <gtest/gtest.h>

namespace drocc::queue {
namespace {

TEST(FifoAdmissionTest, AdmitsOldestFirstUpToTheCap) {
  AdmissionPlan plan =
      PlanFifoAdmission({.pending = {4, 5, 6, 7}, .jobs_in_slurm = 1, .max_jobs_in_slurm = 3});
  EXPECT_EQ(plan.admit, (std::vector<JobId>{4, 5}));
  ASSERT_EQ(plan.wait.size(), 2u);
  EXPECT_EQ(plan.wait[0].first, 6u);
  EXPECT_EQ(plan.wait[0].second, "cluster full: 3 of 3 drocc jobs in Slurm");
}

TEST(FifoAdmissionTest, NoCapAdmitsAll) {
  AdmissionPlan plan = PlanFifoAdmission({.pending = {1, 2, 3}, .max_jobs_in_slurm = 0});
  EXPECT_EQ(plan.admit.size(), 3u);
  EXPECT_TRUE(plan.wait.empty());
}

TEST(FifoAdmissionTest, DrainedAdmitsNothingAndSaysWhy) {
  AdmissionPlan plan = PlanFifoAdmission(
      {.pending = {1, 2}, .max_jobs_in_slurm = 10, .drained = true, .drain_reason = "upgrade"});
  EXPECT_TRUE(plan.admit.empty());
  ASSERT_EQ(plan.wait.size(), 2u);
  EXPECT_EQ(plan.wait[1].second, "admission drained by an admin: upgrade");
}

TEST(FifoAdmissionTest, FullClusterAdmitsNothing) {
  AdmissionPlan plan =
      PlanFifoAdmission({.pending = {9}, .jobs_in_slurm = 5, .max_jobs_in_slurm = 5});
  EXPECT_TRUE(plan.admit.empty());
  EXPECT_EQ(plan.wait.size(), 1u);
}

}  // namespace
}  // namespace drocc::queue
