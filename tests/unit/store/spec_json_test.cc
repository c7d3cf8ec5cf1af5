#include "daemon/store/spec_json.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/store/test_util.h"

namespace drocc::store {
namespace {

using queue::JobSpec;
using ::testing::HasSubstr;

JobSpec RoundTrip(const JobSpec& spec) {
  absl::StatusOr<std::string> json = JobSpecToJson(spec);
  EXPECT_TRUE(json.ok()) << json.status();
  absl::StatusOr<JobSpec> back = JobSpecFromJson(json.ok() ? *json : "");
  EXPECT_TRUE(back.ok()) << back.status();
  return back.ok() ? *back : JobSpec{};
}

TEST(SpecJsonTest, EveryFieldRoundTrips) {
  JobSpec spec = MakeJob().spec;
  spec.script_path = "/home/u/run.sh";
  spec.export_mode = "NONE";
  spec.output = "out-%j.log";
  spec.error = "err-%j.log";
  spec.open_mode = queue::kOpenModeAppend;
  spec.max_nodes = 4;
  spec.ntasks = 8;
  spec.cpus_per_task = 6;
  spec.gres = "gpu:a100:4";
  spec.time_limit_s = -1;
  spec.priority = -5;
  spec.mem_mb = uint64_t{1} << 40;
  spec.script += std::string("nul:\0:end ünïcødé 🚀 \"quotes\" \\", 32);
  EXPECT_EQ(RoundTrip(spec), spec);
}

TEST(SpecJsonTest, ZeroFieldsAreLeftOut) {
  EXPECT_EQ(*JobSpecToJson(JobSpec{}), "{}");
  EXPECT_EQ(RoundTrip(JobSpec{}), JobSpec{});
  JobSpec spec;
  spec.nodes = 2;
  EXPECT_EQ(*JobSpecToJson(spec), R"({"nodes":2})");
}

TEST(SpecJsonTest, MissingAndNullFieldsReadAsZero) {
  absl::StatusOr<JobSpec> spec = JobSpecFromJson(R"({"name":"x","nodes":null})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  JobSpec want;
  want.name = "x";
  EXPECT_EQ(*spec, want);
}

TEST(SpecJsonTest, OpenModeIsStoredAndSpecsWithoutItReadAsSlurmsDefault) {
  JobSpec spec;
  spec.open_mode = queue::kOpenModeTruncate;
  EXPECT_EQ(*JobSpecToJson(spec), R"({"open_mode":"truncate"})");
  EXPECT_EQ(RoundTrip(spec), spec);
  // As a droccd from before --open-mode stored it.
  absl::StatusOr<JobSpec> old = JobSpecFromJson(R"({"name":"x","output":"o-%j.log"})");
  ASSERT_TRUE(old.ok()) << old.status();
  EXPECT_EQ(old->open_mode, "");
  EXPECT_EQ(old->output, "o-%j.log");
}

TEST(SpecJsonTest, UnknownFieldsAreIgnored) {
  // As a newer droccd might write it.
  absl::StatusOr<JobSpec> spec =
      JobSpecFromJson(R"({"name":"x","checkpoint":{"every_s":600},"signal":{"signal":10,"x":1}})");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "x");
  EXPECT_EQ(spec->signal.signal, 10);
}

TEST(SpecJsonTest, GarbageIsDataLoss) {
  for (const char* bad : {"", "not json", "[1,2]", "\"str\"", R"({"nodes":"two"})",
                          R"({"labels":["a"]})", R"({"args":"a b"})"}) {
    absl::StatusOr<JobSpec> spec = JobSpecFromJson(bad);
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kDataLoss) << bad;
  }
}

TEST(SpecJsonTest, TextThatIsNotUtf8IsRefused) {
  JobSpec spec;
  spec.args = {"ok", "bad \xc3\x28"};
  absl::StatusOr<std::string> json = JobSpecToJson(spec);
  EXPECT_EQ(json.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(json.status().message(), HasSubstr("UTF-8"));
}

TEST(AmountJsonTest, RoundTripsExactly) {
  const queue::AmountMap amounts = {{"gpu-hours", 1'500},
                                    {"cpu-hours", -3},
                                    {"node-hours", 0},
                                    {"big", 9'000'000'000'000'000'000}};
  EXPECT_EQ(AmountMapToJson({}), "{}");
  EXPECT_EQ(AmountMapToJson({{"gpu-hours", 1'500}}), R"({"gpu-hours":1500})");
  absl::StatusOr<queue::AmountMap> back = AmountMapFromJson(AmountMapToJson(amounts));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, amounts);
  EXPECT_EQ(*AmountMapFromJson("{}"), queue::AmountMap{});
  EXPECT_EQ(*AmountMapFromJson(R"( { "gpu-hours" : 7 } )"), (queue::AmountMap{{"gpu-hours", 7}}));
}

TEST(AmountJsonTest, GarbageIsDataLoss) {
  for (const char* bad :
       {"", "not json", "[1]", "7", R"({"gpu-hours":"7"})", R"({"gpu-hours":1.5})",
        R"({"gpu-hours":null})", R"({"gpu-hours":9223372036854775808})"}) {
    EXPECT_EQ(AmountMapFromJson(bad).status().code(), absl::StatusCode::kDataLoss) << bad;
  }
}

}  // namespace
}  // namespace drocc::store
