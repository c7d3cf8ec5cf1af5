#include "client/jobspec/signal_spec.h"

#include <csignal>
#include <string>

#include "absl/status/status.h"
#include "client/jobspec/parse_util.h"

namespace drocc::client {
namespace {

struct NamedSignal {
  std::string_view name;
  int number;
};

// The names Slurm's sig_name2num() knows.
constexpr NamedSignal kSignals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},   {"QUIT", SIGQUIT}, {"ABRT", SIGABRT}, {"KILL", SIGKILL},
    {"ALRM", SIGALRM}, {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2}, {"URG", SIGURG},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP}, {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},
};

constexpr int kMaxSignal = 64;           // SIGRTMAX on Linux
constexpr uint64_t kMaxSeconds = 65535;  // Slurm keeps sig_time in 16 bits
constexpr uint32_t kDefaultSeconds = 60;

absl::Status Invalid(std::string_view text, std::string_view option, std::string_view why) {
  return absl::InvalidArgumentError(
      internal::Cat("invalid signal \"", text, "\"", internal::OptionSuffix(option), ": ", why));
}

constexpr std::string_view kForm =
    "use [B:]SIGNAL[@SECONDS], e.g. B:USR1@90, where SIGNAL is a number (1-64) or a name such "
    "as USR1 or SIGTERM";

}  // namespace

absl::StatusOr<SignalSpec> ParseSignalSpec(std::string_view text, std::string_view option) {
  SignalSpec spec;
  std::string_view rest = text;
  // Flag prefixes, longest first.
  if (internal::StartsWithIgnoreCase(rest, "RB:") || internal::StartsWithIgnoreCase(rest, "BR:")) {
    spec.batch_only = true;
    rest.remove_prefix(3);
  } else if (internal::StartsWithIgnoreCase(rest, "B:")) {
    spec.batch_only = true;
    rest.remove_prefix(2);
  } else if (internal::StartsWithIgnoreCase(rest, "R:")) {
    rest.remove_prefix(2);
  }

  std::string_view sig = rest;
  std::string_view time;
  const size_t at = rest.find('@');
  if (at != std::string_view::npos) {
    sig = rest.substr(0, at);
    time = rest.substr(at + 1);
  }

  if (sig.empty()) return Invalid(text, option, kForm);
  if (internal::AllDigits(sig)) {
    std::optional<uint64_t> number = internal::ParseDigits(sig, kMaxSignal);
    if (!number || *number == 0) {
      return Invalid(text, option, "signal numbers go from 1 to 64 (e.g. 10 for USR1)");
    }
    spec.signal = static_cast<int>(*number);
  } else {
    std::string_view name = sig;
    if (internal::StartsWithIgnoreCase(name, "SIG")) name.remove_prefix(3);
    for (const NamedSignal& s : kSignals) {
      if (internal::EqualsIgnoreCase(name, s.name)) spec.signal = s.number;
    }
    if (spec.signal == 0) return Invalid(text, option, kForm);
  }

  if (at == std::string_view::npos) {
    spec.seconds_before = kDefaultSeconds;
  } else {
    std::optional<uint64_t> seconds = internal::ParseDigits(time, kMaxSeconds);
    if (!seconds) {
      return Invalid(text, option,
                     "the time after @ is whole seconds before the time limit, 0 to 65535");
    }
    spec.seconds_before = static_cast<uint32_t>(*seconds);
  }
  return spec;
}

}  // namespace drocc::client
