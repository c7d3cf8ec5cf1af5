#include "daemon/slurm/submit_request.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "common/job_env.h"
#include "common/status.h"
#include "daemon/slurm/filename_pattern.h"
#include "daemon/slurm/scheduler_backend.h"

namespace drocc::slurm {
namespace {

// Slurm reserves the top values of its integer fields (NO_VAL16 = 0xfffe, INFINITE16 =
// 0xffff, NO_VAL = 0xfffffffe, INFINITE = 0xffffffff) as "not set" / "unlimited".
constexpr uint32_t kMaxU16 = 0xfffd;
constexpr uint64_t kMaxU32 = 0xfffffffd;
constexpr uint16_t kDefaultWarnTime = 60;  // sbatch --signal without @time
constexpr int64_t kUnlimitedSeconds = -1;  // JobSpec::time_limit_s for "UNLIMITED"

absl::Status Invalid(const queue::Job& job, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("job ", job.id, ": ", what));
}

absl::Status CheckScript(const queue::Job& job) {
  const std::string& s = job.spec.script;
  if (absl::StripAsciiWhitespace(s).empty()) return Invalid(job, "the job script is empty");
  if (!s.starts_with("#!")) {
    return Invalid(job,
                   "the job script's first line must start with #! followed by the path to an "
                   "interpreter (for instance #!/bin/bash)");
  }
  if (s.find('\0') != std::string::npos) {
    return Invalid(job, "the job script contains a NUL character, which Slurm does not allow");
  }
  if (s.find("\r\n") != std::string::npos) {
    return Invalid(job,
                   "the job script has DOS line breaks (\\r\\n) instead of UNIX ones (\\n); "
                   "convert it with dos2unix");
  }
  return absl::OkStatus();
}

bool HasNul(absl::string_view s) { return s.find('\0') != absl::string_view::npos; }

absl::string_view VarName(absl::string_view entry) { return entry.substr(0, entry.find('=')); }

bool HasVar(const std::vector<std::string>& env, absl::string_view name) {
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& e) { return VarName(e) == name; });
}

absl::StatusOr<OpenMode> ParseOpenMode(const queue::Job& job) {
  const std::string& mode = job.spec.open_mode;
  if (mode.empty()) return OpenMode::kSlurmDefault;
  if (mode == queue::kOpenModeAppend) return OpenMode::kAppend;
  if (mode == queue::kOpenModeTruncate) return OpenMode::kTruncate;
  return Invalid(job,
                 absl::StrCat("unknown --open-mode \"", absl::CEscape(mode), "\"; use \"",
                              queue::kOpenModeAppend, "\" or \"", queue::kOpenModeTruncate, "\""));
}

// Replaces `name`'s entry in `env`, or adds one.
void SetVar(std::vector<std::string>& env, absl::string_view name, absl::string_view value) {
  env.erase(std::remove_if(env.begin(), env.end(),
                           [name](const std::string& e) { return VarName(e) == name; }),
            env.end());
  env.push_back(absl::StrCat(name, "=", value));
}

absl::StatusOr<std::vector<std::string>> BuildEnvironment(const queue::Job& job,
                                                          absl::string_view job_name,
                                                          OpenMode open_mode,
                                                          absl::string_view submit_host) {
  for (const std::string& e : job.spec.environment) {
    size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0 || HasNul(e)) {
      return Invalid(job, absl::StrCat("environment entry \"", absl::CEscape(e),
                                       "\" is not of the form NAME=value"));
    }
  }
  const std::string mode = absl::AsciiStrToUpper(job.spec.export_mode);
  std::vector<std::string> env;
  bool load_user_env = false;
  if (mode == "NONE") {
    for (const std::string& e : job.spec.environment) {
      // droccd's own variables for the runtime (see common/job_env.h) are not the user's.
      if (e.starts_with("SLURM_") || IsRuntimeVariable(e)) env.push_back(e);
    }
    load_user_env = true;
  } else {
    env = job.spec.environment;
    load_user_env = !(mode.empty() || mode == "ALL") || env.empty();
  }
  auto add_default = [&env](absl::string_view name, absl::string_view value) {
    if (!HasVar(env, name)) env.push_back(absl::StrCat(name, "=", value));
  };
  // sbatch exports its job name: slurmstepd expands %x from it (without it, "(null)").
  SetVar(env, "SLURM_JOB_NAME", job_name);
  // And its --open-mode, which srun inside the job reads for its own output files.
  if (open_mode == OpenMode::kAppend) SetVar(env, "SLURM_OPEN_MODE", "a");
  if (open_mode == OpenMode::kTruncate) SetVar(env, "SLURM_OPEN_MODE", "t");
  if (load_user_env) add_default("SLURM_GET_USER_ENV", "1");
  add_default("SLURM_SUBMIT_DIR", job.spec.workdir);
  if (!submit_host.empty()) add_default("SLURM_SUBMIT_HOST", submit_host);
  add_default("SLURM_UMASK", "0022");
  return env;
}

