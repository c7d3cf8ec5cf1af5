#include "runtime/src/checkpoint/worker.h"

#include <utility>

namespace drocc::runtime::checkpoint {

Worker::Worker() : thread_([this] { Loop(); }) {}

Worker::~Worker() {
  {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return !busy_; });
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void Worker::Start(Job job) {
  {
    std::lock_guard lock(mu_);
    job_ = std::move(job);
    busy_ = true;
    outcome_.reset();
  }
  changed_.notify_all();
}

bool Worker::Idle() const {
  std::lock_guard lock(mu_);
  return !busy_;
}

void Worker::WaitIdle() const {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return !busy_; });
}

std::optional<absl::Status> Worker::TakeOutcome() {
  std::lock_guard lock(mu_);
  return std::exchange(outcome_, std::nullopt);
}

void Worker::Loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      changed_.wait(lock, [&] { return stop_ || job_ != nullptr; });
      if (job_ == nullptr) return;  // stopping, nothing left to run
      job = std::exchange(job_, nullptr);
    }
    absl::Status status = job();
    job = nullptr;  // release what the job captured before reporting it done
    {
      std::lock_guard lock(mu_);
      outcome_ = std::move(status);
      busy_ = false;
    }
    changed_.notify_all();
  }
}

}  // namespace drocc::runtime::checkpoint
