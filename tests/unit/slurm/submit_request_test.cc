#include "daemon/slurm/submit_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace drocc::slurm {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::UnorderedElementsAre;

queue::Job MinimalJob() {
  queue::Job j;
  j.id = 17;
  j.user = "alice";
  j.uid = 1001;
  j.gid = 1002;
  j.spec.script = "#!/bin/bash\necho hi\n";
  j.spec.workdir = "/home/alice/run";
  return j;
}

SubmitRequest Build(const queue::Job& j) {
  absl::StatusOr<SubmitRequest> r = BuildSubmitRequest(j, "login1");
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : SubmitRequest{};
}

absl::Status Error(const queue::Job& j) { return BuildSubmitRequest(j, "login1").status(); }

TEST(SubmitRequestTest, MinimalJobGetsSbatchDefaults) {
  SubmitRequest r = Build(MinimalJob());
  EXPECT_EQ(r.script, "#!/bin/bash\necho hi\n");
  EXPECT_EQ(r.work_dir, "/home/alice/run");
  EXPECT_EQ(r.name, "drocc-17");
  EXPECT_THAT(r.argv, ElementsAre("drocc-17"));
  EXPECT_EQ(r.user_id, 1001u);
  EXPECT_EQ(r.group_id, 1002u);
  EXPECT_EQ(r.comment, "drocc:17");
  EXPECT_EQ(BuildSubmitRequest(MinimalJob(), "login1", "0a1b2c3d")->comment, "drocc:17@0a1b2c3d");
  EXPECT_EQ(r.std_out, "slurm-%j.out");
  EXPECT_EQ(r.std_err, "");
  EXPECT_EQ(r.open_mode, OpenMode::kSlurmDefault);
  EXPECT_EQ(r.alloc_node, "login1");
  EXPECT_EQ(r.partition, "");
  EXPECT_EQ(r.min_nodes, 0u);
  EXPECT_EQ(r.max_nodes, 0u);
  EXPECT_EQ(r.num_tasks, 0u);
  EXPECT_EQ(r.min_cpus, 1u);  // sbatch: one task of one CPU
  EXPECT_EQ(r.tres_per_node, "");
  EXPECT_EQ(r.mem_per_node_mb, 0u);
  EXPECT_EQ(r.time_limit_min, 0u);
  EXPECT_EQ(r.warn_signal, 0);
  // No captured environment: as sbatch --export=NONE, so slurmctld gets one.
  EXPECT_THAT(r.environment, UnorderedElementsAre("SLURM_JOB_NAME=drocc-17", "SLURM_GET_USER_ENV=1",
                                                  "SLURM_SUBMIT_DIR=/home/alice/run",
                                                  "SLURM_SUBMIT_HOST=login1", "SLURM_UMASK=0022"));
}

TEST(SubmitRequestTest, NameAndArgvFromTheScript) {
  queue::Job j = MinimalJob();
  j.spec.script_path = "/home/alice/jobs/train.sh";
  j.spec.args = {"--lr", "0.1 0.2"};
  SubmitRequest r = Build(j);
  EXPECT_EQ(r.name, "train.sh");
  EXPECT_THAT(r.argv, ElementsAre("/home/alice/jobs/train.sh", "--lr", "0.1 0.2"));
  j.spec.name = "my run";
  EXPECT_EQ(Build(j).name, "my run");
  EXPECT_THAT(Build(j).environment, Contains("SLURM_JOB_NAME=my run"));
}

TEST(SubmitRequestTest, ExportAllPassesTheCapturedEnvironment) {
  queue::Job j = MinimalJob();
  j.spec.export_mode = "ALL";
  j.spec.environment = {"PATH=/usr/bin:/bin", "HOME=/home/alice",        "EMPTY=", "X=a=b",
                        "SLURM_UMASK=0077",   "SLURM_JOB_NAME=outer-job"};
  SubmitRequest r = Build(j);
  EXPECT_THAT(r.environment,
              UnorderedElementsAre("PATH=/usr/bin:/bin", "HOME=/home/alice", "EMPTY=", "X=a=b",
                                   "SLURM_UMASK=0077", "SLURM_JOB_NAME=drocc-17",
                                   "SLURM_SUBMIT_DIR=/home/alice/run", "SLURM_SUBMIT_HOST=login1"));
  j.spec.export_mode = "";  // the default is ALL
  EXPECT_THAT(Build(j).environment, Not(Contains("SLURM_GET_USER_ENV=1")));
}

