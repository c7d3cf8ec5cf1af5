#include "daemon/api/log_stream.h"

#include <grpcpp/alarm.h>
#include <unistd.h>

#include <atomic>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "daemon/api/convert.h"
#include "daemon/api/job_service.h"
#include "daemon/auth/user_file.h"
#include "daemon/auth/users.h"

namespace drocc::api {
namespace {

constexpr auto kPollEvery = std::chrono::milliseconds(500);
constexpr size_t kChunk = 64 * 1024;

// A server stream that produces messages one at a time and, when it has nothing to say yet,
// waits on an alarm instead of a thread. Subclasses implement Next().
template <typename Resp>
class PollingWriter : public grpc::ServerWriteReactor<Resp> {
 protected:
  enum class Step { kSend, kWait, kDone };
  // Fills *out (kSend), asks to be called again later (kWait) or ends with *final (kDone).
  virtual Step Next(Resp* out, grpc::Status* final) = 0;

  void Advance() {
    grpc::Status final;
    resp_.Clear();
    switch (Next(&resp_, &final)) {
      case Step::kSend:
        this->StartWrite(&resp_);
        return;
      case Step::kWait:
        if (cancelled_) return FinishOnce(grpc::Status::CANCELLED);
        alarm_.Set(std::chrono::system_clock::now() + kPollEvery, [this](bool ok) {
          if (!ok || cancelled_) return FinishOnce(grpc::Status::CANCELLED);
          Advance();
        });
        return;
      case Step::kDone:
        FinishOnce(final);
        return;
    }
  }
  void FinishOnce(const grpc::Status& s) {
    if (!finished_.exchange(true)) this->Finish(s);
  }

 private:
  void OnWriteDone(bool ok) override {
    if (!ok) return FinishOnce(grpc::Status::CANCELLED);
    Advance();
  }
  void OnCancel() override {
    cancelled_ = true;
    alarm_.Cancel();
  }
  // gRPC's reactor idiom: the reactor owns itself and ends when gRPC says the call is done.
  void OnDone() override { delete this; }

  Resp resp_;
  grpc::Alarm alarm_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> finished_{false};
};

class WatchReactor final : public PollingWriter<v1::WatchJobResponse> {
 public:
  WatchReactor(const ApiDeps& deps, grpc::CallbackServerContext* ctx,
               const v1::WatchJobRequest& req)
      : deps_(deps), id_(req.id()) {
    auto caller = deps_.authenticator->Authenticate(*ctx, "/drocc.v1.JobService/WatchJob");
    absl::Status s = caller.status();
    if (s.ok()) {
      auto job = deps_.store->GetJob(id_, false);
      s = job.ok() ? deps_.policy->CheckJob(*caller, *job, JobAction::kView) : job.status();
    }
    if (!s.ok()) {
      FinishOnce(ToGrpc(s));
      return;
    }
    Advance();
  }

 private:
  Step Next(v1::WatchJobResponse* out, grpc::Status* final) override {
    auto job = deps_.store->GetJob(id_, /*with_events=*/true);
    if (!job.ok()) {
      *final = ToGrpc(job.status());
      return Step::kDone;
    }
    if (sent_ < job->events.size()) {
      // The first message starts at the latest event; then one per new transition.
      if (sent_ == 0) sent_ = job->events.size() - 1;
      const queue::JobEvent& e = job->events[sent_++];
      ToProto(*job, /*full=*/false, out->mutable_job());
      ToProto(e, out->mutable_event());
      return Step::kSend;
    }
    if (queue::IsTerminal(job->state)) {
      *final = grpc::Status::OK;
      return Step::kDone;
    }
    return Step::kWait;
  }

