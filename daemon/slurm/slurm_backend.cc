#include "daemon/slurm/slurm_backend.h"

#include <netdb.h>
#include <poll.h>
#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "daemon/slurm/job_record.h"
#include "daemon/slurm/slurm_errors.h"
#include "daemon/slurm/submit_request.h"

// Exported by libslurm 22.05 (src/common/slurm_protocol_defs.c, job_reason_string) but not
// declared in slurm.h. Returns a static string; never free it.
extern "C" char* slurm_job_reason_string(enum job_state_reason inx);
// libslurm's parsed slurm.conf (filled by slurm_init); exported but not declared in slurm.h.
extern "C" slurm_conf_t slurm_conf;

namespace drocc::slurm {

static_assert(kTimeLimitUnlimited == INFINITE);

namespace {

constexpr const char* kDefaultSlurmConf = "/etc/slurm/slurm.conf";

// libslurm's configuration is process-wide; remember which file it was initialised with.
std::mutex init_mu;
std::optional<std::string> initialised_with;  // GUARDED_BY(init_mu)

std::string ShortHostName() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  std::string host(buf);
  return host.substr(0, host.find('.'));
}

// libslurm takes char* but does not write through these; the strings outlive the call.
char* CStr(const std::string& s) { return const_cast<char*>(s.c_str()); }
char* CStrOrNull(const std::string& s) { return s.empty() ? nullptr : CStr(s); }

std::vector<char*> CStrs(const std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (const std::string& s : v) out.push_back(CStr(s));
  out.push_back(nullptr);
  return out;
}

SlurmJobRecord ToRecord(const slurm_job_info_t& j) {
  SlurmJobRecord r;
  r.job_id = j.job_id;
  r.job_state = j.job_state;
  r.exit_code = j.exit_code;
  r.restart_cnt = j.restart_cnt;
  r.user_id = j.user_id;
  r.comment = j.comment != nullptr ? j.comment : "";
  r.nodes = j.nodes != nullptr ? j.nodes : "";
  if (j.state_reason != WAIT_NO_REASON) {
    const char* reason = slurm_job_reason_string(static_cast<job_state_reason>(j.state_reason));
    r.state_reason = reason != nullptr ? reason : absl::StrCat("reason ", j.state_reason);
  }
  r.state_desc = j.state_desc != nullptr ? j.state_desc : "";
  if (j.state_reason == FAIL_LAUNCH) {
    r.launch_failed = true;
    if (j.exit_code != 0) {
      const char* error = slurm_strerror(static_cast<int>(j.exit_code));
      r.launch_error = error != nullptr ? error : absl::StrCat("error ", j.exit_code);
    }
  }
  r.start_time = j.start_time;
  r.end_time = j.end_time;
  r.num_nodes = j.num_nodes;
  r.num_cpus = j.num_cpus;
  r.tres_alloc = j.tres_alloc_str != nullptr ? j.tres_alloc_str : "";
  r.gres_total = j.gres_total != nullptr ? j.gres_total : "";
  return r;
}

// Whether anything accepts a TCP connection at host:port within `timeout_ms`.
bool AcceptsConnections(const char* host, uint32_t port, int timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host, std::to_string(port).c_str(), &hints, &found) != 0) return false;
  std::unique_ptr<addrinfo, void (*)(addrinfo*)> owner(found, freeaddrinfo);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    const int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    bool ok = connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    if (!ok && errno == EINPROGRESS) {
      pollfd p{.fd = fd, .events = POLLOUT, .revents = 0};
      int err = 0;
      socklen_t len = sizeof(err);
      ok = poll(&p, 1, timeout_ms) == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
           err == 0;
    }
    close(fd);
    if (ok) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SlurmBackend>> SlurmBackend::Create(
    const SlurmBackendOptions& options) {
  std::string path = options.slurm_conf;
  if (path.empty()) {
    const char* env = std::getenv("SLURM_CONF");
    path = env != nullptr && *env != '\0' ? env : kDefaultSlurmConf;
  }
  // slurm_init() calls fatal() -- exit() -- when it finds no configuration; check first.
  if (access(path.c_str(), R_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot read Slurm's configuration ", path, ": ", std::strerror(errno),
                     "; set the slurm.conf path in droccd's configuration (or SLURM_CONF)"));
  }
  {
    std::lock_guard<std::mutex> lock(init_mu);
    if (!initialised_with) {
      slurm_init(options.slurm_conf.empty() ? nullptr : options.slurm_conf.c_str());
      initialised_with = options.slurm_conf;
    } else if (*initialised_with != options.slurm_conf) {
      return absl::FailedPreconditionError(
          absl::StrCat("libslurm is already initialised with \"", *initialised_with,
                       "\" in this process and cannot switch to \"", options.slurm_conf, "\""));
    }
  }
  std::string host = options.submit_host.empty() ? ShortHostName() : options.submit_host;
  if (!options.instance.empty() && !IsValidInstance(options.instance)) {
    return absl::InvalidArgumentError(absl::StrCat("\"", options.instance,
                                                   "\" is not a droccd instance id (lower-case "
                                                   "hex, at most ",
                                                   kMaxInstanceSize, " characters)"));
  }
  return std::unique_ptr<SlurmBackend>(new SlurmBackend(std::move(host), options.instance));
}

