#include "client/jobspec/resources.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "jobspec_test_util.h"

namespace drocc::client {
namespace {

using ::testing::HasSubstr;

TEST(ParseNodeRange, SingleCountIsMinAndMax) {
  absl::StatusOr<NodeRange> got = ParseNodeRange("2");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->min, 2u);
  EXPECT_EQ(got->max, 2u);
}

TEST(ParseNodeRange, MinMax) {
  absl::StatusOr<NodeRange> got = ParseNodeRange("2-4");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->min, 2u);
  EXPECT_EQ(got->max, 4u);
}

TEST(ParseNodeRange, EqualMinMax) {
  absl::StatusOr<NodeRange> got = ParseNodeRange("3-3");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->min, 3u);
  EXPECT_EQ(got->max, 3u);
}

struct BadRange {
  std::string text;
  std::string message_part;
};

void PrintTo(const BadRange& c, std::ostream* os) { *os << c.text; }

class ParseNodeRangeInvalid : public ::testing::TestWithParam<BadRange> {};

TEST_P(ParseNodeRangeInvalid, Rejects) {
  absl::StatusOr<NodeRange> got = ParseNodeRange(GetParam().text, "-N/--nodes");
  ASSERT_FALSE(got.ok()) << GetParam().text;
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr("(-N/--nodes)"));
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(
    Rejected, ParseNodeRangeInvalid,
    ::testing::Values(BadRange{"0", "at least 1 node"}, BadRange{"0-2", "at least 1 node"},
                      BadRange{"4-2", "the minimum 4 is more than the maximum 2"},
                      BadRange{"", "use N or MIN-MAX"}, BadRange{"two", "use N or MIN-MAX"},
                      BadRange{"2-", "use N or MIN-MAX"}, BadRange{"-2", "use N or MIN-MAX"},
                      BadRange{"1-2-3", "use N or MIN-MAX"}, BadRange{"1k", "use N or MIN-MAX"},
                      BadRange{"2,4", "use N or MIN-MAX"},
                      BadRange{"4294967296", "use N or MIN-MAX"}));

TEST(ParsePositiveCount, AcceptsWholeNumbers) {
  EXPECT_EQ(ParsePositiveCount("1", "number of tasks").value(), 1u);
  EXPECT_EQ(ParsePositiveCount("128", "number of tasks").value(), 128u);
  EXPECT_EQ(ParsePositiveCount("4294967295", "number of tasks").value(), 4294967295u);
}

TEST(ParsePositiveCount, RejectsZeroNegativeAndJunk) {
  for (const char* text : {"0", "-1", "", "4x", "x", "1.5", "4294967296", " 4"}) {
    absl::StatusOr<uint32_t> got = ParsePositiveCount(text, "number of tasks", "-n/--ntasks");
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_THAT(testing::Msg(got.status()),
                HasSubstr("invalid number of tasks \"" + std::string(text) +
                          "\" (-n/--ntasks): use a whole number of at least 1"));
  }
}

TEST(ParseGpusPerNode, CountOnly) {
  absl::StatusOr<GpuRequest> got = ParseGpusPerNode("4");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->type, "");
  EXPECT_EQ(got->count, 4u);
}

TEST(ParseGpusPerNode, TypeAndCount) {
  absl::StatusOr<GpuRequest> got = ParseGpusPerNode("a100:2");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->type, "a100");
  EXPECT_EQ(got->count, 2u);
}

TEST(ParseGpusPerNode, ZeroMeansNone) {
  absl::StatusOr<GpuRequest> got = ParseGpusPerNode("0");
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->count, 0u);
}

TEST(ParseGpusPerNode, Rejects) {
  for (const char* text : {"", "a100", "a100:", ":2", "-1", "2:a100", "a 100:2", "a100:2:3"}) {
    absl::StatusOr<GpuRequest> got = ParseGpusPerNode(text, "--gpus-per-node");
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_THAT(testing::Msg(got.status()), HasSubstr("use N or TYPE:N"));
    EXPECT_THAT(testing::Msg(got.status()), HasSubstr("(--gpus-per-node)"));
  }
}

struct GresCase {
  std::string text;
  std::string gres;
  uint32_t gpus;
};

void PrintTo(const GresCase& c, std::ostream* os) { *os << c.text; }

class ParseGresValid : public ::testing::TestWithParam<GresCase> {};

TEST_P(ParseGresValid, KeepsTheListAndCountsGpus) {
  absl::StatusOr<GresRequest> got = ParseGres(GetParam().text);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->gres, GetParam().gres);
  EXPECT_EQ(got->gpus, GetParam().gpus);
}

INSTANTIATE_TEST_SUITE_P(
    Forms, ParseGresValid,
    ::testing::Values(GresCase{"gpu:2", "gpu:2", 2}, GresCase{"gpu", "gpu", 1},
                      GresCase{"gpu:a100", "gpu:a100", 1},  // a non-numeric last field is a type
                      GresCase{"gpu:a100:4", "gpu:a100:4", 4},
                      GresCase{"gpu:a100:2,nvme:1", "gpu:a100:2,nvme:1", 2},
                      GresCase{"nvme:1", "nvme:1", 0}, GresCase{"GPU:3", "GPU:3", 3},
                      GresCase{"gpu:a100:1,gpu:v100:2", "gpu:a100:1,gpu:v100:2", 3},
                      GresCase{"mps:100", "mps:100", 0}, GresCase{"none", "", 0},
                      GresCase{"NONE", "", 0}));

class ParseGresInvalid : public ::testing::TestWithParam<std::string> {};

TEST_P(ParseGresInvalid, Rejects) {
  absl::StatusOr<GresRequest> got = ParseGres(GetParam(), "--gres");
  ASSERT_FALSE(got.ok()) << GetParam();
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::Msg(got.status()),
              HasSubstr("invalid generic resource request \"" + GetParam() + "\" (--gres)"));
}

INSTANTIATE_TEST_SUITE_P(Rejected, ParseGresInvalid,
                         ::testing::Values("", "gpu:0", "gpu:a100:0", "gpu:a100:x", "gpu::2", ":2",
                                           "gpu:2,", ",gpu:2", "gpu:a:b:2", "gpu 2", "gpu=2", "2",
                                           "gpu:99999999999"));

TEST(ParseGres, EqualsSignGetsAHint) {
  absl::StatusOr<GresRequest> got = ParseGres("gpu=2");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr("e.g. gpu:2 (not gpu=2)"));
}

TEST(ParsePriority, AcceptsInt32Range) {
  EXPECT_EQ(ParsePriority("0").value(), 0);
  EXPECT_EQ(ParsePriority("10").value(), 10);
  EXPECT_EQ(ParsePriority("-5").value(), -5);
  EXPECT_EQ(ParsePriority("2147483647").value(), 2147483647);
  EXPECT_EQ(ParsePriority("-2147483648").value(), -2147483647 - 1);
}

TEST(ParsePriority, Rejects) {
  for (const char* text : {"", "-", "TOP", "2147483648", "-2147483649", "1.5", "+3", "3 "}) {
    absl::StatusOr<int32_t> got = ParsePriority(text, "--priority");
    ASSERT_FALSE(got.ok()) << text;
    EXPECT_THAT(testing::Msg(got.status()), HasSubstr("(--priority): use a whole number"));
  }
}

}  // namespace
}  // namespace drocc::client
