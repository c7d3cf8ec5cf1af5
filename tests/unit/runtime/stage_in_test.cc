// StageIn in a one-rank world (LocalCommunicator, no MPI): the copy of a mixed tree, byte for
// byte with modes, mtimes and symlinks; incremental runs; faults injected through the
// FileSystem seam (a corrupted write, a full disk, a failure half-way); a process killed
// half-way and a rerun. Several nodes are covered by stage_mpi_test.sh.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "drocc/runtime/staging.h"
#include "runtime/src/staging/manifest.h"
#include "tests/unit/runtime/fault_file_system.h"
#include "tests/unit/runtime/staging_fixture.h"
#include "tests/unit/runtime/test_dir.h"

namespace drocc::runtime {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using testing::FaultFileSystem;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::MixedTree;
using testing::TreeDifferences;

class StageInTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tree_ = testing::MakeMixedTree(Src());
    fs_->count_reads_under = Src();
  }
  std::string Src() const { return dir_.path() + "/src"; }
  std::string Dst() const { return dir_.path() + "/dst"; }

  // StageIn SRC -> DST through fs_, with small chunks so that large files span rounds.
  absl::StatusOr<StageStats> Stage(StageOptions o = {}) {
    o.fs = fs_;
    o.chunk_bytes = 256 << 10;
    o.report_to_daemon = false;
    fs_->bytes_read = 0;
    fs_->bytes_copied_in_kernel = 0;
    return StageIn(Src(), Dst(), o, &comm_);
  }
  // Paths under DST that are not where they belong: anything left in .drocc-stage/partial.
  std::vector<std::string> Partial() const {
    std::vector<std::string> out;
    const std::string p = Dst() + "/.drocc-stage/partial";
    if (!fs::exists(p)) return out;
    for (const auto& e : fs::directory_iterator(p)) out.push_back(e.path().filename());
    return out;
  }

  testing::TestDir dir_;
  MixedTree tree_;
  LocalCommunicator comm_;
  std::shared_ptr<FaultFileSystem> fs_ = std::make_shared<FaultFileSystem>();
};

TEST_F(StageInTest, CopiesAMixedTreeExactly) {
  std::vector<StageProgress> progress;
  StageOptions o;
  o.progress_interval = absl::ZeroDuration();
  o.on_progress = [&](const StageProgress& p) { progress.push_back(p); };
  absl::StatusOr<StageStats> s = Stage(o);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
  EXPECT_EQ(s->nodes, 1);
  EXPECT_EQ(s->files_total, tree_.files);
  EXPECT_EQ(s->bytes_total, tree_.bytes);
  EXPECT_EQ(s->files_copied, tree_.files);
  EXPECT_EQ(s->bytes_copied, tree_.bytes);
  EXPECT_EQ(s->files_skipped, 0u);
  EXPECT_EQ(s->directories, tree_.directories);
  EXPECT_EQ(s->symlinks, tree_.symlinks);
  EXPECT_EQ(s->retries, 0u);
  // Every byte of SRC read once, counted by the library and by the seam alike.
  EXPECT_EQ(s->source_bytes_read, tree_.bytes);
  EXPECT_EQ(fs_->bytes_read, tree_.bytes);
  // One node, SRC and DST on one filesystem: the kernel wrote every piece of 256 KiB (as cp
  // does; the chunks here are 256 KiB), and the pieces read and hashed were checked against it
  // all the same. Smaller pieces were written from the bytes in hand.
  uint64_t whole_chunks = 0;
  for (const auto& e : fs::recursive_directory_iterator(Src())) {
    if (e.is_regular_file() && !e.is_symlink())
      whole_chunks += e.file_size() / (256 << 10) * (256 << 10);
  }
  ASSERT_GT(whole_chunks, 0u);
  EXPECT_EQ(fs_->bytes_copied_in_kernel, whole_chunks);
  EXPECT_THAT(Partial(), IsEmpty());
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(progress.back().final);
  EXPECT_EQ(progress.back().phase, "stage-in");
  EXPECT_EQ(progress.back().bytes_done, tree_.bytes);
  EXPECT_EQ(progress.back().files_done, tree_.files);
  for (size_t i = 0; i + 1 < progress.size(); ++i) {
    EXPECT_FALSE(progress[i].final);
    EXPECT_LE(progress[i].bytes_done, progress[i + 1].bytes_done);
    EXPECT_EQ(progress[i].bytes_total, tree_.bytes);
  }
}

