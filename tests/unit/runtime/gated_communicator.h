#pragma once

// A one-rank world, like LocalCommunicator, whose Duplicate() (the communicator of the
// Checkpointer's background thread) stops at every collective while a Gate is closed. A test
// thereby holds a background save at a known point: its first collective comes right after
// rank 0 created the step's directory and before any shard is written.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "drocc/runtime/communicator.h"

namespace drocc::runtime::testing {

class Gate {
 public:
  explicit Gate(bool open = true) : open_(open) {}
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard lock(mu_);
    open_ = false;
  }
  // Blocks while the gate is closed.
  void Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    --waiting_;
  }
  // Blocks until a thread waits at the closed gate.
  void WaitForArrival() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return waiting_ > 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_;
  int waiting_ = 0;
};

class GatedCommunicator final : public Communicator {
 public:
  // `gate` is not owned and must outlive the communicator and its duplicates.
  explicit GatedCommunicator(Gate* gate, bool gated = false) : gate_(gate), gated_(gated) {}
  int Rank() const override { return 0; }
  int Size() const override { return 1; }
  std::vector<std::string> Gather(const std::string& mine, int) override {
    Pass();
    return {mine};
  }
  void Broadcast(std::string&, int) override { Pass(); }
  int64_t AllReduceMin(int64_t value) override {
    Pass();
    return value;
  }
  absl::StatusOr<std::unique_ptr<Communicator>> Duplicate() override {
    return std::make_unique<GatedCommunicator>(gate_, /*gated=*/true);
  }

 private:
  void Pass() {
    if (gated_) gate_->Pass();
  }

  Gate* gate_;
  bool gated_;
};

}  // namespace drocc::runtime::testing
