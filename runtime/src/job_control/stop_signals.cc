#include "runtime/src/job_control/stop_signals.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace drocc::runtime::job_control {
namespace {

struct NamedSignal {
  const char* name;
  int signo;
};
// Signals a batch system sends to say "stop soon" (Slurm's --signal, scancel --signal,
// PBS/LSF pre-termination). Never SIGKILL/SIGSTOP (cannot be caught) nor the ones that
// report a fault (SEGV, BUS...), whose handler must not return.
constexpr std::array<NamedSignal, 7> kStopSignals = {{{"HUP", SIGHUP},
                                                      {"INT", SIGINT},
                                                      {"USR1", SIGUSR1},
                                                      {"USR2", SIGUSR2},
                                                      {"ALRM", SIGALRM},
                                                      {"TERM", SIGTERM},
                                                      {"XCPU", SIGXCPU}}};

// Written by the handler, so lock-free (hence async-signal-safe) and process-wide.
std::atomic<int> g_received{0};
static_assert(std::atomic<int>::is_always_lock_free);
// Whether a StopSignalHandlers is installed.
std::atomic<bool> g_installed{false};

extern "C" void OnStopSignal(int signo) { g_received.store(signo, std::memory_order_relaxed); }

std::string AcceptedNames() {
  return absl::StrJoin(kStopSignals, " ",
                       [](std::string* out, const NamedSignal& s) { out->append(s.name); });
}

}  // namespace

absl::StatusOr<std::vector<int>> ParseStopSignals(std::string_view list) {
  std::vector<int> out;
  for (absl::string_view item : absl::StrSplit(absl::string_view(list.data(), list.size()), ',')) {
    std::string name = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(item));
    absl::string_view bare = absl::StripPrefix(name, "SIG");
    const auto* found = std::find_if(kStopSignals.begin(), kStopSignals.end(),
                                     [&](const NamedSignal& s) { return bare == s.name; });
    if (found == kStopSignals.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("\"", item, "\" is not a stop signal; use one or more of ", AcceptedNames(),
                       ", separated by commas (e.g. \"USR1\" or \"USR1,TERM\")"));
    }
    if (std::find(out.begin(), out.end(), found->signo) == out.end()) out.push_back(found->signo);
  }
  return out;
}

std::string StopSignalName(int signo) {
  for (const NamedSignal& s : kStopSignals) {
    if (s.signo == signo) return s.name;
  }
  return absl::StrCat(signo);
}

absl::Status CheckStopSignal(int signo) {
  for (const NamedSignal& s : kStopSignals) {
    if (s.signo == signo) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat("signal ", signo,
                                                 " cannot be a stop signal; use one of ",
                                                 AcceptedNames(), " (SIGUSR1 is the usual one)"));
}

absl::StatusOr<std::unique_ptr<StopSignalHandlers>> StopSignalHandlers::Install(
    std::vector<int> signals) {
  for (int signo : signals) {
    if (absl::Status s = CheckStopSignal(signo); !s.ok()) return s;
  }
  if (g_installed.exchange(true)) {
    return absl::FailedPreconditionError(
        "another drocc JobControl already handles the stop signals of this process; keep one "
        "per process (or create this one with handle_signals = false)");
  }
  g_received.store(0);
  struct sigaction action {};
  action.sa_handler = OnStopSignal;
  sigemptyset(&action.sa_mask);
  // Restart interrupted system calls: the signal only sets a flag, and neither MPI nor the
  // checkpoint I/O should see EINTR because of it.
  action.sa_flags = SA_RESTART;
  std::vector<struct sigaction> previous(signals.size());
  for (size_t i = 0; i < signals.size(); ++i) {
    if (sigaction(signals[i], &action, &previous[i]) != 0) {
      const int err = errno;
      for (size_t j = 0; j < i; ++j) sigaction(signals[j], &previous[j], nullptr);
      g_installed.store(false);
      return absl::InternalError(absl::StrCat("cannot install a handler for SIG",
                                              StopSignalName(signals[i]), ": ",
                                              std::strerror(err)));
    }
  }
  return std::unique_ptr<StopSignalHandlers>(
      new StopSignalHandlers(std::move(signals), std::move(previous)));
}

StopSignalHandlers::~StopSignalHandlers() {
  for (size_t i = 0; i < signals_.size(); ++i) sigaction(signals_[i], &previous_[i], nullptr);
  g_installed.store(false);
}

int ReceivedStopSignal() { return g_received.load(std::memory_order_relaxed); }

}  // namespace drocc::runtime::job_control
