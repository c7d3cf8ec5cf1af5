#include "client/jobspec/sbatch_script.h"

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

std::vector<std::string> Tokens(const std::string& script) {
  absl::StatusOr<std::vector<std::string>> got = ExtractSbatchDirectives(script);
  EXPECT_TRUE(got.ok()) << got.status();
  return got.ok() ? *got : std::vector<std::string>{"<error>"};
}

TEST(ExtractSbatchDirectives, ReadsFlagsInBothForms) {
  EXPECT_THAT(Tokens("#!/bin/bash\n"
                     "#SBATCH -N 2\n"
                     "#SBATCH --ntasks=8\n"
                     "#SBATCH -t 1:00:00 --mem 4G\n"
                     "srun hostname\n"),
              ElementsAre("-N", "2", "--ntasks=8", "-t", "1:00:00", "--mem", "4G"));
}

TEST(ExtractSbatchDirectives, DoubleQuotesKeepSpaces) {
  EXPECT_THAT(Tokens("#!/bin/bash\n#SBATCH -J \"my job\"\n"), ElementsAre("-J", "my job"));
}

TEST(ExtractSbatchDirectives, SingleQuotesKeepSpaces) {
  EXPECT_THAT(Tokens("#!/bin/bash\n#SBATCH --job-name='my  job' -N 1\n"),
              ElementsAre("--job-name=my  job", "-N", "1"));
}

TEST(ExtractSbatchDirectives, QuotesInsideAWordJoin) {
  EXPECT_THAT(Tokens("#!/bin/sh\n#SBATCH --output=\"/scratch/my dir\"/%j.out\n"),
              ElementsAre("--output=/scratch/my dir/%j.out"));
}

TEST(ExtractSbatchDirectives, OtherQuoteIsLiteralInsideQuotes) {
  EXPECT_THAT(Tokens("#!/bin/sh\n#SBATCH -J \"it's\" -e 'say \"hi\"'\n"),
              ElementsAre("-J", "it's", "-e", "say \"hi\""));
}

TEST(ExtractSbatchDirectives, BackslashEscapesQuotesAndHash) {
  EXPECT_THAT(Tokens("#!/bin/sh\n#SBATCH -J a\\\"b -o run\\#1.log\n"),
              ElementsAre("-J", "a\"b", "-o", "run#1.log"));
}

TEST(ExtractSbatchDirectives, BackslashDoesNotEscapeABlankLikeSbatch) {
  EXPECT_THAT(Tokens("#!/bin/sh\n#SBATCH -J a\\ b\n"), ElementsAre("-J", "a", "b"));
}

TEST(ExtractSbatchDirectives, TrailingCommentEndsTheArguments) {
  EXPECT_THAT(Tokens("#!/bin/bash\n#SBATCH -N 2   # two nodes, please\n#SBATCH -n 4 #-n 8\n"),
              ElementsAre("-N", "2", "-n", "4"));
}

TEST(ExtractSbatchDirectives, HashInsideAWordEndsTheLineLikeSbatch) {
  EXPECT_THAT(Tokens("#!/bin/bash\n#SBATCH -o run#1.log -N 3\n"), ElementsAre("-o", "run"));
}

TEST(ExtractSbatchDirectives, QuotedHashIsKept) {
  EXPECT_THAT(Tokens("#!/bin/bash\n#SBATCH -J \"a # b\" -N 3\n"),
              ElementsAre("-J", "a # b", "-N", "3"));
}

TEST(ExtractSbatchDirectives, CommentsAndBlankLinesBetweenDirectives) {
  EXPECT_THAT(Tokens("#!/bin/bash\n"
                     "\n"
                     "# resources\n"
                     "#SBATCH -N 2\n"
                     "   \n"
                     "\t# indented comment\n"
                     "## another\n"
                     "#SBATCH -n 4\n"),
              ElementsAre("-N", "2", "-n", "4"));
}

TEST(ExtractSbatchDirectives, DirectivesAfterTheFirstCommandAreIgnored) {
  EXPECT_THAT(Tokens("#!/bin/bash\n"
                     "#SBATCH -N 2\n"
                     "module load gcc\n"
                     "#SBATCH -n 64\n"),
              ElementsAre("-N", "2"));
}

TEST(ExtractSbatchDirectives, IndentedCommandStopsToo) {
  EXPECT_THAT(Tokens("#!/bin/bash\n#SBATCH -N 2\n  echo hi\n#SBATCH -n 64\n"),
              ElementsAre("-N", "2"));
}

TEST(ExtractSbatchDirectives, CommentedOutDirectivesAreComments) {
  EXPECT_THAT(Tokens("#!/bin/bash\n"
                     "# SBATCH -N 9\n"
                     "##SBATCH -N 8\n"
                     " #SBATCH -N 7\n"
                     "#sbatch -N 6\n"
                     "#SBATCHING is fun\n"
                     "#SBATCH -N 2\n"),
              ElementsAre("-N", "2"));
}

TEST(ExtractSbatchDirectives, TabAfterTheMagicWord) {
  EXPECT_THAT(Tokens("#!/bin/bash\n#SBATCH\t-N\t2\n"), ElementsAre("-N", "2"));
}

