// StageOut in a one-rank world: the result appears under DST's name complete or not at all —
// first time, replacing a previous result (with and without RENAME_EXCHANGE), after a failure
// half-way, and after the process was killed half-way (then a rerun succeeds).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "drocc/runtime/staging.h"
#include "tests/unit/runtime/fault_file_system.h"
#include "tests/unit/runtime/staging_fixture.h"
#include "tests/unit/runtime/test_dir.h"

namespace drocc::runtime {
namespace {

namespace fs = std::filesystem;
using testing::FaultFileSystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::TreeDifferences;

class StageOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_ = testing::MakeMixedTree(Local(), 200, 2);
    fs::create_directories(Shared());
  }
  std::string Local() const { return dir_.path() + "/local/node0/results"; }
  std::string Shared() const { return dir_.path() + "/shared"; }
  std::string Dst() const { return Shared() + "/results"; }

  absl::StatusOr<StageStats> Stage(StageOptions o = {}) {
    o.fs = fs_;
    o.report_to_daemon = false;
    o.node_name = "node0";
    return StageOut(dir_.path() + "/local/%n/results", Dst(), o, &comm_);
  }
  // What is beside DST: leftovers of staging.
  std::vector<std::string> Beside() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(Shared())) {
      if (e.path() != Dst()) out.push_back(e.path().filename());
    }
    return out;
  }
  // A previous result in DST, recognisable.
  void PreviousResult() {
    fs::create_directories(Dst() + "/old-dir");
    testing::WriteFile(Dst() + "/old-dir/old.txt", "previous result");
    testing::WriteFile(Dst() + "/one", "previous one");
  }
  bool IsPreviousResult() const {
    return testing::ReadFile(Dst() + "/old-dir/old.txt") == "previous result" &&
           testing::ReadFile(Dst() + "/one") == "previous one" && !fs::exists(Dst() + "/data");
  }

  testing::TestDir dir_;
  testing::MixedTree tree_;
  LocalCommunicator comm_;
  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>();
};

TEST_F(StageOutTest, CopiesTheTreeUnderItsFinalName) {
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(TreeDifferences(Local(), Dst(), ""), IsEmpty());
  EXPECT_EQ(s->files_total, tree_.files);
  EXPECT_EQ(s->bytes_copied, tree_.bytes);
  EXPECT_EQ(s->source_bytes_read, tree_.bytes);
  EXPECT_EQ(s->directories, tree_.directories);
  EXPECT_EQ(s->symlinks, tree_.symlinks);
  EXPECT_THAT(Beside(), IsEmpty());
}

TEST_F(StageOutTest, AnExistingResultIsReplacedWholeWithOrWithoutExchange) {
  for (bool exchange : {true, false}) {
    fs::remove_all(Dst());
    PreviousResult();
    fs_->no_exchange = !exchange;
    absl::StatusOr<StageStats> s = Stage();
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_THAT(TreeDifferences(Local(), Dst(), ""), IsEmpty()) << exchange;
    EXPECT_THAT(Beside(), IsEmpty());
  }
}

TEST_F(StageOutTest, AFailureHalfWayLeavesThePreviousResult) {
  PreviousResult();
  fs_->on_write = FaultFileSystem::NoSpaceAfter(tree_.bytes / 2);
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("destination full"));
  EXPECT_TRUE(IsPreviousResult());
  EXPECT_THAT(Beside(), IsEmpty());  // the temporary copy is removed
}

TEST_F(StageOutTest, AFailureHalfWayWithoutAPreviousResultLeavesNothing) {
  fs_->on_open = [&](const std::string& path) {
    if (path == Local() + "/data/small-150") return ErrnoStatus(EACCES, "cannot open", path);
    return absl::OkStatus();
  };
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr(Local() + "/data/small-150"));
  EXPECT_FALSE(fs::exists(Dst()));
  EXPECT_THAT(Beside(), IsEmpty());
}