TEST(SubmitRequestTest, ExportNoneAndListsLoadTheUsersEnvironment) {
  queue::Job j = MinimalJob();
  j.spec.export_mode = "none";
  j.spec.environment = {"PATH=/usr/bin", "SLURM_CONF=/etc/slurm/other.conf"};
  EXPECT_THAT(Build(j).environment,
              UnorderedElementsAre("SLURM_CONF=/etc/slurm/other.conf", "SLURM_JOB_NAME=drocc-17",
                                   "SLURM_GET_USER_ENV=1", "SLURM_SUBMIT_DIR=/home/alice/run",
                                   "SLURM_SUBMIT_HOST=login1", "SLURM_UMASK=0022"));
  j.spec.export_mode = "EDITOR,ARG1=test";
  j.spec.environment = {"EDITOR=vi", "ARG1=test"};
  EXPECT_THAT(Build(j).environment,
              UnorderedElementsAre("EDITOR=vi", "ARG1=test", "SLURM_JOB_NAME=drocc-17",
                                   "SLURM_GET_USER_ENV=1", "SLURM_SUBMIT_DIR=/home/alice/run",
                                   "SLURM_SUBMIT_HOST=login1", "SLURM_UMASK=0022"));
}

TEST(SubmitRequestTest, MalformedEnvironmentIsRefused) {
  for (std::string bad :
       {std::string("NOEQUALS"), std::string("=value"), std::string("A=b\0c", 5)}) {
    queue::Job j = MinimalJob();
    j.spec.environment = {"OK=1", bad};
    absl::Status s = Error(j);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(s.message()), HasSubstr("NAME=value"));
  }
}

TEST(SubmitRequestTest, OutputAndErrorPatternsAsGiven) {
  queue::Job j = MinimalJob();
  j.spec.output = "logs/%x-%j.out";
  j.spec.error = "/scratch/%u/%j.err";
  SubmitRequest r = Build(j);
  EXPECT_EQ(r.std_out, "logs/%x-%j.out");
  EXPECT_EQ(r.std_err, "/scratch/%u/%j.err");
}

TEST(SubmitRequestTest, OpenModeAsSbatchSendsIt) {
  // sbatch exports the mode as SLURM_OPEN_MODE so that srun inside the job uses it too,
  // replacing one inherited from an enclosing job, and also with --export=NONE. Not given:
  // Slurm's default, and the captured environment passes as it is.
  struct Case {
    const char* open_mode;
    const char* export_mode;
    OpenMode want;
    std::vector<std::string> want_env;  // the SLURM_OPEN_MODE and PATH entries
  };
  for (const Case& c :
       {Case{"append", "ALL", OpenMode::kAppend, {"PATH=/usr/bin", "SLURM_OPEN_MODE=a"}},
        Case{"truncate", "NONE", OpenMode::kTruncate, {"SLURM_OPEN_MODE=t"}},
        Case{"", "ALL", OpenMode::kSlurmDefault, {"PATH=/usr/bin", "SLURM_OPEN_MODE=t"}}}) {
    queue::Job j = MinimalJob();
    j.spec.export_mode = c.export_mode;
    j.spec.environment = {"PATH=/usr/bin", "SLURM_OPEN_MODE=t"};  // from an enclosing job
    j.spec.open_mode = c.open_mode;
    SubmitRequest r = Build(j);
    EXPECT_EQ(r.open_mode, c.want) << c.open_mode;
    std::vector<std::string> env;
    for (const std::string& e : r.environment) {
      if (e.starts_with("SLURM_OPEN_MODE=") || e.starts_with("PATH=")) env.push_back(e);
    }
    EXPECT_THAT(env, ::testing::UnorderedElementsAreArray(c.want_env)) << c.open_mode;
  }
}

