#pragma once

// The drocc command groups. Each registers its subcommands on the app and, when one of them
// is chosen, sets `run` to the action to perform once the command line is parsed.
//
// Values CLI11 cannot check alone (amounts, dates) are checked in the subcommand's callback,
// which runs inside CLI::App::parse: UsageError throws CLI::ValidationError there, and main()
// reports it like any parse error (exit code 2). Failed calls exit with 1 (Fail, FailCall).

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/cli/output.h"
#include "client/lib/connection.h"
#include "drocc/v1/types.pb.h"

namespace drocc::cli {

using Runner = std::function<int(client::Connection&)>;

void AddSubmitCommands(CLI::App& app, Runner& run);   // submit, estimate
void AddJobCommands(CLI::App& app, Runner& run);      // jobs, show, cancel, logs, watch
void AddAdminCommands(CLI::App& app, Runner& run);    // admin ...
void AddProjectCommands(CLI::App& app, Runner& run);  // balance, usage

// The groups of `drocc admin`, registered by AddAdminCommands.
void AddAdminOrgCommands(CLI::App* admin, Runner& run);     // account, project, member
void AddAdminQuotaCommands(CLI::App* admin, Runner& run);   // grant, limit
void AddAdminReportCommands(CLI::App* admin, Runner& run);  // report, audit
void AddAdminTokenCommands(CLI::App* admin, Runner& run);   // token create, list, revoke

// Exit code of a call refused for now, to be tried again later (sysexits' EX_TEMPFAIL): the
// submit rate limit. The message says how long to wait.
inline constexpr int kExitRetryLater = 75;

// Prints "drocc: <message>" on stderr; returns the exit code 1.
int Fail(absl::string_view message);
// The same for a usage error found before anything was sent (a bad flag, #SBATCH line or
// script): returns 2, like a bad command line.
int FailUsage(absl::string_view message);
// The same for a failed call. With the call's context, a RESOURCE_EXHAUSTED answer that asks
// to retry later ("retry-after-ms") says when and returns kExitRetryLater.
int FailCall(const client::Connection& conn, const grpc::Status& status,
             const grpc::ClientContext* ctx = nullptr);
// -o table|json on a listing command.
void AddFormatOption(CLI::App* cmd, Format& format);
// -o table|csv|json on a report.
void AddReportFormatOption(CLI::App* cmd, Format& format);
// --format table|json alone, where -o means something else (sbatch's --output).
void AddLongFormatOption(CLI::App* cmd, Format& format);

// What AddChoiceOption installs: turns the word into its value's number, which CLI11 then
// converts into the enum.
CLI::Validator ChoiceTransform(const std::vector<std::pair<std::string, int64_t>>& choices);
std::string ChoiceTypeName(const std::vector<std::pair<std::string, int64_t>>& choices);

// An option that takes one of a few words (any case) and stores the value paired with it.
// A bad word is a usage error that lists the words; the help shows them as "a|b|c".
template <typename Enum>
CLI::Option* AddChoiceOption(CLI::App* cmd, const std::string& names, Enum& value,
                             const std::vector<std::pair<std::string, Enum>>& choices,
                             const std::string& help) {
  std::vector<std::pair<std::string, int64_t>> numbered;
  for (const auto& [word, e] : choices) numbered.emplace_back(word, static_cast<int64_t>(e));
  return cmd->add_option(names, value, help)
      ->transform(ChoiceTransform(numbered))
      ->type_name(ChoiceTypeName(numbered));
}

// A usage error found after parsing: throws CLI::ValidationError("<option>: <message>").
[[noreturn]] void UsageError(const std::string& option, std::string_view message);
// The value, or a UsageError naming `option` with the status message.
template <typename T>
T ValueOrUsageError(absl::StatusOr<T> value, const std::string& option) {
  if (!value.ok()) {
    UsageError(option,
               std::string_view(value.status().message().data(), value.status().message().size()));
  }
  return *std::move(value);
}

// --from DATE and --until DATE: the half-open range [from, until).
struct TimeRangeFlags {
  std::string from;
  std::string until;
};
void AddTimeRangeOptions(CLI::App* cmd, TimeRangeFlags& flags);
// The range given, nullopt when neither flag was (so the request carries no range at all); an
// end not given stays unset. A usage error for a bad date or --from not before --until.
std::optional<v1::TimeRange> ParseTimeRange(const TimeRangeFlags& flags);

inline constexpr absl::Duration kCallTimeout = absl::Seconds(30);
inline constexpr char kRetrySecondsEnv[] = "DROCC_RETRY_SECONDS";
inline constexpr absl::Duration kDefaultRetryWindow = absl::Seconds(15);

// One unary call: a context bound to `method` (the full name, "/drocc.v1.AdminService/
// CreateGrant": on TCP the MUNGE credential carries it), then `call`. 0, or the exit code of
// the failure it printed.
// UNAVAILABLE (droccd restarting, or not up yet) is retried with the same request and a fresh
// context, backing off from 0.25 s to 4 s, for up to $DROCC_RETRY_SECONDS (default 15; 0:
// never). SubmitJob carries its idempotency key, so a retry never makes a second job; calls
// that may not be repeated (kNotRepeatable) are retried only when they cannot have reached
// droccd.
// How long a call keeps retrying UNAVAILABLE: $DROCC_RETRY_SECONDS, default 15 s.
absl::Duration RetryWindow();

int CallUnary(client::Connection& conn, std::string_view method,
              const std::function<grpc::Status(grpc::ClientContext*)>& call);

// CallUnary with the method name spelled from the stub's method, so the two cannot disagree:
//   DROCC_CALL(conn, AdminService, admin, CreateGrant, req, &grant)
#define DROCC_CALL(conn, Service, stub, Method, req, resp)                         \
  ::drocc::cli::CallUnary((conn), "/drocc.v1." #Service "/" #Method,               \
                          [&](grpc::ClientContext* call_ctx_) {                    \
                            return (conn).stub().Method(call_ctx_, (req), (resp)); \
                          })

}  // namespace drocc::cli
