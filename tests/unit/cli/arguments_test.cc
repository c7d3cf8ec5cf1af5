#include "client/cli/arguments.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "client/cli/output.h"

namespace drocc::cli {
namespace {

using ::testing::HasSubstr;

TEST(ParseAmountMilliTest, ParsesExactly) {
  struct Case {
    const char* text;
    int64_t milli;
  };
  const Case cases[] = {
      {"0", 0},
      {"2", 2'000},
      {"2.5", 2'500},
      {"2.50", 2'500},
      {"2.500", 2'500},
      {"0.125", 125},
      {"0.001", 1},
      {"0.1", 100},
      {"007", 7'000},
      {"500", 500'000},
      {"12.34", 12'340},
      {"999.999", 999'999},
      // The largest value int64 thousandths hold, and the largest whole number.
      {"9223372036854775.807", INT64_MAX},
      {"9223372036854775", 9223372036854775'000},
  };
  for (const Case& c : cases) {
    absl::StatusOr<int64_t> got = ParseAmountMilli(c.text);
    ASSERT_TRUE(got.ok()) << c.text << ": " << got.status();
    EXPECT_EQ(*got, c.milli) << c.text;
  }
}

TEST(ParseAmountMilliTest, RejectsWhatIsNotAnExactDecimal) {
  struct Case {
    const char* text;
    const char* why;
  };
  const Case cases[] = {
      {"", "is not a number"},
      {".5", "is not a number"},
      {"-2", "is not a number"},
      {"+2", "is not a number"},
      {" 2", "is not a number"},
      {"2 ", "something other than digits"},
      {"2.", "no digits after the decimal point"},
      {"2.5555", "more than 3 decimals"},
      {"0.0001", "more than 3 decimals"},
      {"1e3", "something other than digits"},
      {"2,5", "something other than digits"},
      {"1.2.3", "something other than digits"},
      {"500 gpu-hours", "something other than digits"},
      {"2gpu-hours", "something other than digits"},
      {"0x10", "something other than digits"},
      {"nan", "is not a number"},
      {"9223372036854775.808", "too large"},
      {"9223372036854776", "too large"},
      {"99999999999999999999999", "too large"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<int64_t> got = ParseAmountMilli(c.text);
    ASSERT_FALSE(got.ok()) << "\"" << c.text << "\" parsed as " << *got;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(got.status().message(), HasSubstr(c.why)) << c.text;
    EXPECT_THAT(got.status().message(), HasSubstr(absl::StrCat("\"", c.text, "\""))) << c.text;
  }
}

TEST(ParseAmountMilliTest, RoundTripsThroughFormatMilli) {
  for (int64_t milli :
       {int64_t{0}, int64_t{1}, int64_t{10}, int64_t{100}, int64_t{999}, int64_t{1'000},
        int64_t{1'001}, int64_t{52'500}, int64_t{123'456'789}, INT64_MAX}) {
    absl::StatusOr<int64_t> back = ParseAmountMilli(FormatMilli(milli));
    ASSERT_TRUE(back.ok()) << FormatMilli(milli) << ": " << back.status();
    EXPECT_EQ(*back, milli);
  }
}

absl::Time Utc(int y, int mo, int d, int h = 0, int mi = 0, int s = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone());
}

TEST(ParseDateTest, DayIsMidnightUtc) {
  absl::StatusOr<absl::Time> t = ParseDate("2026-11-01");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, Utc(2026, 11, 1));
  t = ParseDate("2024-02-29");  // a leap day
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, Utc(2024, 2, 29));
}

TEST(ParseDateTest, Rfc3339) {
  struct Case {
    const char* text;
    absl::Time want;
  };
  const Case cases[] = {
      {"2026-11-01T14:30:00Z", Utc(2026, 11, 1, 14, 30)},
      {"2026-11-01t14:30:00z", Utc(2026, 11, 1, 14, 30)},
      {"2026-11-01T14:30:00+01:00", Utc(2026, 11, 1, 13, 30)},
      {"2026-11-01T00:30:00-02:00", Utc(2026, 11, 1, 2, 30)},
      {"2026-11-01T14:30:00.25Z", Utc(2026, 11, 1, 14, 30) + absl::Milliseconds(250)},
  };
  for (const Case& c : cases) {
    absl::StatusOr<absl::Time> t = ParseDate(c.text);
    ASSERT_TRUE(t.ok()) << c.text << ": " << t.status();
    EXPECT_EQ(*t, c.want) << c.text;
  }
}

TEST(ParseDateTest, RejectsOtherShapesAndImpossibleDates) {
  for (const char* text : {"",
                           "yesterday",
                           "2026-13-01",
                           "2026-02-30",
                           "2025-02-29",
                           "2026-11-00",
                           "2026-1-1",
                           "26-11-01",
                           "+2026-11-01",
                           "02026-11-01",
                           "2026/11/01",
                           "2026-11-01 ",
                           " 2026-11-01",
                           "2026-11-01T14:30:00",
                           "2026-11-01T25:00:00Z",
                           "2026-11-01 14:30:00Z",
                           "2026-11-01T14:30Z",
                           "2026-11-01Tjunk",
                           "2026-11-01x",
                           "1700000000"}) {
    absl::StatusOr<absl::Time> t = ParseDate(text);
    ASSERT_FALSE(t.ok()) << "\"" << text << "\" parsed as " << *t;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(t.status().message(), HasSubstr(absl::StrCat("\"", text, "\" is not a date")));
    EXPECT_THAT(t.status().message(), HasSubstr("YYYY-MM-DD"));
  }
}

TEST(SetTimestampTest, SplitsSecondsAndNanos) {
  google::protobuf::Timestamp ts;
  SetTimestamp(Utc(2026, 11, 1) + absl::Milliseconds(250), &ts);
  EXPECT_EQ(ts.seconds(), absl::ToUnixSeconds(Utc(2026, 11, 1)));
  EXPECT_EQ(ts.nanos(), 250'000'000);
  // Before the epoch the nanoseconds stay positive, as Timestamp requires.
  SetTimestamp(absl::FromUnixSeconds(0) - absl::Milliseconds(250), &ts);
  EXPECT_EQ(ts.seconds(), -1);
  EXPECT_EQ(ts.nanos(), 750'000'000);
  EXPECT_EQ(ToTime(ts), absl::FromUnixSeconds(0) - absl::Milliseconds(250));
}

TEST(ParseWalltimeLimitTest, SlurmFormatsAndUnlimited) {
  EXPECT_EQ(*ParseWalltimeLimit("90"), 5400);
  EXPECT_EQ(*ParseWalltimeLimit("1:30:00"), 5400);
  EXPECT_EQ(*ParseWalltimeLimit("2-00:00:00"), 2 * 86400);
  EXPECT_EQ(*ParseWalltimeLimit("UNLIMITED"), 0);  // the API's "no limit"
  EXPECT_EQ(*ParseWalltimeLimit("infinite"), 0);
  EXPECT_FALSE(ParseWalltimeLimit("0").ok());
  EXPECT_FALSE(ParseWalltimeLimit("-1").ok());
  EXPECT_FALSE(ParseWalltimeLimit("1h").ok());
  EXPECT_FALSE(ParseWalltimeLimit("").ok());
}

}  // namespace
}  // namespace drocc::cli