TEST_F(StageOutTest, ACopyThatNeverMatchesIsAnError) {
  PreviousResult();
  fs_->on_write = [&](const std::string& path, uint64_t offset, std::string& data) {
    if (path.find("/data/large-1") != std::string::npos && offset == 0) data[3] ^= 1;
    return absl::OkStatus();
  };
  absl::StatusOr<StageStats> s = Stage({.verify_retries = 1});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsDataLoss(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("the copy of " + Local() + "/data/large-1"));
  EXPECT_THAT(s.status().message(), HasSubstr("after 2 attempts"));
  EXPECT_TRUE(IsPreviousResult());
}

TEST_F(StageOutTest, ACorruptedWriteIsCopiedAgain) {
  std::atomic<int> flips{1};
  fs_->on_write = [&](const std::string& path, uint64_t offset, std::string& data) {
    if (path.find("/data/large-0") != std::string::npos && offset == 0 && flips-- > 0) {
      data[3] ^= 1;
    }
    return absl::OkStatus();
  };
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->retries, 1u);
  EXPECT_THAT(TreeDifferences(Local(), Dst(), ""), IsEmpty());
}

// Stages out in a child that kills itself when it starts writing file number `kill_after + 1`,
// long before it could publish.
void StageOutKilledAfter(int kill_after, FaultFileSystem& fs,
                         const std::function<absl::StatusOr<StageStats>()>& stage) {
  testing::RunInAChildThatIsKilled([&] {
    std::atomic<int> files{0};
    fs.on_write = [&](const std::string&, uint64_t offset, std::string&) {
      if (offset == 0 && ++files > kill_after) raise(SIGKILL);
      return absl::OkStatus();
    };
    (void)stage();
  });
}

TEST_F(StageOutTest, KilledHalfWayLeavesThePreviousResultAndARerunSucceeds) {
  PreviousResult();
  StageOutKilledAfter(100, *fs_, [&] { return Stage(); });
  EXPECT_TRUE(IsPreviousResult());
  EXPECT_EQ(Beside().size(), 1u);  // the temporary copy of the killed run
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(TreeDifferences(Local(), Dst(), ""), IsEmpty());
  EXPECT_THAT(Beside(), IsEmpty());  // the leftover is gone
}

TEST_F(StageOutTest, KilledHalfWayWithoutAPreviousResultLeavesNothingUnderTheName) {
  StageOutKilledAfter(50, *fs_, [&] { return Stage(); });
  EXPECT_FALSE(fs::exists(Dst()));
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(TreeDifferences(Local(), Dst(), ""), IsEmpty());
}

TEST_F(StageOutTest, KilledBetweenTheTwoRenamesWithoutExchangeGetsThePreviousResultBack) {
  PreviousResult();
  fs_->no_exchange = true;
  testing::RunInAChildThatIsKilled([&] {
    // Publishing first moves the previous result aside, then renames the copy: die between.
    fs_->on_rename = [&](const std::string& from, const std::string&) {
      if (from.find(".drocc-stage-tmp.") != std::string::npos) raise(SIGKILL);
      return absl::OkStatus();
    };
    (void)Stage();
  });
  EXPECT_FALSE(fs::exists(Dst()));  // the moment without DST: nothing, never a partial one
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(TreeDifferences(Local(), Dst(), ""), IsEmpty());
  EXPECT_THAT(Beside(), IsEmpty());
}

TEST_F(StageOutTest, ASingleFile) {
  const std::string dst = Shared() + "/one-file.bin";
  StageOptions o{.node_name = "n", .report_to_daemon = false, .fs = fs_};
  absl::StatusOr<StageStats> s = StageOut(Local() + "/data/large-1", dst, o, &comm_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(testing::ReadFile(dst), testing::ReadFile(Local() + "/data/large-1"));
  testing::WriteFile(Local() + "/data/large-1", "smaller now");
  s = StageOut(Local() + "/data/large-1", dst, o, &comm_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(testing::ReadFile(dst), "smaller now");
  for (const std::string& name : Beside()) EXPECT_THAT(name, Not(HasSubstr("drocc-stage")));
}

TEST_F(StageOutTest, MissingSource) {
  fs::remove_all(Local());
  absl::StatusOr<StageStats> s = Stage();
  EXPECT_TRUE(absl::IsNotFound(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("SRC " + Local() + " does not exist"));
}

}  // namespace
}  // namespace drocc::runtime