TEST(SubmitRequestTest, UnknownOpenModeIsRefused) {
  queue::Job j = MinimalJob();
  j.spec.open_mode = "APPEND";  // the API stores the lower-case spelling only
  absl::Status s = Error(j);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "job 17: unknown --open-mode \"APPEND\"; use \"append\" or \"truncate\"");
}

TEST(SubmitRequestTest, NodeAndTaskCountsAsSbatchDerivesThem) {
  queue::Job j = MinimalJob();
  j.spec.nodes = 2;
  SubmitRequest r = Build(j);
  EXPECT_EQ(r.min_nodes, 2u);
  EXPECT_EQ(r.max_nodes, 2u);  // -N 2 is 2-2
  EXPECT_EQ(r.min_cpus, 1u);

  j.spec.max_nodes = 4;
  r = Build(j);
  EXPECT_EQ(r.min_nodes, 2u);
  EXPECT_EQ(r.max_nodes, 4u);

  j = MinimalJob();
  j.spec.nodes = 2;
  j.spec.ntasks_per_node = 4;
  j.spec.cpus_per_task = 2;
  r = Build(j);
  EXPECT_EQ(r.num_tasks, 0u);  // not given: Slurm derives it
  EXPECT_EQ(r.ntasks_per_node, 4);
  EXPECT_EQ(r.cpus_per_task, 2);
  EXPECT_EQ(r.min_cpus, 16u);  // 2 nodes x 4 tasks x 2 CPUs

  j = MinimalJob();
  j.spec.ntasks = 10;
  j.spec.ntasks_per_node = 4;
  r = Build(j);
  EXPECT_EQ(r.num_tasks, 10u);
  EXPECT_EQ(r.min_nodes, 3u);  // ceil(10 / 4)
  EXPECT_EQ(r.min_cpus, 10u);
}

TEST(SubmitRequestTest, CountsOutOfRangeAreRefused) {
  queue::Job j = MinimalJob();
  j.spec.nodes = 4;
  j.spec.max_nodes = 2;
  EXPECT_THAT(std::string(Error(j).message()), HasSubstr("4-2"));
  j = MinimalJob();
  j.spec.cpus_per_task = 70000;  // Slurm keeps it in 16 bits
  EXPECT_EQ(Error(j).code(), absl::StatusCode::kInvalidArgument);
  j = MinimalJob();
  j.spec.ntasks_per_node = 65534;  // NO_VAL16
  EXPECT_EQ(Error(j).code(), absl::StatusCode::kInvalidArgument);
  j = MinimalJob();
  j.spec.ntasks = 100000;
  j.spec.cpus_per_task = 60000;
  EXPECT_THAT(std::string(Error(j).message()), HasSubstr("CPU count"));
}

