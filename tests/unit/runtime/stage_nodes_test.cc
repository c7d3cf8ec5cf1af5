// Staging with several nodes in one process: ranks are threads (thread_world.h), so that the
// exchange between leaders, non-leaders, and faults on one node only are exercised without MPI
// (and under the sanitizers). Every rank must get the same outcome.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drocc/runtime/staging.h"
#include "tests/unit/runtime/fault_file_system.h"
#include "tests/unit/runtime/staging_fixture.h"
#include "tests/unit/runtime/test_dir.h"
#include "tests/unit/runtime/thread_world.h"

namespace drocc::runtime {
namespace {

namespace fs = std::filesystem;
using testing::FaultFileSystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::TreeDifferences;

class StageNodesTest : public ::testing::Test {
 protected:
  void SetUp() override { tree_ = testing::MakeMixedTree(Src(), 120, 2); }
  std::string Src() const { return dir_.path() + "/src"; }
  std::string Local(const std::string& node) const { return dir_.path() + "/local/" + node; }

  // StageIn on `ranks` ranks; `node_of(rank)` names each rank's node; each rank's file system
  // is `fs_of(rank)` (the real one wrapped, by default). Returns every rank's outcome.
  std::vector<absl::StatusOr<StageStats>> StageInOn(
      int ranks, const std::function<std::string(int)>& node_of,
      const std::function<std::shared_ptr<FileSystem>(int)>& fs_of = nullptr) {
    std::vector<absl::StatusOr<StageStats>> out(ranks, absl::UnknownError("not run"));
    testing::RunRanks(ranks, [&](Communicator& comm, int rank) {
      StageOptions o;
      o.node_name = node_of(rank);
      o.chunk_bytes = 128 << 10;
      o.io_threads = 2;
      o.report_to_daemon = false;
      o.fs = fs_of ? fs_of(rank) : std::make_shared<FaultFileSystem>();
      out[rank] = StageIn(Src(), dir_.path() + "/local/%n", o, &comm);
    });
    return out;
  }

  // Every outcome is the same as rank 0's (stats compared field by field).
  static void ExpectAlike(const std::vector<absl::StatusOr<StageStats>>& all) {
    for (size_t r = 1; r < all.size(); ++r) {
      ASSERT_EQ(all[r].status(), all[0].status()) << "rank " << r;
      if (!all[0].ok()) continue;
      EXPECT_EQ(all[r]->nodes, all[0]->nodes);
      EXPECT_EQ(all[r]->files_copied, all[0]->files_copied);
      EXPECT_EQ(all[r]->source_bytes_read, all[0]->source_bytes_read);
      EXPECT_EQ(all[r]->retries, all[0]->retries);
      EXPECT_EQ(all[r]->elapsed, all[0]->elapsed);
    }
  }