TEST_F(StageInTest, ASecondRunCopiesNothingAndOneChangedFileAloneMoves) {
  ASSERT_TRUE(Stage().ok());
  absl::StatusOr<StageStats> again = Stage();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->source_bytes_read, 0u);
  EXPECT_EQ(fs_->bytes_read, 0u);
  EXPECT_EQ(again->files_copied, 0u);
  EXPECT_EQ(again->files_skipped, tree_.files);
  EXPECT_EQ(again->bytes_skipped, tree_.bytes);
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());

  const std::string changed = Src() + "/data/small-17";
  testing::WriteFile(changed, "new content, another size");
  absl::StatusOr<StageStats> third = Stage();
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->files_copied, 1u);
  EXPECT_EQ(third->source_bytes_read, fs::file_size(changed));
  EXPECT_EQ(fs_->bytes_read, fs::file_size(changed));
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());

  // Touched only (same size, new mtime): copied again too, and its mtime follows.
  testing::SetMtime(Src() + "/one", 1'700'000'000);
  third = Stage();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->files_copied, 1u);
  EXPECT_EQ(third->source_bytes_read, 1u);
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
}

TEST_F(StageInTest, ChangesInDstAreRepairedAndExtraFilesLeftAlone) {
  ASSERT_TRUE(Stage().ok());
  fs::remove(Dst() + "/data/small-3");                      // gone
  testing::WriteFile(Dst() + "/data/small-4", "tampered");  // other size and mtime
  fs::permissions(Dst() + "/one", fs::perms::owner_all);    // mode only
  fs::remove(Dst() + "/link-to-one");
  fs::create_symlink("empty", Dst() + "/link-to-one");  // another target
  fs::remove_all(Dst() + "/a/b/c");                     // a whole directory
  testing::WriteFile(Dst() + "/extra", "mine");
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->files_copied, 3u);  // small-3, small-4, deep.txt
  EXPECT_THAT(TreeDifferences(Src(), Dst()), ElementsAre("extra: extra"));
  EXPECT_EQ(testing::ReadFile(Dst() + "/extra"), "mine");
}

TEST_F(StageInTest, AnEntryOfAnotherKindInDstIsReplaced) {
  fs::create_directories(Dst() + "/one/sub");  // a directory where SRC has a file
  fs::create_directories(Dst());
  testing::WriteFile(Dst() + "/a", "file where SRC has a directory");
  fs::create_symlink("/etc", Dst() + "/data");  // must not be followed out of DST
  ASSERT_TRUE(Stage().ok());
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
}

TEST_F(StageInTest, VerifyExistingRehashesAndRepairsSilentDamage) {
  ASSERT_TRUE(Stage().ok());
  // Same size and mtime, other bytes: only a re-hash sees it.
  const std::string victim = Dst() + "/data/small-5";
  const int64_t mtime = testing::MtimeNs(victim);
  std::string bytes = testing::ReadFile(victim);
  bytes[0] ^= 0x55;
  fs::permissions(victim, fs::perms::owner_write, fs::perm_options::add);
  testing::WriteFile(victim, bytes);
  testing::SetMtime(victim, mtime / 1'000'000'000, mtime % 1'000'000'000);
  absl::StatusOr<StageStats> trusting = Stage();
  ASSERT_TRUE(trusting.ok());
  EXPECT_EQ(trusting->files_copied, 0u);
  absl::StatusOr<StageStats> verifying = Stage({.verify_existing = true});
  ASSERT_TRUE(verifying.ok()) << verifying.status();
  EXPECT_EQ(verifying->files_copied, 1u);
  EXPECT_EQ(verifying->source_bytes_read, bytes.size());
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
}

// A byte flipped in one write of a given file (the kernel's copy of a piece, here): the
// read-back catches it, the file is sent again and the copy is right.
TEST_F(StageInTest, ACorruptedWriteIsDetectedAndRepaired) {
  const std::string content = testing::ReadFile(Src() + "/data/large-1");
  std::atomic<int> flips{1};
  fs_->on_write = [&](const std::string&, uint64_t offset, std::string& data) {
    if (offset == 0 && data.size() >= 64 && data.compare(0, 64, content, 0, 64) == 0 &&
        flips-- > 0) {
      data[10] ^= 0x01;
    }
    return absl::OkStatus();
  };
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(flips.load(), -1);  // written twice: flipped, then right
  EXPECT_EQ(s->retries, 1u);
  EXPECT_EQ(s->source_bytes_read, tree_.bytes + content.size());
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
  EXPECT_THAT(Partial(), IsEmpty());
}