TEST(SubmitRequestTest, TimeLimitInWholeMinutesRoundedUp) {
  queue::Job j = MinimalJob();
  for (auto [seconds, minutes] : std::initializer_list<std::pair<int64_t, uint32_t>>{
           {0, 0}, {1, 1}, {59, 1}, {60, 1}, {61, 2}, {3600, 60}, {86401, 1441}}) {
    j.spec.time_limit_s = seconds;
    EXPECT_EQ(Build(j).time_limit_min, minutes) << seconds;
  }
  j.spec.time_limit_s = -1;  // UNLIMITED
  EXPECT_EQ(Build(j).time_limit_min, kTimeLimitUnlimited);
  j.spec.time_limit_s = -5;
  EXPECT_EQ(Error(j).code(), absl::StatusCode::kInvalidArgument);
  j.spec.time_limit_s = int64_t{0xfffffffe} * 60;  // NO_VAL minutes
  EXPECT_EQ(Error(j).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SubmitRequestTest, MemoryPerNodeInMiB) {
  queue::Job j = MinimalJob();
  j.spec.mem_mb = 4096;
  EXPECT_EQ(Build(j).mem_per_node_mb, 4096u);
}

TEST(SubmitRequestTest, GpusAndGres) {
  queue::Job j = MinimalJob();
  j.spec.gpus_per_node = 4;
  EXPECT_EQ(Build(j).tres_per_node, "gres:gpu:4");

  // The client folds GPUs into --gres and counts them in gpus_per_node: send them once.
  j.spec.gres = "gpu:a100:2,nvme:1";
  j.spec.gpus_per_node = 2;
  EXPECT_EQ(Build(j).tres_per_node, "gres:gpu:a100:2,gres:nvme:1");
  j.spec.gres = "gpu:1,gpu:a100:1";
  EXPECT_EQ(Build(j).tres_per_node, "gres:gpu:1,gres:gpu:a100:1");
  j.spec.gres = "gpu";  // count 1
  j.spec.gpus_per_node = 1;
  EXPECT_EQ(Build(j).tres_per_node, "gres:gpu");

  j.spec.gres = "gpu:2";
  j.spec.gpus_per_node = 4;
  EXPECT_THAT(std::string(Error(j).message()), HasSubstr("give the GPU count once"));

  j.spec.gpus_per_node = 0;
  j.spec.gres = " nvme:1 , gres:fpga:2 ";
  EXPECT_EQ(Build(j).tres_per_node, "gres:nvme:1,gres:fpga:2");
  j.spec.gres = "none";
  EXPECT_EQ(Build(j).tres_per_node, "");
  j.spec.gres = "gpu:1;rm -rf /";
  EXPECT_EQ(Error(j).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SubmitRequestTest, SignalAsSbatchSignal) {
  queue::Job j = MinimalJob();
  j.spec.signal = {10, 300, true};  // --signal=B:USR1@300
  SubmitRequest r = Build(j);
  EXPECT_EQ(r.warn_signal, 10);
  EXPECT_EQ(r.warn_time_s, 300);
  EXPECT_TRUE(r.warn_batch_only);

  j.spec.signal = {15, 0, false};  // --signal=TERM: 60 s by default
  r = Build(j);
  EXPECT_EQ(r.warn_signal, 15);
  EXPECT_EQ(r.warn_time_s, 60);
  EXPECT_FALSE(r.warn_batch_only);

  j.spec.signal = {65, 10, false};
  EXPECT_EQ(Error(j).code(), absl::StatusCode::kInvalidArgument);
  j.spec.signal = {10, 70000, false};
  EXPECT_EQ(Error(j).code(), absl::StatusCode::kInvalidArgument);
}

TEST(SubmitRequestTest, ScriptChecksAsSbatch) {
  struct Case {
    std::string script;
    const char* says;
  };
  for (const Case& c : {Case{"", "empty"}, Case{"  \n", "empty"}, Case{"echo hi\n", "#!"},
                        Case{std::string("#!/bin/sh\necho \0\n", 17), "NUL"},
                        Case{"#!/bin/sh\r\necho hi\r\n", "dos2unix"}}) {
    queue::Job j = MinimalJob();
    j.spec.script = c.script;
    absl::Status s = Error(j);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(s.message()), HasSubstr(c.says)) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("job 17"));
  }
}

TEST(SubmitRequestTest, WorkDirMustBeAbsolute) {
  queue::Job j = MinimalJob();
  for (const char* wd : {"", "run", "./run"}) {
    j.spec.workdir = wd;
    EXPECT_THAT(std::string(Error(j).message()), HasSubstr("absolute")) << wd;
  }
}

TEST(SubmitRequestTest, NeverAsRoot) {
  queue::Job j = MinimalJob();
  j.uid = 0;
  absl::Status s = Error(j);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("root"));
  j = MinimalJob();
  j.gid = 0;
  EXPECT_EQ(Error(j).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace drocc::slurm
