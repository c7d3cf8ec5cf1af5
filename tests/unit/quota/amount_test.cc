#include "daemon/quota/amount.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

namespace drocc::quota {
namespace {

TEST(AmountTest, FormatsWithOneToThreeDecimals) {
  struct Case {
    int64_t milli;
    const char* text;
  };
  const Case cases[] = {
      {0, "0.0"},
      {12'500, "12.5"},
      {40'000, "40.0"},
      {500'000, "500.0"},
      {125, "0.125"},
      {1, "0.001"},
      {10, "0.01"},
      {1'230, "1.23"},
      {-3'250, "-3.25"},
      {-1, "-0.001"},
      {999'999, "999.999"},
      {INT64_MAX, "9223372036854775.807"},
      {INT64_MIN, "-9223372036854775.808"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatMilli(MilliUnits::FromMilli(c.milli)), c.text) << c.milli;
  }
  EXPECT_EQ(FormatAmount(MilliUnits::FromMilli(12'500), "gpu-hours"), "12.5 gpu-hours");
}

TEST(AmountTest, ParsesExactly) {
  struct Case {
    const char* text;
    int64_t milli;
    const char* unit;
  };
  const Case cases[] = {
      {"12.5", 12'500, ""},
      {"500", 500'000, ""},
      {"0.125", 125, ""},
      {".5", 500, ""},
      {"7.", 0, nullptr},  // no digits after the point
      {"12.5 gpu-hours", 12'500, "gpu-hours"},
      {"12.5gpu-hours", 0, nullptr},  // a unit needs a space
      {"  3 cpu-hours  ", 3'000, "cpu-hours"},
      {"0.001", 1, ""},
      {"1000000000000", 1'000'000'000'000'000, ""},
  };
  for (const Case& c : cases) {
    absl::StatusOr<ParsedAmount> a = ParseAmount(c.text);
    if (c.unit == nullptr) {
      EXPECT_FALSE(a.ok()) << c.text;
      continue;
    }
    ASSERT_TRUE(a.ok()) << c.text << ": " << a.status();
    EXPECT_EQ(a->amount.milli(), c.milli) << c.text;
    EXPECT_EQ(a->unit, c.unit) << c.text;
  }
}

TEST(AmountTest, RejectsWhatIsNotAnExactAmount) {
  for (const char* text :
       {"", " ", "abc", "1.2345", "-1", "+1", "1e3", "1,5", "12.5 gpu hours", "12.5 $",
        "1000000000000.001", "99999999999999999999", "1.5.2", "0x10", "12 3"}) {
    absl::StatusOr<ParsedAmount> a = ParseAmount(text);
    EXPECT_FALSE(a.ok()) << "\"" << text << "\" parsed as " << FormatMilli(a->amount);
    if (!a.ok()) {
      EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(a.status().message().find("at most 3 decimals"), absl::string_view::npos);
    }
  }
  EXPECT_NE(ParseAmount("1.2345").status().message().find("more than 3 decimals"),
            absl::string_view::npos);
}

TEST(AmountTest, FormatThenParseRoundTrips) {
  std::mt19937_64 rng(4);
  std::uniform_int_distribution<int64_t> dist(0, kMaxAmount.milli());
  for (int i = 0; i < 10'000; ++i) {
    const MilliUnits a = MilliUnits::FromMilli(i < 2000 ? i : dist(rng));
    absl::StatusOr<ParsedAmount> back = ParseAmount(FormatAmount(a, "node-hours"));
    ASSERT_TRUE(back.ok()) << FormatMilli(a);
    EXPECT_EQ(back->amount, a);
    EXPECT_EQ(back->unit, "node-hours");
  }
}

TEST(AmountTest, ArithmeticSaturatesInsteadOfWrapping) {
  const MilliUnits one = MilliUnits::FromMilli(1);
  EXPECT_EQ(MilliUnits::Max() + one, MilliUnits::Max());
  EXPECT_EQ(MilliUnits::Min() - one, MilliUnits::Min());
  EXPECT_EQ(MilliUnits::Min() + MilliUnits::FromMilli(-1), MilliUnits::Min());
  EXPECT_EQ(MilliUnits::Max() - MilliUnits::FromMilli(-1), MilliUnits::Max());
  EXPECT_EQ(MilliUnits::FromMilli(5) - MilliUnits::FromMilli(7), MilliUnits::FromMilli(-2));
  EXPECT_EQ(MilliUnits::FromUnits(INT64_MAX / 10), MilliUnits::Max());
  EXPECT_EQ(MilliUnits::FromUnits(-(INT64_MAX / 10)), MilliUnits::Min());
  EXPECT_EQ(MilliUnits::FromUnits(3).milli(), 3000);
  MilliUnits acc = MilliUnits::Max();
  acc += one;
  EXPECT_EQ(acc, MilliUnits::Max());
}

TEST(AmountTest, CheckedArithmeticRefusesOverflow) {
  EXPECT_FALSE(CheckedAdd(MilliUnits::Max(), MilliUnits::FromMilli(1)).has_value());
  EXPECT_FALSE(CheckedSub(MilliUnits::Min(), MilliUnits::FromMilli(1)).has_value());
  EXPECT_EQ(CheckedAdd(MilliUnits::FromMilli(2), MilliUnits::FromMilli(3)),
            MilliUnits::FromMilli(5));
  EXPECT_EQ(CheckedSub(MilliUnits::FromMilli(2), MilliUnits::FromMilli(3)),
            MilliUnits::FromMilli(-1));
}

}  // namespace
}  // namespace drocc::quota
