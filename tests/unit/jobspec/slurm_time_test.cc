#include "client/jobspec/slurm_time.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "jobspec_test_util.h"

namespace drocc::client {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

struct TimeCase {
  std::string text;
  int64_t seconds;
};

void PrintTo(const TimeCase& c, std::ostream* os) { *os << c.text; }

class ParseSlurmTimeValid : public ::testing::TestWithParam<TimeCase> {};

TEST_P(ParseSlurmTimeValid, ParsesToSeconds) {
  absl::StatusOr<int64_t> got = ParseSlurmTime(GetParam().text);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, GetParam().seconds);
}

INSTANTIATE_TEST_SUITE_P(
    EverySbatchFormat, ParseSlurmTimeValid,
    ::testing::Values(
        // minutes
        TimeCase{"1", 60}, TimeCase{"90", 5400}, TimeCase{"0090", 5400},
        // minutes:seconds
        TimeCase{"1:30", 90}, TimeCase{"0:45", 45}, TimeCase{"120:00", 7200},
        // hours:minutes:seconds
        TimeCase{"2:00:00", 7200}, TimeCase{"01:02:03", 3723}, TimeCase{"0:0:1", 1},
        // fields are not range-checked, as in Slurm
        TimeCase{"0:90:00", 5400}, TimeCase{"1:75", 135},
        // days-hours
        TimeCase{"1-0", 86400}, TimeCase{"1-12", 129600}, TimeCase{"0-1", 3600},
        // days-hours:minutes
        TimeCase{"1-0:30", 88200}, TimeCase{"2-03:04", 2 * 86400 + 3 * 3600 + 4 * 60},
        // days-hours:minutes:seconds
        TimeCase{"1-00:00:01", 86401}, TimeCase{"7-23:59:59", 7 * 86400 + 86399},
        // the largest accepted
        TimeCase{"24855-03:14:07", kMaxTimeLimitSeconds},
        // no limit, any case
        TimeCase{"UNLIMITED", kUnlimitedTime}, TimeCase{"unlimited", kUnlimitedTime},
        TimeCase{"INFINITE", kUnlimitedTime}, TimeCase{"Infinite", kUnlimitedTime}));

struct BadTime {
  std::string text;
  std::string message_part;
};

void PrintTo(const BadTime& c, std::ostream* os) { *os << c.text; }

class ParseSlurmTimeInvalid : public ::testing::TestWithParam<BadTime> {};

TEST_P(ParseSlurmTimeInvalid, ExplainsTheProblem) {
  absl::StatusOr<int64_t> got = ParseSlurmTime(GetParam().text, "-t/--time");
  ASSERT_FALSE(got.ok()) << GetParam().text << " parsed as " << *got;
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr(GetParam().message_part));
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr("(-t/--time)"));
  EXPECT_EQ(std::string(testing::Msg(got.status())).find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Rejected, ParseSlurmTimeInvalid,
    ::testing::Values(
        BadTime{"", "empty time limit"}, BadTime{"abc", "use minutes, MM:SS, HH:MM:SS, D-HH"},
        BadTime{"-5", "cannot be negative"}, BadTime{"-1", "say UNLIMITED"},
        BadTime{"5m", "invalid time limit \"5m\""}, BadTime{"1:2:3:4", "invalid time limit"},
        BadTime{"1-2:3:4:5", "invalid time limit"}, BadTime{"1:", "invalid time limit"},
        BadTime{":30", "invalid time limit"}, BadTime{"1::2", "invalid time limit"},
        BadTime{"1-", "invalid time limit"}, BadTime{"-1-2", "negative"},
        BadTime{"1-2-3", "invalid time limit"}, BadTime{" 5", "invalid time limit"},
        BadTime{"5 ", "invalid time limit"}, BadTime{"+5", "invalid time limit"},
        BadTime{"1.5", "invalid time limit"}, BadTime{"2:00:00x", "invalid time limit"},
        BadTime{"UNLIMITEDX", "invalid time limit"},
        BadTime{"99999999999999999999999", "invalid time limit"},
        BadTime{"24855-03:14:08", "too long"}, BadTime{"40000000", "too long"},
        BadTime{"0", "is zero, which sbatch reads as no limit"}, BadTime{"0:00", "is zero"},
        BadTime{"0-0:0:0", "is zero"}));

TEST(ParseSlurmTime, ErrorMatchesTheDocumentedExample) {
  absl::StatusOr<int64_t> got = ParseSlurmTime("abc", "-t");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(testing::Msg(got.status()),
              StartsWith("invalid time limit \"abc\" (-t): use minutes, MM:SS, HH:MM:SS, D-HH, "
                         "D-HH:MM or D-HH:MM:SS"));
}

TEST(ParseSlurmTime, WithoutOptionTheMessageHasNoParentheses) {
  absl::StatusOr<int64_t> got = ParseSlurmTime("abc");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(testing::Msg(got.status()), StartsWith("invalid time limit \"abc\": "));
}

struct FormatCase {
  int64_t seconds;
  std::string text;
};

void PrintTo(const FormatCase& c, std::ostream* os) { *os << c.seconds; }

class FormatSlurmTimeTest : public ::testing::TestWithParam<FormatCase> {};

TEST_P(FormatSlurmTimeTest, FormatsLikeSlurm) {
  EXPECT_EQ(FormatSlurmTime(GetParam().seconds), GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, FormatSlurmTimeTest,
    ::testing::Values(FormatCase{0, "00:00:00"}, FormatCase{59, "00:00:59"},
                      FormatCase{3723, "01:02:03"}, FormatCase{86399, "23:59:59"},
                      FormatCase{86400, "1-00:00:00"}, FormatCase{86401, "1-00:00:01"},
                      FormatCase{10 * 86400 + 5, "10-00:00:05"},
                      FormatCase{kUnlimitedTime, "UNLIMITED"}, FormatCase{-7, "INVALID"}));

TEST(FormatSlurmTime, RoundTripsThroughParse) {
  for (int64_t seconds : {int64_t{1}, int64_t{61}, int64_t{3600}, int64_t{86399}, int64_t{86400},
                          int64_t{123456}, kMaxTimeLimitSeconds, kUnlimitedTime}) {
    absl::StatusOr<int64_t> back = ParseSlurmTime(FormatSlurmTime(seconds));
    ASSERT_TRUE(back.ok()) << FormatSlurmTime(seconds) << ": " << back.status();
    EXPECT_EQ(*back, seconds) << FormatSlurmTime(seconds);
  }
}

}  // namespace
}  // namespace drocc::client
