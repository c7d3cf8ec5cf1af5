#include "client/cli/output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "absl/time/clock.h"

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
  EXPECT_EQ(JobDetail(job, absl::Now()).find("Open mode"), std::string::npos);
  EXPECT_TRUE(JobToJson(job)["open_mode"].is_null());

  job.mutable_spec()->set_open_mode("append");
  EXPECT_THAT(JobDetail(job, absl::Now()), ::testing::ContainsRegex("\nOpen mode +append\n"));
  EXPECT_EQ(JobToJson(job)["open_mode"], "append");
}

v1::ProgressRecord Progress(std::string phase, int64_t step, uint64_t done, uint64_t total,
                            std::string message, int64_t time_s) {
  v1::ProgressRecord p;
  p.set_phase(std::move(phase));
  p.set_step(step);
  p.set_bytes_done(done);
  p.set_bytes_total(total);
  p.set_message(std::move(message));
  p.mutable_time()->set_seconds(time_s);
  return p;
}

TEST(ProgressOutputTest, BytesWithUnitsAndAPercentThatReaches100OnlyWhenDone) {
  EXPECT_EQ(ProgressBytes(Progress("stage-in", -1, 1536, 4 << 20, "", 1)), "1.5 KiB / 4.0 MiB");
  EXPECT_EQ(ProgressBytes(Progress("stage-in", -1, 512, 0, "", 1)), "512 B");
  EXPECT_EQ(ProgressBytes(Progress("train", 3, 0, 0, "", 1)), "-");
  EXPECT_EQ(ProgressPercent(Progress("stage-in", -1, 0, 0, "", 1)), std::nullopt);
  EXPECT_EQ(ProgressPercent(Progress("stage-in", -1, 0, 10, "", 1)), 0);
  EXPECT_EQ(ProgressPercent(Progress("stage-in", -1, 1, 3, "", 1)), 33);
  EXPECT_EQ(ProgressPercent(Progress("stage-in", -1, 999, 1000, "", 1)), 99);
  EXPECT_EQ(ProgressPercent(Progress("stage-in", -1, 1000, 1000, "", 1)), 100);
  EXPECT_EQ(ProgressPercent(Progress("stage-in", -1, UINT64_MAX / 2, UINT64_MAX, "", 1)), 49);
  EXPECT_EQ(ProgressPercent(Progress("stage-in", -1, UINT64_MAX - 1, UINT64_MAX, "", 1)), 99);
}

TEST(ProgressOutputTest, AgoFromNow) {
  google::protobuf::Timestamp t;
  const absl::Time now = absl::FromUnixSeconds(1'000);
  EXPECT_EQ(Ago(t, now), "-");
  t.set_seconds(988);
  EXPECT_EQ(Ago(t, now), "12s ago");
  t.set_seconds(1'000 - 185);
  EXPECT_EQ(Ago(t, now), "3m 5s ago");
  t.set_seconds(1'005);  // the client's clock behind droccd's
  EXPECT_EQ(Ago(t, now), "0s ago");
}

TEST(ProgressOutputTest, ShowListsEachPhaseAndJsonHasAProgressArray) {
  v1::Job job;
  job.set_id(42);
  job.mutable_spec()->set_name("train");
  EXPECT_EQ(JobDetail(job, absl::Now()).find("Progress"), std::string::npos);
  EXPECT_EQ(JobToJson(job)["progress"], nlohmann::json::array());

  const int64_t t0 = 1'793'491'200;  // 2026-11-01T00:00:00Z
  *job.add_progress() = Progress("stage-in", -1, 4 << 20, 4 << 20, "12 files, verified", t0);
  *job.add_progress() = Progress("train", 1200, 0, 0, "loss 0.31", t0 + 50);
  const std::string text = JobDetail(job, absl::FromUnixSeconds(t0 + 62));
  EXPECT_THAT(text, ::testing::HasSubstr("\nProgress:\nPHASE "));
  EXPECT_THAT(text, ::testing::ContainsRegex(
                        "\nstage-in +- +4.0 MiB / 4.0 MiB +100% +1m 2s ago +12 files, verified\n"));
  EXPECT_THAT(text, ::testing::ContainsRegex("\ntrain +1200 +- +- +12s ago +loss 0.31\n"));

  const nlohmann::json j = JobToJson(job)["progress"];
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0], (nlohmann::json{{"phase", "stage-in"},
                                  {"step", nullptr},
                                  {"bytes_done", 4 << 20},
                                  {"bytes_total", 4 << 20},
                                  {"percent", 100},
                                  {"message", "12 files, verified"},
                                  {"time", "2026-11-01T00:00:00Z"}}));
  EXPECT_EQ(j[1]["phase"], "train");
  EXPECT_EQ(j[1]["step"], 1200);
  EXPECT_TRUE(j[1]["percent"].is_null());
  EXPECT_EQ(j[1]["time"], "2026-11-01T00:00:50Z");
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