SlurmBackend::SlurmBackend(std::string submit_host, std::string instance)
    : submit_host_(std::move(submit_host)), instance_(std::move(instance)) {}

absl::Status SlurmBackend::FailFastWhileDown() {
  if (!controller_down_) return absl::OkStatus();
  std::string where;
  for (uint32_t i = 0; i < slurm_conf.control_cnt; ++i) {
    const char* host = slurm_conf.control_addr[i];
    if (host == nullptr) continue;
    if (AcceptsConnections(host, slurm_conf.slurmctld_port, /*timeout_ms=*/250)) {
      return absl::OkStatus();  // worth a real call
    }
    absl::StrAppend(&where, where.empty() ? "" : ", ", host, ":", slurm_conf.slurmctld_port);
  }
  if (where.empty()) return absl::OkStatus();  // nothing to probe: let libslurm try
  return absl::UnavailableError(absl::StrCat(
      "slurmctld (", where,
      ") does not accept connections; droccd retries later; if it lasts, check that slurmctld "
      "runs (`scontrol ping`)"));
}

template <typename T>
T SlurmBackend::Noting(T result) {
  const absl::Status& s = [&]() -> const absl::Status& {
    if constexpr (std::is_same_v<T, absl::Status>) {
      return result;
    } else {
      return result.status();
    }
  }();
  controller_down_ = absl::IsUnavailable(s);
  return result;
}

absl::StatusOr<uint64_t> SlurmBackend::Submit(const queue::Job& job) {
  std::lock_guard<std::mutex> lock(mu_);
  return Noting(SubmitLocked(job));
}

absl::StatusOr<uint64_t> SlurmBackend::SubmitLocked(const queue::Job& job) {
  ASSIGN_OR_RETURN(const SubmitRequest r, BuildSubmitRequest(job, submit_host_, instance_));
  RETURN_IF_ERROR(FailFastWhileDown());

  job_desc_msg_t d;
  slurm_init_job_desc_msg(&d);
  d.script = CStr(r.script);
  std::vector<char*> argv = CStrs(r.argv);
  d.argc = static_cast<uint32_t>(r.argv.size());
  d.argv = argv.data();
  std::vector<char*> env = CStrs(r.environment);
  d.environment = env.data();
  d.env_size = static_cast<uint32_t>(r.environment.size());
  d.work_dir = CStr(r.work_dir);
  d.name = CStr(r.name);
  d.user_id = r.user_id;
  d.group_id = r.group_id;
  d.comment = CStr(r.comment);
  d.std_out = CStr(r.std_out);
  d.std_err = CStrOrNull(r.std_err);
  switch (r.open_mode) {
    case OpenMode::kSlurmDefault:  // 0, as slurm_init_job_desc_msg left it
      break;
    case OpenMode::kAppend:
      d.open_mode = OPEN_MODE_APPEND;
      break;
    case OpenMode::kTruncate:
      d.open_mode = OPEN_MODE_TRUNCATE;
      break;
  }
  d.partition = CStrOrNull(r.partition);
  d.alloc_node = CStr(r.alloc_node);  // slurmctld refuses a batch job without it
  d.submit_line = CStr(r.submit_line);
  if (r.min_nodes > 0) d.min_nodes = r.min_nodes;
  if (r.max_nodes > 0) d.max_nodes = r.max_nodes;
  if (r.num_tasks > 0) {
    d.num_tasks = r.num_tasks;
    d.bitflags |= JOB_NTASKS_SET;
  }
  if (r.ntasks_per_node > 0) d.ntasks_per_node = r.ntasks_per_node;
  if (r.cpus_per_task > 0) {
    d.cpus_per_task = r.cpus_per_task;
    d.bitflags |= JOB_CPUS_SET;
  }
  if (r.min_cpus > 0) d.min_cpus = r.min_cpus;
  d.tres_per_node = CStrOrNull(r.tres_per_node);
  if (r.mem_per_node_mb > 0) d.pn_min_memory = r.mem_per_node_mb;
  if (r.time_limit_min > 0) d.time_limit = r.time_limit_min;
  if (r.warn_signal > 0) {
    d.warn_signal = r.warn_signal;
    d.warn_time = r.warn_time_s;
    d.warn_flags = r.warn_batch_only ? KILL_JOB_BATCH : 0;
  }

  submit_response_msg_t* resp = nullptr;
  if (slurm_submit_batch_job(&d, &resp) != SLURM_SUCCESS) {
    const int err = slurm_get_errno();
    std::string action = absl::StrCat("submitting drocc job ", job.id);
    if (!r.partition.empty()) absl::StrAppend(&action, " to partition \"", r.partition, "\"");
    return StatusFromSlurmError(err, action);
  }
  if (resp == nullptr) {
    return absl::InternalError(absl::StrCat("submitting drocc job ", job.id,
                                            ": slurmctld accepted it but sent no job id"));
  }
  const uint64_t id = resp->job_id;
  slurm_free_submit_response_response_msg(resp);
  return id;
}

