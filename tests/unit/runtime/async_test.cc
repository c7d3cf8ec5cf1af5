// Asynchronous saves and the node-local tier, in a one-rank world. The background thread's
// communicator is gated (gated_communicator.h), so a test can hold a save in flight right
// after its directory was created and before any shard is written. Multi-rank runs are in
// ckpt_mpi_test.sh.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "drocc/runtime/checkpoint.h"
#include "tests/unit/runtime/checkpoint_fixture.h"
#include "tests/unit/runtime/gated_communicator.h"

namespace drocc::runtime {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::State;
using ::testing::UnorderedElementsAre;
using WhenBusy = CheckpointOptions::WhenBusy;
using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

class AsyncTest : public testing::CheckpointFixture {
 protected:
  AsyncTest() { comm_ = &gated_; }

  std::string LocalDir() const { return dir_.path() + "/local"; }
  std::string LocalShard(int64_t step) const {
    return LocalDir() + "/" + CheckpointDirName(step) + "/shard-000000.bin";
  }
  // A regular file where a directory is expected: nobody, not even root, can create
  // anything below it.
  std::string Blocked() const {
    const std::string file = dir_.path() + "/a-regular-file";
    std::ofstream(file) << "in the way";
    return file + "/below";
  }

  // Saves `step` with `c` and holds the save in flight at its first collective (after its
  // directory was created, before any shard is written) until the gate opens.
  void SaveAndHold(Checkpointer& c, State& s, int64_t step) {
    gate_.Close();
    s.Fill(step);
    ASSERT_TRUE(c.Save(step).ok());
    gate_.WaitForArrival();
  }
  // Opens the gate `delay` from now, from another thread (joined when it goes out of scope).
  std::jthread OpenGateIn(std::chrono::milliseconds delay) {
    return std::jthread([this, delay] {
      std::this_thread::sleep_for(delay);
      gate_.Open();
    });
  }

