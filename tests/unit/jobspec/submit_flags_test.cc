#include "client/jobspec/submit_flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "client/jobspec/sbatch_options.h"
#include "jobspec_test_util.h"

namespace drocc::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ParseCommandLine;
using ::testing::UnorderedElementsAre;

TEST(AddSubmitFlags, ShortAndLongForms) {
  absl::StatusOr<SubmitFlags> f = ParseCommandLine({"-N",
                                                    "2",
                                                    "--ntasks=8",
                                                    "--ntasks-per-node",
                                                    "4",
                                                    "-c4",
                                                    "--gpus-per-node=a100:2",
                                                    "--gres",
                                                    "nvme:1",
                                                    "--mem=64G",
                                                    "-t",
                                                    "2:00:00",
                                                    "-J",
                                                    "my job",
                                                    "-p",
                                                    "gpu",
                                                    "-o",
                                                    "out-%j.txt",
                                                    "-e",
                                                    "err-%j.txt",
                                                    "-D",
                                                    "/scratch/run",
                                                    "--export=ALL,A=1",
                                                    "--signal",
                                                    "B:USR1@90",
                                                    "--project",
                                                    "ml-lab",
                                                    "--priority=5",
                                                    "--parsable",
                                                    "job.sh"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->nodes, "2");
  EXPECT_EQ(f->ntasks, "8");
  EXPECT_EQ(f->ntasks_per_node, "4");
  EXPECT_EQ(f->cpus_per_task, "4");
  EXPECT_EQ(f->gpus_per_node, "a100:2");
  EXPECT_EQ(f->gres, "nvme:1");
  EXPECT_EQ(f->mem, "64G");
  EXPECT_EQ(f->time, "2:00:00");
  EXPECT_EQ(f->job_name, "my job");
  EXPECT_EQ(f->partition, "gpu");
  EXPECT_EQ(f->output, "out-%j.txt");
  EXPECT_EQ(f->error, "err-%j.txt");
  EXPECT_EQ(f->chdir, "/scratch/run");
  EXPECT_EQ(f->export_env, "ALL,A=1");
  EXPECT_EQ(f->signal, "B:USR1@90");
  EXPECT_EQ(f->project, "ml-lab");
  EXPECT_EQ(f->priority, "5");
  EXPECT_TRUE(f->parsable);
  EXPECT_EQ(f->script, "job.sh");
  EXPECT_THAT(f->script_args, IsEmpty());
}

struct FormCase {
  std::vector<std::string> args;
  std::string nodes;
};

void PrintTo(const FormCase& c, std::ostream* os) { *os << c.nodes; }

class NodeForms : public ::testing::TestWithParam<FormCase> {};

TEST_P(NodeForms, EverySpellingSbatchTakes) {
  std::vector<std::string> args = GetParam().args;
  args.push_back("job.sh");
  absl::StatusOr<SubmitFlags> f = ParseCommandLine(args);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->nodes, GetParam().nodes);
  EXPECT_EQ(f->script, "job.sh");
}

INSTANTIATE_TEST_SUITE_P(
    Forms, NodeForms,
    ::testing::Values(FormCase{{"-N", "2"}, "2"}, FormCase{{"-N2"}, "2"},
                      FormCase{{"-N2-4"}, "2-4"}, FormCase{{"-N", "2-4"}, "2-4"},
                      FormCase{{"--nodes=2-4"}, "2-4"}, FormCase{{"--nodes", "3"}, "3"},
                      FormCase{{"-N", "1", "-N", "5"}, "5"},  // the last wins, as in sbatch
                      FormCase{{"--nodes=1", "-N7"}, "7"}));

