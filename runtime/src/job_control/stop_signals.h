#pragma once

// The process-wide part of job control: which signals ask the job to stop, and the
// async-signal-safe handler that records them. Signal dispositions belong to the process, so
// at most one StopSignalHandlers is installed at a time.

#include <signal.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace drocc::runtime::job_control {

// "USR1,usr2, SIGTERM" -> {SIGUSR1, SIGUSR2, SIGTERM}: names with or without "SIG", any case,
// comma separated; duplicates are dropped. Only signals that a batch system sends to ask for
// a stop are accepted (HUP INT USR1 USR2 ALRM TERM XCPU); anything else (an unknown name, a
// number, an empty item) is INVALID_ARGUMENT naming the accepted ones.
absl::StatusOr<std::vector<int>> ParseStopSignals(std::string_view list);
// "USR1" for SIGUSR1; the number as text for a signal outside the accepted set.
std::string StopSignalName(int signo);
// INVALID_ARGUMENT unless `signo` is one of the accepted signals.
absl::Status CheckStopSignal(int signo);

// The handler for `signals` while the object lives; the previous dispositions are restored
// by the destructor. Install clears the record of an earlier stop signal.
class StopSignalHandlers {
 public:
  // FAILED_PRECONDITION if another StopSignalHandlers is installed in this process.
  static absl::StatusOr<std::unique_ptr<StopSignalHandlers>> Install(std::vector<int> signals);
  ~StopSignalHandlers();
  StopSignalHandlers(const StopSignalHandlers&) = delete;
  StopSignalHandlers& operator=(const StopSignalHandlers&) = delete;

  const std::vector<int>& signals() const { return signals_; }

 private:
  StopSignalHandlers(std::vector<int> signals, std::vector<struct sigaction> previous)
      : signals_(std::move(signals)), previous_(std::move(previous)) {}
  std::vector<int> signals_;
  std::vector<struct sigaction> previous_;  // parallel to signals_
};

// The last stop signal the handler recorded since the last Install; 0 if none. Safe from any
// thread.
int ReceivedStopSignal();

}  // namespace drocc::runtime::job_control
