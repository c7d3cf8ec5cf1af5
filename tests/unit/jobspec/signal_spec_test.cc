#include "client/jobspec/signal_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <ostream>
#include <string>

#include "jobspec_test_util.h"

namespace drocc::client {
namespace {

using ::testing::HasSubstr;

struct SignalCase {
  std::string text;
  int signal;
  uint32_t seconds_before;
  bool batch_only;
};

void PrintTo(const SignalCase& c, std::ostream* os) { *os << c.text; }

class ParseSignalValid : public ::testing::TestWithParam<SignalCase> {};

TEST_P(ParseSignalValid, Parses) {
  absl::StatusOr<SignalSpec> got = ParseSignalSpec(GetParam().text);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->signal, GetParam().signal);
  EXPECT_EQ(got->seconds_before, GetParam().seconds_before);
  EXPECT_EQ(got->batch_only, GetParam().batch_only);
}

INSTANTIATE_TEST_SUITE_P(
    SbatchForms, ParseSignalValid,
    ::testing::Values(
        SignalCase{"B:USR1@90", SIGUSR1, 90, true},
        SignalCase{"USR1", SIGUSR1, 60, false},  // sbatch's default time: 60 s
        SignalCase{"10@60", 10, 60, false}, SignalCase{"10", 10, 60, false},
        SignalCase{"SIGUSR2@120", SIGUSR2, 120, false}, SignalCase{"sigterm", SIGTERM, 60, false},
        SignalCase{"b:term@0", SIGTERM, 0, true},
        SignalCase{"R:USR1@30", SIGUSR1, 30, false},  // R: accepted, ignored
        SignalCase{"RB:USR1@30", SIGUSR1, 30, true}, SignalCase{"BR:INT", SIGINT, 60, true},
        SignalCase{"KILL", SIGKILL, 60, false}, SignalCase{"HUP@65535", SIGHUP, 65535, false},
        SignalCase{"64", 64, 60, false}, SignalCase{"1", 1, 60, false},
        SignalCase{"CONT", SIGCONT, 60, false}, SignalCase{"TTOU", SIGTTOU, 60, false}));

class ParseSignalInvalid : public ::testing::TestWithParam<std::string> {};

TEST_P(ParseSignalInvalid, Rejects) {
  absl::StatusOr<SignalSpec> got = ParseSignalSpec(GetParam(), "--signal");
  ASSERT_FALSE(got.ok()) << GetParam();
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::Msg(got.status()),
              HasSubstr("invalid signal \"" + GetParam() + "\" (--signal)"));
}

INSTANTIATE_TEST_SUITE_P(Rejected, ParseSignalInvalid,
                         ::testing::Values("", "FOO", "SIG", "0", "65", "1000", "USR1@", "USR1@-5",
                                           "USR1@abc", "USR1@65536", "USR1@90s", "X:USR1",
                                           "B:", "@60", "USR1 ", " USR1", "-10", "B:B:USR1"));

TEST(ParseSignalSpec, ErrorShowsTheAcceptedForm) {
  absl::StatusOr<SignalSpec> got = ParseSignalSpec("FOO");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr("use [B:]SIGNAL[@SECONDS], e.g. B:USR1@90"));
}

TEST(ParseSignalSpec, ErrorAboutTheTimeNamesItsRange) {
  absl::StatusOr<SignalSpec> got = ParseSignalSpec("USR1@70000");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr("0 to 65535"));
}

}  // namespace
}  // namespace drocc::client
