#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "client/jobspec/resolve.h"
#include "client/jobspec/sbatch_script.h"
#include "jobspec_test_util.h"

namespace drocc::client {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

class ReadScriptFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("jobspec_read_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  fs::path dir_;
};

TEST_F(ReadScriptFileTest, ReadsTheWholeFile) {
  const std::string path = Write("job.sh", "#!/bin/bash\n#SBATCH -N 2\necho hi\n");
  absl::StatusOr<std::string> text = ReadScriptFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "#!/bin/bash\n#SBATCH -N 2\necho hi\n");
}

TEST_F(ReadScriptFileTest, ReadsALargerThanBufferFile) {
  const std::string body = "#!/bin/bash\n" + std::string(200 * 1024, 'x');
  absl::StatusOr<std::string> text = ReadScriptFile(Write("big.sh", body));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, body);
}

TEST_F(ReadScriptFileTest, MissingFileIsNotFound) {
  const std::string path = (dir_ / "nope.sh").string();
  absl::StatusOr<std::string> text = ReadScriptFile(path);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(testing::Msg(text.status()), "script \"" + path + "\" does not exist");
}

TEST_F(ReadScriptFileTest, DirectoryIsRefused) {
  absl::StatusOr<std::string> text = ReadScriptFile(dir_.string());
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(testing::Msg(text.status()), HasSubstr("is a directory, not a batch script"));
}

TEST_F(ReadScriptFileTest, TooLargeIsRefusedBeforeReading) {
  const std::string path = Write("huge.sh", "#!/bin/bash\n");
  fs::resize_file(path, kMaxScriptBytes + 1);
  absl::StatusOr<std::string> text = ReadScriptFile(path);
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(testing::Msg(text.status()), HasSubstr("Slurm accepts batch scripts up to 4 MiB"));
}

TEST_F(ReadScriptFileTest, UnreadableIsPermissionDenied) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any file";
  const std::string path = Write("secret.sh", "#!/bin/bash\n");
  fs::permissions(path, fs::perms::none);
  absl::StatusOr<std::string> text = ReadScriptFile(path);
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(testing::Msg(text.status()), HasSubstr("cannot read script"));
}

TEST_F(ReadScriptFileTest, FifoIsRefused) {
  const std::string path = (dir_ / "pipe").string();
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  absl::StatusOr<std::string> text = ReadScriptFile(path);
  ASSERT_FALSE(text.ok());
  EXPECT_THAT(testing::Msg(text.status()), HasSubstr("is not a regular file"));
}

TEST_F(ReadScriptFileTest, ResolveWithTheRealReader) {
  Write("job.sh", "#!/bin/bash\n#SBATCH -J real -N 2\necho hi\n");
  SubmitContext ctx;  // default read_file = ReadScriptFile
  ctx.cwd = dir_.string();
  SubmitFlags flags;
  flags.script = "job.sh";
  absl::StatusOr<JobRequest> job = ResolveJobRequest(flags, ctx);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->name, "real");
  EXPECT_EQ(job->nodes, 2u);
  EXPECT_EQ(job->script_path, (dir_ / "job.sh").string());
}

TEST(CurrentSubmitContext, UsesTheProcessCwdAndEnvironment) {
  ::setenv("DROCC_JOBSPEC_TEST_VAR", "42", 1);
  SubmitContext ctx = CurrentSubmitContext();
  EXPECT_EQ(ctx.cwd, fs::current_path().string());
  EXPECT_THAT(ctx.environment, ::testing::Contains("DROCC_JOBSPEC_TEST_VAR=42"));
  EXPECT_TRUE(static_cast<bool>(ctx.read_file));
}

}  // namespace
}  // namespace drocc::client
