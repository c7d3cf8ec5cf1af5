#pragma once

// What the Checkpointer tests share: a small model with every kind of state, and a fixture
// that saves it, restores it into a fresh object and looks at the files.

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "drocc/runtime/checkpoint.h"
#include "tests/unit/runtime/test_dir.h"

namespace drocc::runtime::testing {

// A replicated scalar, a distributed array (all of it on the one rank) and opaque per-rank
// state behind callbacks.
struct State {
  double lr = 0;
  std::vector<uint32_t> x = std::vector<uint32_t>(1000);
  std::string opaque;

  void Fill(int64_t step) {
    lr = 0.5 / static_cast<double>(step + 1);
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint32_t>(i * 7919 + step);
    opaque = "rng-state-" + std::to_string(step);
  }
  bool operator==(const State&) const = default;
};

class CheckpointFixture : public ::testing::Test {
 protected:
  // A Checkpointer over `comm` (default: comm_) with `s` registered; options.directory
  // defaults to Dir().
  std::unique_ptr<Checkpointer> Make(State& s, CheckpointOptions options = {},
                                     Communicator* comm = nullptr) {
    if (options.directory.empty()) options.directory = Dir();
    auto c = Checkpointer::Create(options, comm != nullptr ? comm : comm_);
    EXPECT_TRUE(c.ok()) << c.status();
    if (!c.ok()) return nullptr;
    EXPECT_TRUE((*c)->RegisterReplicated("lr", &s.lr, sizeof s.lr).ok());
    EXPECT_TRUE(
        (*c)->RegisterDistributed("x", s.x.data(), sizeof(uint32_t), s.x.size(), 0, s.x.size())
            .ok());
    EXPECT_TRUE((*c)->RegisterCallback(
                        "opaque", [&s]() -> absl::StatusOr<std::string> { return s.opaque; },
                        [&s](std::string_view b) {
                          s.opaque = std::string(b);
                          return absl::OkStatus();
                        })
                    .ok());
    return *std::move(c);
  }

  // Saves steps `steps` with the state filled for each, then waits for the last one.
  void SaveSteps(std::initializer_list<int64_t> steps, CheckpointOptions options = {}) {
    State s;
    auto c = Make(s, options);
    ASSERT_NE(c, nullptr);
    for (int64_t step : steps) {
      s.Fill(step);
      ASSERT_TRUE(c->Save(step).ok());
    }
    ASSERT_TRUE(c->Wait().ok());
  }

  // Restores into a fresh, synchronous object on a LocalCommunicator (reading only the shared
  // directory); checks the restored state is exactly that of its step.
  RestoreResult RestoreFresh() {
    State s;
    LocalCommunicator local;
    auto c = Make(s, {.directory = Dir()}, &local);
    if (c == nullptr) return {};
    return RestoreInto(*c, s);
  }

  // Restores with `c` (which has `s` registered) and checks the data as RestoreFresh does.
  static RestoreResult RestoreInto(Checkpointer& c, State& s) {
    absl::StatusOr<RestoreResult> r = c.Restore();
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {};
    if (r->restored) {
      State want;
      want.Fill(r->step);
      EXPECT_TRUE(s == want) << "restored state differs from step " << r->step;
    }
    return *r;
  }

  std::string Dir() const { return dir_.path() + "/ckpt"; }
  std::string Ckpt(int64_t step) const { return Dir() + "/" + CheckpointDirName(step); }
  std::string Shard(int64_t step) const { return Ckpt(step) + "/shard-000000.bin"; }
  std::string Manifest(int64_t step) const { return Ckpt(step) + "/MANIFEST.json"; }

  // Names of the entries of `dir` (default: the checkpoint directory).
  std::vector<std::string> Dirs(std::string dir = "") const {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir.empty() ? Dir() : dir)) {
      out.push_back(e.path().filename());
    }
    return out;
  }

  static void FlipByte(const std::string& path, std::streamoff at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f) << path;
    f.seekg(at);
    char c = 0;
    f.get(c);
    f.seekp(at);
    f.put(static_cast<char>(c ^ 0x10));
  }

  TestDir dir_;
  LocalCommunicator local_comm_;
  Communicator* comm_ = &local_comm_;  // what Make() uses
};

}  // namespace drocc::runtime::testing
