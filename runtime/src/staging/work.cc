#include "runtime/src/staging/work.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <new>
#include <utility>

namespace drocc::runtime::staging {

WorkQueue::WorkQueue(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) threads_.emplace_back([this] { Loop(); });
}

WorkQueue::~WorkQueue() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WorkQueue::Push(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
  }
  changed_.notify_one();
}

void WorkQueue::WaitIdle() {
  std::unique_lock lock(mu_);
  changed_.wait(lock, [&] { return tasks_.empty() && running_ == 0; });
}

void WorkQueue::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    changed_.wait(lock, [&] { return !tasks_.empty() || stop_; });
    if (tasks_.empty()) return;  // stop_, and nothing left
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    ++running_;
    lock.unlock();
    task();
    lock.lock();
    --running_;
    if (tasks_.empty() && running_ == 0) changed_.notify_all();  // WaitIdle
  }
}

absl::Status ParallelFor(size_t n, int threads, const std::function<absl::Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  absl::Status first;
  auto work = [&] {
    for (size_t i = next++; i < n && !failed; i = next++) {
      absl::Status st = fn(i);
      if (!st.ok()) {
        std::lock_guard lock(mu);
        if (first.ok()) first = std::move(st);
        failed = true;
      }
    }
  };
  const size_t extra = std::min<size_t>(n, static_cast<size_t>(std::max(1, threads))) - (n > 0);
  std::vector<std::thread> pool;
  for (size_t i = 0; i < extra; ++i) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
  return first;
}

IoBuffer::IoBuffer(size_t size) {
  constexpr size_t kHuge = size_t{2} << 20;
  length_ = std::max<size_t>(1, (size + kHuge - 1) / kHuge) * kHuge;
  // One huge page more than needed, then trimmed to a 2 MiB-aligned run: a huge page must be
  // aligned.
  void* p =
      ::mmap(nullptr, length_ + kHuge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  char* const base = static_cast<char*>(p);
  const uintptr_t at = (reinterpret_cast<uintptr_t>(base) + kHuge - 1) / kHuge * kHuge;
  data_ = reinterpret_cast<char*>(at);
  if (data_ > base) ::munmap(base, static_cast<size_t>(data_ - base));
  // What is left past the run: never nothing, since the run starts less than kHuge into it.
  ::munmap(data_ + length_, static_cast<size_t>(base + kHuge - data_));
  ::madvise(data_, length_, MADV_HUGEPAGE);  // a hint: refused, the pages stay small
}

IoBuffer::~IoBuffer() { ::munmap(data_, length_); }

SharedBuffer::SharedBuffer(size_t capacity, std::function<void()> on_idle)
    : data_(capacity), capacity_(capacity), on_idle_(std::move(on_idle)) {}

void SharedBuffer::Hold(int n) {
  std::lock_guard lock(mu_);
  holds_ += n;
}

void SharedBuffer::Release() {
  bool call = false;
  {
    std::lock_guard lock(mu_);
    if (--holds_ > 0) return;
    // Without on_idle_ a waiter may destroy the buffer as soon as the lock is released: decide
    // now, and touch nothing afterwards.
    call = static_cast<bool>(on_idle_);
    idle_.notify_all();
  }
  if (call) on_idle_();
}

void SharedBuffer::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return holds_ == 0; });
}

}  // namespace drocc::runtime::staging