// One --gres entry as sbatch sends it ("gres:" prefixed), and its GPU count if it is GPUs.
struct GresEntry {
  std::string tres;
  std::optional<uint64_t> gpus;
};

absl::StatusOr<GresEntry> ParseGres(const queue::Job& job, absl::string_view entry) {
  absl::string_view e = absl::StripAsciiWhitespace(entry);
  if (!absl::ConsumePrefix(&e, "gres:")) absl::ConsumePrefix(&e, "gres/");
  if (e.empty() || HasNul(e) || absl::StrContains(e, ';')) {
    return Invalid(job, absl::StrCat("--gres entry \"", absl::CEscape(entry),
                                     "\" is not of the form name[:type][:count]"));
  }
  GresEntry out{absl::StrCat("gres:", e), std::nullopt};
  std::vector<absl::string_view> parts = absl::StrSplit(e, ':');
  if (parts[0] == "gpu") {
    uint64_t n = 1;
    if (parts.size() > 1 && !absl::SimpleAtoi(parts.back(), &n)) n = 1;  // "gpu:type"
    out.gpus = n;
  }
  return out;
}

absl::StatusOr<std::string> BuildTresPerNode(const queue::Job& job) {
  std::vector<std::string> entries;
  std::optional<uint64_t> gres_gpus;
  for (absl::string_view piece : absl::StrSplit(job.spec.gres, ',', absl::SkipWhitespace())) {
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(piece), "none")) continue;
    auto entry = ParseGres(job, piece);
    if (!entry.ok()) return entry.status();
    if (entry->gpus) gres_gpus = gres_gpus.value_or(0) + *entry->gpus;
    entries.push_back(std::move(entry->tres));
  }
  if (job.spec.gpus_per_node > 0) {
    if (gres_gpus && *gres_gpus != job.spec.gpus_per_node) {
      return Invalid(
          job, absl::StrCat("asks for ", job.spec.gpus_per_node, " GPUs per node but --gres says ",
                            *gres_gpus, "; give the GPU count once"));
    }
    // The same count in both places (a client may derive one from the other): send once.
    if (!gres_gpus) {
      entries.insert(entries.begin(), absl::StrCat("gres:gpu:", job.spec.gpus_per_node));
    }
  }
  return absl::StrJoin(entries, ",");
}

std::string BaseName(absl::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path : path.substr(slash + 1));
}

absl::Status CheckRange(const queue::Job& job, absl::string_view what, uint64_t value,
                        uint64_t max) {
  if (value <= max) return absl::OkStatus();
  return Invalid(job, absl::StrCat(what, " ", value, " is more than Slurm accepts (", max, ")"));
}

}  // namespace

