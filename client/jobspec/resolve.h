#pragma once

// ResolveJobRequest: `drocc submit [flags] SCRIPT [ARGS...]` plus the script's #SBATCH lines
// -> a checked JobRequest, with sbatch's rules. No gRPC, no I/O except through SubmitContext.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "client/jobspec/job_request.h"
#include "client/jobspec/submit_flags.h"

namespace drocc::client {

// Reads a script from the real file system: refuses what is missing, unreadable, a directory,
// not a regular file, or larger than kMaxScriptBytes (checked before reading). Messages name
// the path.
absl::StatusOr<std::string> ReadScriptFile(const std::string& path);

// Everything ResolveJobRequest needs from the outside world; tests pass fakes.
struct SubmitContext {
  std::string cwd;                       // absolute: the client's working directory
  std::vector<std::string> environment;  // the client's environment, "K=V"
  std::function<absl::StatusOr<std::string>(const std::string& path)> read_file = ReadScriptFile;
  // Told about things accepted but without effect (one line each, e.g. "in script line 3:
  // ignoring --mail-type: drocc does not send e-mail; ..."). May be empty.
  std::function<void(std::string_view)> warn;
};

// The calling process's working directory and environment, with the real file reader.
SubmitContext CurrentSubmitContext();

// Resolves the request:
//  1. SCRIPT is required; "-" (stdin) is refused. Options the CLI11 parse set aside (see
//     SubmitFlags::script) are parsed here: abbreviations such as --part=gpu work; unknown and
//     unsupported options are errors.
//  2. The script is read through ctx.read_file from SCRIPT resolved against ctx.cwd, and must
//     pass CheckBatchScript (sbatch's checks: size, #!, no NUL, no \r\n).
//  3. Its #SBATCH directives are parsed with the same options and rules as the command line;
//     as in sbatch, an unknown or unsupported option there is an error naming the line.
//  4. Command-line values win over #SBATCH values, option by option; among #SBATCH lines, the
//     last wins.
//  5. Values are checked (N >= 1, n >= 1, MIN <= MAX nodes, -n at least the minimum node count
//     and at most max nodes x --ntasks-per-node, time, memory > 0, signal, gres, GPUs given
//     only once: --gpus-per-node or gpu in --gres) and defaults applied (name = SCRIPT's file
//     name, workdir = -D against cwd or cwd, export = ALL).
// -A/--account: drocc charges projects, not Slurm accounts. When --project is also given,
// --account is ignored with a warning (so a script with #SBATCH -A runs unchanged with
// --project on the command line); without --project it is an error asking for one.
// --mail-type, --mail-user, --comment are ignored with a warning; --parsable in a script is
// ignored with a warning (only the command line can change drocc's output).
// Every error is InvalidArgument (or the reader's code) with one line saying what to do;
// errors about a script line start "in script line N: ", errors about a command-line value
// name the option, e.g. `invalid time limit "abc" (-t/--time): use minutes, MM:SS, ...`.
absl::StatusOr<JobRequest> ResolveJobRequest(const SubmitFlags& cli, const SubmitContext& ctx);

}  // namespace drocc::client
