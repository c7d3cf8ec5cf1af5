// The C API of data staging (drocc/runtime/staging_c.h) over StageIn/StageOut: argument
// checks in the C API's terms, options and stats converted by struct_size, the progress
// callback wrapped. Every entry point runs under Guard (errors.h): no exception reaches C.

#include "drocc/runtime/staging_c.h"

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "drocc/runtime/checkpoint_c.h"
#include "drocc/runtime/communicator.h"
#include "drocc/runtime/staging.h"
#include "runtime/src/capi/errors.h"

using drocc::runtime::Communicator;
using drocc::runtime::StageOptions;
using drocc::runtime::StageStats;
using drocc::runtime::capi::Guard;
using drocc::runtime::capi::NullArgument;

namespace {

// The codes are absl's, as those of checkpoint_c.h are (which names them, drocc_ckpt_status_name).
static_assert(static_cast<int>(DROCC_STAGE_NOT_FOUND) ==
              static_cast<int>(absl::StatusCode::kNotFound));
static_assert(static_cast<int>(DROCC_STAGE_DATA_LOSS) ==
              static_cast<int>(absl::StatusCode::kDataLoss));
static_assert(static_cast<int>(DROCC_STAGE_UNAUTHENTICATED) ==
              static_cast<int>(DROCC_CKPT_UNAUTHENTICATED));

constexpr char kHeader[] = "drocc/runtime/staging_c.h";
// The smallest structs a caller may have been compiled with (version 1: every field). Fields
// added later are read or written only when struct_size covers them.
constexpr size_t kOptionsMinSize = offsetof(drocc_stage_options_t, report_to_daemon) +
                                   sizeof(drocc_stage_options_t::report_to_daemon);
constexpr size_t kStatsMinSize =
    offsetof(drocc_stage_stats_t, elapsed_seconds) + sizeof(drocc_stage_stats_t::elapsed_seconds);

drocc_stage_options_t DefaultOptions() {
  const StageOptions cxx;
  drocc_stage_options_t o;
  std::memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.chunk_bytes = cxx.chunk_bytes;
  o.io_threads = cxx.io_threads;
  o.verify_retries = cxx.verify_retries;
  o.verify_existing = cxx.verify_existing;
  o.progress_interval_seconds = absl::ToDoubleSeconds(cxx.progress_interval);
  o.report_to_daemon = cxx.report_to_daemon;
  return o;
}

// The caller's options (NULL: the defaults), with fields its struct_size does not cover at
// their defaults.
absl::StatusOr<StageOptions> ToStageOptions(absl::string_view function,
                                            const drocc_stage_options_t* options) {
  drocc_stage_options_t o = DefaultOptions();
  if (options != nullptr) {
    RETURN_IF_ERROR(drocc::runtime::capi::CheckStructSize(
        function, "options.struct_size (was drocc_stage_options_init called on it?)",
        options->struct_size, kOptionsMinSize, sizeof(drocc_stage_options_t), kHeader));
    std::memcpy(&o, options, options->struct_size);
  }
  if (!(o.progress_interval_seconds >= 0)) {  // also NaN
    return absl::InvalidArgumentError(
        absl::StrCat(function, ": options.progress_interval_seconds must be 0 or more"));
  }
  StageOptions out;
  out.node_name = o.node_name == nullptr ? "" : o.node_name;
  out.chunk_bytes = o.chunk_bytes;
  out.io_threads = o.io_threads;
  out.verify_retries = o.verify_retries;
  out.verify_existing = o.verify_existing != 0;
  out.progress_interval = absl::Seconds(o.progress_interval_seconds);
  out.report_to_daemon = o.report_to_daemon != 0;
  if (o.on_progress != nullptr) {
    out.on_progress = [fn = o.on_progress,
                       user = o.on_progress_user_data](const drocc::runtime::StageProgress& p) {
      const drocc_stage_progress_t c{.phase = p.phase.c_str(),
                                     .bytes_done = p.bytes_done,
                                     .bytes_total = p.bytes_total,
                                     .files_done = p.files_done,
                                     .files_total = p.files_total,
                                     .elapsed_seconds = absl::ToDoubleSeconds(p.elapsed),
                                     .final = p.final ? 1 : 0};
      fn(&c, user);
    };
  }
  return out;
}

// Writes `s` into the caller's stats, as far as its struct_size reaches.
void FillStats(const StageStats& s, drocc_stage_stats_t* stats) {
  drocc_stage_stats_t c;
  std::memset(&c, 0, sizeof c);
  c.struct_size = stats->struct_size;
  c.nodes = s.nodes;
  c.files_total = s.files_total;
  c.bytes_total = s.bytes_total;
  c.files_copied = s.files_copied;
  c.bytes_copied = s.bytes_copied;
  c.files_skipped = s.files_skipped;
  c.bytes_skipped = s.bytes_skipped;
  c.source_bytes_read = s.source_bytes_read;
  c.retries = s.retries;
  c.directories = s.directories;
  c.symlinks = s.symlinks;
  c.elapsed_seconds = absl::ToDoubleSeconds(s.elapsed);
  std::memcpy(stats, &c, stats->struct_size);
}

using StageFn = absl::StatusOr<StageStats> (*)(const std::string&, const std::string&,
                                               const StageOptions&, Communicator*);

// One staging call of any flavour: checks, options, the call over `comm`, the stats.
absl::Status Stage(absl::string_view function, StageFn stage, const char* src, const char* dst,
                   const drocc_stage_options_t* options, Communicator* comm,
                   drocc_stage_stats_t* stats) {
  if (src == nullptr) return NullArgument(function, "src", "pass the path to copy from");
  if (dst == nullptr) return NullArgument(function, "dst", "pass the path to copy to");
  if (stats != nullptr) {
    RETURN_IF_ERROR(drocc::runtime::capi::CheckStructSize(
        function, "stats->struct_size (was drocc_stage_stats_init called on it?)",
        stats->struct_size, kStatsMinSize, sizeof(drocc_stage_stats_t), kHeader));
  }
  ASSIGN_OR_RETURN(const StageOptions opts, ToStageOptions(function, options));
  ASSIGN_OR_RETURN(const StageStats s, stage(src, dst, opts, comm));
  if (stats != nullptr) FillStats(s, stats);
  return absl::OkStatus();
}

absl::Status StageMpi(absl::string_view function, StageFn stage, const char* src, const char* dst,
                      const drocc_stage_options_t* options, MPI_Comm comm,
                      drocc_stage_stats_t* stats) {
  RETURN_IF_ERROR(drocc::runtime::capi::CheckMpiComm(
      function, comm,
      "call it between MPI_Init and MPI_Finalize, or use the _serial function without MPI",
      "pass MPI_COMM_WORLD or a communicator of the ranks that stage together"));
  drocc::runtime::MpiCommunicator mpi(comm);
  return Stage(function, stage, src, dst, options, &mpi, stats);
}

absl::Status StageSerial(absl::string_view function, StageFn stage, const char* src,
                         const char* dst, const drocc_stage_options_t* options,
                         drocc_stage_stats_t* stats) {
  drocc::runtime::LocalCommunicator local;
  return Stage(function, stage, src, dst, options, &local, stats);
}

}  // namespace

