#include "client/jobspec/memory_size.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "jobspec_test_util.h"

namespace drocc::client {
namespace {

using ::testing::HasSubstr;

struct MemCase {
  std::string text;
  uint64_t mb;
};

void PrintTo(const MemCase& c, std::ostream* os) { *os << c.text; }

class ParseMemoryValid : public ::testing::TestWithParam<MemCase> {};

TEST_P(ParseMemoryValid, ConvertsToMiB) {
  absl::StatusOr<uint64_t> got = ParseMemoryMb(GetParam().text);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, GetParam().mb);
}

INSTANTIATE_TEST_SUITE_P(Units, ParseMemoryValid,
                         ::testing::Values(MemCase{"1024", 1024},  // no suffix = MiB, like sbatch
                                           MemCase{"500M", 500}, MemCase{"500m", 500},
                                           MemCase{"500MB", 500}, MemCase{"4G", 4096},
                                           MemCase{"4g", 4096}, MemCase{"4GB", 4096},
                                           MemCase{"4gb", 4096}, MemCase{"2T", 2 * 1024 * 1024},
                                           MemCase{"512K", 1},  // K rounds up to whole MiB
                                           MemCase{"1K", 1}, MemCase{"1024K", 1},
                                           MemCase{"1025K", 2}, MemCase{"2048k", 2},
                                           MemCase{"0", 0}, MemCase{"007G", 7 * 1024}));

struct BadMem {
  std::string text;
  std::string message_part;
};

void PrintTo(const BadMem& c, std::ostream* os) { *os << c.text; }

class ParseMemoryInvalid : public ::testing::TestWithParam<BadMem> {};

TEST_P(ParseMemoryInvalid, ExplainsTheProblem) {
  absl::StatusOr<uint64_t> got = ParseMemoryMb(GetParam().text, "--mem");
  ASSERT_FALSE(got.ok()) << GetParam().text << " parsed as " << *got;
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr(GetParam().message_part));
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr("(--mem)"));
}

INSTANTIATE_TEST_SUITE_P(
    Rejected, ParseMemoryInvalid,
    ::testing::Values(BadMem{"", "empty memory size"},
                      BadMem{"G", "use a whole number with an optional K, M, G or T suffix"},
                      BadMem{"4X", "invalid memory size \"4X\""}, BadMem{"4P", "suffix"},
                      BadMem{"4B", "suffix"}, BadMem{"4GiB", "suffix"}, BadMem{"4 G", "suffix"},
                      BadMem{"-4G", "suffix"}, BadMem{"+4G", "suffix"},
                      BadMem{"1.5G", "whole numbers only; use a smaller unit (e.g. 1536M)"},
                      BadMem{"99999999999999999999", "too large"},
                      BadMem{"99999999999T", "too large"}));

}  // namespace
}  // namespace drocc::client
