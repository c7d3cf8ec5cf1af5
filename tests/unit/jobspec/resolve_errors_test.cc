#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

#include "client/jobspec/resolve.h"
#include "client/jobspec/sbatch_script.h"
#include "resolve_fixture.h"

// ResolveJobRequest on bad inputs: every rejection is one line that says what to do, and
// names the script line or the option the value came from.

namespace drocc::client {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::kJob;
using testing::ResolveTest;
using ::testing::StartsWith;

TEST_F(ResolveTest, ReaderErrorsPassThrough) {
  ctx_.read_file = [](const std::string&) -> absl::StatusOr<std::string> {
    return absl::PermissionDeniedError("cannot read script \"/x\": permission denied");
  };
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(ResolveTest, MissingScriptFile) {
  absl::StatusOr<JobRequest> job = Submit({"nope.sh"});
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(testing::Msg(job.status()), HasSubstr("/home/ana/run/nope.sh"));
}

TEST_F(ResolveTest, RelativeCwdIsRefused) {
  JobScript({"echo"});
  ctx_.cwd = "run";
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(testing::Msg(job.status()), HasSubstr("not an absolute path"));
  EXPECT_THAT(files_.reads(), IsEmpty());
}

// A bad input: the script after "#!/bin/bash", the command line, and the exact error.
struct BadCase {
  std::string name;
  std::vector<std::string> script;
  std::vector<std::string> cli;
  std::string message;
};

void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class ResolveRejects : public ResolveTest, public ::testing::WithParamInterface<BadCase> {};

TEST_P(ResolveRejects, WithOneActionableLine) {
  JobScript(GetParam().script);
  absl::StatusOr<JobRequest> job = Submit(GetParam().cli);
  ASSERT_FALSE(job.ok()) << "accepted";
  EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(testing::Msg(job.status()), GetParam().message);
  EXPECT_EQ(std::string(testing::Msg(job.status())).find('\n'), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    BadInputs, ResolveRejects,
    ::testing::Values(
        BadCase{
            "no_script", {}, {}, "missing SCRIPT: usage: drocc submit [OPTIONS] SCRIPT [ARGS...]"},
        BadCase{"cli_uid",
                {},
                {"--uid=0", "job.sh"},
                "sbatch option --uid is not supported by drocc: drocc always runs jobs as the "
                "submitting user; remove it"},
        BadCase{"cli_uid_separate_value",
                {},
                {"--uid", "1002", "job.sh"},
                "sbatch option --uid is not supported by drocc: drocc always runs jobs as the "
                "submitting user; remove it"},
        BadCase{"script_uid",
                {"#SBATCH --uid=bob"},
                {"job.sh"},
                "in script line 2: sbatch option --uid is not supported by drocc: drocc always "
                "runs jobs as the submitting user; remove it"},
        BadCase{"script_gid",
                {"#SBATCH -N 1", "#SBATCH --gid 0"},
                {"job.sh"},
                "in script line 3: sbatch option --gid is not supported by drocc: drocc always "
                "runs jobs as the submitting user; remove it"},
        BadCase{"no_script_after_flags",
                {},
                {"-N", "2"},
                "missing SCRIPT: usage: drocc submit [OPTIONS] SCRIPT [ARGS...]"},
        BadCase{"stdin_script",
                {},
                {"-"},
                "reading the script from standard input is not supported: save it to a file and "
                "give its name"},
        BadCase{"cli_time",
                {},
                {"-t", "abc", "job.sh"},
                "invalid time limit \"abc\" (-t/--time): use minutes, MM:SS, HH:MM:SS, D-HH, "
                "D-HH:MM or D-HH:MM:SS (or UNLIMITED)"},
        BadCase{"script_time",
                {"#SBATCH -N 1", "#SBATCH --time=abc"},
                {"job.sh"},
                "in script line 3: invalid time limit \"abc\" (-t/--time): use minutes, MM:SS, "
                "HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (or UNLIMITED)"},
        BadCase{"later_line_reported",
                {"#SBATCH -t 5", "#SBATCH -t 0"},
                {"job.sh"},
                "in script line 3: time limit \"0\" (-t/--time) is zero, which sbatch reads as "
                "no limit: give a real limit (e.g. 2:00:00) or UNLIMITED"},
        BadCase{"cli_nodes_zero",
                {},
                {"-N", "0", "job.sh"},
                "invalid node count \"0\" (-N/--nodes): a job needs at least 1 node"},
        BadCase{"script_nodes_range",
                {"#SBATCH -N 4-2"},
                {"job.sh"},
                "in script line 2: invalid node count \"4-2\" (-N/--nodes): the minimum 4 is "
                "more than the maximum 2"},
        BadCase{"ntasks_zero",
                {"#SBATCH -n 0"},
                {"job.sh"},
                "in script line 2: invalid number of tasks \"0\" (-n/--ntasks): use a whole "
                "number of at least 1"},
        BadCase{"cpus_junk",
                {},
                {"-c", "four", "job.sh"},
                "invalid number of CPUs per task \"four\" (-c/--cpus-per-task): use a whole "
                "number of at least 1"},
        BadCase{"tasks_per_node_zero",
                {},
                {"--ntasks-per-node=0", "job.sh"},
                "invalid number of tasks per node \"0\" (--ntasks-per-node): use a whole number "
                "of at least 1"},
        BadCase{"fewer_tasks_than_nodes",
                {"#SBATCH -N 4"},
                {"-n", "2", "job.sh"},
                "-n/--ntasks 2 is fewer than the 4 nodes asked for with -N/--nodes, and each "
                "node runs at least one task: ask for at most 2 nodes or at least 4 tasks"},
        BadCase{"tasks_do_not_fit",
                {"#SBATCH -N 2 --ntasks-per-node=2"},
                {"-n", "8", "job.sh"},
                "-n/--ntasks 8 does not fit on 2 nodes with --ntasks-per-node=2 (at most 4 "
                "tasks): ask for more nodes or fewer tasks"},
        BadCase{"mem_bad",
                {"#SBATCH --mem=4X"},
                {"job.sh"},
                "in script line 2: invalid memory size \"4X\" (--mem): use a whole number with "
                "an optional K, M, G or T suffix (e.g. 4G or 500M; no suffix means M)"},
        BadCase{"mem_zero",
                {},
                {"--mem=0", "job.sh"},
                "--mem=0 asks for all the memory of each node, which drocc does not support: "
                "give a size, e.g. --mem=64G"},
        BadCase{"signal_bad",
                {"#SBATCH --signal=FOO@90"},
                {"job.sh"},
                "in script line 2: invalid signal \"FOO@90\" (--signal): use [B:]SIGNAL[@SECONDS], "
                "e.g. B:USR1@90, where SIGNAL is a number (1-64) or a name such as USR1 or "
                "SIGTERM"},
        BadCase{"gres_bad",
                {},
                {"--gres=gpu=2", "job.sh"},
                "invalid generic resource request \"gpu=2\" (--gres): write the count after a "
                "colon, e.g. gpu:2 (not gpu=2)"},
        BadCase{"gpus_twice",
                {"#SBATCH --gres=gpu:4"},
                {"--gpus-per-node=2", "job.sh"},
                "GPUs asked for twice: --gpus-per-node=2 (command line) and --gres=gpu:4 (script "
                "line 2); keep one of them"},
        BadCase{"priority_bad",
                {},
                {"--priority=TOP", "job.sh"},
                "invalid priority \"TOP\" (--priority): use a whole number from -2147483648 to "
                "2147483647"},
        BadCase{"open_mode_bad_in_script",
                {"#SBATCH -N 1", "#SBATCH --open-mode=overwrite"},
                {"job.sh"},
                "in script line 3: invalid open mode \"overwrite\" (--open-mode): use append "
                "(keep what the output files hold, e.g. from an earlier run of a requeued job) or "
                "truncate (start them empty)"},
        BadCase{"open_mode_bad_on_cli",
                {"#SBATCH --open-mode=append"},
                {"--open-mode=keep", "job.sh"},
                "invalid open mode \"keep\" (--open-mode): use append (keep what the output "
                "files hold, e.g. from an earlier run of a requeued job) or truncate (start them "
                "empty)"},
        BadCase{"export_bad",
                {"#SBATCH --export=ALL,NONE"},
                {"job.sh"},
                "in script line 2: invalid environment export \"ALL,NONE\" (--export): ALL and "
                "NONE contradict each other; keep one"},
        BadCase{"empty_cli_value",
                {},
                {"-J", "", "job.sh"},
                "-J/--job-name is empty: give a value or leave the option out"},
        BadCase{"empty_script_value",
                {"#SBATCH -J \"\""},
                {"job.sh"},
                "in script line 2: -J/--job-name needs a value, not an empty one (NAME)"},
        BadCase{"unknown_in_script",
                {"#SBATCH -N 2", "#SBATCH --frobnicate=1"},
                {"job.sh"},
                "in script line 3: unknown option --frobnicate: see drocc submit --help"},
        BadCase{"unknown_short_in_script",
                {"#SBATCH -Z"},
                {"job.sh"},
                "in script line 2: unknown option -Z: see drocc submit --help"},
        BadCase{"unknown_on_cli",
                {},
                {"--frobnicate", "job.sh"},
                "unknown option --frobnicate: see drocc submit --help"},
        BadCase{"unsupported_in_script",
                {"#SBATCH --array=0-9"},
                {"job.sh"},
                "in script line 2: sbatch option -a/--array is not supported by drocc: job "
                "arrays are not supported yet; submit one job per array index"},
        BadCase{"unsupported_on_cli",
                {},
                {"--exclusive", "job.sh"},
                "sbatch option --exclusive is not supported by drocc: ask for what you need on "
                "each node (--ntasks-per-node, -c, --gpus-per-node, --mem) instead"},
        BadCase{"positional_in_script",
                {"#SBATCH -N 2 extra"},
                {"job.sh"},
                "in script line 2: unexpected \"extra\": #SBATCH lines take options only, e.g. "
                "#SBATCH --nodes=2"},
        BadCase{"hetjob",
                {"#SBATCH -N 1", "#SBATCH hetjob", "#SBATCH -N 2"},
                {"job.sh"},
                "in script line 3: heterogeneous jobs (#SBATCH hetjob) are not supported by "
                "drocc"},
        BadCase{"value_missing_at_end",
                {"#SBATCH -N 2", "#SBATCH --time"},
                {"job.sh"},
                "in script line 3: -t/--time needs a value (TIME)"},
        BadCase{"unmatched_quote",
                {"#SBATCH -J 'x"},
                {"job.sh"},
                "in script line 2: unmatched ' in #SBATCH directive: close the quote"},
        BadCase{"account_without_project",
                {"#SBATCH -A physics"},
                {"job.sh"},
                "in script line 2: -A/--account names a Slurm bank account, which drocc does "
                "not use: name the drocc project to charge with --project (e.g. drocc submit "
                "--project=NAME SCRIPT)"},
        BadCase{"account_on_cli",
                {},
                {"--account=physics", "job.sh"},
                "-A/--account names a Slurm bank account, which drocc does not use: name the "
                "drocc project to charge with --project (e.g. drocc submit --project=NAME "
                "SCRIPT)"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.name; });

TEST_F(ResolveTest, NoShebang) {
  files_.Add(kJob, "echo hi\n#SBATCH -N 2\n");
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(testing::Msg(job.status()),
            "job.sh does not start with #! (a batch script needs an interpreter line, e.g. "
            "#!/bin/bash)");
}

TEST_F(ResolveTest, EmptyScript) {
  files_.Add(kJob, "");
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(testing::Msg(job.status()), StartsWith("job.sh is empty"));
}

TEST_F(ResolveTest, DosLineEndsAreRefusedLikeSbatch) {
  files_.Add(kJob, "#!/bin/bash\r\n#SBATCH -N 2\r\necho\r\n");
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(testing::Msg(job.status()), HasSubstr("convert it with dos2unix job.sh"));
}

TEST_F(ResolveTest, TooLargeScript) {
  files_.Add(kJob, "#!/bin/bash\n" + std::string(kMaxScriptBytes, 'x'));
  absl::StatusOr<JobRequest> job = Submit({"job.sh"});
  ASSERT_FALSE(job.ok());
  EXPECT_THAT(testing::Msg(job.status()), HasSubstr("up to 4 MiB"));
}

}  // namespace
}  // namespace drocc::client
