#include "client/cli/output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>

namespace drocc::cli {
namespace {

TEST(FormatMilliTest, OneToThreeDecimalsExactly) {
  struct Case {
    int64_t milli;
    const char* text;
  };
  const Case cases[] = {
      {0, "0.0"},
      {52'500, "52.5"},
      {40'000, "40.0"},
      {500'000, "500.0"},
      {125, "0.125"},
      {1, "0.001"},
      {10, "0.01"},
      {100, "0.1"},
      {1'230, "1.23"},
      {1'001, "1.001"},
      {999'999, "999.999"},
      {-3'250, "-3.25"},
      {-1, "-0.001"},
      {-1'000, "-1.0"},
      {INT64_MAX, "9223372036854775.807"},
      {INT64_MIN, "-9223372036854775.808"},
  };
  for (const Case& c : cases) EXPECT_EQ(FormatMilli(c.milli), c.text) << c.milli;
}

TEST(FormatAmountTest, WithUnit) {
  EXPECT_EQ(FormatAmount(52'500, "gpu-hours"), "52.5 gpu-hours");
  EXPECT_EQ(FormatAmount(-1'000, "cpu-hours"), "-1.0 cpu-hours");
  EXPECT_EQ(FormatAmount(1'000, ""), "1.0");
  v1::Amount a;
  a.set_resource("node-hours");
  a.set_milli(2'250);
  EXPECT_EQ(FormatAmount(a), "2.25 node-hours");
  google::protobuf::RepeatedPtrField<v1::Amount> list;
  EXPECT_EQ(FormatAmounts(list), "none");
  *list.Add() = a;
  list.Add()->set_resource("gpu-hours");
  EXPECT_EQ(FormatAmounts(list), "2.25 node-hours, 0.0 gpu-hours");
}

TEST(AmountJsonTest, ExactIntegerAndDecimalString) {
  nlohmann::json j = AmountJson(1'250, "gpu-hours");
  EXPECT_EQ(j["resource"], "gpu-hours");
  EXPECT_EQ(j["amount_milli"], 1'250);
  EXPECT_EQ(j["amount"], "1.25");
}

TEST(CsvTest, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(CsvField("ml-lab"), "ml-lab");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("1.25"), "1.25");
  EXPECT_EQ(CsvField(" spaced "), " spaced ");  // RFC 4180: spaces are part of the field
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("\""), "\"\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\r"), "\"cr\r\"");
}

TEST(CsvTest, Row) {
  EXPECT_EQ(CsvRow({"project", "user", "month"}), "project,user,month\n");
  EXPECT_EQ(CsvRow({"a,b", "", "c"}), "\"a,b\",,c\n");
  EXPECT_EQ(CsvRow({}), "\n");
}

TEST(EnumLabelTest, StripsPrefixAndLowers) {
  EXPECT_EQ(EnumLabel("ACCOUNT_KIND_LAB", "ACCOUNT_KIND_"), "lab");
  EXPECT_EQ(EnumLabel("PROJECT_ROLE_MANAGER", "PROJECT_ROLE_"), "manager");
  EXPECT_EQ(EnumLabel("OTHER", "ACCOUNT_KIND_"), "other");
}

TEST(JobOutputTest, OpenModeShownOnlyWhenGiven) {
  v1::Job job;
  job.set_id(42);
  job.mutable_spec()->set_name("train");
  job.set_stdout_path("/home/alice/slurm-7.out");
  EXPECT_EQ(JobDetail(job).find("Open mode"), std::string::npos);
  EXPECT_TRUE(JobToJson(job)["open_mode"].is_null());

  job.mutable_spec()->set_open_mode("append");
  EXPECT_THAT(JobDetail(job), ::testing::ContainsRegex("\nOpen mode +append\n"));
  EXPECT_EQ(JobToJson(job)["open_mode"], "append");
}

TEST(TimeTest, UnsetIsNone) {
  google::protobuf::Timestamp unset;
  EXPECT_FALSE(IsSet(unset));
  EXPECT_EQ(TimeText(unset), "-");
  EXPECT_TRUE(TimeJson(unset).is_null());
  google::protobuf::Timestamp t;
  t.set_seconds(1'793'491'200);  // 2026-11-01T00:00:00Z
  EXPECT_EQ(TimeJson(t), "2026-11-01T00:00:00Z");
}

}  // namespace
}  // namespace drocc::cli
