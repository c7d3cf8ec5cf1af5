#include "daemon/quota/model.h"

#include <gtest/gtest.h>

#include "tests/unit/quota/test_util.h"

namespace drocc::quota {
namespace {

using testing::Day;
using testing::U;

TEST(ModelTest, NamesRoundTrip) {
  for (AccountKind k : {AccountKind::kLab, AccountKind::kSme, AccountKind::kInternal}) {
    EXPECT_EQ(ParseAccountKind(AccountKindName(k)), k);
  }
  for (ProjectRole r : {ProjectRole::kMember, ProjectRole::kManager}) {
    EXPECT_EQ(ParseProjectRole(ProjectRoleName(r)), r);
  }
  EXPECT_EQ(ParseAccountKind("company"), std::nullopt);
  EXPECT_EQ(ParseProjectRole("admin"), std::nullopt);
  EXPECT_EQ(Project{}.share, 1u);
}

TEST(ModelTest, ValidatesWhatTheStoreWillPersist) {
  EXPECT_TRUE(ValidateAccount({"acme-ai", AccountKind::kSme}).ok());
  EXPECT_FALSE(ValidateAccount({"", AccountKind::kSme}).ok());
  EXPECT_FALSE(ValidateAccount({"a b", AccountKind::kSme}).ok());
  EXPECT_TRUE(ValidateProject({"ml", "acme-ai", 1}).ok());
  EXPECT_EQ(ValidateProject({"ml", "acme-ai", 0}).message(),
            "project \"ml\" has share 0; use a share of 1 or more");
  EXPECT_FALSE(ValidateProject({"ml", "", 1}).ok());
  EXPECT_TRUE(ValidateMember({"ml", "carol"}).ok());
  EXPECT_FALSE(ValidateMember({"ml", "carol;rm"}).ok());

  Grant g{.id = 1,
          .project = "ml",
          .amount = U("500"),
          .valid_from = Day(2026, 1, 1),
          .valid_until = Day(2026, 7, 1)};
  EXPECT_TRUE(ValidateGrant(g).ok());
  Grant zero = g;
  zero.amount = MilliUnits::Zero();
  EXPECT_FALSE(ValidateGrant(zero).ok());
  Grant huge = g;
  huge.amount = kMaxAmount + MilliUnits::FromMilli(1);
  EXPECT_FALSE(ValidateGrant(huge).ok());
  Grant backwards = g;
  backwards.valid_until = g.valid_from;
  EXPECT_FALSE(ValidateGrant(backwards).ok());
  EXPECT_TRUE(g.ActiveAt(Day(2026, 1, 1)));
  EXPECT_TRUE(g.ActiveAt(Day(2026, 7, 1) - absl::Nanoseconds(1)));
  EXPECT_FALSE(g.ActiveAt(Day(2026, 7, 1)));
  EXPECT_FALSE(g.ActiveAt(Day(2025, 12, 31)));

  EXPECT_TRUE(ValidateLimit({.project = "ml", .max_gpus = 16}).ok());
  EXPECT_FALSE(ValidateLimit({.project = "ml", .max_walltime = absl::Hours(-1)}).ok());
  EXPECT_FALSE(ValidateLimit({.project = "ml", .user = "bad user"}).ok());
}

}  // namespace
}  // namespace drocc::quota
