#include "daemon/api/policy.h"

#include <gtest/gtest.h>

namespace drocc::api {
namespace {

auth::Caller User(uint32_t uid, bool admin = false) {
  return {.uid = uid, .gid = uid, .user = "u" + std::to_string(uid), .is_admin = admin};
}

TEST(PolicyTest, OwnersAndAdminsActOnAJobOthersDoNot) {
  Policy policy;
  queue::Job job;
  job.id = 5;
  job.uid = 1001;
  for (JobAction a : {JobAction::kView, JobAction::kCancel, JobAction::kReadLogs}) {
    EXPECT_TRUE(policy.CheckJob(User(1001), job, a).ok());
    EXPECT_TRUE(policy.CheckJob(User(1003, /*admin=*/true), job, a).ok());
    absl::Status other = policy.CheckJob(User(1002), job, a);
    EXPECT_EQ(other.code(), absl::StatusCode::kPermissionDenied);
    EXPECT_NE(other.message().find("belongs to another user"), absl::string_view::npos);
  }
}

TEST(PolicyTest, OnlyAdminsListOtherUsersJobs) {
  Policy policy;
  EXPECT_TRUE(policy.CheckListJobs(User(1001), 1001u).ok());
  EXPECT_EQ(policy.CheckListJobs(User(1001), 1002u).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(policy.CheckListJobs(User(1001), std::nullopt).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy.CheckListJobs(User(1003, true), std::nullopt).ok());
}

TEST(PolicyTest, OnlyAdminsAdminister) {
  Policy policy;
  EXPECT_EQ(policy.CheckAdmin(User(1001), "draining admission").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(policy.CheckAdmin(User(0, true), "draining admission").ok());
}

}  // namespace
}  // namespace drocc::api