  testing::Gate gate_;  // open unless a test closes it
  testing::GatedCommunicator gated_{&gate_};
};

TEST_F(AsyncTest, SaveReturnsBeforeTheCheckpointIsDurableAndWaitMakesItDurable) {
  SaveSteps({1}, {.async = true});
  State s;
  auto c = Make(s, {.async = true});
  SaveAndHold(*c, s, 2);
  EXPECT_FALSE(fs::exists(Shard(2)));
  EXPECT_FALSE(fs::exists(Manifest(2)));
  EXPECT_EQ(RestoreFresh().step, 1);  // "latest" has not moved
  gate_.Open();
  ASSERT_TRUE(c->Wait().ok());
  EXPECT_TRUE(fs::exists(Manifest(2)));
  EXPECT_EQ(RestoreFresh().step, 2);
  EXPECT_EQ(c->Stats().saves_committed, 1);
  EXPECT_EQ(c->Stats().last_committed_step, 2);
}

TEST_F(AsyncTest, RestoreAfterAsynchronousSavesIsBitIdentical) {
  SaveSteps({1, 2, 3}, {.async = true});
  EXPECT_EQ(RestoreFresh().step, 3);  // checks every byte of the state
  State s;
  auto c = Make(s, {.async = true});
  EXPECT_EQ(RestoreInto(*c, s).step, 3);
}

TEST_F(AsyncTest, AnAsynchronousCheckpointIsTheSameOnDiskAsASynchronousOne) {
  const std::string sync_dir = dir_.path() + "/sync";
  SaveSteps({5}, {.directory = sync_dir});
  SaveSteps({5}, {.async = true});
  const std::string sync_ckpt = sync_dir + "/" + CheckpointDirName(5);
  EXPECT_EQ(ReadAll(Shard(5)), ReadAll(sync_ckpt + "/shard-000000.bin"));
  EXPECT_EQ(ReadAll(Manifest(5)), ReadAll(sync_ckpt + "/MANIFEST.json"));
}

TEST_F(AsyncTest, StateChangedRightAfterSaveReturnsIsNotInTheCheckpoint) {
  State s;
  auto c = Make(s, {.async = true});
  SaveAndHold(*c, s, 2);
  s.Fill(99);  // training goes on while step 2 is being written
  gate_.Open();
  ASSERT_TRUE(c->Wait().ok());
  EXPECT_EQ(RestoreFresh().step, 2);  // with step 2's bytes, not step 99's
}

TEST_F(AsyncTest, WhenBusyWaitMakesTheNextSaveWaitForTheOneInFlight) {
  State s;
  auto c = Make(s, {.async = true, .when_busy = WhenBusy::kWait});
  SaveAndHold(*c, s, 2);
  std::jthread opener = OpenGateIn(200ms);
  const auto before = std::chrono::steady_clock::now();
  s.Fill(3);
  ASSERT_TRUE(c->Save(3).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - before, 150ms) << "did not wait for step 2";
  ASSERT_TRUE(c->Wait().ok());
  EXPECT_TRUE(fs::exists(Manifest(2)));
  EXPECT_TRUE(fs::exists(Manifest(3)));
  const CheckpointStats st = c->Stats();
  EXPECT_EQ(st.saves_started, 2);
  EXPECT_EQ(st.saves_committed, 2);
  EXPECT_EQ(st.saves_skipped, 0);
  EXPECT_GE(st.last_stall_seconds, 0.15);
}

TEST_F(AsyncTest, WhenBusySkipReturnsAtOnceAndSavesNothing) {
  State s;
  auto c = Make(s, {.async = true, .when_busy = WhenBusy::kSkip});
  SaveAndHold(*c, s, 2);
  EXPECT_FALSE(c->Stats().last_save_skipped);
  s.Fill(3);
  ASSERT_TRUE(c->Save(3).ok());  // step 2 is still in flight: returns at once
  EXPECT_TRUE(c->Stats().last_save_skipped);
  EXPECT_EQ(c->Stats().saves_skipped, 1);
  gate_.Open();
  ASSERT_TRUE(c->Wait().ok());
  EXPECT_TRUE(fs::exists(Manifest(2)));
  EXPECT_FALSE(fs::exists(Ckpt(3)));
  s.Fill(4);
  ASSERT_TRUE(c->Save(4).ok());  // nothing in flight any more
  EXPECT_FALSE(c->Stats().last_save_skipped);
  ASSERT_TRUE(c->Wait().ok());
  EXPECT_EQ(RestoreFresh().step, 4);
  const CheckpointStats st = c->Stats();
  EXPECT_EQ(st.saves_started, 2);
  EXPECT_EQ(st.saves_committed, 2);
  EXPECT_EQ(st.saves_skipped, 1);
}

TEST_F(AsyncTest, StateLargerThanTheBufferBoundIsResourceExhaustedAndCommitsNothing) {
  SaveSteps({1}, {.async = true});
  State s;
  auto c = Make(s, {.async = true, .async_buffer_bytes = 1000});  // the state is 4019 bytes
  s.Fill(2);
  absl::Status st = c->Save(2);
  EXPECT_TRUE(absl::IsResourceExhausted(st)) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("async_buffer_bytes"));
  EXPECT_TRUE(c->Wait().ok());
  EXPECT_FALSE(fs::exists(Ckpt(2)));
  EXPECT_EQ(c->Stats().buffer_bytes, 0u);
  EXPECT_EQ(c->Stats().saves_failed, 1);
  EXPECT_EQ(RestoreFresh().step, 1);

  auto fits = Make(s, {.async = true, .async_buffer_bytes = 5000});
  ASSERT_TRUE(fits->Save(2).ok());
  ASSERT_TRUE(fits->Wait().ok());
  EXPECT_GE(fits->Stats().buffer_bytes, 8u + 4000u + 11u);
  EXPECT_LE(fits->Stats().buffer_bytes, 5000u);
  EXPECT_EQ(RestoreFresh().step, 2);
}

