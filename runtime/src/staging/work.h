#pragma once

// Threads for staging's I/O: a queue of tasks run by a fixed set of threads, a parallel loop,
// and a buffer shared between threads that knows when its last user is done with it.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace drocc::runtime::staging {

// Tasks run by `threads` threads in the order they were pushed (started in order; they may
// finish in any order). Thread-safe.
class WorkQueue {
 public:
  explicit WorkQueue(int threads);
  // Runs what is queued, then joins the threads.
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Push(std::function<void()> task);
  // Returns once every task pushed so far has finished.
  void WaitIdle();

 private:
  void Loop();

  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  int running_ = 0;                          // guarded by mu_
  bool stop_ = false;                        // guarded by mu_
  std::vector<std::thread> threads_;
};

// Runs fn(i) for every i in [0, n) on up to `threads` threads; the first error stops the
// indices not started yet and is returned.
absl::Status ParallelFor(size_t n, int threads, const std::function<absl::Status(size_t)>& fn);

// Memory that file data is read into and written from: whole 2 MiB pages, asked to be transparent
// huge pages (madvise; without them, ordinary pages). Each read() and write() is a copy the
// kernel makes through the process's page tables; with 4 KiB pages a virtual machine whose
// hypervisor shadows those tables (docs/benchmarks.md) spent five times the CPU on the same
// copies, and any machine misses its TLB more.
class IoBuffer {
 public:
  explicit IoBuffer(size_t size);
  ~IoBuffer();
  IoBuffer(const IoBuffer&) = delete;
  IoBuffer& operator=(const IoBuffer&) = delete;

  char* get() const { return data_; }

 private:
  char* data_;
  size_t length_;  // mapped
};

// Memory passed from thread to thread: the holders count themselves (Hold, Release) and the
// last Release runs `on_idle` (from the releasing thread) and wakes WaitIdle.
class SharedBuffer {
 public:
  explicit SharedBuffer(size_t capacity, std::function<void()> on_idle = nullptr);
  SharedBuffer(const SharedBuffer&) = delete;
  SharedBuffer& operator=(const SharedBuffer&) = delete;

  char* data() { return data_.get(); }
  size_t capacity() const { return capacity_; }
  void Hold(int n = 1);
  void Release();
  // Returns once nobody holds the buffer.
  void WaitIdle();

 private:
  IoBuffer data_;
  size_t capacity_;
  std::function<void()> on_idle_;
  std::mutex mu_;
  std::condition_variable idle_;
  int holds_ = 0;  // guarded by mu_
};

}  // namespace drocc::runtime::staging
