#include "daemon/slurm/slurm_errors.h"

#include <slurm/slurm.h>
#include <slurm/slurm_errno.h>

#include <cerrno>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace drocc::slurm {
namespace {

constexpr char kRetry[] =
    "droccd retries later; if it lasts, check that slurmctld and munged run (`scontrol ping`)";
constexpr char kSizes[] =
    "ask for no more nodes, tasks or CPUs than the partition has (`sinfo -o '%P %D %c %m %G'`)";
constexpr char kGres[] =
    "check the GPU/--gres request against the nodes' Gres (`sinfo -o '%N %G'`)";
constexpr char kMemory[] =
    "ask for at most the nodes' memory (`sinfo -o '%N %m'`, MiB per node) or leave --mem out";
constexpr char kTime[] =
    "lower -t/--time to at most the partition's MaxTime (`scontrol show partition`)";
constexpr char kPartition[] =
    "use a partition listed by `sinfo`, or leave -p out to use the default partition";
constexpr char kFixRequest[] = "fix the job's options and submit it again";

struct Mapping {
  absl::StatusCode code;
  const char* hint;
};

Mapping Classify(int errnum) {
  switch (errnum) {
    // The controller cannot be reached or cannot take the job right now.
    case SLURM_COMMUNICATIONS_CONNECTION_ERROR:
    case SLURM_COMMUNICATIONS_SEND_ERROR:
    case SLURM_COMMUNICATIONS_RECEIVE_ERROR:
    case SLURM_COMMUNICATIONS_SHUTDOWN_ERROR:
    case SLURM_COMMUNICATIONS_MISSING_SOCKET_ERROR:
    case SLURMCTLD_COMMUNICATIONS_CONNECTION_ERROR:
    case SLURMCTLD_COMMUNICATIONS_SEND_ERROR:
    case SLURMCTLD_COMMUNICATIONS_RECEIVE_ERROR:
    case SLURMCTLD_COMMUNICATIONS_SHUTDOWN_ERROR:
    case SLURM_PROTOCOL_SOCKET_IMPL_ZERO_RECV_LENGTH:
    case SLURM_PROTOCOL_SOCKET_IMPL_NEGATIVE_RECV_LENGTH:
    case SLURM_PROTOCOL_SOCKET_IMPL_NOT_ALL_DATA_SENT:
    case ESLURM_PROTOCOL_INCOMPLETE_PACKET:
    case SLURM_PROTOCOL_SOCKET_IMPL_TIMEOUT:
    case SLURM_PROTOCOL_SOCKET_ZERO_BYTES_SENT:
    case SLURM_PROTOCOL_AUTHENTICATION_ERROR:
    case ESLURM_AUTH_CRED_INVALID:
    case ESLURM_AUTH_NET_ERROR:
    case ESLURM_AUTH_UNABLE_TO_SIGN:
    case ESLURM_IN_STANDBY_MODE:
    case ESLURM_IN_STANDBY_USE_BACKUP:
    case ESLURM_ERROR_ON_DESC_TO_RECORD_COPY:  // job queue full (MaxJobCount)
    case ESLURM_NODES_BUSY:
    case ESLURM_SUBMISSIONS_DISABLED:
    case ESLURM_REBOOT_IN_PROGRESS:
    case ESLURM_PORTS_BUSY:
    case ESLURM_INTERCONNECT_BUSY:
    case ESLURM_TRANSITION_STATE_NO_UPDATE:
    case EAGAIN:
    case EINTR:
    case ETIMEDOUT:
    case ECONNREFUSED:
    case ECONNRESET:
    case EHOSTUNREACH:
    case ENETUNREACH:
      return {absl::StatusCode::kUnavailable, kRetry};

    case ESLURM_INVALID_PARTITION_NAME:
    case ESLURM_PARTITION_NOT_AVAIL:
      return {absl::StatusCode::kInvalidArgument, kPartition};
    case ESLURM_DEFAULT_PARTITION_NOT_SET:
      return {absl::StatusCode::kInvalidArgument,
              "the cluster has no default partition: name one with -p (see `sinfo`)"};
    case ESLURM_TOO_MANY_REQUESTED_CPUS:
    case ESLURM_INVALID_NODE_COUNT:
    case ESLURM_REQUESTED_NODE_CONFIG_UNAVAILABLE:
    case ESLURM_REQUESTED_PART_CONFIG_UNAVAILABLE:
    case ESLURM_REQUESTED_NODES_NOT_IN_PARTITION:
    case ESLURM_JOB_MISSING_SIZE_SPECIFICATION:
    case ESLURM_BAD_TASK_COUNT:
    case ESLURM_INVALID_CPU_COUNT:
    case ESLURM_INVALID_CORE_CNT:
    case ESLURM_BAD_THREAD_PER_CORE:
      return {absl::StatusCode::kInvalidArgument, kSizes};
    case ESLURM_INVALID_GRES:
    case ESLURM_INVALID_GRES_TYPE:
    case ESLURM_UNSUPPORTED_GRES:
    case ESLURM_DUPLICATE_GRES:
    case ESLURM_INSUFFICIENT_GRES:
    case ESLURM_INVALID_TRES:
      return {absl::StatusCode::kInvalidArgument, kGres};
    case ESLURM_INVALID_TASK_MEMORY:
      return {absl::StatusCode::kInvalidArgument, kMemory};
    case ESLURM_INVALID_TIME_LIMIT:
    case ESLURM_INVALID_TIME_VALUE:
    case ESLURM_INVALID_TIME_MIN_LIMIT:
    case ESLURM_MISSING_TIME_LIMIT:
      return {absl::StatusCode::kInvalidArgument, kTime};
    case ESLURM_PATHNAME_TOO_LONG:
      return {absl::StatusCode::kInvalidArgument, "shorten the work dir or the output paths"};
    case ESLURM_JOB_SCRIPT_MISSING:
    case ESLURM_ENVIRONMENT_MISSING:
    case ESLURM_INVALID_FEATURE:
    case ESLURM_INVALID_NODE_NAME:
    case ESLURM_INVALID_LICENSES:
    case ESLURM_INVALID_NICE:
    case ESLURM_BAD_DIST:
    case ESLURM_INVALID_BURST_BUFFER_REQUEST:
    case ESLURM_INVALID_ARRAY:
    case ESLURM_INVALID_PREFER:
    case ESLURM_INVALID_QOS:
    case ESLURM_INVALID_WCKEY:
    case ESLURM_INVALID_ACCOUNT:
    case ESLURM_NOT_SUPPORTED:
    case ESLURM_BATCH_CONSTRAINT:
    case ESLURM_X11_NOT_AVAIL:
      return {absl::StatusCode::kInvalidArgument, kFixRequest};

    case ESLURM_USER_ID_MISSING:
    case ESLURM_GROUP_ID_MISSING:
      return {absl::StatusCode::kFailedPrecondition,
              "the user or group is unknown to slurmctld; create it on the controller host"};
    case ESLURM_ACCESS_DENIED:
      return {absl::StatusCode::kFailedPrecondition,
              "droccd must run as root (or SlurmUser) to submit jobs for other users"};
    case ESLURM_JOB_MISSING_REQUIRED_PARTITION_GROUP:
    case ESLURM_PARTITION_ASSOC:
    case ESLURM_RESERVATION_ACCESS:
      return {absl::StatusCode::kFailedPrecondition,
              "the user may not use this partition; pick another (see `sinfo`)"};
    case ESLURM_ACCOUNTING_POLICY:
    case ESLURM_QOS_THRES:
      return {absl::StatusCode::kFailedPrecondition,
              "a Slurm accounting limit refuses the job; ask an admin to check the "
              "user's association and QOS limits"};
    case SLURM_PROTOCOL_VERSION_ERROR:
      return {absl::StatusCode::kFailedPrecondition,
              "libslurm and slurmctld speak different protocol versions; install the "
              "matching libslurm on the droccd host"};
    default:
      return {absl::StatusCode::kInternal, "see slurmctld's log for details"};
  }
}

}  // namespace

absl::Status StatusFromSlurmError(int errnum, std::string_view action) {
  const Mapping m = Classify(errnum);
  const char* words = slurm_strerror(errnum);
  std::string message =
      absl::StrCat(absl::string_view(action.data(), action.size()), ": Slurm says \"",
                   words != nullptr ? words : "unknown error", "\" (error ", errnum, "); ", m.hint);
  return absl::Status(m.code, message);
}

}  // namespace drocc::slurm
