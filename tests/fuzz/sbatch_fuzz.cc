// Fuzzes `drocc submit`'s job specification (client/jobspec): sbatch's script checks, the
// #SBATCH directive reader, the option scanner and ResolveJobRequest.
//
// Input: the job script, then, separated by NUL bytes, the command line of `drocc submit`
// (without "drocc submit"): "#!/bin/bash\n#SBATCH -N 2\n\0-t\0" "10\0job.sh". The whole input
// is also checked as a script on its own (so the NUL check is reached). The command line goes
// through both parsers the CLI has (ParseSubmitArgs and CLI11 via AddSubmitFlags), then the
// request is resolved against a fake SubmitContext whose file reader returns the script.
//
// Checked beyond "does not crash": the per-line and the flat directive readers agree; a
// resolved request holds the script as read, absolute paths, a time limit that is UNLIMITED
// or in range, -N MIN <= MAX, -n at least MIN, "K=V" environment entries; errors say
// something.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/jobspec/resolve.h"
#include "client/jobspec/sbatch_script.h"
#include "client/jobspec/slurm_time.h"
#include "client/jobspec/submit_flags.h"
#include "tests/fuzz/fuzz_check.h"

namespace drocc::client {
namespace {

// The directive readers on `script`, whatever it holds.
void CheckScript(std::string_view script) {
  (void)CheckBatchScript(script, "fuzz.sh");
  absl::StatusOr<std::vector<SbatchDirective>> lines = ExtractSbatchDirectiveLines(script);
  absl::StatusOr<std::vector<std::string>> flat = ExtractSbatchDirectives(script);
  DROCC_FUZZ_CHECK(lines.ok() == flat.ok(), "the two directive readers disagree on success");
  if (!lines.ok()) return;
  std::vector<std::string> joined;
  int last_line = 0;
  const auto script_lines = static_cast<int>(std::count(script.begin(), script.end(), '\n') + 1);
  for (const SbatchDirective& d : *lines) {
    DROCC_FUZZ_CHECK(
        d.line > last_line && d.line <= script_lines,
        absl::StrCat("directive line ", d.line, " after ", last_line, " of ", script_lines));
    DROCC_FUZZ_CHECK(!d.args.empty(), absl::StrCat("directive line ", d.line, " without args"));
    last_line = d.line;
    joined.insert(joined.end(), d.args.begin(), d.args.end());
  }
  DROCC_FUZZ_CHECK(joined == *flat, "flat directives differ from the per-line ones");
}

// The command line as CLI11 sees it through AddSubmitFlags (what `drocc submit` runs).
std::optional<SubmitFlags> ParseWithCli11(const std::vector<std::string>& args) {
  CLI::App app("drocc");
  CLI::App* submit = app.add_subcommand("submit");
  SubmitFlags flags;
  AddSubmitFlags(*submit, flags);
  std::vector<std::string> argv = args;
  argv.insert(argv.begin(), "submit");
  std::reverse(argv.begin(), argv.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(argv);
  } catch (const CLI::ParseError&) {
    return std::nullopt;
  }
  return flags;
}

void CheckResolved(const SubmitFlags& flags, std::string_view script) {
  SubmitContext ctx;
  ctx.cwd = "/home/alice/run";
  ctx.environment = {"HOME=/home/alice", "PATH=/usr/bin:/bin", "OMP_NUM_THREADS=4", "EMPTY="};
  ctx.read_file = [script](const std::string& path) -> absl::StatusOr<std::string> {
    // As the real reader: a path naming a directory cannot be read.
    if (path.empty() || path.back() == '/') {
      return absl::FailedPreconditionError(absl::StrCat(path, " is a directory"));
    }
    return std::string(script);
  };
  ctx.warn = [](std::string_view warning) {
    DROCC_FUZZ_CHECK(!warning.empty(), "an empty warning");
  };
  absl::StatusOr<JobRequest> job = ResolveJobRequest(flags, ctx);
  if (!job.ok()) {
    DROCC_FUZZ_CHECK(!job.status().message().empty(), job.status().ToString());
    return;
  }
  DROCC_FUZZ_CHECK(job->script == script, "the request does not hold the script as read");
  DROCC_FUZZ_CHECK(absl::StartsWith(job->script_path, "/"), job->script_path);
  DROCC_FUZZ_CHECK(absl::StartsWith(job->workdir, "/"), job->workdir);
  DROCC_FUZZ_CHECK(!job->name.empty(), "empty job name");
  DROCC_FUZZ_CHECK(!job->export_mode.empty(), "empty export mode");
  DROCC_FUZZ_CHECK(job->time_limit_s == 0 || job->time_limit_s == kUnlimitedTime ||
                       (job->time_limit_s >= 1 && job->time_limit_s <= kMaxTimeLimitSeconds),
                   absl::StrCat("time limit ", job->time_limit_s));
  DROCC_FUZZ_CHECK(job->nodes <= job->max_nodes,
                   absl::StrCat("nodes ", job->nodes, "-", job->max_nodes));
  DROCC_FUZZ_CHECK(job->ntasks == 0 || job->ntasks >= job->nodes,
                   absl::StrCat(job->ntasks, " tasks on ", job->nodes, " nodes"));
  for (const std::string& kv : job->environment) {
    DROCC_FUZZ_CHECK(kv.find('=') != std::string::npos, absl::StrCat("environment entry ", kv));
  }
}

}  // namespace
}  // namespace drocc::client

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drocc::client;
  const std::string_view input = drocc::fuzz::AsText(data, size);
  CheckScript(input);

  const size_t nul = input.find('\0');
  const std::string_view script = input.substr(0, nul);
  std::vector<std::string> args;
  if (nul != std::string_view::npos) {
    const std::string_view rest = input.substr(nul + 1);
    args = absl::StrSplit(absl::string_view(rest.data(), rest.size()), '\0');
  }
  if (args.size() > 64) return 0;  // a command line, not a corpus of them
  if (nul != std::string_view::npos) CheckScript(script);

  absl::StatusOr<SubmitFlags> scanned = ParseSubmitArgs(args);
  if (scanned.ok()) {
    if (scanned->script.empty()) scanned->script = "job.sh";
    CheckResolved(*scanned, script);
  }
  std::optional<SubmitFlags> cli11 = ParseWithCli11(args);
  if (cli11) {
    if (cli11->script.empty()) cli11->script = "job.sh";
    CheckResolved(*cli11, script);
  }
  return 0;
}