  testing::TestDir dir_;
  testing::MixedTree tree_;
};

std::string EachRankANode(int rank) { return "n" + std::to_string(rank); }

TEST_F(StageNodesTest, ThreeNodesEachGetACopyAndSrcIsReadOnce) {
  auto counting = std::make_shared<FaultFileSystem>();  // shared: counts every leader's reads
  counting->count_reads_under = Src();
  auto all = StageInOn(3, EachRankANode, [&](int) { return counting; });
  ExpectAlike(all);
  ASSERT_TRUE(all[0].ok()) << all[0].status();
  EXPECT_EQ(all[0]->nodes, 3);
  EXPECT_EQ(all[0]->source_bytes_read, tree_.bytes);
  EXPECT_EQ(counting->bytes_read, tree_.bytes);
  for (int r = 0; r < 3; ++r) {
    EXPECT_THAT(TreeDifferences(Src(), Local(EachRankANode(r))), IsEmpty()) << r;
  }
  // Again: nothing is read; one node's copy lost: only its files move, read once.
  all = StageInOn(3, EachRankANode);
  ASSERT_TRUE(all[0].ok());
  EXPECT_EQ(all[0]->source_bytes_read, 0u);
  fs::remove(Local("n1") + "/data/large-1");
  all = StageInOn(3, EachRankANode);
  ExpectAlike(all);
  ASSERT_TRUE(all[0].ok());
  EXPECT_EQ(all[0]->files_copied, 1u);
  EXPECT_EQ(all[0]->source_bytes_read, fs::file_size(Src() + "/data/large-1"));
  EXPECT_THAT(TreeDifferences(Src(), Local("n1")), IsEmpty());
}

TEST_F(StageNodesTest, RanksSharingANodeShareOneCopy) {
  // Ranks 0 and 2 on node "a", ranks 1 and 3 on "b": leaders 0 and 1.
  auto all = StageInOn(4, [](int rank) { return rank % 2 == 0 ? "a" : "b"; });
  ExpectAlike(all);
  ASSERT_TRUE(all[0].ok()) << all[0].status();
  EXPECT_EQ(all[0]->nodes, 2);
  EXPECT_EQ(all[0]->source_bytes_read, tree_.bytes);
  EXPECT_THAT(TreeDifferences(Src(), Local("a")), IsEmpty());
  EXPECT_THAT(TreeDifferences(Src(), Local("b")), IsEmpty());
}

// Faults on one node's file system only: `on(rank)` sets them up.
std::function<std::shared_ptr<FileSystem>(int)> FaultsOn(
    int faulty, const std::function<void(FaultFileSystem&)>& on) {
  return [=](int rank) {
    auto fs = std::make_shared<FaultFileSystem>();
    if (rank == faulty) on(*fs);
    return fs;
  };
}

TEST_F(StageNodesTest, ACorruptWriteOnOneNodeIsRepairedThere) {
  const std::string content = testing::ReadFile(Src() + "/data/small-3");
  auto flips = std::make_shared<std::atomic<int>>(1);
  auto all = StageInOn(3, EachRankANode, FaultsOn(2, [&](FaultFileSystem& fs) {
                         fs.on_write = [=](const std::string&, uint64_t, std::string& data) {
                           if (data == content && (*flips)-- > 0) data[0] ^= 1;
                           return absl::OkStatus();
                         };
                       }));
  ExpectAlike(all);
  ASSERT_TRUE(all[0].ok()) << all[0].status();
  EXPECT_EQ(all[0]->retries, 1u);
  EXPECT_EQ(all[0]->source_bytes_read, tree_.bytes + content.size());
  for (int r = 0; r < 3; ++r) {
    EXPECT_THAT(TreeDifferences(Src(), Local(EachRankANode(r))), IsEmpty()) << r;
  }
}

TEST_F(StageNodesTest, ACopyThatNeverMatchesOnOneNodeNamesThatNode) {
  const std::string content = testing::ReadFile(Src() + "/a/b/c/deep.txt");
  auto all = StageInOn(3, EachRankANode, FaultsOn(1, [&](FaultFileSystem& fs) {
                         fs.on_write = [=](const std::string&, uint64_t, std::string& data) {
                           if (data == content) data[7] ^= 1;
                           return absl::OkStatus();
                         };
                       }));
  ExpectAlike(all);
  ASSERT_TRUE(absl::IsDataLoss(all[0].status())) << all[0].status();
  EXPECT_THAT(all[0].status().message(), HasSubstr("/a/b/c/deep.txt on node n1 "));
  // Every other file is complete everywhere (symlinks and directory modes come after the
  // transfer, which failed).
  for (const auto& e : fs::recursive_directory_iterator(Src())) {
    if (!e.is_regular_file() || e.is_symlink()) continue;
    const std::string rel = e.path().lexically_relative(Src()).string();
    for (int r = 0; r < 3; ++r) {
      const std::string copy = Local(EachRankANode(r)) + "/" + rel;
      if (rel == "a/b/c/deep.txt" && r == 1) {
        EXPECT_FALSE(fs::exists(copy));
      } else {
        EXPECT_EQ(testing::ReadFile(copy), testing::ReadFile(e.path())) << copy;
      }
    }
  }
}

TEST_F(StageNodesTest, AFullDiskOnOneNodeFailsEveryRankWithThatNodesError) {
  auto all = StageInOn(4, EachRankANode, FaultsOn(2, [&](FaultFileSystem& fs) {
                         fs.on_write = FaultFileSystem::NoSpaceAfter(tree_.bytes / 3, "/partial/");
                       }));
  ExpectAlike(all);
  ASSERT_TRUE(absl::IsResourceExhausted(all[0].status())) << all[0].status();
  EXPECT_THAT(all[0].status().message(), HasSubstr("node n2: destination full"));
  // The rerun without the fault completes every node and reads only what some node lacks.
  all = StageInOn(4, EachRankANode);
  ExpectAlike(all);
  ASSERT_TRUE(all[0].ok()) << all[0].status();
  EXPECT_LT(all[0]->source_bytes_read, tree_.bytes);
  for (int r = 0; r < 4; ++r) {
    EXPECT_THAT(TreeDifferences(Src(), Local(EachRankANode(r))), IsEmpty()) << r;
  }
}

TEST_F(StageNodesTest, AnUnreadableFileOnTheLeaderThatReadsItFailsEveryone) {
  auto all = StageInOn(3, EachRankANode, [&](int) {
    auto fs = std::make_shared<FaultFileSystem>();
    fs->on_open = [&](const std::string& path) {
      if (path == Src() + "/data/large-0") return ErrnoStatus(EACCES, "cannot open", path);
      return absl::OkStatus();
    };
    return fs;
  });
  ExpectAlike(all);
  ASSERT_TRUE(absl::IsPermissionDenied(all[0].status())) << all[0].status();
  EXPECT_THAT(all[0].status().message(), HasSubstr("cannot open " + Src() + "/data/large-0"));
}

TEST_F(StageNodesTest, StageOutOnThreeNodesAndOneDstForAllIsRefused) {
  ASSERT_TRUE(StageInOn(3, EachRankANode)[0].ok());
  auto out = [&](const std::string& dst) {
    std::vector<absl::StatusOr<StageStats>> all(3, absl::UnknownError("not run"));
    testing::RunRanks(3, [&](Communicator& comm, int rank) {
      all[rank] = StageOut(dir_.path() + "/local/%n", dst,
                           {.node_name = EachRankANode(rank), .report_to_daemon = false}, &comm);
    });
    return all;
  };
  auto all = out(dir_.path() + "/shared/%n");
  ExpectAlike(all);
  ASSERT_TRUE(all[0].ok()) << all[0].status();
  EXPECT_EQ(all[0]->nodes, 3);
  EXPECT_EQ(all[0]->files_total, 3 * tree_.files);
  for (int r = 0; r < 3; ++r) {
    EXPECT_THAT(TreeDifferences(Src(), dir_.path() + "/shared/" + EachRankANode(r), ""), IsEmpty());
  }
  all = out(dir_.path() + "/shared/all");
  ExpectAlike(all);
  EXPECT_TRUE(absl::IsInvalidArgument(all[0].status())) << all[0].status();
  EXPECT_THAT(all[0].status().message(), HasSubstr("nodes n0 and n1 would both stage out to"));
  EXPECT_FALSE(fs::exists(dir_.path() + "/shared/all"));
}

}  // namespace
}  // namespace drocc::runtime
