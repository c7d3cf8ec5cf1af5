#include "daemon/quota/fair_share.h"

#include <gtest/gtest.h>

#include "common/clock.h"

namespace drocc::quota {
namespace {

constexpr absl::Duration kWeek = absl::Hours(24 * 7);

TEST(FairShareTest, UsageHalvesEveryHalfLife) {
  FakeClock clock;
  FairShare fs({.half_life = kWeek, .resource = kGpuHours});
  fs.AddUsage("ml", MilliUnits::FromUnits(800), clock.Now());
  EXPECT_DOUBLE_EQ(fs.DecayedUsage("ml", clock.Now()), 800);
  clock.Advance(kWeek);
  EXPECT_DOUBLE_EQ(fs.DecayedUsage("ml", clock.Now()), 400);
  clock.Advance(2 * kWeek);
  EXPECT_DOUBLE_EQ(fs.DecayedUsage("ml", clock.Now()), 100);
  clock.Advance(kWeek / 2);
  EXPECT_NEAR(fs.DecayedUsage("ml", clock.Now()), 100 / std::sqrt(2.0), 1e-9);
  EXPECT_EQ(fs.DecayedUsage("unknown", clock.Now()), 0);
  EXPECT_DOUBLE_EQ(DecayFactor(-kWeek, kWeek), 2.0);
}

TEST(FairShareTest, OrderOfRecordingDoesNotMatter) {
  const absl::Time t0 = absl::FromUnixSeconds(1'767'225'600);
  FairShare forward({.half_life = absl::Hours(10)});
  FairShare backward({.half_life = absl::Hours(10)});
  for (int i = 0; i < 50; ++i) {
    forward.AddUsage("p", MilliUnits::FromMilli(1000 + i), t0 + absl::Hours(i));
    backward.AddUsage("p", MilliUnits::FromMilli(1000 + (49 - i)), t0 + absl::Hours(49 - i));
  }
  const absl::Time now = t0 + absl::Hours(60);
  EXPECT_NEAR(forward.DecayedUsage("p", now), backward.DecayedUsage("p", now), 1e-9);
}

TEST(FairShareTest, ShareScalesPriorityAndAVectorUsesTheConfiguredResource) {
  FakeClock clock;
  FairShare fs({.half_life = kWeek, .resource = kCpuHours});
  ResourceVector usage;
  usage[kGpuHours] = MilliUnits::FromUnits(1000);
  usage[kCpuHours] = MilliUnits::FromUnits(60);
  fs.AddUsage("big", usage, clock.Now());
  fs.AddUsage("small", usage, clock.Now());
  EXPECT_DOUBLE_EQ(fs.Priority("big", 3, clock.Now()), 20);
  EXPECT_DOUBLE_EQ(fs.Priority("small", 1, clock.Now()), 60);
  EXPECT_DOUBLE_EQ(fs.Priority("small", 0, clock.Now()), 60);  // share 0 counts as 1
  // Non-positive half-lives fall back to the default instead of dividing by zero.
  EXPECT_EQ(FairShare({.half_life = absl::ZeroDuration()}).options().half_life, kWeek);
}

TEST(FairShareTest, RecentHeavyUserRanksBehindUntilItDecays) {
  FakeClock clock;
  FairShare fs({.half_life = kWeek});
  // "heavy" used 1000 node-hours now; "steady" used 100 now and keeps using 100 a week.
  fs.AddUsage("heavy", MilliUnits::FromUnits(1000), clock.Now());
  fs.AddUsage("steady", MilliUnits::FromUnits(100), clock.Now());
  EXPECT_LT(fs.Priority("steady", 1, clock.Now()), fs.Priority("heavy", 1, clock.Now()));
  for (int week = 1; week <= 6; ++week) {
    clock.Advance(kWeek);
    fs.AddUsage("steady", MilliUnits::FromUnits(100), clock.Now());
  }
  // heavy: 1000/64 ≈ 15.6; steady: ≈ 100 × (1 + 1/2 + ...) ≈ 198: the order has flipped.
  EXPECT_LT(fs.Priority("heavy", 1, clock.Now()), fs.Priority("steady", 1, clock.Now()));
}

}  // namespace
}  // namespace drocc::quota
