#include "client/jobspec/export_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "jobspec_test_util.h"

namespace drocc::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::vector<std::string> kClient = {"HOME=/home/ana", "PATH=/usr/bin", "EDITOR=vim",
                                          "SLURM_JOB_ID=7"};

TEST(ResolveExport, NotGivenExportsEverythingAsAll) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport(std::nullopt, kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->mode, "ALL");
  EXPECT_EQ(got->variables, kClient);
}

TEST(ResolveExport, AllExportsEverything) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("ALL", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->mode, "ALL");
  EXPECT_EQ(got->variables, kClient);
}

TEST(ResolveExport, KeywordsAnyCase) {
  EXPECT_EQ(ResolveExport("all", kClient)->variables, kClient);
  EXPECT_THAT(ResolveExport("none", kClient)->variables, IsEmpty());
}

TEST(ResolveExport, NoneExportsNothingNotEvenSlurmVariables) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("NONE", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->mode, "NONE");
  EXPECT_THAT(got->variables, IsEmpty());
}

TEST(ResolveExport, NoneWithExplicitVariablesExportsOnlyThose) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("NONE,A=1,EDITOR", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->mode, "NONE,A=1,EDITOR");
  EXPECT_THAT(got->variables, ElementsAre("A=1", "EDITOR=vim"));
}

TEST(ResolveExport, AllPlusValuesAddsThem) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("ALL,A=1,EDITOR", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->mode, "ALL,A=1,EDITOR");
  std::vector<std::string> want = kClient;
  want.push_back("A=1");
  EXPECT_EQ(got->variables, want);
}

TEST(ResolveExport, WithAllTheClientValueWinsOverAnExplicitOne) {
  // sbatch(1): with ALL, "user environment variables ... take precedence over any explicitly
  // given environment variables".
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("ALL,EDITOR=emacs", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->variables, kClient);
}

TEST(ResolveExport, ListWithoutAllExportsOnlyTheList) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("EDITOR,B=2", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->mode, "EDITOR,B=2");
  EXPECT_THAT(got->variables, ElementsAre("EDITOR=vim", "B=2"));
}

TEST(ResolveExport, ListOverridesTheClientValue) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("EDITOR=emacs", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->variables, ElementsAre("EDITOR=emacs"));
}

TEST(ResolveExport, SlurmVariablesAreNotSpecial) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("PATH", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->variables, ElementsAre("PATH=/usr/bin"));
}

TEST(ResolveExport, ValuesMayContainEqualsSigns) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("OPTS=a=1", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->variables, ElementsAre("OPTS=a=1"));
}

TEST(ResolveExport, EmptyValueIsAValue) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("A=", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->variables, ElementsAre("A="));
}

TEST(ResolveExport, RepeatedNameKeepsTheLastValueInFirstPosition) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("A=1,B=2,A=3", kClient);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->variables, ElementsAre("A=3", "B=2"));
}

TEST(ResolveExport, MissingNameIsSkippedWithAWarning) {
  std::vector<std::string> warnings;
  absl::StatusOr<ExportedEnvironment> got = ResolveExport(
      "NOPE,EDITOR", kClient, "--export", [&](std::string_view w) { warnings.emplace_back(w); });
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->variables, ElementsAre("EDITOR=vim"));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("NOPE, which is not set in your environment"));
}

TEST(ResolveExport, MissingNameWithoutWarnCallbackIsFine) {
  EXPECT_TRUE(ResolveExport("NOPE", kClient).ok());
}

TEST(ResolveExport, ClientEntriesWithoutEqualsAreNotNames) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport("JUNK", {"JUNK", "=x", "OK=1"});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_THAT(got->variables, IsEmpty());
}

struct BadExport {
  std::string spec;
  std::string message_part;
};

void PrintTo(const BadExport& c, std::ostream* os) { *os << c.spec; }

class ResolveExportInvalid : public ::testing::TestWithParam<BadExport> {};

TEST_P(ResolveExportInvalid, Rejects) {
  absl::StatusOr<ExportedEnvironment> got = ResolveExport(GetParam().spec, kClient, "--export");
  ASSERT_FALSE(got.ok()) << GetParam().spec;
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::Msg(got.status()),
              HasSubstr("invalid environment export \"" + GetParam().spec + "\" (--export)"));
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr(GetParam().message_part));
}

INSTANTIATE_TEST_SUITE_P(Rejected, ResolveExportInvalid,
                         ::testing::Values(BadExport{"", "empty entry"},
                                           BadExport{"A,,B", "empty entry"},
                                           BadExport{"ALL,", "empty entry"},
                                           BadExport{"ALL,NONE", "ALL and NONE contradict"},
                                           BadExport{"1A=2", "\"1A\" is not a variable name"},
                                           BadExport{"=2", "\"\" is not a variable name"},
                                           BadExport{"A-B=1", "\"A-B\" is not a variable name"},
                                           BadExport{"A B", "\"A B\" is not a variable name"}));

}  // namespace
}  // namespace drocc::client