absl::StatusOr<std::vector<BackendJob>> SlurmBackend::ListJobs() {
  std::lock_guard<std::mutex> lock(mu_);
  return Noting(ListJobsLocked());
}

absl::StatusOr<std::vector<BackendJob>> SlurmBackend::ListJobsLocked() {
  RETURN_IF_ERROR(FailFastWhileDown());
  job_info_msg_t* msg = nullptr;
  if (slurm_load_jobs(0, &msg, SHOW_ALL) != SLURM_SUCCESS) {
    return StatusFromSlurmError(slurm_get_errno(), "listing Slurm's jobs");
  }
  std::unique_ptr<job_info_msg_t, void (*)(job_info_msg_t*)> owner(msg, slurm_free_job_info_msg);
  std::vector<BackendJob> out;
  for (uint32_t i = 0; msg != nullptr && i < msg->record_count; ++i) {
    const slurm_job_info_t& j = msg->job_array[i];
    if (j.comment == nullptr) continue;
    std::optional<BackendJob> b = ToBackendJob(ToRecord(j));
    if (!b || (!b->instance.empty() && b->instance != instance_)) continue;  // not ours
    out.push_back(std::move(*b));
  }
  return out;
}

absl::Status SlurmBackend::Cancel(uint64_t slurm_job_id) {
  if (slurm_job_id == 0 || slurm_job_id > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(slurm_job_id, " is not a Slurm job id"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return Noting(CancelLocked(static_cast<uint32_t>(slurm_job_id)));
}

absl::Status SlurmBackend::CancelLocked(uint32_t slurm_job_id) {
  RETURN_IF_ERROR(FailFastWhileDown());
  if (slurm_kill_job(slurm_job_id, SIGKILL, 0) == SLURM_SUCCESS) return absl::OkStatus();
  const int err = slurm_get_errno();
  if (err == ESLURM_ALREADY_DONE || err == ESLURM_INVALID_JOB_ID) return absl::OkStatus();
  return StatusFromSlurmError(err, absl::StrCat("cancelling Slurm job ", slurm_job_id));
}

absl::Status SlurmBackend::Requeue(uint64_t slurm_job_id) {
  if (slurm_job_id == 0 || slurm_job_id > UINT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat(slurm_job_id, " is not a Slurm job id"));
  }
  std::lock_guard<std::mutex> lock(mu_);
  return Noting(RequeueLocked(static_cast<uint32_t>(slurm_job_id)));
}

absl::Status SlurmBackend::RequeueLocked(uint32_t slurm_job_id) {
  RETURN_IF_ERROR(FailFastWhileDown());
  if (slurm_requeue(slurm_job_id, 0) == SLURM_SUCCESS) return absl::OkStatus();
  const int err = slurm_get_errno();
  switch (err) {
    case ESLURM_ALREADY_DONE:
    case ESLURM_INVALID_JOB_ID:
      return absl::FailedPreconditionError(
          absl::StrCat("Slurm job ", slurm_job_id, " has already ended; it cannot be requeued"));
    case ESLURM_DISABLED:
    case ESLURM_BATCH_ONLY:
      return absl::FailedPreconditionError(absl::StrCat(
          "Slurm refuses to requeue job ", slurm_job_id, " (", slurm_strerror(err),
          "): only batch jobs may be requeued, and not with JobRequeue=0 in slurm.conf or "
          "--no-requeue"));
    default:
      return StatusFromSlurmError(err, absl::StrCat("requeueing Slurm job ", slurm_job_id));
  }
}

}  // namespace drocc::slurm
