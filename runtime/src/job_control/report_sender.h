#pragma once

// Sends reports to droccd from a background thread, so that a slow or absent droccd never
// stalls training: a bounded queue (the oldest report is dropped when it is full), a deadline
// on every call, one line on stderr the first time a call fails, and a bounded wait for the
// queue to drain when it is destroyed.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "drocc/runtime/job_control.h"

namespace drocc::runtime::job_control {

class ReportSender {
 public:
  // One report: a call on the client with the deadline it must respect.
  using Call = std::function<absl::Status(DaemonClient&, absl::Duration timeout)>;

  struct Options {
    size_t capacity = 64;  // at least 1
    absl::Duration call_timeout = absl::Seconds(2);
    absl::Duration flush_timeout = absl::Seconds(3);  // the destructor's wait
  };

  ReportSender(std::shared_ptr<DaemonClient> client, Options options);
  // Sends what is queued for at most options.flush_timeout, drops the rest, stops the thread.
  ~ReportSender();
  ReportSender(const ReportSender&) = delete;
  ReportSender& operator=(const ReportSender&) = delete;

  // Queues `call` and returns at once. Thread-safe.
  void Push(Call call);
  // Waits until nothing is queued or being sent, at most `timeout`. True if drained.
  bool Flush(absl::Duration timeout);
  ReportStats stats() const;
  DaemonClient& client() { return *client_; }

 private:
  void Run();

  const std::shared_ptr<DaemonClient> client_;
  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // something queued, or stopping
  std::condition_variable idle_cv_;  // the queue drained
  std::deque<Call> queue_ ABSL_GUARDED_BY(mu_);
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time stop_by_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  bool logged_failure_ ABSL_GUARDED_BY(mu_) = false;
  ReportStats stats_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts once everything above is initialised
};

}  // namespace drocc::runtime::job_control
