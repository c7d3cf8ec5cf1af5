#include "daemon/api/convert.h"

#include <gtest/gtest.h>

namespace drocc::api {
namespace {

queue::JobSpec FullSpec() {
  queue::JobSpec s;
  s.name = "train";
  s.project = "ml-lab";
  s.partition = "gpu";
  s.script = "#!/bin/bash\nsrun ./train\n";
  s.script_path = "/home/alice/train.sbatch";
  s.args = {"--epochs", "3"};
  s.workdir = "/home/alice";
  s.environment = {"PATH=/usr/bin", "HOME=/home/alice"};
  s.export_mode = "ALL";
  s.output = "out-%j.log";
  s.error = "err-%j.log";
  s.open_mode = queue::kOpenModeAppend;
  s.nodes = 2;
  s.max_nodes = 4;
  s.ntasks = 8;
  s.ntasks_per_node = 4;
  s.cpus_per_task = 6;
  s.gpus_per_node = 4;
  s.gres = "gpu:a100:4";
  s.mem_mb = 64 * 1024;
  s.time_limit_s = 3600;
  s.signal = {10, 90, true};
  s.priority = -2;
  s.labels = {{"run", "7"}};
  return s;
}

TEST(ConvertJobSpecTest, EveryFieldSurvivesTheProtoBothWays) {
  const queue::JobSpec spec = FullSpec();
  v1::JobSpec proto;
  ToProto(spec, &proto);
  EXPECT_EQ(proto.open_mode(), "append");
  EXPECT_EQ(FromProto(proto), spec);
}

TEST(ConvertJobSpecTest, OpenModeLeftOutStaysUnset) {
  queue::JobSpec spec = FullSpec();
  spec.open_mode.clear();
  v1::JobSpec proto;
  ToProto(spec, &proto);
  EXPECT_EQ(proto.open_mode(), "");
  EXPECT_EQ(FromProto(proto).open_mode, "");

  proto.set_open_mode("truncate");
  EXPECT_EQ(FromProto(proto).open_mode, queue::kOpenModeTruncate);
}

TEST(ConvertJobTest, ProgressGoesWithTheFullJobOnly) {
  queue::Job job;
  job.id = 7;
  job.progress = {{.phase = "stage-in",
                   .step = -1,
                   .bytes_done = 3,
                   .bytes_total = 4,
                   .message = "copying",
                   .time = absl::FromUnixSeconds(1'767'225'610)},
                  {.phase = "train", .step = 40, .time = absl::FromUnixSeconds(1'767'225'620)}};
  v1::Job full;
  ToProto(job, /*full=*/true, &full);
  ASSERT_EQ(full.progress_size(), 2);
  const v1::ProgressRecord& p = full.progress(0);
  EXPECT_EQ(p.phase(), "stage-in");
  EXPECT_EQ(p.step(), -1);
  EXPECT_EQ(p.bytes_done(), 3u);
  EXPECT_EQ(p.bytes_total(), 4u);
  EXPECT_EQ(p.message(), "copying");
  EXPECT_EQ(p.time().seconds(), 1'767'225'610);
  EXPECT_EQ(full.progress(1).phase(), "train");
  EXPECT_EQ(full.progress(1).step(), 40);

  v1::Job listed;
  ToProto(job, /*full=*/false, &listed);
  EXPECT_EQ(listed.progress_size(), 0);
}

}  // namespace
}  // namespace drocc::api
