#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "client/jobspec/resolve.h"
#include "client/jobspec/slurm_time.h"
#include "resolve_fixture.h"

// ResolveJobRequest on accepted inputs: defaults, directives, command line over script,
// paths, GPUs, --export, warnings.

namespace drocc::client {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::kCwd;
using testing::kEnv;
using testing::kJob;
using testing::ResolveTest;

TEST_F(ResolveTest, DefaultsFromAPlainScript) {
  JobScript({"echo hi"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->name, "job.sh");
  EXPECT_EQ(job->script, "#!/bin/bash\necho hi\n");
  EXPECT_EQ(job->script_path, kJob);
  EXPECT_EQ(job->workdir, kCwd);
  EXPECT_EQ(job->export_mode, "ALL");
  EXPECT_EQ(job->environment, kEnv);
  EXPECT_THAT(job->args, IsEmpty());
  EXPECT_EQ(job->project, "");
  EXPECT_EQ(job->partition, "");
  EXPECT_EQ(job->output, "");
  EXPECT_EQ(job->error, "");
  EXPECT_EQ(job->open_mode, "");
  EXPECT_EQ(job->nodes, 0u);
  EXPECT_EQ(job->max_nodes, 0u);
  EXPECT_EQ(job->ntasks, 0u);
  EXPECT_EQ(job->ntasks_per_node, 0u);
  EXPECT_EQ(job->cpus_per_task, 0u);
  EXPECT_EQ(job->gpus_per_node, 0u);
  EXPECT_EQ(job->gres, "");
  EXPECT_EQ(job->mem_mb, 0u);
  EXPECT_EQ(job->time_limit_s, 0);
  EXPECT_EQ(job->signal.signal, 0);
  EXPECT_EQ(job->priority, 0);
  EXPECT_THAT(files_.reads(), ElementsAre(kJob));
  EXPECT_THAT(warnings_, IsEmpty());
}

TEST_F(ResolveTest, DirectivesFillTheRequest) {
  JobScript({"#SBATCH -J \"my job\"", "#SBATCH --nodes=2-4 --ntasks 8", "#SBATCH -c 4",
             "#SBATCH --ntasks-per-node=4", "#SBATCH --gpus-per-node=a100:2", "#SBATCH --mem=64G",
             "#SBATCH -t 1-12:00:00", "#SBATCH -p gpu",
             "#SBATCH -o logs/%x-%j.out -e logs/%x-%j.err", "#SBATCH -D /scratch/ana",
             "#SBATCH --signal=B:USR1@90", "#SBATCH --project=ml-lab", "#SBATCH --priority=3",
             "#SBATCH --export=NONE,EDITOR,A=1", "#SBATCH --open-mode=append", "srun ./train"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh", "--epochs", "3"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->name, "my job");
  EXPECT_EQ(job->nodes, 2u);
  EXPECT_EQ(job->max_nodes, 4u);
  EXPECT_EQ(job->ntasks, 8u);
  EXPECT_EQ(job->cpus_per_task, 4u);
  EXPECT_EQ(job->ntasks_per_node, 4u);
  EXPECT_EQ(job->gpus_per_node, 2u);
  EXPECT_EQ(job->gres, "gpu:a100:2");
  EXPECT_EQ(job->mem_mb, 64u * 1024);
  EXPECT_EQ(job->time_limit_s, 36 * 3600);
  EXPECT_EQ(job->partition, "gpu");
  EXPECT_EQ(job->output, "/scratch/ana/logs/%x-%j.out");  // relative to -D, as Slurm reads it
  EXPECT_EQ(job->error, "/scratch/ana/logs/%x-%j.err");
  EXPECT_EQ(job->open_mode, "append");
  EXPECT_EQ(job->workdir, "/scratch/ana");
  EXPECT_EQ(job->signal.signal, SIGUSR1);
  EXPECT_EQ(job->signal.seconds_before, 90u);
  EXPECT_TRUE(job->signal.batch_only);
  EXPECT_EQ(job->project, "ml-lab");
  EXPECT_EQ(job->priority, 3);
  EXPECT_EQ(job->export_mode, "NONE,EDITOR,A=1");
  EXPECT_THAT(job->environment, ElementsAre("EDITOR=vim", "A=1"));
  EXPECT_THAT(job->args, ElementsAre("--epochs", "3"));
}

// One kind of option: its value in a script, on the command line, and how it shows.
struct OverrideCase {
  std::string name;
  std::string directive;         // "#SBATCH ..." line
  std::vector<std::string> cli;  // command-line options
  std::string from_script;       // Show() with only the directive
  std::string from_cli;          // Show() with both
  std::function<std::string(const JobRequest&)> show;
};

void PrintTo(const OverrideCase& c, std::ostream* os) { *os << c.name; }

class CommandLineWins : public ResolveTest, public ::testing::WithParamInterface<OverrideCase> {};

TEST_P(CommandLineWins, ScriptAloneThenBoth) {
  const OverrideCase& c = GetParam();
  JobScript({c.directive, "echo"});
  absl::StatusOr<JobRequest> script_only = Submit({"job.sh"});
  ASSERT_TRUE(script_only.ok()) << script_only.status();
  EXPECT_EQ(c.show(*script_only), c.from_script);

  std::vector<std::string> args = c.cli;
  args.push_back("job.sh");
  absl::StatusOr<JobRequest> both = Submit(args);
  ASSERT_TRUE(both.ok()) << both.status();
  EXPECT_EQ(c.show(*both), c.from_cli);
}

std::string Str(uint64_t n) { return std::to_string(n); }

INSTANTIATE_TEST_SUITE_P(
    EveryOption, CommandLineWins,
    ::testing::Values(
        OverrideCase{"nodes",
                     "#SBATCH -N 2",
                     {"-N4-6"},
                     "2-2",
                     "4-6",
                     [](const JobRequest& j) { return Str(j.nodes) + "-" + Str(j.max_nodes); }},
        OverrideCase{"ntasks",
                     "#SBATCH --ntasks=8",
                     {"-n", "16"},
                     "8",
                     "16",
                     [](const JobRequest& j) { return Str(j.ntasks); }},
        OverrideCase{"ntasks_per_node",
                     "#SBATCH --ntasks-per-node=2",
                     {"--ntasks-per-node=4"},
                     "2",
                     "4",
                     [](const JobRequest& j) { return Str(j.ntasks_per_node); }},
        OverrideCase{"cpus_per_task",
                     "#SBATCH -c 2",
                     {"--cpus-per-task", "8"},
                     "2",
                     "8",
                     [](const JobRequest& j) { return Str(j.cpus_per_task); }},
        OverrideCase{"gpus_per_node",
                     "#SBATCH --gpus-per-node=2",
                     {"--gpus-per-node=v100:1"},
                     "2 gpu:2",
                     "1 gpu:v100:1",
                     [](const JobRequest& j) { return Str(j.gpus_per_node) + " " + j.gres; }},
        OverrideCase{"gres",
                     "#SBATCH --gres=gpu:4",
                     {"--gres=gpu:2,nvme:1"},
                     "4 gpu:4",
                     "2 gpu:2,nvme:1",
                     [](const JobRequest& j) { return Str(j.gpus_per_node) + " " + j.gres; }},
        OverrideCase{"gres_none",
                     "#SBATCH --gres=gpu:4",
                     {"--gres=none"},
                     "4 gpu:4",
                     "0 ",
                     [](const JobRequest& j) { return Str(j.gpus_per_node) + " " + j.gres; }},
        OverrideCase{"mem",
                     "#SBATCH --mem=4G",
                     {"--mem", "500"},
                     "4096",
                     "500",
                     [](const JobRequest& j) { return Str(j.mem_mb); }},
        OverrideCase{"time",
                     "#SBATCH -t 10",
                     {"--time=1-00:00:00"},
                     "600",
                     "86400",
                     [](const JobRequest& j) { return std::to_string(j.time_limit_s); }},
        OverrideCase{"job_name",
                     "#SBATCH -J from-script",
                     {"-J", "from cli"},
                     "from-script",
                     "from cli",
                     [](const JobRequest& j) { return j.name; }},
        OverrideCase{"partition",
                     "#SBATCH -p cpu",
                     {"--partition=gpu"},
                     "cpu",
                     "gpu",
                     [](const JobRequest& j) { return j.partition; }},
        OverrideCase{"output",
                     "#SBATCH -o a.out",
                     {"-o", "b-%j.out"},
                     std::string(testing::kCwd) + "/a.out",
                     std::string(testing::kCwd) + "/b-%j.out",
                     [](const JobRequest& j) { return j.output; }},
        OverrideCase{"error",
                     "#SBATCH -e a.err",
                     {"--error=none"},
                     std::string(testing::kCwd) + "/a.err",
                     "/dev/null",
                     [](const JobRequest& j) { return j.error; }},
        OverrideCase{"open_mode",
                     "#SBATCH --open-mode=append",
                     {"--open-mode", "TRUNCATE"},
                     "append",
                     "truncate",
                     [](const JobRequest& j) { return j.open_mode; }},
        OverrideCase{"chdir",
                     "#SBATCH -D /scratch/a",
                     {"-D", "sub"},
                     "/scratch/a",
                     "/home/ana/run/sub",
                     [](const JobRequest& j) { return j.workdir; }},
        OverrideCase{
            "export",
            "#SBATCH --export=NONE",
            {"--export=ALL"},
            "NONE 0",
            "ALL 3",
            [](const JobRequest& j) { return j.export_mode + " " + Str(j.environment.size()); }},
        OverrideCase{"signal",
                     "#SBATCH --signal=USR1@30",
                     {"--signal=B:TERM@120"},
                     "10@30 R",
                     "15@120 B",
                     [](const JobRequest& j) {
                       return std::to_string(j.signal.signal) + "@" + Str(j.signal.seconds_before) +
                              (j.signal.batch_only ? " B" : " R");
                     }},
        OverrideCase{"project",
                     "#SBATCH --project=lab-a",
                     {"--project", "lab-b"},
                     "lab-a",
                     "lab-b",
                     [](const JobRequest& j) { return j.project; }},
        OverrideCase{"priority",
                     "#SBATCH --priority=1",
                     {"--priority=-2"},
                     "1",
                     "-2",
                     [](const JobRequest& j) { return std::to_string(j.priority); }}),
    [](const ::testing::TestParamInfo<OverrideCase>& info) { return info.param.name; });

TEST_F(ResolveTest, LaterDirectiveWinsOverEarlier) {
  JobScript({"#SBATCH -N 2", "#SBATCH --nodes=3"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->nodes, 3u);
}

TEST_F(ResolveTest, ScriptArgumentsThatLookLikeFlags) {
  JobScript({"#SBATCH -n 2"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh", "-n", "4"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->ntasks, 2u);
  EXPECT_THAT(job->args, ElementsAre("-n", "4"));
}

TEST_F(ResolveTest, DirectivesAfterTheFirstCommandAreIgnored) {
  JobScript({"#SBATCH -N 2", "module load gcc", "#SBATCH -t abc", "#SBATCH -N 9"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->nodes, 2u);
  EXPECT_EQ(job->time_limit_s, 0);
}

TEST_F(ResolveTest, CommentedOutDirectivesAreIgnored) {
  JobScript({"# SBATCH -N 9", "##SBATCH -t abc", "#SBATCH -N 2 # not 3"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->nodes, 2u);
}

TEST_F(ResolveTest, OptionValueOnTheNextDirectiveLineLikeSbatch) {
  JobScript({"#SBATCH -J", "#SBATCH name-on-next-line"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->name, "name-on-next-line");
}

TEST_F(ResolveTest, AbbreviatedLongOptionsInAScript) {
  JobScript({"#SBATCH --part=gpu --ntasks-per-n=2 --job=x"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->partition, "gpu");
  EXPECT_EQ(job->ntasks_per_node, 2u);
  EXPECT_EQ(job->name, "x");
}

TEST_F(ResolveTest, CommandLineAfterAnAbbreviationIsStillParsed) {
  JobScript({"echo"});
  absl::StatusOr<JobRequest> job =
      Submit({"-N", "2", "--part=gpu", "-N", "3", "-t", "5", "job.sh", "-t", "9"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->partition, "gpu");
  EXPECT_EQ(job->nodes, 3u);  // the later -N wins
  EXPECT_EQ(job->time_limit_s, 300);
  EXPECT_THAT(job->args, ElementsAre("-t", "9"));
}

TEST_F(ResolveTest, ScriptPathsAreAbsoluteAndNormal) {
  files_.Add("/home/ana/jobs/train.sh", "#!/bin/sh\necho\n");
  absl::StatusOr<JobRequest> job = Submit({"../jobs/./train.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->script_path, "/home/ana/jobs/train.sh");
  EXPECT_EQ(job->name, "train.sh");
}

TEST_F(ResolveTest, AbsoluteScriptPath) {
  files_.Add("/opt/jobs/a.sh", "#!/bin/sh\necho\n");
  absl::StatusOr<JobRequest> job = Submit({"/opt/jobs/a.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->script_path, "/opt/jobs/a.sh");
  EXPECT_EQ(job->workdir, kCwd);  // the job runs where drocc was called, as with sbatch
}

TEST_F(ResolveTest, WorkdirForms) {
  JobScript({"echo"});
  EXPECT_EQ(Submit({"-D", ".", "job.sh"})->workdir, kCwd);
  EXPECT_EQ(Submit({"-D", "..", "job.sh"})->workdir, "/home/ana");
  EXPECT_EQ(Submit({"-D", "out/", "job.sh"})->workdir, "/home/ana/run/out");
  EXPECT_EQ(Submit({"--chdir=/tmp/x/../y", "job.sh"})->workdir, "/tmp/y");
}

TEST_F(ResolveTest, OutputPathsBecomeAbsoluteAndLexicallyNormal) {
  JobScript({"echo"});
  EXPECT_EQ(Submit({"-o", "../logs/x.out", "job.sh"})->output, "/home/ana/logs/x.out");
  EXPECT_EQ(Submit({"-e", "./a/../b/%x-%j.err", "job.sh"})->error, "/home/ana/run/b/%x-%j.err");
  EXPECT_EQ(Submit({"-D", "/scratch/x", "-o", "../y/%j.out", "job.sh"})->output,
            "/scratch/y/%j.out");
  EXPECT_EQ(Submit({"-o", "/a/b/../../../c.out", "job.sh"})->output, "/c.out");
  EXPECT_EQ(Submit({"-o", "/abs/%u/%j.out", "job.sh"})->output, "/abs/%u/%j.out");
  JobScript({"#SBATCH -o ../../out.txt"});
  EXPECT_EQ(Submit({"job.sh"})->output, "/home/out.txt");
}

TEST_F(ResolveTest, OutputNoneMeansDevNull) {
  JobScript({"#SBATCH -o NONE"});
  EXPECT_EQ(Submit({"job.sh"})->output, "/dev/null");
}

TEST_F(ResolveTest, UnlimitedTimeIsTheSentinel) {
  JobScript({"#SBATCH -t UNLIMITED"});
  EXPECT_EQ(Submit({"job.sh"})->time_limit_s, kUnlimitedTime);
}

TEST_F(ResolveTest, SingleNodeCountSetsMaxToo) {
  JobScript({"echo"});
  absl::StatusOr<JobRequest> job = Submit({"-N", "3", "job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->nodes, 3u);
  EXPECT_EQ(job->max_nodes, 3u);
}

TEST_F(ResolveTest, GresGpusAreCounted) {
  JobScript({"#SBATCH --gres=gpu:a100:4,nvme:1"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->gpus_per_node, 4u);
  EXPECT_EQ(job->gres, "gpu:a100:4,nvme:1");
}

TEST_F(ResolveTest, GpusPerNodeIsFoldedIntoGres) {
  JobScript({"#SBATCH --gres=nvme:1 --gpus-per-node=2"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->gpus_per_node, 2u);
  EXPECT_EQ(job->gres, "nvme:1,gpu:2");
}

TEST_F(ResolveTest, ZeroGpusPerNodeAsksForNone) {
  JobScript({"echo"});
  absl::StatusOr<JobRequest> job = Submit({"--gpus-per-node=0", "job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->gpus_per_node, 0u);
  EXPECT_EQ(job->gres, "");
}

TEST_F(ResolveTest, TasksFitExactly) {
  JobScript({"echo"});
  absl::StatusOr<JobRequest> job = Submit({"-N", "2", "-n", "8", "--ntasks-per-node=4", "job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->ntasks, 8u);
}

TEST_F(ResolveTest, ExportAllWithAdditions) {
  JobScript({"echo"});
  absl::StatusOr<JobRequest> job = Submit({"--export=ALL,A=1,EDITOR", "job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->export_mode, "ALL,A=1,EDITOR");
  std::vector<std::string> want = kEnv;
  want.push_back("A=1");
  EXPECT_EQ(job->environment, want);
}

TEST_F(ResolveTest, ExportNone) {
  JobScript({"echo"});
  absl::StatusOr<JobRequest> job = Submit({"--export=NONE", "job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->export_mode, "NONE");
  EXPECT_THAT(job->environment, IsEmpty());
}

TEST_F(ResolveTest, ExportListOnly) {
  JobScript({"echo"});
  absl::StatusOr<JobRequest> job = Submit({"--export", "PATH,B=2", "job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_THAT(job->environment, ElementsAre("PATH=/usr/bin", "B=2"));
}

TEST_F(ResolveTest, ExportWarningNamesTheScriptLine) {
  JobScript({"", "#SBATCH --export=NOPE,PATH"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_THAT(warnings_, ElementsAre("in script line 3: --export lists NOPE, which is not set in "
                                     "your environment"));
}

TEST_F(ResolveTest, IgnoredOptionsWarn) {
  JobScript({"#SBATCH --mail-type=END,FAIL", "#SBATCH --mail-user=ana@uni.example"});
  absl::StatusOr<JobRequest> job = Submit({"--comment=hello", "job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_THAT(warnings_,
              ElementsAre("in script line 2: ignoring --mail-type: drocc does not send e-mail; "
                          "follow the job with drocc watch",
                          "in script line 3: ignoring --mail-user: drocc does not send e-mail; "
                          "follow the job with drocc watch",
                          "ignoring --comment: drocc keeps its own job id in Slurm's comment"));
}

TEST_F(ResolveTest, ParsableInAScriptWarns) {
  JobScript({"#SBATCH --parsable"});
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_THAT(warnings_, ElementsAre("in script line 2: ignoring --parsable: it only works on "
                                     "the drocc command line"));
}

TEST_F(ResolveTest, AccountWithProjectIsIgnoredWithAWarning) {
  JobScript({"#SBATCH -A physics-bank", "echo"});
  absl::StatusOr<JobRequest> job = Submit({"--project=ml-lab", "job.sh"});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->project, "ml-lab");
  EXPECT_THAT(warnings_, ElementsAre("in script line 2: ignoring -A/--account=physics-bank: "
                                     "drocc charges the project given with --project"));
}

TEST_F(ResolveTest, NoWarnCallbackIsFine) {
  ctx_.warn = nullptr;
  JobScript({"#SBATCH --mail-type=END -A x --project=p", "#SBATCH --export=NOPE"});
  EXPECT_TRUE(Submit({"--mail-user=x", "job.sh"}).ok());
}

}  // namespace
}  // namespace drocc::client