absl::StatusOr<SubmitRequest> BuildSubmitRequest(const queue::Job& job,
                                                 std::string_view submit_host_sv,
                                                 std::string_view instance) {
  // Debian's abseil has its own string_view class: convert at the boundary.
  const absl::string_view submit_host(submit_host_sv.data(), submit_host_sv.size());
  const queue::JobSpec& spec = job.spec;
  if (job.uid == 0 || job.gid == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job.id, " would run as root (uid ", job.uid, ", gid ", job.gid,
                     "); drocc never runs jobs as root or with root's group"));
  }
  if (absl::Status s = CheckScript(job); !s.ok()) return s;
  if (!spec.workdir.starts_with('/') || HasNul(spec.workdir)) {
    return Invalid(job, absl::StrCat("the work dir must be an absolute path (got \"",
                                     absl::CEscape(spec.workdir), "\")"));
  }
  for (const std::string& a : spec.args) {
    if (HasNul(a)) return Invalid(job, "a script argument contains a NUL character");
  }
  for (const std::string* s : {&spec.name, &spec.partition, &spec.output, &spec.error}) {
    if (HasNul(*s)) return Invalid(job, "a job option contains a NUL character");
  }
  if (spec.max_nodes != 0 && spec.max_nodes < spec.nodes) {
    return Invalid(job, absl::StrCat("the node count range ", spec.nodes, "-", spec.max_nodes,
                                     " is empty; give the smaller number first"));
  }
  RETURN_IF_ERROR(CheckRange(job, "--ntasks-per-node", spec.ntasks_per_node, kMaxU16));
  RETURN_IF_ERROR(CheckRange(job, "--cpus-per-task", spec.cpus_per_task, kMaxU16));
  RETURN_IF_ERROR(CheckRange(job, "--ntasks", spec.ntasks, kMaxU32));
  uint64_t minutes = kTimeLimitUnlimited;
  if (spec.time_limit_s >= 0) {
    minutes = (static_cast<uint64_t>(spec.time_limit_s) + 59) / 60;
    RETURN_IF_ERROR(CheckRange(job, "the time limit in minutes", minutes, kMaxU32));
  } else if (spec.time_limit_s != kUnlimitedSeconds) {
    return Invalid(job, absl::StrCat("the time limit ", spec.time_limit_s, "s is negative"));
  }
  RETURN_IF_ERROR(CheckRange(job, "--mem (MiB)", spec.mem_mb, std::numeric_limits<int64_t>::max()));

  SubmitRequest r;
  r.script = spec.script;
  r.work_dir = spec.workdir;
  r.name = !spec.name.empty()          ? spec.name
           : !spec.script_path.empty() ? BaseName(spec.script_path)
                                       : absl::StrCat("drocc-", job.id);
  r.argv.push_back(spec.script_path.empty() ? r.name : spec.script_path);
  r.argv.insert(r.argv.end(), spec.args.begin(), spec.args.end());
  ASSIGN_OR_RETURN(r.open_mode, ParseOpenMode(job));
  ASSIGN_OR_RETURN(r.environment, BuildEnvironment(job, r.name, r.open_mode, submit_host));
  r.user_id = job.uid;
  r.group_id = job.gid;
  r.comment = DroccComment(job.id, instance);
  r.std_out = spec.output.empty() ? std::string(kDefaultOutputPattern) : spec.output;
  r.std_err = spec.error;
  r.partition = spec.partition;
  r.alloc_node = std::string(submit_host);
  r.submit_line = absl::StrCat("droccd: drocc job ", job.id, " of ", job.user);

  // Sizes, as sbatch's slurm_opt_create_job_desc() derives them.
  r.num_tasks = spec.ntasks;
  r.ntasks_per_node = static_cast<uint16_t>(spec.ntasks_per_node);
  r.cpus_per_task = static_cast<uint16_t>(spec.cpus_per_task);
  if (spec.nodes > 0) {
    r.min_nodes = spec.nodes;
    r.max_nodes = spec.max_nodes > 0 ? spec.max_nodes : spec.nodes;
  } else if (spec.ntasks > 0 && spec.ntasks_per_node > 0) {
    r.min_nodes = (spec.ntasks + spec.ntasks_per_node - 1) / spec.ntasks_per_node;
  }
  uint64_t tasks = spec.ntasks > 0 ? spec.ntasks : 1;
  if (spec.ntasks == 0 && spec.ntasks_per_node > 0 &&
      (spec.max_nodes == 0 || spec.max_nodes == spec.nodes)) {
    tasks = uint64_t{std::max<uint32_t>(spec.nodes, 1)} * spec.ntasks_per_node;
  }
  const uint64_t cpus = tasks * std::max<uint32_t>(spec.cpus_per_task, 1);
  RETURN_IF_ERROR(CheckRange(job, "the CPU count (tasks x cpus per task)", cpus, kMaxU32));
  r.min_cpus = static_cast<uint32_t>(cpus);

  ASSIGN_OR_RETURN(r.tres_per_node, BuildTresPerNode(job));
  r.mem_per_node_mb = spec.mem_mb;
  r.time_limit_min = static_cast<uint32_t>(minutes);

  if (spec.signal.signal != 0) {
    if (spec.signal.signal < 1 || spec.signal.signal > 64) {
      return Invalid(job, absl::StrCat("--signal ", spec.signal.signal, " is not a signal"));
    }
    RETURN_IF_ERROR(CheckRange(job, "--signal's time before the limit (s)",
                               spec.signal.seconds_before, 0xffff));
    r.warn_signal = static_cast<uint16_t>(spec.signal.signal);
    r.warn_time_s = spec.signal.seconds_before > 0
                        ? static_cast<uint16_t>(spec.signal.seconds_before)
                        : kDefaultWarnTime;
    r.warn_batch_only = spec.signal.batch_only;
  }
  return r;
}

}  // namespace drocc::slurm