TEST_F(StageInTest, ACopyThatNeverMatchesIsAnErrorNamingTheFileAndNode) {
  const std::string content = testing::ReadFile(Src() + "/a/b/c/deep.txt");
  fs_->on_write = [&](const std::string&, uint64_t offset, std::string& data) {
    if (offset == 0 && data == content) data[0] ^= 0x01;
    return absl::OkStatus();
  };
  absl::StatusOr<StageStats> s = Stage({.node_name = "cn7", .verify_retries = 2});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsDataLoss(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr(Src() + "/a/b/c/deep.txt on node cn7"));
  EXPECT_THAT(s.status().message(), HasSubstr("after 3 transfers"));
  EXPECT_FALSE(fs::exists(Dst() + "/a/b/c/deep.txt"));
  EXPECT_THAT(Partial(), IsEmpty());
  // Everything else is complete, and a rerun without the fault copies only that file.
  fs_->on_write = nullptr;
  absl::StatusOr<StageStats> rerun = Stage();
  ASSERT_TRUE(rerun.ok()) << rerun.status();
  EXPECT_EQ(rerun->files_copied, 1u);
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
}

TEST_F(StageInTest, AFullDestinationIsAClearErrorAndNoFinalFileIsPartial) {
  fs_->on_write = FaultFileSystem::NoSpaceAfter(tree_.bytes / 2, "/partial/");
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsResourceExhausted(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("destination full"));
  EXPECT_THAT(s.status().message(), HasSubstr("stage to another directory"));
  // Every file under its final name is complete; the partial copies are gone.
  int complete = 0;
  for (const auto& e : fs::recursive_directory_iterator(Dst())) {
    const std::string rel = e.path().lexically_relative(Dst()).string();
    if (rel.rfind(".drocc-stage", 0) == 0 || !e.is_regular_file() || e.is_symlink()) continue;
    EXPECT_EQ(testing::ReadFile(e.path()), testing::ReadFile(Src() + "/" + rel)) << rel;
    ++complete;
  }
  EXPECT_GT(complete, 0);
  EXPECT_LT(complete, static_cast<int>(tree_.files));
  EXPECT_THAT(Partial(), IsEmpty());
  // With space again, the rerun copies the rest only.
  fs_->on_write = nullptr;
  absl::StatusOr<StageStats> rerun = Stage();
  ASSERT_TRUE(rerun.ok()) << rerun.status();
  EXPECT_LT(rerun->files_copied, tree_.files);
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
}

// Copies recorded in the manifest, and their bytes.
std::pair<uint64_t, uint64_t> Recorded(const std::string& dst) {
  PosixFileSystem posix;
  auto m = staging::LoadManifest(posix, dst + "/.drocc-stage/manifest");
  uint64_t files = 0, bytes = 0;
  for (const auto& [path, r] : m->records) {
    ++files;
    bytes += r.size;
  }
  return {files, bytes};
}

TEST_F(StageInTest, AFailureHalfWayThenARerunCopiesOnlyTheRest) {
  std::atomic<int> placed{0};
  fs_->on_rename = [&](const std::string& from, const std::string&) {
    if (from.find("/partial/") != std::string::npos && ++placed > 100) {
      return absl::InternalError("injected failure");
    }
    return absl::OkStatus();
  };
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().message(), HasSubstr("injected failure"));
  const auto [files, bytes] = Recorded(Dst());
  EXPECT_GE(files, 100u);
  EXPECT_LT(files, tree_.files);
  fs_->on_rename = nullptr;
  absl::StatusOr<StageStats> rerun = Stage();
  ASSERT_TRUE(rerun.ok()) << rerun.status();
  EXPECT_EQ(rerun->files_copied, tree_.files - files);
  EXPECT_EQ(rerun->source_bytes_read, tree_.bytes - bytes);
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
}

TEST_F(StageInTest, AProcessKilledHalfWayThenARerunCompletes) {
  // SIGKILL after 150 files are in place.
  testing::RunInAChildThatIsKilled([&] {
    std::atomic<int> placed{0};
    fs_->on_rename = [&](const std::string& from, const std::string&) {
      if (from.find("/partial/") != std::string::npos && ++placed > 150) raise(SIGKILL);
      return absl::OkStatus();
    };
    (void)Stage();
  });
  // What the manifest records is complete; nothing partial is under a final name.
  const auto [files, bytes] = Recorded(Dst());
  EXPECT_GT(files, 100u);
  EXPECT_LT(files, tree_.files);
  absl::StatusOr<StageStats> rerun = Stage();
  ASSERT_TRUE(rerun.ok()) << rerun.status();
  EXPECT_EQ(rerun->files_copied, tree_.files - files);
  EXPECT_EQ(rerun->source_bytes_read, tree_.bytes - bytes);
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
  EXPECT_THAT(Partial(), IsEmpty());
}