TEST_F(AsyncTest, TheBufferIsAllocatedOnceAndGrowsOnlyWhenTheStateOutgrowsIt) {
  State s;
  auto c = Make(s, {.async = true});
  EXPECT_EQ(c->Stats().buffer_bytes, 0u);
  s.Fill(1);
  ASSERT_TRUE(c->Save(1).ok());
  const uint64_t allocated = c->Stats().buffer_bytes;
  EXPECT_GE(allocated, 8u + 4000u + 11u);
  for (int64_t step = 2; step <= 5; ++step) {
    s.Fill(step);
    ASSERT_TRUE(c->Save(step).ok());
    EXPECT_EQ(c->Stats().buffer_bytes, allocated);
  }
  s.opaque = std::string(allocated, 'z');  // the callback's bytes outgrow the buffer
  ASSERT_TRUE(c->Save(6).ok());
  ASSERT_TRUE(c->Wait().ok());
  EXPECT_GT(c->Stats().buffer_bytes, allocated);
  State back;
  LocalCommunicator local;
  auto r = Make(back, {.directory = Dir()}, &local);
  ASSERT_TRUE(r->Restore().ok());
  EXPECT_TRUE(back == s);
}

TEST_F(AsyncTest, BackgroundFailureIsReturnedByWaitAndLeavesThePreviousCheckpoint) {
  SaveSteps({1}, {.async = true});
  std::ofstream(Ckpt(2)) << "a file where step 2's directory goes";
  State s;
  auto c = Make(s, {.async = true});
  s.Fill(2);
  ASSERT_TRUE(c->Save(2).ok());  // it fails later, in the background
  absl::Status st = c->Wait();
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("checkpoint of step 2 not written"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("is not a directory"));
  EXPECT_TRUE(c->Wait().ok()) << "a failure is returned once";
  EXPECT_EQ(c->Stats().saves_failed, 1);
  EXPECT_EQ(c->Stats().saves_committed, 0);
  EXPECT_EQ(RestoreFresh().step, 1);
}

TEST_F(AsyncTest, BackgroundFailureIsReturnedByTheNextSaveWhichDoesNotStart) {
  SaveSteps({1}, {.async = true});
  std::ofstream(Ckpt(2)) << "a file where step 2's directory goes";
  State s;
  auto c = Make(s, {.async = true});
  s.Fill(2);
  ASSERT_TRUE(c->Save(2).ok());
  s.Fill(3);
  absl::Status st = c->Save(3);
  EXPECT_TRUE(absl::IsFailedPrecondition(st)) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("checkpoint of step 2 not written"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("step 3 was not saved"));
  EXPECT_TRUE(c->Wait().ok());
  EXPECT_FALSE(fs::exists(Ckpt(3)));
  EXPECT_EQ(RestoreFresh().step, 1);
  ASSERT_TRUE(c->Save(3).ok());  // saving it again works
  ASSERT_TRUE(c->Wait().ok());
  EXPECT_EQ(RestoreFresh().step, 3);
}

TEST_F(AsyncTest, ShardWriteFailureInTheBackgroundCommitsNothing) {
  SaveSteps({1}, {.async = true});
  fs::create_directories(Shard(2));  // a directory where step 2's shard goes
  State s;
  auto c = Make(s, {.async = true});
  s.Fill(2);
  ASSERT_TRUE(c->Save(2).ok());
  absl::Status st = c->Wait();
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("shard-000000.bin: Is a directory"));
  EXPECT_FALSE(fs::exists(Manifest(2)));
  EXPECT_EQ(RestoreFresh().step, 1);
}

TEST_F(AsyncTest, RetentionHoldsInAsynchronousMode) {
  SaveSteps({1, 2, 3, 4, 5}, {.keep_last = 2, .async = true});
  EXPECT_THAT(Dirs(), UnorderedElementsAre(CheckpointDirName(4), CheckpointDirName(5)));
  EXPECT_EQ(RestoreFresh().step, 5);
}

