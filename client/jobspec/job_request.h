#pragma once

// JobRequest: what `drocc submit` asks for, resolved from the command line and the script's
// #SBATCH lines (see ResolveJobRequest in resolve.h). A plain value type with no gRPC in it;
// its fields mirror the drocc.v1 submit message one to one, and the CLI copies them across.

#include <cstdint>
#include <string>
#include <vector>

namespace drocc::client {

// sbatch --signal: send `signal` this many seconds before the time limit.
struct SignalSpec {
  int signal = 0;               // signal number; 0 = no --signal given
  uint32_t seconds_before = 0;  // sbatch's sig_time (60 when the value has no @TIME)
  bool batch_only = false;      // "B:" prefix: signal only the batch shell, not the steps
};

struct JobRequest {
  std::string name;               // -J, else the script's file name (as sbatch does)
  std::string project;            // --project; "" = the user's default project (the daemon decides)
  std::string partition;          // -p; "" = the cluster's default
  std::string script;             // the script's full text, sent as is
  std::string script_path;        // absolute, lexically normalised
  std::vector<std::string> args;  // what followed SCRIPT on the command line
  std::string workdir;  // absolute, lexically normal: -D resolved against the cwd, else the cwd
  std::vector<std::string> environment;  // "K=V" to run the job with (after --export)
  std::string export_mode;               // --export exactly as given; "ALL" when not given
  // -o pattern, absolute and lexically normalized against `workdir` ("" = Slurm's default);
  // "none" becomes /dev/null.
  std::string output;
  std::string error;  // -e pattern, the same; Slurm expands %j, %x, %u ... on the node
  // --open-mode: kOpenModeAppend or kOpenModeTruncate (open_mode.h); "" = not given, Slurm's
  // default (slurm.conf JobFileAppend) applies.
  std::string open_mode;

  // Counts: 0 = not given (Slurm's default applies).
  uint32_t nodes = 0;      // -N N or the N of N-M
  uint32_t max_nodes = 0;  // the M of N-M; -N N sets it to N as well, as Slurm does
  uint32_t ntasks = 0;
  uint32_t ntasks_per_node = 0;
  uint32_t cpus_per_task = 0;
  // GPUs per node, counted from --gpus-per-node or from the gpu entries of --gres. For cost
  // and limits only: the GPUs are already part of `gres`, so don't ask Slurm for them twice.
  uint32_t gpus_per_node = 0;
  // The complete per-node generic-resource request to give Slurm ("gpu:a100:2,nvme:1"),
  // including a --gpus-per-node request folded in as gpu[:TYPE]:N. "" = none.
  std::string gres;
  uint64_t mem_mb = 0;  // --mem, per node, MiB
  // Seconds; 0 = not given (the partition's default applies); kUnlimitedTime (-1, see
  // slurm_time.h) = UNLIMITED was asked for and the daemon decides whether that is allowed.
  // Slurm enforces whole minutes: send ceil(time_limit_s / 60).
  int64_t time_limit_s = 0;
  SignalSpec signal;
  int32_t priority = 0;  // --priority; 0 = not given
};

}  // namespace drocc::client
