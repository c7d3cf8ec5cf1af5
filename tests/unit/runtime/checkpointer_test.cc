// Checkpointer in a one-rank world (LocalCommunicator, no MPI): the save/restore round trip,
// every kind of damage restore must detect and fall back from, retention, and misuse.
// Multi-rank behaviour (resharding, agreement) is covered by ckpt_mpi_test.sh.

#include "drocc/runtime/checkpoint.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/unit/runtime/checkpoint_fixture.h"

namespace drocc::runtime {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::State;
using ::testing::UnorderedElementsAre;

using CheckpointerTest = testing::CheckpointFixture;

TEST_F(CheckpointerTest, RestoresTheNewestCheckpointIntoAFreshObject) {
  SaveSteps({10, 20});
  RestoreResult r = RestoreFresh();
  EXPECT_TRUE(r.restored);
  EXPECT_EQ(r.step, 20);
  EXPECT_TRUE(r.skipped.empty());
}

TEST_F(CheckpointerTest, LayoutIsOneDirectoryPerStepWithShardAndManifest) {
  SaveSteps({7});
  EXPECT_TRUE(fs::exists(Shard(7)));
  EXPECT_TRUE(fs::exists(Manifest(7)));
  EXPECT_FALSE(fs::exists(Manifest(7) + ".tmp"));
  // lr (8) + x (4000) + opaque (11)
  EXPECT_EQ(fs::file_size(Shard(7)), 8u + 4000u + 11u);
}

TEST_F(CheckpointerTest, NothingToRestoreLeavesStateUntouched) {
  State s;
  s.Fill(3);
  auto c = Make(s);
  absl::StatusOr<RestoreResult> r = c->Restore();  // the directory does not even exist
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->restored);
  EXPECT_TRUE(r->skipped.empty());
  State want;
  want.Fill(3);
  EXPECT_TRUE(s == want);
}

TEST_F(CheckpointerTest, FlippedByteInAShardFallsBackToThePreviousCheckpoint) {
  SaveSteps({1, 2});
  FlipByte(Shard(2), 100);
  RestoreResult r = RestoreFresh();
  EXPECT_EQ(r.step, 1);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_THAT(r.skipped[0], HasSubstr(CheckpointDirName(2)));
  EXPECT_THAT(r.skipped[0], HasSubstr("checksum mismatch"));
}

TEST_F(CheckpointerTest, MissingShardFallsBack) {
  SaveSteps({1, 2});
  fs::remove(Shard(2));
  RestoreResult r = RestoreFresh();
  EXPECT_EQ(r.step, 1);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_THAT(r.skipped[0], HasSubstr("shard-000000.bin is missing"));
}

TEST_F(CheckpointerTest, TruncatedShardFallsBack) {
  SaveSteps({1, 2});
  fs::resize_file(Shard(2), 1000);
  RestoreResult r = RestoreFresh();
  EXPECT_EQ(r.step, 1);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_THAT(r.skipped[0], HasSubstr("has 1000 bytes"));
}

TEST_F(CheckpointerTest, CorruptManifestFallsBack) {
  SaveSteps({1, 2, 3});
  FlipByte(Manifest(3), 200);
  fs::resize_file(Manifest(2), 50);
  RestoreResult r = RestoreFresh();
  EXPECT_EQ(r.step, 1);
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_THAT(r.skipped[0], HasSubstr(CheckpointDirName(3)));
  EXPECT_THAT(r.skipped[1], HasSubstr("not valid JSON"));
}

TEST_F(CheckpointerTest, ManifestMovedToAnotherStepIsRejected) {
  SaveSteps({1, 2});
  fs::copy_file(Manifest(1), Manifest(2), fs::copy_options::overwrite_existing);
  RestoreResult r = RestoreFresh();
  EXPECT_EQ(r.step, 1);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_THAT(r.skipped[0], HasSubstr("the manifest is of step 1"));
}

TEST_F(CheckpointerTest, InterruptedSaveWithoutManifestIsPassedOver) {
  SaveSteps({1, 2});
  fs::remove(Manifest(2));
  fs::create_directory(Ckpt(3));  // a save that died before writing anything
  RestoreResult r = RestoreFresh();
  EXPECT_EQ(r.step, 1);
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_THAT(r.skipped[0], HasSubstr("interrupted"));
}

TEST_F(CheckpointerTest, EverythingCorruptMeansNothingRestored) {
  SaveSteps({1, 2});
  FlipByte(Shard(1), 0);
  FlipByte(Shard(2), 0);
  RestoreResult r = RestoreFresh();
  EXPECT_FALSE(r.restored);
  EXPECT_EQ(r.skipped.size(), 2u);
}

TEST_F(CheckpointerTest, RetentionKeepsTheLastN) {
  SaveSteps({1, 2, 3, 4, 5}, {.keep_last = 2});
  EXPECT_THAT(Dirs(), UnorderedElementsAre(CheckpointDirName(4), CheckpointDirName(5)));
  EXPECT_EQ(RestoreFresh().step, 5);
}

TEST_F(CheckpointerTest, RetentionZeroKeepsAll) {
  SaveSteps({1, 2, 3, 4}, {.keep_last = 0});
  EXPECT_EQ(Dirs().size(), 4u);
}