TEST_F(StageInTest, AnUnreadableSourceFileIsNamed) {
  fs_->on_open = [&](const std::string& path) {
    if (path == Src() + "/data/small-9") return ErrnoStatus(EACCES, "cannot open", path);
    return absl::OkStatus();
  };
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsPermissionDenied(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("cannot open " + Src() + "/data/small-9"));
}

TEST_F(StageInTest, AnEscapingSymlinkIsRefusedBeforeAnythingIsCopied) {
  fs::create_symlink("../../secret", Src() + "/a/escape");
  absl::StatusOr<StageStats> s = Stage();
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("a/escape points to ../../secret"));
  EXPECT_FALSE(fs::exists(Dst()));
  EXPECT_EQ(fs_->bytes_read, 0u);
}

TEST_F(StageInTest, MissingSourceAndDestinationOfTheWrongKind) {
  absl::StatusOr<StageStats> s =
      StageIn(Src() + "/nope", Dst(), {.report_to_daemon = false}, &comm_);
  EXPECT_TRUE(absl::IsNotFound(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("does not exist"));
  testing::WriteFile(Dst(), "a file");
  s = Stage();
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();
  EXPECT_THAT(s.status().message(), HasSubstr("DST " + Dst() + " is a regular file"));
}

TEST_F(StageInTest, ASingleFileAndANodeNameInDst) {
  const std::string src = Src() + "/data/large-0";
  const std::string dst = dir_.path() + "/%n/copy.bin";
  StageOptions o{.node_name = "host-%r", .report_to_daemon = false, .fs = fs_};
  absl::StatusOr<StageStats> s = StageIn(src, dst, o, &comm_);
  ASSERT_TRUE(s.ok()) << s.status();
  const std::string copy = dir_.path() + "/host-0/copy.bin";
  EXPECT_EQ(testing::ReadFile(copy), testing::ReadFile(src));
  EXPECT_EQ(testing::MtimeNs(copy), testing::MtimeNs(src));
  EXPECT_EQ(s->files_copied, 1u);
  s = StageIn(src, dst, o, &comm_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->source_bytes_read, 0u);
}

TEST_F(StageInTest, OverlappingSourceAndDestinationAreRefused) {
  for (const std::string& dst : {Src(), Src() + "/copy", dir_.path(), Src() + "/../src/x"}) {
    absl::StatusOr<StageStats> s = StageIn(Src(), dst, {.report_to_daemon = false}, &comm_);
    EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << dst << ": " << s.status();
    EXPECT_THAT(s.status().message(), HasSubstr("choose a DST outside SRC")) << dst;
  }
  EXPECT_FALSE(fs::exists(Src() + "/copy"));
  absl::StatusOr<StageStats> out =
      StageOut(Src(), Src() + "/up", {.report_to_daemon = false}, &comm_);
  EXPECT_TRUE(absl::IsInvalidArgument(out.status())) << out.status();
}

TEST_F(StageInTest, BadOptionsAreRefused) {
  for (StageOptions o : {StageOptions{.chunk_bytes = 1000}, StageOptions{.io_threads = 0},
                         StageOptions{.verify_retries = -1}}) {
    absl::StatusOr<StageStats> s = StageIn(Src(), Dst(), o, &comm_);
    EXPECT_TRUE(absl::IsInvalidArgument(s.status())) << s.status();
  }
  EXPECT_TRUE(absl::IsInvalidArgument(StageIn(Src(), Dst(), {}, nullptr).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(StageIn(Src() + "/%n", Dst(), {}, &comm_).status()));
}

TEST_F(StageInTest, OneIoThreadAndTheSmallestChunksGiveTheSameCopy) {
  StageOptions o{.io_threads = 1, .report_to_daemon = false, .fs = fs_};
  o.chunk_bytes = 64 << 10;
  absl::StatusOr<StageStats> s = StageIn(Src(), Dst(), o, &comm_);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->source_bytes_read, tree_.bytes);
  EXPECT_THAT(TreeDifferences(Src(), Dst()), IsEmpty());
}

}  // namespace
}  // namespace drocc::runtime
