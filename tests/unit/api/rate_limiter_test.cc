// The per-user token bucket, on a FakeClock.

#include "daemon/api/rate_limiter.h"

#include "common/retry_after.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace drocc::api {
namespace {

constexpr uint32_t kAlice = 1001;
constexpr uint32_t kBob = 1002;

TEST(RateLimiterTest, OffLetsEverythingThroughAndKeepsNothing) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 0, .burst = 0}, &clock);
  for (int i = 0; i < 10'000; ++i) ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  EXPECT_EQ(limiter.buckets(), 0u);
}

TEST(RateLimiterTest, BurstThenRefusedWithTheWaitForOneToken) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 20, .burst = 200}, &clock);
  for (int i = 0; i < 200; ++i) ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration()) << i;
  // Empty: one token comes back every 50 ms.
  EXPECT_NEAR(absl::ToDoubleMilliseconds(limiter.Take(kAlice)), 50, 1e-6);
  clock.Advance(absl::Milliseconds(20));
  EXPECT_NEAR(absl::ToDoubleMilliseconds(limiter.Take(kAlice)), 30, 1e-6);
  clock.Advance(absl::Milliseconds(30));
  EXPECT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  EXPECT_GT(limiter.Take(kAlice), absl::ZeroDuration());
}

TEST(RateLimiterTest, RefusedCallsTakeNothing) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 10, .burst = 1}, &clock);
  ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  for (int i = 0; i < 1000; ++i) ASSERT_GT(limiter.Take(kAlice), absl::ZeroDuration());
  clock.Advance(absl::Milliseconds(100));  // one token, despite the 1000 refusals
  EXPECT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
}

TEST(RateLimiterTest, SustainedRateIsTheRefillRate) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 50, .burst = 100}, &clock);
  int accepted = 0;
  // 10 s of 1000 calls a second: the burst plus 50 a second.
  for (int ms = 0; ms < 10'000; ++ms) {
    if (limiter.Take(kAlice) == absl::ZeroDuration()) ++accepted;
    clock.Advance(absl::Milliseconds(1));
  }
  EXPECT_NEAR(accepted, 100 + 50 * 10, 1);
}

TEST(RateLimiterTest, UsersHaveTheirOwnBuckets) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 1, .burst = 3}, &clock);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  EXPECT_GT(limiter.Take(kAlice), absl::ZeroDuration());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Take(kBob), absl::ZeroDuration());
}

TEST(RateLimiterTest, BucketsNeverHoldMoreThanTheBurst) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 10, .burst = 5}, &clock);
  clock.Advance(absl::Hours(1));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  EXPECT_GT(limiter.Take(kAlice), absl::ZeroDuration());
  // Idle for an hour after using it: still only the burst.
  clock.Advance(absl::Hours(1));
  for (int i = 0; i < 5; ++i) ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  EXPECT_GT(limiter.Take(kAlice), absl::ZeroDuration());
}

TEST(RateLimiterTest, AClockGoingBackRefillsNothing) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 1, .burst = 1}, &clock);
  ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  clock.Advance(-absl::Hours(1));
  EXPECT_GT(limiter.Take(kAlice), absl::ZeroDuration());
}

TEST(RateLimiterTest, IdleBucketsAreDropped) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 10, .burst = 10}, &clock);  // refills in 1 s
  for (uint32_t uid = 1000; uid < 11'000; ++uid) limiter.Take(uid);
  EXPECT_EQ(limiter.buckets(), 10'000u);
  // Two refill times later every one of them is full again: the next call drops them.
  clock.Advance(absl::Seconds(2));
  limiter.Take(kAlice);
  EXPECT_EQ(limiter.buckets(), 1u);
}

TEST(RateLimiterTest, BucketsThatAreNotFullAreKept) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 1, .burst = 2}, &clock);  // refills in 2 s
  ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  clock.Advance(absl::Seconds(1));
  ASSERT_EQ(limiter.Take(kAlice), absl::ZeroDuration());  // 1 came back, 0 left
  clock.Advance(absl::Seconds(1));
  limiter.Take(kBob);  // sweeps: alice's bucket holds 1 of 2
  EXPECT_EQ(limiter.buckets(), 2u);
  EXPECT_EQ(limiter.Take(kAlice), absl::ZeroDuration());
  EXPECT_GT(limiter.Take(kAlice), absl::ZeroDuration());  // a fresh bucket would hold 2
}

TEST(RateLimiterTest, ConcurrentCallersGetExactlyTheBurst) {
  FakeClock clock;
  RateLimiter limiter({.per_second = 1, .burst = 1000}, &clock);
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        if (limiter.Take(kAlice) == absl::ZeroDuration()) ++accepted;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(accepted.load(), 1000);
}

// What the limiter's answer becomes on the wire (retry-after-ms) and in the message.
TEST(RetryAfterTest, MetadataRoundsUpAndParsesBack) {
  EXPECT_EQ(FormatRetryAfter(absl::Milliseconds(350)), "350");
  EXPECT_EQ(FormatRetryAfter(absl::Microseconds(1)), "1");  // waiting 0 ms would not do
  EXPECT_EQ(FormatRetryAfter(absl::Seconds(12)), "12000");
  EXPECT_EQ(ParseRetryAfter("350"), absl::Milliseconds(350));
  EXPECT_EQ(ParseRetryAfter("0"), absl::ZeroDuration());
  for (const char* bad : {"", "-5", "3.5", "350ms", " 350", "99999999999999999999"}) {
    EXPECT_EQ(ParseRetryAfter(bad), std::nullopt) << bad;
  }
}

TEST(RetryAfterTest, TextForPeople) {
  EXPECT_EQ(RetryAfterText(absl::Milliseconds(350)), "0.35 s");
  EXPECT_EQ(RetryAfterText(absl::Milliseconds(1)), "0.01 s");
  EXPECT_EQ(RetryAfterText(absl::Milliseconds(2500)), "2.50 s");
  EXPECT_EQ(RetryAfterText(absl::Seconds(42)), "42 s");
}

}  // namespace
}  // namespace drocc::api