  ApiDeps deps_;
  queue::JobId id_;
  size_t sent_ = 0;
};

class LogReactor final : public PollingWriter<v1::StreamLogsResponse> {
 public:
  LogReactor(const ApiDeps& deps, grpc::CallbackServerContext* ctx,
             const v1::StreamLogsRequest& req)
      : deps_(deps),
        id_(req.id()),
        stderr_(req.stream() == v1::LOG_STREAM_STDERR),
        follow_(req.follow()),
        offset_(req.offset()) {
    auto caller = deps_.authenticator->Authenticate(*ctx, "/drocc.v1.JobService/StreamLogs");
    absl::Status s = caller.status();
    if (s.ok()) {
      auto job = deps_.store->GetJob(id_, false);
      s = job.ok() ? deps_.policy->CheckJob(*caller, *job, JobAction::kReadLogs) : job.status();
      if (s.ok()) {
        auto owner = auth::LookupUser(job->uid);
        s = owner.status();
        if (owner.ok()) owner_ = *std::move(owner);
      }
    }
    if (!s.ok()) {
      FinishOnce(ToGrpc(s));
      return;
    }
    Advance();
  }
  ~LogReactor() override {
    if (fd_ >= 0) close(fd_);
  }

 private:
  Step Next(v1::StreamLogsResponse* out, grpc::Status* final) override {
    auto job = deps_.store->GetJob(id_, false);
    if (!job.ok()) return Fail(job.status(), final);
    bool ended = queue::IsTerminal(job->state);
    if (fd_ < 0) {
      OutputPaths paths = ResolveOutputPaths(*job);
      const std::string& path = stderr_ ? paths.stderr_path : paths.stdout_path;
      if (path.empty()) {
        if (ended) {
          return Fail(absl::FailedPreconditionError(
                          absl::StrCat("job ", id_, " ended without running; it has no output")),
                      final);
        }
        if (!follow_) {
          return Fail(absl::FailedPreconditionError(
                          absl::StrCat("job ", id_,
                                       " has not started yet, so it has no output; use -f to "
                                       "wait for it")),
                      final);
        }
        return Step::kWait;
      }
      auto fd = auth::OpenForUser(path, owner_);
      if (!fd.ok()) {
        if (absl::IsNotFound(fd.status()) && follow_ && !ended) return Step::kWait;
        return Fail(fd.status(), final);
      }
      fd_ = *fd;
    }
    std::string buf(kChunk, '\0');
    ssize_t n = pread(fd_, buf.data(), buf.size(), static_cast<off_t>(offset_));
    if (n < 0) return Fail(absl::InternalError("cannot read the job's output file"), final);
    if (n > 0) {
      buf.resize(static_cast<size_t>(n));
      out->set_data(std::move(buf));
      out->set_offset(offset_);
      offset_ += static_cast<uint64_t>(n);
      return Step::kSend;
    }
    // At the end of the file: done, unless following a job that may still write.
    if (!follow_ || saw_end_) {
      *final = grpc::Status::OK;
      return Step::kDone;
    }
    if (ended) {
      saw_end_ = true;  // one more read catches what was written just before the end
      return Next(out, final);
    }
    return Step::kWait;
  }

  Step Fail(const absl::Status& s, grpc::Status* final) {
    *final = ToGrpc(s);
    return Step::kDone;
  }

  ApiDeps deps_;
  queue::JobId id_;
  bool stderr_;
  bool follow_;
  uint64_t offset_;
  auth::UserInfo owner_;
  int fd_ = -1;
  bool saw_end_ = false;
};

}  // namespace

grpc::ServerWriteReactor<v1::WatchJobResponse>* NewWatchReactor(const ApiDeps& deps,
                                                                grpc::CallbackServerContext* ctx,
                                                                const v1::WatchJobRequest& req) {
  return new WatchReactor(deps, ctx, req);
}

grpc::ServerWriteReactor<v1::StreamLogsResponse>* NewLogReactor(const ApiDeps& deps,
                                                                grpc::CallbackServerContext* ctx,
                                                                const v1::StreamLogsRequest& req) {
  return new LogReactor(deps, ctx, req);
}

}  // namespace drocc::api