// on_commit: once per committed checkpoint (not for skipped or failed saves), after the
// commit, with the bytes on disk and the time since the Save call.
TEST_F(AsyncTest, OnCommitReportsEachCommittedCheckpointOnce) {
  std::vector<CommitInfo> commits;
  State s;
  auto c = Make(
      s, {.async = true, .when_busy = WhenBusy::kSkip, .on_commit = [&](const CommitInfo& info) {
            EXPECT_TRUE(fs::exists(info.path + "/MANIFEST.json"));
            commits.push_back(info);
          }});
  SaveAndHold(*c, s, 1);
  s.Fill(2);
  ASSERT_TRUE(c->Save(2).ok());  // skipped
  std::this_thread::sleep_for(100ms);
  gate_.Open();
  ASSERT_TRUE(c->Wait().ok());
  std::ofstream(Ckpt(3)) << "a file where step 3's directory goes";
  ASSERT_TRUE(c->Save(3).ok());
  EXPECT_FALSE(c->Wait().ok());  // failed
  s.Fill(4);
  ASSERT_TRUE(c->Save(4).ok());
  ASSERT_TRUE(c->Wait().ok());

  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[0].step, 1);
  EXPECT_EQ(commits[1].step, 4);
  EXPECT_GE(commits[0].seconds, 0.1);  // held at the gate, counted from the Save call
  for (const CommitInfo& info : commits) {
    EXPECT_EQ(info.path, Ckpt(info.step));
    EXPECT_EQ(info.ranks, 1);
    EXPECT_EQ(info.bytes, fs::file_size(Shard(info.step)) + fs::file_size(Manifest(info.step)));
    EXPECT_GT(info.seconds, 0);
    EXPECT_LT(info.seconds, 60);
  }
}

TEST_F(AsyncTest, OnCommitIsCalledInSynchronousModeToo) {
  std::vector<CommitInfo> commits;
  SaveSteps({1, 2}, {.on_commit = [&](const CommitInfo& info) { commits.push_back(info); }});
  ASSERT_EQ(commits.size(), 2u);
  EXPECT_EQ(commits[1].step, 2);
  EXPECT_EQ(commits[1].bytes, fs::file_size(Shard(2)) + fs::file_size(Manifest(2)));
}

TEST_F(AsyncTest, DestructorWaitsForTheSaveInFlight) {
  std::vector<int64_t> committed;
  State s;
  auto c = Make(s, {.async = true,
                    .on_commit = [&](const CommitInfo& info) { committed.push_back(info.step); }});
  SaveAndHold(*c, s, 2);
  std::jthread opener = OpenGateIn(100ms);
  c.reset();
  EXPECT_THAT(committed, ElementsAre(2));
  EXPECT_TRUE(fs::exists(Manifest(2)));
  EXPECT_EQ(RestoreFresh().step, 2);
}

TEST_F(AsyncTest, RestoreWaitsForTheSaveInFlight) {
  State s;
  auto c = Make(s, {.async = true});
  SaveAndHold(*c, s, 2);
  std::jthread opener = OpenGateIn(100ms);
  s.Fill(7);
  EXPECT_EQ(RestoreInto(*c, s).step, 2);
}

TEST_F(AsyncTest, StatsInSynchronousMode) {
  State s;
  auto c = Make(s);
  s.Fill(1);
  ASSERT_TRUE(c->Save(1).ok());
  ASSERT_TRUE(c->Save(2).ok());
  const CheckpointStats st = c->Stats();
  EXPECT_EQ(st.saves_started, 2);
  EXPECT_EQ(st.saves_committed, 2);
  EXPECT_EQ(st.last_committed_step, 2);
  EXPECT_EQ(st.buffer_bytes, 0u);
  EXPECT_GT(st.last_stall_seconds, 0);
}

