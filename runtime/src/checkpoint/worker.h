#pragma once

// The background thread of the Checkpointer: runs one job at a time (the save in flight) and
// keeps its outcome until the application thread takes it. Start/Idle/WaitIdle/TakeOutcome
// are called from the application thread; the job runs on the worker's own thread.

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/status/status.h"

namespace drocc::runtime::checkpoint {

class Worker {
 public:
  using Job = std::function<absl::Status()>;

  Worker();
  // Waits for the job in flight (its outcome is dropped), then ends the thread.
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Runs `job` on the worker thread. Precondition: Idle(). Drops an outcome not yet taken.
  void Start(Job job);
  bool Idle() const;
  void WaitIdle() const;
  // The status of the last job, if it has finished and nobody has taken it yet.
  std::optional<absl::Status> TakeOutcome();

 private:
  void Loop();

  mutable std::mutex mu_;
  mutable std::condition_variable changed_;  // job_, busy_ or stop_ changed
  // Guarded by mu_:
  Job job_;            // to run next
  bool busy_ = false;  // from Start until the job returned
  bool stop_ = false;
  std::optional<absl::Status> outcome_;
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace drocc::runtime::checkpoint
