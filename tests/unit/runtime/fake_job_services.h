#pragma once

// Stand-ins for what job control talks to: droccd (DaemonClient), Slurm (SlurmRequeuer), a rank
// other than 0 (Communicator), and the environment droccd and Slurm set (ScopedEnv).

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "drocc/runtime/communicator.h"
#include "drocc/runtime/job_control.h"

namespace drocc::runtime::testing {

// Sets (or, with nullopt, unsets) environment variables; puts them back when destroyed.
class ScopedEnv {
 public:
  ScopedEnv(std::initializer_list<std::pair<const char*, std::optional<std::string>>> vars) {
    for (const auto& [name, value] : vars) {
      const char* old = ::getenv(name);
      saved_.emplace_back(name, old == nullptr ? std::nullopt : std::optional<std::string>(old));
      Set(name, value);
    }
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) Set(it->first, it->second);
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  static void Set(const std::string& name, const std::optional<std::string>& value) {
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Records every call. Calls wait while the gate is closed (at most their timeout, then fail
// with DEADLINE_EXCEEDED, as a hung droccd would).
class FakeDaemonClient final : public DaemonClient {
 public:
  struct Call {
    std::string method;  // "ReportCheckpoint", "ReportProgress", "RequestRequeue"
    int64_t step = -1;   // the checkpoint's, the progress', or checkpoint_step
    std::string text;    // the path, the phase, or the reason
  };

  std::string Target() const override { return "fake:droccd"; }
  absl::Status ReportCheckpoint(const CheckpointReport& report, absl::Duration timeout) override {
    return Record({"ReportCheckpoint", report.commit.step, report.commit.path}, timeout);
  }
  absl::Status ReportProgress(const ProgressReport& report, absl::Duration timeout) override {
    return Record({"ReportProgress", report.step, report.phase}, timeout);
  }
  absl::StatusOr<RequeueAnswer> RequestRequeue(int64_t checkpoint_step, const std::string& reason,
                                               absl::Duration timeout) override {
    absl::Status s = Record({"RequestRequeue", checkpoint_step, reason}, timeout);
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(mu_);
    if (!requeue_answer_.ok()) return requeue_answer_.status();
    return *requeue_answer_;
  }

  void SetReportStatus(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    report_status_ = std::move(s);
  }
  void SetRequeueAnswer(absl::StatusOr<RequeueAnswer> a) {
    std::lock_guard<std::mutex> lock(mu_);
    requeue_answer_ = std::move(a);
  }
  void CloseGate() {
    std::lock_guard<std::mutex> lock(mu_);
    gate_open_ = false;
  }
  void OpenGate() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      gate_open_ = true;
    }
    cv_.notify_all();
  }
  // Waits until `n` calls have started (at most 10 s).
  bool WaitForCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return calls_.size() >= n; });
  }
  std::vector<Call> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  absl::Status Record(Call call, absl::Duration timeout) {
    const bool is_report = call.method != "RequestRequeue";
    std::unique_lock<std::mutex> lock(mu_);
    calls_.push_back(std::move(call));
    cv_.notify_all();
    if (!cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout), [&] { return gate_open_; })) {
      return absl::DeadlineExceededError("fake droccd did not answer in time");
    }
    return is_report ? report_status_ : absl::OkStatus();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool gate_open_ = true;
  absl::Status report_status_;
  absl::StatusOr<RequeueAnswer> requeue_answer_ = RequeueAnswer{.accepted = true};
  std::vector<Call> calls_;
};

class FakeSlurmRequeuer final : public SlurmRequeuer {
 public:
  explicit FakeSlurmRequeuer(absl::Status answer = absl::OkStatus()) : answer_(answer) {}
  absl::Status Requeue(uint32_t slurm_job_id) override {
    requeued.push_back(slurm_job_id);
    return answer_;
  }
  std::vector<uint32_t> requeued;

 private:
  absl::Status answer_;
};

// Rank `rank` of a world whose other ranks contribute nothing (reductions return this rank's
// value); counts the reductions.
class FakeCommunicator final : public Communicator {
 public:
  FakeCommunicator(int rank, int size) : rank_(rank), size_(size) {}
  int Rank() const override { return rank_; }
  int Size() const override { return size_; }
  std::vector<std::string> Gather(const std::string&, int) override { return {}; }
  void Broadcast(std::string&, int) override {}
  int64_t AllReduceMin(int64_t value) override {
    ++allreduces;
    return value;
  }
  int allreduces = 0;

 private:
  int rank_;
  int size_;
};

// A committed checkpoint of step `step`, as the Checkpointer would pass to on_commit.
inline CommitInfo TestCommit(int64_t step) {
  return CommitInfo{.step = step,
                    .bytes = static_cast<uint64_t>(1000 + step),
                    .seconds = 0.5,
                    .path = "/scratch/run/ckpt-" + std::to_string(step),
                    .ranks = 4};
}

// What happened when `count` checkpoints were reported and then `jc` was destroyed.
struct ReportRun {
  std::chrono::steady_clock::duration reporting;  // the ReportCheckpoint calls
  std::chrono::steady_clock::duration total;      // those, and the destructor
  std::string stderr_text;                        // what job control logged meanwhile
};
inline ReportRun ReportThenDestroy(std::unique_ptr<JobControl> jc, int64_t count) {
  ::testing::internal::CaptureStderr();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t step = 0; step < count; ++step) jc->ReportCheckpoint(TestCommit(step));
  const auto reported = std::chrono::steady_clock::now();
  jc.reset();
  const auto end = std::chrono::steady_clock::now();
  return {reported - start, end - start, ::testing::internal::GetCapturedStderr()};
}

}  // namespace drocc::runtime::testing
