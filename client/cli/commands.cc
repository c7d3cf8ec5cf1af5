// Helpers shared by the command groups (commands.h).

#include <cstdio>
#include <optional>

#include <algorithm>

#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/cli/arguments.h"
#include "client/cli/commands.h"
#include "common/retry_after.h"

namespace drocc::cli {

int Fail(absl::string_view message) {
  std::fprintf(stderr, "drocc: %.*s\n", static_cast<int>(message.size()), message.data());
  return 1;
}

int FailUsage(absl::string_view message) {
  Fail(message);
  return 2;
}

int FailCall(const client::Connection& conn, const grpc::Status& status,
             const grpc::ClientContext* ctx) {
  std::string message = conn.Describe(status);
  const std::optional<absl::Duration> wait =
      ctx != nullptr && status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED
          ? client::RetryAfter(*ctx)
          : std::nullopt;
  if (!wait) return Fail(message);
  // droccd's message says it already; another server's may not.
  if (!absl::StrContains(message, "retry in")) {
    absl::StrAppend(&message, "; retry in ", RetryAfterText(*wait));
  }
  Fail(message);
  return kExitRetryLater;
}

namespace {

std::string Words(const std::vector<std::pair<std::string, int64_t>>& choices,
                  const char* separator) {
  std::vector<std::string> words;
  for (const auto& choice : choices) words.push_back(choice.first);
  return absl::StrJoin(words, separator);
}

void AddFormat(CLI::App* cmd, Format& format, const std::string& names, bool csv) {
  std::vector<std::pair<std::string, Format>> formats = {{"table", Format::kTable}};
  if (csv) formats.emplace_back("csv", Format::kCsv);
  formats.emplace_back("json", Format::kJson);
  AddChoiceOption(cmd, names, format, formats,
                  csv ? "output format: table (default), csv or json"
                      : "output format: table (default) or json");
}

}  // namespace

CLI::Validator ChoiceTransform(const std::vector<std::pair<std::string, int64_t>>& choices) {
  return CLI::Validator(
      [choices](std::string& text) -> std::string {
        for (const auto& [word, number] : choices) {
          if (absl::EqualsIgnoreCase(word, text)) {
            text = absl::StrCat(number);
            return "";
          }
        }
        return absl::StrCat("\"", text, "\" is not one of ", Words(choices, ", "));
      },
      "");
}

std::string ChoiceTypeName(const std::vector<std::pair<std::string, int64_t>>& choices) {
  return Words(choices, "|");
}

void AddFormatOption(CLI::App* cmd, Format& format) {
  AddFormat(cmd, format, "-o,--format", /*csv=*/false);
}

void AddReportFormatOption(CLI::App* cmd, Format& format) {
  AddFormat(cmd, format, "-o,--format", /*csv=*/true);
}

void AddLongFormatOption(CLI::App* cmd, Format& format) {
  AddFormat(cmd, format, "--format", /*csv=*/false);
}

void UsageError(const std::string& option, std::string_view message) {
  throw CLI::ValidationError(option, std::string(message));
}

void AddTimeRangeOptions(CLI::App* cmd, TimeRangeFlags& flags) {
  cmd->add_option("--from", flags.from,
                  "from this time on: YYYY-MM-DD (00:00 UTC) or YYYY-MM-DDTHH:MM:SSZ");
  cmd->add_option("--until", flags.until, "up to this time, exclusive; same formats");
}

std::optional<v1::TimeRange> ParseTimeRange(const TimeRangeFlags& flags) {
  if (flags.from.empty() && flags.until.empty()) return std::nullopt;
  std::optional<absl::Time> from, until;
  if (!flags.from.empty()) from = ValueOrUsageError(ParseDate(flags.from), "--from");
  if (!flags.until.empty()) until = ValueOrUsageError(ParseDate(flags.until), "--until");
  if (from && until && *from >= *until) {
    UsageError("--until", absl::StrCat("must be after --from (", flags.from, ")"));
  }
  v1::TimeRange range;
  if (from) SetTimestamp(*from, range.mutable_from());
  if (until) SetTimestamp(*until, range.mutable_until());
  return range;
}

namespace {

// Calls that would do their work twice if the first attempt reached droccd but its answer
// was lost: a second grant, a second token.
constexpr std::string_view kNotRepeatable[] = {"/drocc.v1.AdminService/CreateGrant",
                                               "/drocc.v1.AdminService/CreateToken"};

}  // namespace

absl::Duration RetryWindow() {
  const char* env = std::getenv(kRetrySecondsEnv);
  int64_t seconds = 0;
  if (env == nullptr || !absl::SimpleAtoi(env, &seconds) || seconds < 0) {
    return kDefaultRetryWindow;
  }
  return absl::Seconds(seconds);
}

int CallUnary(client::Connection& conn, std::string_view method,
              const std::function<grpc::Status(grpc::ClientContext*)>& call) {
  const bool repeatable = std::find(std::begin(kNotRepeatable), std::end(kNotRepeatable), method) ==
                          std::end(kNotRepeatable);
  const absl::Time give_up = absl::Now() + RetryWindow();
  absl::Duration backoff = client::kRetryFirstBackoff;
  while (true) {
    auto ctx = conn.NewContext(method, kCallTimeout);  // a fresh MUNGE credential each time
    if (!ctx.ok()) return Fail(ctx.status().message());
    grpc::Status st = call(ctx->get());
    if (st.ok()) return 0;
    const bool retry = st.error_code() == grpc::StatusCode::UNAVAILABLE &&
                       (repeatable || client::Connection::NeverDelivered(st)) &&
                       absl::Now() + backoff < give_up;
    if (!retry) return FailCall(conn, st, ctx->get());
    absl::SleepFor(backoff);
    backoff = std::min(backoff * 2, client::kRetryMaxBackoff);
  }
}

}  // namespace drocc::cli