TEST(AddSubmitFlags, NothingGivenIsNullopt) {
  absl::StatusOr<SubmitFlags> f = ParseCommandLine({"job.sh"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->nodes.has_value());
  EXPECT_FALSE(f->time.has_value());
  EXPECT_FALSE(f->export_env.has_value());
  EXPECT_FALSE(f->parsable);
  EXPECT_THAT(f->ignored, IsEmpty());
}

TEST(AddSubmitFlags, FlagsAfterScriptBelongToTheScript) {
  absl::StatusOr<SubmitFlags> f = ParseCommandLine({"job.sh", "-n", "4", "--epochs=3"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->ntasks.has_value());
  EXPECT_EQ(f->script, "job.sh");
  EXPECT_THAT(f->script_args, ElementsAre("-n", "4", "--epochs=3"));
}

TEST(AddSubmitFlags, FlagsBeforeAndArgsAfter) {
  absl::StatusOr<SubmitFlags> f = ParseCommandLine({"-N2", "train.sh", "data/", "-N", "9"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->nodes, "2");
  EXPECT_EQ(f->script, "train.sh");
  EXPECT_THAT(f->script_args, ElementsAre("data/", "-N", "9"));
}

TEST(AddSubmitFlags, ValueStartingWithDashIsTaken) {
  absl::StatusOr<SubmitFlags> f = ParseCommandLine({"-J", "-weird", "--priority=-5", "job.sh"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->job_name, "-weird");
  EXPECT_EQ(f->priority, "-5");
}

TEST(AddSubmitFlags, UnknownOptionsAreSetAsideForResolve) {
  // CLI11 sets an unknown option aside and goes on; SCRIPT still ends the options.
  absl::StatusOr<SubmitFlags> f =
      ParseCommandLine({"-N", "2", "--part=gpu", "-n", "4", "job.sh", "-c", "1"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->nodes, "2");
  EXPECT_EQ(f->ntasks, "4");
  EXPECT_FALSE(f->cpus_per_task.has_value());
  EXPECT_EQ(f->script, "--part=gpu");
  EXPECT_THAT(f->script_args, ElementsAre("job.sh", "-c", "1"));
}

TEST(AddSubmitFlags, UnknownOptionWithSeparateValueStopsAtTheValue) {
  absl::StatusOr<SubmitFlags> f = ParseCommandLine({"--part", "gpu", "-n", "4", "job.sh"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_FALSE(f->ntasks.has_value());
  EXPECT_EQ(f->script, "--part");
  EXPECT_THAT(f->script_args, ElementsAre("gpu", "-n", "4", "job.sh"));
}

TEST(AddSubmitFlags, IgnoredOptionsAreRecorded) {
  absl::StatusOr<SubmitFlags> f =
      ParseCommandLine({"--mail-type=END", "--mail-user", "a@b.c", "--comment=x", "job.sh"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->ignored, UnorderedElementsAre("--mail-type", "--mail-user", "--comment"));
  EXPECT_EQ(f->script, "job.sh");
}

TEST(AddSubmitFlags, AccountIsStored) {
  absl::StatusOr<SubmitFlags> f = ParseCommandLine({"-A", "bank1", "job.sh"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->account, "bank1");
}

TEST(AddSubmitFlags, MissingValueIsACli11Error) {
  absl::StatusOr<SubmitFlags> f = ParseCommandLine({"-N"});
  EXPECT_FALSE(f.ok());
}

TEST(AddSubmitFlags, NoScriptLeavesItEmpty) {
  absl::StatusOr<SubmitFlags> f = ParseCommandLine({"-N", "2"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->script, "");
}

TEST(AddSubmitFlags, ScriptIsKnownWhenTheSubcommandCallbackRuns) {
  CLI::App app("drocc");
  CLI::App* submit = app.add_subcommand("submit");
  SubmitFlags flags;
  AddSubmitFlags(*submit, flags);
  std::string seen_script;
  std::vector<std::string> seen_args;
  submit->callback([&] {
    seen_script = flags.script;
    seen_args = flags.script_args;
  });
  std::vector<std::string> argv = {"submit", "-N", "2", "job.sh", "a", "b"};
  std::reverse(argv.begin(), argv.end());
  ASSERT_NO_THROW(app.parse(argv));
  EXPECT_EQ(seen_script, "job.sh");
  EXPECT_THAT(seen_args, ElementsAre("a", "b"));
}

TEST(AddSubmitFlags, RegistersEverySupportedAndIgnoredOption) {
  CLI::App app;
  SubmitFlags f;
  AddSubmitFlags(app, f);
  for (const internal::SbatchOption& o : internal::SbatchOptions()) {
    if (o.long_name == "help") continue;  // CLI11's own -h/--help
    const std::string name = "--" + std::string(o.long_name);
    if (o.use == internal::OptionUse::kUnsupported) {
      EXPECT_THROW(app.get_option(name), CLI::OptionNotFound) << name;
    } else {
      EXPECT_NO_THROW(app.get_option(name)) << name;
      if (o.short_name != '\0') {
        EXPECT_NO_THROW(app.get_option("-" + std::string(1, o.short_name))) << name;
      }
    }
  }
}

TEST(ParseSubmitArgs, SameResultAsTheCli11Path) {
  const std::vector<std::string> args = {"-N2-4",    "--ntasks", "8",  "-J", "x y",
                                         "--mem=1G", "job.sh",   "-n", "4"};
  absl::StatusOr<SubmitFlags> a = ParseSubmitArgs(args);
  absl::StatusOr<SubmitFlags> b = ParseCommandLine(args);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->nodes, b->nodes);
  EXPECT_EQ(a->ntasks, b->ntasks);
  EXPECT_EQ(a->job_name, b->job_name);
  EXPECT_EQ(a->mem, b->mem);
  EXPECT_EQ(a->script, b->script);
  EXPECT_EQ(a->script_args, b->script_args);
  EXPECT_EQ(a->nodes, "2-4");
  EXPECT_THAT(a->script_args, ElementsAre("-n", "4"));
}

TEST(ParseSubmitArgs, AmbiguousAbbreviationIsAnError) {
  absl::StatusOr<SubmitFlags> f = ParseSubmitArgs({"--cpus=3", "job.sh"});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(testing::Msg(f.status()),
            "option --cpus is ambiguous: it could be --cpus-per-gpu, --cpus-per-task; write the "
            "name in full");
}

TEST(ParseSubmitArgs, AbbreviationsResolve) {
  absl::StatusOr<SubmitFlags> f =
      ParseSubmitArgs({"--part=gpu", "--job", "x", "--ntasks-per-n=2", "--sig=USR1", "job.sh"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->partition, "gpu");
  EXPECT_EQ(f->job_name, "x");
  EXPECT_EQ(f->ntasks_per_node, "2");
  EXPECT_EQ(f->signal, "USR1");
  EXPECT_EQ(f->script, "job.sh");
}

TEST(ParseSubmitArgs, ExactNameWinsOverLongerNames) {
  absl::StatusOr<SubmitFlags> f = ParseSubmitArgs({"--mem=4G", "job.sh"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->mem, "4G");
}

TEST(ParseSubmitArgs, DoubleDashEndsOptions) {
  absl::StatusOr<SubmitFlags> f = ParseSubmitArgs({"-N", "2", "--", "-job.sh", "-n"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->nodes, "2");
  EXPECT_EQ(f->script, "-job.sh");
  EXPECT_THAT(f->script_args, ElementsAre("-n"));
}

TEST(ParseSubmitArgs, ParsableFlag) {
  absl::StatusOr<SubmitFlags> f = ParseSubmitArgs({"--parsable", "job.sh"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->parsable);
}

struct BadArgs {
  std::vector<std::string> args;
  std::string message;
};

void PrintTo(const BadArgs& c, std::ostream* os) { *os << c.message; }

class ParseSubmitArgsInvalid : public ::testing::TestWithParam<BadArgs> {};

TEST_P(ParseSubmitArgsInvalid, ExplainsTheProblem) {
  absl::StatusOr<SubmitFlags> f = ParseSubmitArgs(GetParam().args);
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(testing::Msg(f.status()), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Rejected, ParseSubmitArgsInvalid,
    ::testing::Values(
        BadArgs{{"--frobnicate", "job.sh"}, "unknown option --frobnicate: see drocc submit --help"},
        BadArgs{{"-Z", "job.sh"}, "unknown option -Z: see drocc submit --help"},
        BadArgs{{"--=x", "job.sh"}, "unknown option \"--=\": see drocc submit --help"},
        BadArgs{{"--nod=2", "job.sh"},
                "option --nod is ambiguous: it could be --nodefile, --nodelist, --nodes; write "
                "the name in full"},
        BadArgs{{"--array=1-10", "job.sh"},
                "sbatch option -a/--array is not supported by drocc: job arrays are not "
                "supported yet; submit one job per array index"},
        BadArgs{{"-q", "normal", "job.sh"},
                "sbatch option -q/--qos is not supported by drocc: drocc decides admission and "
                "order itself; remove it"},
        BadArgs{{"--mem-per-cpu=2G", "job.sh"},
                "sbatch option --mem-per-cpu is not supported by drocc: give the memory per node "
                "with --mem instead"},
        BadArgs{{"--exclusive", "job.sh"},
                "sbatch option --exclusive is not supported by drocc: ask for what you need on "
                "each node (--ntasks-per-node, -c, --gpus-per-node, --mem) instead"},
        BadArgs{{"--workdir=/x", "job.sh"},
                "sbatch option --workdir is not supported by drocc: sbatch renamed it; use "
                "-D/--chdir"},
        BadArgs{{"-N"}, "-N/--nodes needs a value (N|MIN-MAX)"},
        BadArgs{{"--time"}, "-t/--time needs a value (TIME)"},
        BadArgs{{"--nodes=", "job.sh"}, "-N/--nodes needs a value, not an empty one (N|MIN-MAX)"},
        BadArgs{{"--parsable=yes", "job.sh"}, "--parsable takes no value"}));

}  // namespace
}  // namespace drocc::client
