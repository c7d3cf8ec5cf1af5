// Acceptance 3: a process saving checkpoints over and over is SIGKILLed at random moments;
// after every kill the newest committed checkpoint restores and verifies, and no committed
// checkpoint is ever lost. The saver is a forked child on a LocalCommunicator (a forked MPI
// process could not use MPI), so this exercises the same write/commit path as an MPI rank.
// In every mode: synchronous, asynchronous, and each with the node-local tier (whose copies
// the restore never reads).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "drocc/runtime/checkpoint.h"
#include "tests/unit/runtime/test_dir.h"

namespace drocc::runtime {
namespace {

constexpr size_t kElements = 64 * 1024;  // 512 KiB per checkpoint

struct Model {
  int64_t step = -1;
  std::vector<uint64_t> w = std::vector<uint64_t>(kElements);

  void Fill(int64_t s) {
    step = s;
    for (size_t i = 0; i < w.size(); ++i) w[i] = (i + 1) * 0x9e3779b97f4a7c15ULL ^ s;
  }
  bool Matches(int64_t s) const {
    Model m;
    m.Fill(s);
    return step == s && w == m.w;
  }
};

struct Mode {
  const char* name;
  bool async = false;
  bool node_local = false;
};

std::unique_ptr<Checkpointer> Make(CheckpointOptions options, Communicator* comm, Model& m) {
  auto c = Checkpointer::Create(std::move(options), comm);
  if (!c.ok()) return nullptr;
  if (!(*c)->RegisterReplicated("step", &m.step, sizeof m.step).ok()) return nullptr;
  if (!(*c)->RegisterDistributed("w", m.w.data(), sizeof(uint64_t), kElements, 0, kElements).ok()) {
    return nullptr;
  }
  return *std::move(c);
}

// The child: resume from the newest checkpoint, then save step after step, telling the parent
// each step once it has committed (from on_commit, which in asynchronous mode runs on the
// background thread). Never returns.
[[noreturn]] void SaveForever(CheckpointOptions options, int report_fd) {
  alarm(30);  // never outlive a parent that died
  options.on_commit = [report_fd](const CommitInfo& info) {
    if (write(report_fd, &info.step, sizeof info.step) != sizeof info.step) _exit(5);
  };
  LocalCommunicator comm;
  Model m;
  auto c = Make(std::move(options), &comm, m);
  if (c == nullptr) _exit(2);
  absl::StatusOr<RestoreResult> r = c->Restore();
  if (!r.ok()) _exit(3);
  for (int64_t s = r->restored ? r->step + 1 : 0;; ++s) {
    m.Fill(s);  // asynchronous: while step s - 1 may still be written from the buffer
    if (!c->Save(s).ok()) _exit(4);
  }
}

class CrashTest : public ::testing::TestWithParam<Mode> {};

TEST_P(CrashTest, KillAtRandomMomentsNeverLosesACommittedCheckpoint) {
  testing::TestDir tmp;
  const std::string dir = tmp.path() + "/ckpt";
  const CheckpointOptions options{
      .directory = dir,
      .keep_last = 2,
      .async = GetParam().async,
      .node_local_directory = GetParam().node_local ? tmp.path() + "/local" : ""};
  std::mt19937 rng(20261125);  // fixed seed: the same delays every run
  // Several saves' worth, so kills land in every phase: shard write, fsync, manifest, rename,
  // retention, and between saves.
  std::uniform_int_distribution<int> delay_us(0, 40000);
  int64_t committed = -1;  // newest step a child reported as committed
  int mid_save_kills = 0, after_commit_kills = 0, clean_kills = 0;
  for (int round = 0; round < 50; ++round) {
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      SaveForever(options, fds[1]);
    }
    close(fds[1]);
    // Wait for the child's first commit, so every round makes progress, then kill it at a
    // random moment of a later save.
    int64_t s = -1;
    ASSERT_EQ(read(fds[0], &s, sizeof s), static_cast<ssize_t>(sizeof s)) << "child died early";
    committed = std::max(committed, s);
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
    while (read(fds[0], &s, sizeof s) == static_cast<ssize_t>(sizeof s)) {
      committed = std::max(committed, s);
    }
    close(fds[0]);

    // Restore as a new job would: synchronously, from the shared directory only.
    LocalCommunicator comm;
    Model m;
    auto c = Make({.directory = dir, .keep_last = 2}, &comm, m);
    ASSERT_NE(c, nullptr);
    absl::StatusOr<RestoreResult> r = c->Restore();
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->restored) << "round " << round;
    // The newest reported commit, or the one after it (committed, killed before reporting;
    // one save at most is in flight, so not the one after that).
    ASSERT_GE(r->step, committed) << "round " << round << ": a committed checkpoint was lost";
    ASSERT_LE(r->step, committed + 1) << "round " << round;
    ASSERT_TRUE(m.Matches(r->step))
        << "round " << round << ": restored data is not step " << r->step;
    for (const std::string& why : r->skipped) {
      // Only the save that was cut short may be passed over.
      EXPECT_NE(why.find("interrupted"), std::string::npos) << why;
    }
    if (!r->skipped.empty()) {
      ++mid_save_kills;
    } else if (r->step > committed) {
      ++after_commit_kills;
    } else {
      ++clean_kills;
    }
    committed = r->step;
  }
  std::printf("%s: kills: %d inside a save, %d between commit and report, %d elsewhere\n",
              GetParam().name, mid_save_kills, after_commit_kills, clean_kills);
  // The kills did land inside saves at least sometimes, or the test proved little.
  EXPECT_GT(mid_save_kills, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Modes, CrashTest,
    ::testing::Values(Mode{.name = "sync"}, Mode{.name = "async", .async = true},
                      Mode{.name = "sync_local", .node_local = true},
                      Mode{.name = "async_local", .async = true, .node_local = true}),
    [](const ::testing::TestParamInfo<Mode>& info) { return info.param.name; });

}  // namespace
}  // namespace drocc::runtime