TEST_F(AsyncTest, ACommunicatorThatCannotBeDuplicatedIsRefusedForBackgroundSaves) {
  struct Undividable : Communicator {
    int Rank() const override { return 0; }
    int Size() const override { return 1; }
    std::vector<std::string> Gather(const std::string& mine, int) override { return {mine}; }
    void Broadcast(std::string&, int) override {}
    int64_t AllReduceMin(int64_t value) override { return value; }
  } comm;
  absl::Status st = Checkpointer::Create({.directory = Dir(), .async = true}, &comm).status();
  EXPECT_TRUE(absl::IsUnimplemented(st)) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("background thread"));
  EXPECT_TRUE(Checkpointer::Create({.directory = Dir()}, &comm).ok());
}

// ---- node-local tier ---------------------------------------------------------------------

TEST_F(AsyncTest, NodeLocalFlushLandsInTheSharedDirectoryAndRestoresFromThere) {
  SaveSteps({1, 2, 3}, {.keep_last = 2, .async = true, .node_local_directory = LocalDir()});
  EXPECT_THAT(Dirs(), UnorderedElementsAre(CheckpointDirName(2), CheckpointDirName(3)));
  // Only the newest committed local copy is kept.
  EXPECT_THAT(Dirs(LocalDir()), ElementsAre(CheckpointDirName(3)));
  EXPECT_EQ(ReadAll(LocalShard(3)), ReadAll(Shard(3)));
  fs::remove_all(LocalDir());  // node-local storage is gone after the job
  EXPECT_EQ(RestoreFresh().step, 3);
}

TEST_F(AsyncTest, SynchronousSaveWithNodeLocalTierReturnsOnceTheLocalCopyIsWritten) {
  SaveSteps({1}, {.node_local_directory = LocalDir()});
  State s;
  auto c = Make(s, {.node_local_directory = LocalDir()});
  SaveAndHold(*c, s, 2);                   // the flush is held
  EXPECT_TRUE(fs::exists(LocalShard(2)));  // written before Save returned
  EXPECT_FALSE(fs::exists(Shard(2)));
  EXPECT_EQ(RestoreFresh().step, 1);
  gate_.Open();
  ASSERT_TRUE(c->Wait().ok());
  EXPECT_EQ(RestoreFresh().step, 2);
  EXPECT_EQ(ReadAll(LocalShard(2)), ReadAll(Shard(2)));
  EXPECT_THAT(Dirs(LocalDir()), ElementsAre(CheckpointDirName(2)));
}

TEST_F(AsyncTest, NodeLocalCopyDamagedBeforeTheFlushIsCaught) {
  SaveSteps({1}, {.node_local_directory = LocalDir()});
  State s;
  auto c = Make(s, {.node_local_directory = LocalDir()});
  SaveAndHold(*c, s, 2);
  FlipByte(LocalShard(2), 100);
  gate_.Open();
  absl::Status st = c->Wait();
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("node-local copy"));
  EXPECT_FALSE(fs::exists(Manifest(2)));
  EXPECT_EQ(RestoreFresh().step, 1);
  // The failed local copy is gone; the newest committed one stays.
  EXPECT_THAT(Dirs(LocalDir()), ElementsAre(CheckpointDirName(1)));
}

TEST_F(AsyncTest, UnusableNodeLocalDirectoryFailsTheSave) {
  SaveSteps({1});
  const std::string blocked = Blocked();
  State s;
  s.Fill(2);
  {
    // Synchronous: the local write is part of Save.
    auto c = Make(s, {.node_local_directory = blocked});
    absl::Status st = c->Save(2);
    EXPECT_FALSE(st.ok());
    EXPECT_THAT(std::string(st.message()), HasSubstr("cannot create directory"));
    EXPECT_TRUE(c->Wait().ok());
  }
  {
    // Asynchronous: the local write is in the background.
    auto c = Make(s, {.async = true, .node_local_directory = blocked});
    ASSERT_TRUE(c->Save(2).ok());
    absl::Status st = c->Wait();
    EXPECT_FALSE(st.ok());
    EXPECT_THAT(std::string(st.message()), HasSubstr("cannot create directory"));
  }
  EXPECT_FALSE(fs::exists(Manifest(2)));
  EXPECT_EQ(RestoreFresh().step, 1);
}

}  // namespace
}  // namespace drocc::runtime