extern "C" {

const char* drocc_stage_last_error(void) { return drocc::runtime::capi::LastError(); }

const char* drocc_stage_status_name(int status) { return drocc_ckpt_status_name(status); }

int drocc_stage_options_init(drocc_stage_options_t* options, size_t struct_size) {
  constexpr absl::string_view kFn = "drocc_stage_options_init";
  return Guard(kFn, [&]() -> absl::Status {
    if (options == nullptr) {
      return NullArgument(kFn, "options", "pass the address of a drocc_stage_options_t");
    }
    RETURN_IF_ERROR(drocc::runtime::capi::CheckStructSize(
        kFn, "struct_size", struct_size, kOptionsMinSize, sizeof(drocc_stage_options_t), kHeader));
    drocc_stage_options_t defaults = DefaultOptions();
    defaults.struct_size = struct_size;
    std::memcpy(options, &defaults, struct_size);
    return absl::OkStatus();
  });
}

int drocc_stage_stats_init(drocc_stage_stats_t* stats, size_t struct_size) {
  constexpr absl::string_view kFn = "drocc_stage_stats_init";
  return Guard(kFn, [&]() -> absl::Status {
    if (stats == nullptr) {
      return NullArgument(kFn, "stats", "pass the address of a drocc_stage_stats_t");
    }
    RETURN_IF_ERROR(drocc::runtime::capi::CheckStructSize(
        kFn, "struct_size", struct_size, kStatsMinSize, sizeof(drocc_stage_stats_t), kHeader));
    std::memset(stats, 0, struct_size);
    stats->struct_size = struct_size;
    return absl::OkStatus();
  });
}

int drocc_stage_in(const char* src, const char* dst, const drocc_stage_options_t* options,
                   MPI_Comm comm, drocc_stage_stats_t* stats) {
  constexpr absl::string_view kFn = "drocc_stage_in";
  return Guard(
      kFn, [&] { return StageMpi(kFn, &drocc::runtime::StageIn, src, dst, options, comm, stats); });
}

int drocc_stage_out(const char* src, const char* dst, const drocc_stage_options_t* options,
                    MPI_Comm comm, drocc_stage_stats_t* stats) {
  constexpr absl::string_view kFn = "drocc_stage_out";
  return Guard(kFn, [&] {
    return StageMpi(kFn, &drocc::runtime::StageOut, src, dst, options, comm, stats);
  });
}

int drocc_stage_in_serial(const char* src, const char* dst, const drocc_stage_options_t* options,
                          drocc_stage_stats_t* stats) {
  constexpr absl::string_view kFn = "drocc_stage_in_serial";
  return Guard(
      kFn, [&] { return StageSerial(kFn, &drocc::runtime::StageIn, src, dst, options, stats); });
}

int drocc_stage_out_serial(const char* src, const char* dst, const drocc_stage_options_t* options,
                           drocc_stage_stats_t* stats) {
  constexpr absl::string_view kFn = "drocc_stage_out_serial";
  return Guard(
      kFn, [&] { return StageSerial(kFn, &drocc::runtime::StageOut, src, dst, options, stats); });
}

}  // extern "C"
