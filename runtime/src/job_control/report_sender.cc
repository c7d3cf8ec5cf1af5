#include "runtime/src/job_control/report_sender.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "runtime/src/checkpoint/protocol.h"

namespace drocc::runtime::job_control {

ReportSender::ReportSender(std::shared_ptr<DaemonClient> client, Options options)
    : client_(std::move(client)), options_(options), thread_([this] { Run(); }) {}

ReportSender::~ReportSender() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    stop_by_ = absl::Now() + options_.flush_timeout;
  }
  work_cv_.notify_all();
  thread_.join();
  // Nothing is left queued now (Run drops what it cannot send in time); say what was lost.
  std::lock_guard<std::mutex> lock(mu_);
  if (stats_.dropped > 0) {
    checkpoint::Log(absl::StrCat(stats_.dropped, " report(s) to droccd at ", client_->Target(),
                                 " were dropped (droccd slow or unreachable); droccd may not "
                                 "list every checkpoint of this job"));
  }
}

void ReportSender::Push(Call call) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ++stats_.dropped;
      return;
    }
    if (queue_.size() >= std::max<size_t>(options_.capacity, 1)) {
      queue_.pop_front();
      ++stats_.dropped;
    }
    queue_.push_back(std::move(call));
  }
  work_cv_.notify_one();
}

bool ReportSender::Flush(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return idle_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                           [this] { return queue_.empty() && !in_flight_; });
}

ReportStats ReportSender::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  ReportStats s = stats_;
  s.pending = queue_.size() + (in_flight_ ? 1 : 0);
  return s;
}

void ReportSender::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything was sent
    absl::Duration timeout = options_.call_timeout;
    if (stopping_) {
      // The destructor waits at most flush_timeout in all: each call gets what is left of it.
      timeout = std::min(timeout, stop_by_ - absl::Now());
      if (timeout <= absl::ZeroDuration()) {
        stats_.dropped += queue_.size();
        queue_.clear();
        break;
      }
    }
    Call call = std::move(queue_.front());
    queue_.pop_front();
    in_flight_ = true;
    lock.unlock();
    const absl::Status status = call(*client_, timeout);
    lock.lock();
    in_flight_ = false;
    if (status.ok()) {
      ++stats_.sent;
    } else {
      ++stats_.failed;
      if (!logged_failure_) {
        logged_failure_ = true;
        checkpoint::Log(absl::StrCat("cannot report to droccd at ", client_->Target(), ": ",
                                     status.message(),
                                     "; training goes on (further failures are not logged)"));
      }
    }
    if (queue_.empty()) idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
}

}  // namespace drocc::runtime::job_control