TEST(ExtractSbatchDirectives, BareMagicWordIsIgnored) {
  absl::StatusOr<std::vector<SbatchDirective>> got =
      ExtractSbatchDirectiveLines("#!/bin/bash\n#SBATCH\n#SBATCH   \n#SBATCH -N 2\n");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].line, 4);
  EXPECT_THAT((*got)[0].args, ElementsAre("-N", "2"));
}

TEST(ExtractSbatchDirectives, EmptyQuotesGiveAnEmptyArgument) {
  EXPECT_THAT(Tokens("#!/bin/bash\n#SBATCH -J \"\" -N 2\n"), ElementsAre("-J", "", "-N", "2"));
}

TEST(ExtractSbatchDirectives, CrLfLinesAreRead) {
  EXPECT_THAT(Tokens("#!/bin/bash\r\n#SBATCH -N 2\r\n#SBATCH -J x\r\necho\r\n#SBATCH -n 9\r\n"),
              ElementsAre("-N", "2", "-J", "x"));
}

TEST(ExtractSbatchDirectives, NoTrailingNewline) {
  EXPECT_THAT(Tokens("#!/bin/bash\n#SBATCH -N 2"), ElementsAre("-N", "2"));
}

TEST(ExtractSbatchDirectives, OnlyTheShebang) { EXPECT_THAT(Tokens("#!/bin/bash\n"), IsEmpty()); }

TEST(ExtractSbatchDirectives, LinesAreNumberedFromOne) {
  absl::StatusOr<std::vector<SbatchDirective>> got =
      ExtractSbatchDirectiveLines("#!/bin/bash\n#SBATCH -N 2\n\n# x\n#SBATCH -n 4 -c 2\n");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].line, 2);
  EXPECT_THAT((*got)[0].args, ElementsAre("-N", "2"));
  EXPECT_EQ((*got)[1].line, 5);
  EXPECT_THAT((*got)[1].args, ElementsAre("-n", "4", "-c", "2"));
}

TEST(ExtractSbatchDirectives, NoShebangIsAnError) {
  absl::StatusOr<std::vector<std::string>> got =
      ExtractSbatchDirectives("#SBATCH -N 2\necho hi\n", "job.sh");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(testing::Msg(got.status()),
            "job.sh does not start with #! (a batch script needs an interpreter line, e.g. "
            "#!/bin/bash)");
}

TEST(ExtractSbatchDirectives, ShebangMustBeAtTheVeryStart) {
  EXPECT_FALSE(ExtractSbatchDirectives(" #!/bin/bash\n").ok());
  EXPECT_FALSE(ExtractSbatchDirectives("\n#!/bin/bash\n").ok());
  EXPECT_FALSE(ExtractSbatchDirectives("").ok());
}

TEST(ExtractSbatchDirectives, UnmatchedQuoteNamesTheLine) {
  absl::StatusOr<std::vector<std::string>> got =
      ExtractSbatchDirectives("#!/bin/bash\n#SBATCH -N 2\n#SBATCH -J \"my job\n");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr("in script line 3: unmatched \""));
}

TEST(ExtractSbatchDirectives, UnmatchedSingleQuote) {
  absl::StatusOr<std::vector<std::string>> got =
      ExtractSbatchDirectives("#!/bin/bash\n#SBATCH -J 'x\n");
  ASSERT_FALSE(got.ok());
  EXPECT_THAT(testing::Msg(got.status()), HasSubstr("in script line 2: unmatched '"));
}

TEST(CheckBatchScript, AcceptsAPlainScript) {
  EXPECT_TRUE(CheckBatchScript("#!/bin/bash\necho hi\n", "job.sh").ok());
}

struct BadScript {
  std::string text;
  std::string message_part;
};

void PrintTo(const BadScript& c, std::ostream* os) { *os << c.message_part; }

class CheckBatchScriptInvalid : public ::testing::TestWithParam<BadScript> {};

TEST_P(CheckBatchScriptInvalid, Rejects) {
  absl::Status s = CheckBatchScript(GetParam().text, "job.sh");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::Msg(s), HasSubstr(GetParam().message_part));
  EXPECT_EQ(std::string(testing::Msg(s)).find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    SbatchChecks, CheckBatchScriptInvalid,
    ::testing::Values(BadScript{"", "job.sh is empty"},
                      BadScript{"  \n\t\n", "job.sh contains only whitespace"},
                      BadScript{"echo hi\n", "job.sh does not start with #!"},
                      BadScript{std::string("#!/bin/sh\necho \0hi\n", 19), "NUL byte"},
                      BadScript{"#!/bin/bash\r\necho hi\r\n",
                                "DOS line ends (\\r\\n), which Slurm refuses: convert it with "
                                "dos2unix job.sh"},
                      BadScript{"#!/bin/bash\n" + std::string(kMaxScriptBytes, '#'),
                                "Slurm accepts batch scripts up to 4 MiB"}));

TEST(CheckBatchScript, ExactlyTheLimitIsAccepted) {
  std::string script = "#!/bin/bash\n";
  script.resize(kMaxScriptBytes, '#');
  EXPECT_TRUE(CheckBatchScript(script, "job.sh").ok());
}

TEST(CheckScriptSize, ReportsMiB) {
  absl::Status s = CheckScriptSize(5 * 1024 * 1024, "job.sh");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(testing::Msg(s), HasSubstr("job.sh is 5.0 MiB"));
  EXPECT_TRUE(CheckScriptSize(kMaxScriptBytes, "job.sh").ok());
}

}  // namespace
}  // namespace drocc::client