TEST_F(CheckpointerTest, RetentionRemovesOlderInterruptedSavesButNotTheCommittedOnes) {
  SaveSteps({1, 2}, {.keep_last = 2});
  fs::remove(Manifest(2));  // 2 now looks interrupted: it does not count as kept
  SaveSteps({3}, {.keep_last = 2});
  EXPECT_THAT(Dirs(), UnorderedElementsAre(CheckpointDirName(1), CheckpointDirName(3)));
}

TEST_F(CheckpointerTest, RetentionOneKeepsOnlyTheNewest) {
  SaveSteps({1, 2, 3}, {.keep_last = 1});
  EXPECT_THAT(Dirs(), UnorderedElementsAre(CheckpointDirName(3)));
}

TEST_F(CheckpointerTest, SavingAStepAgainReplacesIt) {
  SaveSteps({1, 2});
  FlipByte(Shard(2), 10);
  EXPECT_EQ(RestoreFresh().step, 1);
  SaveSteps({2});
  RestoreResult r = RestoreFresh();
  EXPECT_EQ(r.step, 2);
  EXPECT_TRUE(r.skipped.empty());
}

TEST_F(CheckpointerTest, FailingSaveCallbackCommitsNothing) {
  SaveSteps({1});
  for (bool async : {false, true}) {  // asynchronous: the callback still runs in Save
    SCOPED_TRACE(async ? "async" : "sync");
    State s;
    auto c = Checkpointer::Create({.directory = Dir(), .async = async}, comm_);
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->RegisterReplicated("lr", &s.lr, sizeof s.lr).ok());
    ASSERT_TRUE((*c)->RegisterDistributed("x", s.x.data(), 4, s.x.size(), 0, s.x.size()).ok());
    ASSERT_TRUE((*c)->RegisterCallback(
                        "opaque",
                        []() -> absl::StatusOr<std::string> {
                          return absl::UnavailableError("device busy");
                        },
                        [](std::string_view) { return absl::OkStatus(); })
                    .ok());
    absl::Status st = (*c)->Save(2);
    EXPECT_TRUE(absl::IsUnavailable(st)) << st;
    EXPECT_THAT(std::string(st.message()), HasSubstr("\"opaque\" failed: device busy"));
    EXPECT_TRUE((*c)->Wait().ok());
    EXPECT_FALSE(fs::exists(Manifest(2)));
    EXPECT_EQ(RestoreFresh().step, 1);
  }
}

TEST_F(CheckpointerTest, DifferentlyRegisteredStateIsAnErrorNotAFallback) {
  SaveSteps({1});
  State s;
  auto c = Checkpointer::Create({.directory = Dir()}, comm_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->RegisterReplicated("lr", &s.lr, sizeof s.lr).ok());
  ASSERT_TRUE((*c)->RegisterDistributed("x", s.x.data(), 4, 999, 0, 999).ok());
  absl::StatusOr<RestoreResult> r = (*c)->Restore();
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("register the same state"));
}

TEST_F(CheckpointerTest, SlicesThatDoNotCoverTheArrayAreRefused) {
  std::vector<uint32_t> x(5);
  auto c = Checkpointer::Create({.directory = Dir()}, comm_);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->RegisterDistributed("x", x.data(), 4, 10, 0, 5).ok());
  absl::Status st = (*c)->Save(1);
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("cover [0, 5) but the array has 10"));
  EXPECT_FALSE(fs::exists(Manifest(1)));
}

TEST_F(CheckpointerTest, RegistrationMistakesAreRefused) {
  auto c = Checkpointer::Create({.directory = dir_.path()}, comm_);
  ASSERT_TRUE(c.ok());
  double d = 0;
  EXPECT_TRUE((*c)->RegisterReplicated("a", &d, sizeof d).ok());
  EXPECT_TRUE(absl::IsAlreadyExists((*c)->RegisterReplicated("a", &d, sizeof d)));
  EXPECT_TRUE(absl::IsInvalidArgument((*c)->RegisterReplicated("", &d, sizeof d)));
  EXPECT_TRUE(absl::IsInvalidArgument((*c)->RegisterDistributed("b", &d, 8, 10, 5, 6)));
  EXPECT_TRUE(absl::IsInvalidArgument((*c)->RegisterDistributed("b", &d, 0, 10, 0, 1)));
  EXPECT_TRUE(absl::IsInvalidArgument((*c)->RegisterCallback("c", nullptr, nullptr)));
  EXPECT_TRUE(absl::IsInvalidArgument((*c)->Save(-1)));
}

TEST_F(CheckpointerTest, OptionsNotYetImplementedAreRefused) {
  const std::string d = dir_.path();
  EXPECT_TRUE(absl::IsUnimplemented(
      Checkpointer::Create({.directory = d, .handle_signals = true}, comm_).status()));
  EXPECT_TRUE(absl::IsUnimplemented(
      Checkpointer::Create({.directory = d, .report_to_daemon = true}, comm_).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(
      Checkpointer::Create({.directory = d, .node_local_directory = d + "/"}, comm_).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Checkpointer::Create({}, comm_).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Checkpointer::Create({.directory = d}, nullptr).status()));
}

}  // namespace
}  // namespace drocc::runtime
