#pragma once

// A world of several ranks in one process, one thread each, for tests of multi-rank code
// without MPI (and under the sanitizers without MPI's own leaks): ThreadCommunicator provides
// the three primitive collectives and Split; the others come from Communicator's defaults.
//
//   testing::RunRanks(3, [&](Communicator& comm) { ... StageIn(..., &comm) ... });

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "drocc/runtime/communicator.h"

namespace drocc::runtime::testing {

// What the ranks of one communicator share: an all-to-all exchange of strings, which every
// collective is built on.
class ThreadWorld {
 public:
  explicit ThreadWorld(int size) : size_(size), slots_(size) {}
  int size() const { return size_; }

  // Collective: every rank's `mine`, in rank order, once all ranks have called.
  std::vector<std::string> Exchange(int rank, std::string mine) {
    std::unique_lock lock(mu_);
    const uint64_t generation = generation_;
    slots_[rank] = std::move(mine);
    if (++arrived_ == size_) {
      result_ = slots_;
      arrived_ = 0;
      ++generation_;
      changed_.notify_all();
    } else {
      changed_.wait(lock, [&] { return generation_ != generation; });
    }
    // Still this generation's: the next one cannot complete before this rank joins it.
    return result_;
  }

  // The world of `color` made by the split numbered `split`; the first member to ask makes it.
  std::shared_ptr<ThreadWorld> Part(uint64_t split, int color, int size) {
    std::lock_guard lock(mu_);
    auto& part = parts_[{split, color}];
    if (part == nullptr) part = std::make_shared<ThreadWorld>(size);
    return part;
  }

 private:
  const int size_;
  std::mutex mu_;
  std::condition_variable changed_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
  std::vector<std::string> slots_;
  std::vector<std::string> result_;
  std::map<std::pair<uint64_t, int>, std::shared_ptr<ThreadWorld>> parts_;
};

class ThreadCommunicator final : public Communicator {
 public:
  ThreadCommunicator(std::shared_ptr<ThreadWorld> world, int rank)
      : world_(std::move(world)), rank_(rank) {}
  int Rank() const override { return rank_; }
  int Size() const override { return world_->size(); }
  std::vector<std::string> Gather(const std::string& mine, int root) override {
    std::vector<std::string> all = world_->Exchange(rank_, mine);
    if (rank_ != root) all.clear();
    return all;
  }
  void Broadcast(std::string& data, int root) override {
    data = world_->Exchange(rank_, rank_ == root ? data : std::string())[root];
  }
  int64_t AllReduceMin(int64_t value) override {
    int64_t out = value;
    for (const std::string& v : world_->Exchange(rank_, absl::StrCat(value))) {
      int64_t x = 0;
      if (absl::SimpleAtoi(v, &x)) out = std::min(out, x);
    }
    return out;
  }
  absl::StatusOr<std::unique_ptr<Communicator>> Split(int color, int key) override {
    const uint64_t split = splits_++;
    const std::vector<std::string> all = world_->Exchange(rank_, absl::StrCat(color, " ", key));
    if (color < 0) return std::unique_ptr<Communicator>();
    std::vector<std::tuple<int, int>> members;  // (key, rank) of this color
    for (int r = 0; r < static_cast<int>(all.size()); ++r) {
      int c = 0, k = 0;
      const size_t space = all[r].find(' ');
      if (!absl::SimpleAtoi(all[r].substr(0, space), &c) ||
          !absl::SimpleAtoi(all[r].substr(space + 1), &k) || c != color) {
        continue;
      }
      members.emplace_back(k, r);
    }
    std::sort(members.begin(), members.end());
    const int new_rank = static_cast<int>(
        std::find(members.begin(), members.end(), std::make_tuple(key, rank_)) - members.begin());
    return std::unique_ptr<Communicator>(std::make_unique<ThreadCommunicator>(
        world_->Part(split, color, static_cast<int>(members.size())), new_rank));
  }

 private:
  std::shared_ptr<ThreadWorld> world_;
  int rank_;
  uint64_t splits_ = 0;  // every rank splits in the same order
};

// Runs `body(comm, rank)` on `size` ranks, one thread each, and waits for all.
inline void RunRanks(int size, const std::function<void(Communicator&, int)>& body) {
  auto world = std::make_shared<ThreadWorld>(size);
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      ThreadCommunicator comm(world, r);
      body(comm, r);
    });
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace drocc::runtime::testing
