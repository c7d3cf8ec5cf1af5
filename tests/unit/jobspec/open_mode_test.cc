#include "client/jobspec/open_mode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "jobspec_test_util.h"

namespace drocc::client {
namespace {

struct OpenModeCase {
  std::string text;
  std::string mode;
};

void PrintTo(const OpenModeCase& c, std::ostream* os) { *os << c.text; }

class ParseOpenModeValid : public ::testing::TestWithParam<OpenModeCase> {};

TEST_P(ParseOpenModeValid, Parses) {
  absl::StatusOr<std::string> got = ParseOpenMode(GetParam().text);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, GetParam().mode);
}

// sbatch's arg_set_open_mode reads the first letter only, in either case.
INSTANTIATE_TEST_SUITE_P(
    SbatchForms, ParseOpenModeValid,
    ::testing::Values(OpenModeCase{"append", "append"}, OpenModeCase{"truncate", "truncate"},
                      OpenModeCase{"APPEND", "append"}, OpenModeCase{"Truncate", "truncate"},
                      OpenModeCase{"a", "append"}, OpenModeCase{"T", "truncate"},
                      OpenModeCase{"appendix", "append"}, OpenModeCase{"trunc", "truncate"}));

class ParseOpenModeInvalid : public ::testing::TestWithParam<std::string> {};

TEST_P(ParseOpenModeInvalid, Rejects) {
  absl::StatusOr<std::string> got = ParseOpenMode(GetParam(), "--open-mode");
  ASSERT_FALSE(got.ok()) << GetParam();
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(testing::Msg(got.status()),
            "invalid open mode \"" + GetParam() +
                "\" (--open-mode): use append (keep what the output files hold, e.g. from an "
                "earlier run of a requeued job) or truncate (start them empty)");
}

INSTANTIATE_TEST_SUITE_P(Rejected, ParseOpenModeInvalid,
                         ::testing::Values("", "x", "overwrite", " append", "1", "-a"));

TEST(ParseOpenMode, WithoutAnOptionNameTheMessageNamesNone) {
  absl::StatusOr<std::string> got = ParseOpenMode("keep");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(testing::Msg(got.status()), ::testing::StartsWith("invalid open mode \"keep\": use"));
}

}  // namespace
}  // namespace drocc::client
