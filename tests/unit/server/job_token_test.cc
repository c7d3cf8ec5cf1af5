// Per-job tokens: a token opens its own job only, and a key is exactly what NewKey makes.

#include "daemon/auth/job_token.h"

#include <gtest/gtest.h>

#include <set>

namespace drocc::auth {
namespace {

JobTokens Tokens() {
  absl::StatusOr<std::string> key = JobTokens::NewKey();
  EXPECT_TRUE(key.ok());
  absl::StatusOr<JobTokens> t = JobTokens::FromKey(*key);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

TEST(JobTokenTest, ATokenOpensItsOwnJobOnly) {
  JobTokens t = Tokens();
  const std::string token = t.TokenFor(42);
  EXPECT_EQ(token.size(), 64u);
  EXPECT_EQ(token, t.TokenFor(42));  // deterministic: the same after a restart
  EXPECT_TRUE(t.Verify(42, token));
  EXPECT_FALSE(t.Verify(43, token));
  EXPECT_FALSE(t.Verify(42, token.substr(1)));
  EXPECT_FALSE(t.Verify(42, ""));
  std::string flipped = token;
  flipped[10] = flipped[10] == 'a' ? 'b' : 'a';
  EXPECT_FALSE(t.Verify(42, flipped));
}

TEST(JobTokenTest, AnotherKeyMakesOtherTokens) {
  JobTokens a = Tokens();
  JobTokens b = Tokens();
  EXPECT_NE(a.TokenFor(1), b.TokenFor(1));
  EXPECT_FALSE(b.Verify(1, a.TokenFor(1)));
  std::set<std::string> seen;
  for (uint64_t id = 1; id <= 1000; ++id) seen.insert(a.TokenFor(id));
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(JobTokenTest, KeysThatAreNotWhatNewKeyMakesAreRefused) {
  for (const char* bad : {"", "abc", "00112233445566778899aabbccddeeff",
                          "ZZ112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                          "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff"}) {
    absl::StatusOr<JobTokens> t = JobTokens::FromKey(bad);
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace drocc::auth
