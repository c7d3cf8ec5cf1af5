// The C API (drocc/runtime/checkpoint_c.h) over the C++ Checkpointer: argument checks with
// messages in the C API's terms, option and struct conversion, and the C callbacks wrapped as
// C++ ones. Every entry point runs under Guard (errors.h), so no exception reaches C.

#include "drocc/runtime/checkpoint_c.h"

#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "drocc/runtime/checkpoint.h"
#include "drocc/runtime/communicator.h"
#include "runtime/src/capi/errors.h"
#include "runtime/src/job_control/stop_signals.h"

using drocc::runtime::Checkpointer;
using drocc::runtime::CheckpointOptions;
using drocc::runtime::CommitInfo;
using drocc::runtime::Communicator;
using drocc::runtime::capi::CallbackScope;
using drocc::runtime::capi::Guard;
using drocc::runtime::capi::NullArgument;

struct drocc_ckpt {
  // Declared before the Checkpointer, which uses it, so that it is destroyed after it.
  std::unique_ptr<Communicator> comm;
  std::unique_ptr<Checkpointer> checkpointer;
  std::vector<std::string> skipped;  // of the last restore
};

struct drocc_ckpt_sink {
  std::string bytes;
};

namespace {

// Fortran passes MPI_Fint as integer(c_int).
static_assert(std::is_same_v<MPI_Fint, int>, "the Fortran module declares MPI_Fint as c_int");

constexpr char kCreateHint[] =
    "create it with drocc_ckpt_create (or _create_f, _create_serial) and check that it "
    "returned DROCC_CKPT_OK";

// The smallest options struct a caller may have been compiled with: every field up to
// stop_signals (version 1). Fields added later are read only when struct_size covers them.
constexpr size_t kOptionsMinSize =
    offsetof(drocc_ckpt_options_t, stop_signals) + sizeof(drocc_ckpt_options_t::stop_signals);
constexpr size_t kStatsMinSize =
    offsetof(drocc_ckpt_stats_t, buffer_bytes) + sizeof(drocc_ckpt_stats_t::buffer_bytes);

absl::Status CheckHandle(absl::string_view function, const drocc_ckpt_t* c) {
  if (c == nullptr) return NullArgument(function, "the checkpointer handle", kCreateHint);
  return absl::OkStatus();
}

absl::Status CheckName(absl::string_view function, const char* name) {
  if (name == nullptr) {
    return NullArgument(function, "the item name",
                        "give each piece of state a unique, non-empty name");
  }
  return absl::OkStatus();
}

absl::Status CheckSize(absl::string_view function, absl::string_view what, size_t size,
                       size_t min_size, size_t max_size) {
  return drocc::runtime::capi::CheckStructSize(function, what, size, min_size, max_size,
                                               "drocc/runtime/checkpoint_c.h");
}

drocc_ckpt_options_t DefaultOptions() {
  drocc_ckpt_options_t o;
  std::memset(&o, 0, sizeof o);
  o.struct_size = sizeof o;
  o.keep_last = 3;
  o.when_busy = DROCC_CKPT_WHEN_BUSY_WAIT;
  o.requeue_on_stop = 1;
  return o;
}

// The caller's options, with the fields its struct_size does not cover at their defaults.
absl::StatusOr<CheckpointOptions> ToCheckpointOptions(absl::string_view function,
                                                      const drocc_ckpt_options_t* options) {
  if (options == nullptr) {
    return NullArgument(function, "options",
                        "fill a drocc_ckpt_options_t with drocc_ckpt_options_init first");
  }
  RETURN_IF_ERROR(CheckSize(function,
                            "options.struct_size (was drocc_ckpt_options_init called on it?)",
                            options->struct_size, kOptionsMinSize, sizeof(drocc_ckpt_options_t)));
  drocc_ckpt_options_t o = DefaultOptions();
  std::memcpy(&o, options, options->struct_size);
  if (o.directory == nullptr || o.directory[0] == '\0') {
    return absl::InvalidArgumentError(
        absl::StrCat(function,
                     ": options.directory is not set; set it to a directory on a filesystem "
                     "every rank can reach"));
  }
  if (o.when_busy != DROCC_CKPT_WHEN_BUSY_WAIT && o.when_busy != DROCC_CKPT_WHEN_BUSY_SKIP) {
    return absl::InvalidArgumentError(
        absl::StrCat(function, ": options.when_busy is ", o.when_busy,
                     "; use DROCC_CKPT_WHEN_BUSY_WAIT (0) or DROCC_CKPT_WHEN_BUSY_SKIP (1)"));
  }
  CheckpointOptions out{
      .directory = o.directory,
      .keep_last = o.keep_last,
      .async = o.async != 0,
      .async_buffer_bytes = o.async_buffer_bytes,
      .when_busy = o.when_busy == DROCC_CKPT_WHEN_BUSY_SKIP ? CheckpointOptions::WhenBusy::kSkip
                                                            : CheckpointOptions::WhenBusy::kWait,
      .node_local_directory = o.node_local_directory == nullptr ? "" : o.node_local_directory,
      .handle_signals = o.handle_signals != 0,
      .requeue_on_stop = o.requeue_on_stop != 0,
      .report_to_daemon = o.report_to_daemon != 0,
  };
  if (o.stop_signals != nullptr && o.stop_signals[0] != '\0') {
    absl::StatusOr<std::vector<int>> signals =
        drocc::runtime::job_control::ParseStopSignals(o.stop_signals);
    if (!signals.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(function, ": options.stop_signals: ", signals.status().message()));
    }
    out.job_control.stop_signals = *std::move(signals);
  }
  if (o.on_commit != nullptr) {
    out.on_commit = [fn = o.on_commit, user = o.on_commit_user_data](const CommitInfo& info) {
      const drocc_ckpt_commit_info_t c{.step = info.step,
                                       .bytes = info.bytes,
                                       .seconds = info.seconds,
                                       .path = info.path.c_str(),
                                       .ranks = info.ranks};
      fn(&c, user);
    };
  }
  return out;
}

// Create for every flavour: the options, then the Checkpointer over `comm`.
absl::Status Create(absl::string_view function, const drocc_ckpt_options_t* options,
                    std::unique_ptr<Communicator> (*make_comm)(MPI_Comm), MPI_Comm mpi_comm,
                    drocc_ckpt_t** out) {
  if (out == nullptr) {
    return NullArgument(function, "out", "pass the address of a drocc_ckpt_t* to receive it");
  }
  *out = nullptr;
  ASSIGN_OR_RETURN(CheckpointOptions opts, ToCheckpointOptions(function, options));
  auto c = std::make_unique<drocc_ckpt>();
  c->comm = make_comm(mpi_comm);
  ASSIGN_OR_RETURN(c->checkpointer, Checkpointer::Create(std::move(opts), c->comm.get()));
  *out = c.release();
  return absl::OkStatus();
}

absl::Status CheckMpi(absl::string_view function, MPI_Comm comm) {
  return drocc::runtime::capi::CheckMpiComm(
      function, comm,
      "call it between MPI_Init (MPI_Init_thread with MPI_THREAD_MULTIPLE for async or "
      "node_local_directory) and MPI_Finalize, or use drocc_ckpt_create_serial without MPI",
      "pass MPI_COMM_WORLD or a communicator of the ranks that checkpoint together");
}

std::unique_ptr<Communicator> MakeMpi(MPI_Comm comm) {
  return std::make_unique<drocc::runtime::MpiCommunicator>(comm);
}
std::unique_ptr<Communicator> MakeLocal(MPI_Comm) {
  return std::make_unique<drocc::runtime::LocalCommunicator>();
}

absl::Status CreateMpi(absl::string_view function, const drocc_ckpt_options_t* options,
                       MPI_Comm comm, drocc_ckpt_t** out) {
  if (out != nullptr) *out = nullptr;
  RETURN_IF_ERROR(CheckMpi(function, comm));
  return Create(function, options, MakeMpi, comm, out);
}

// Runs an application callback: `call` returns its int status. An exception it throws (one
// written in C++) fails it too, instead of unwinding through the library's C callers.
template <typename Call>
absl::Status CallApplication(Call&& call) {
  CallbackScope scope;
  int rc = DROCC_CKPT_OK;
  try {
    rc = call();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("the callback threw a C++ exception (", e.what(),
                                            "); return a nonzero status instead"));
  } catch (...) {
    return absl::InternalError(
        "the callback threw a C++ exception; return a nonzero status instead");
  }
  return rc == DROCC_CKPT_OK ? absl::OkStatus() : scope.Failure(rc);
}

Checkpointer::SaveFn WrapSave(drocc_ckpt_save_fn save, void* user) {
  return [save, user]() -> absl::StatusOr<std::string> {
    drocc_ckpt_sink sink;
    RETURN_IF_ERROR(CallApplication([&] { return save(user, &sink); }));
    return std::move(sink.bytes);
  };
}

Checkpointer::LoadFn WrapLoad(drocc_ckpt_load_fn load, void* user) {
  return [load, user](std::string_view bytes) {
    return CallApplication(
        [&] { return load(user, bytes.empty() ? nullptr : bytes.data(), bytes.size()); });
  };
}

}  // namespace

extern "C" {

int drocc_ckpt_options_init(drocc_ckpt_options_t* options, size_t struct_size) {
  constexpr absl::string_view kFn = "drocc_ckpt_options_init";
  return Guard(kFn, [&]() -> absl::Status {
    if (options == nullptr) {
      return NullArgument(kFn, "options", "pass the address of a drocc_ckpt_options_t");
    }
    RETURN_IF_ERROR(
        CheckSize(kFn, "struct_size", struct_size, kOptionsMinSize, sizeof(drocc_ckpt_options_t)));
    drocc_ckpt_options_t defaults = DefaultOptions();
    defaults.struct_size = struct_size;
    std::memcpy(options, &defaults, struct_size);
    return absl::OkStatus();
  });
}

int drocc_ckpt_create(const drocc_ckpt_options_t* options, MPI_Comm comm, drocc_ckpt_t** out) {
  constexpr absl::string_view kFn = "drocc_ckpt_create";
  return Guard(kFn, [&] { return CreateMpi(kFn, options, comm, out); });
}

int drocc_ckpt_create_f(const drocc_ckpt_options_t* options, MPI_Fint comm, drocc_ckpt_t** out) {
  constexpr absl::string_view kFn = "drocc_ckpt_create_f";
  return Guard(kFn, [&]() -> absl::Status {
    if (out != nullptr) *out = nullptr;
    RETURN_IF_ERROR(CheckMpi(kFn, MPI_COMM_WORLD));  // MPI_Comm_f2c needs MPI
    return CreateMpi(kFn, options, MPI_Comm_f2c(comm), out);
  });
}

int drocc_ckpt_create_serial(const drocc_ckpt_options_t* options, drocc_ckpt_t** out) {
  constexpr absl::string_view kFn = "drocc_ckpt_create_serial";
  return Guard(kFn, [&] { return Create(kFn, options, MakeLocal, MPI_COMM_NULL, out); });
}

int drocc_ckpt_destroy(drocc_ckpt_t** c) {
  return Guard("drocc_ckpt_destroy", [&] {
    if (c != nullptr) {
      std::unique_ptr<drocc_ckpt> owned(*c);
      *c = nullptr;
    }
    return absl::OkStatus();
  });
}

int drocc_ckpt_register_replicated(drocc_ckpt_t* c, const char* name, void* data, uint64_t bytes) {
  constexpr absl::string_view kFn = "drocc_ckpt_register_replicated";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    RETURN_IF_ERROR(CheckName(kFn, name));
    return c->checkpointer->RegisterReplicated(name, data, bytes);
  });
}

int drocc_ckpt_register_distributed(drocc_ckpt_t* c, const char* name, void* data,
                                    uint64_t element_size, uint64_t global_count, uint64_t offset,
                                    uint64_t count) {
  constexpr absl::string_view kFn = "drocc_ckpt_register_distributed";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    RETURN_IF_ERROR(CheckName(kFn, name));
    return c->checkpointer->RegisterDistributed(name, data, element_size, global_count, offset,
                                                count);
  });
}

int drocc_ckpt_register_callback(drocc_ckpt_t* c, const char* name, drocc_ckpt_save_fn save,
                                 drocc_ckpt_load_fn load, void* user_data) {
  constexpr absl::string_view kFn = "drocc_ckpt_register_callback";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    RETURN_IF_ERROR(CheckName(kFn, name));
    if (save == nullptr || load == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(kFn, ": callback item \"", name,
                                                     "\" needs both a save and a load "
                                                     "function; neither may be NULL"));
    }
    return c->checkpointer->RegisterCallback(name, WrapSave(save, user_data),
                                             WrapLoad(load, user_data));
  });
}

int drocc_ckpt_sink_write(drocc_ckpt_sink_t* sink, const void* data, uint64_t bytes) {
  constexpr absl::string_view kFn = "drocc_ckpt_sink_write";
  return Guard(kFn, [&]() -> absl::Status {
    if (sink == nullptr) {
      return NullArgument(kFn, "the sink", "pass the sink the save callback received");
    }
    if (bytes == 0) return absl::OkStatus();
    if (data == nullptr) return NullArgument(kFn, "data", "pass the bytes to save");
    if (bytes > sink->bytes.max_size() - sink->bytes.size()) {
      return absl::ResourceExhaustedError(
          absl::StrCat(kFn, ": ", bytes, " more bytes do not fit in a callback's state"));
    }
    sink->bytes.append(static_cast<const char*>(data), bytes);
    return absl::OkStatus();
  });
}

int drocc_ckpt_save(drocc_ckpt_t* c, int64_t step) {
  constexpr absl::string_view kFn = "drocc_ckpt_save";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    return c->checkpointer->Save(step);
  });
}

int drocc_ckpt_wait(drocc_ckpt_t* c) {
  constexpr absl::string_view kFn = "drocc_ckpt_wait";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    return c->checkpointer->Wait();
  });
}

int drocc_ckpt_restore(drocc_ckpt_t* c, int* restored, int64_t* step) {
  constexpr absl::string_view kFn = "drocc_ckpt_restore";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    if (restored == nullptr || step == nullptr) {
      return NullArgument(kFn, restored == nullptr ? "restored" : "step",
                          "pass the addresses of an int and an int64_t to receive the result");
    }
    *restored = 0;
    *step = -1;
    c->skipped.clear();
    ASSIGN_OR_RETURN(drocc::runtime::RestoreResult r, c->checkpointer->Restore());
    *restored = r.restored ? 1 : 0;
    *step = r.restored ? r.step : -1;
    c->skipped = std::move(r.skipped);
    return absl::OkStatus();
  });
}

int drocc_ckpt_skipped_count(const drocc_ckpt_t* c, int64_t* count) {
  constexpr absl::string_view kFn = "drocc_ckpt_skipped_count";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    if (count == nullptr) return NullArgument(kFn, "count", "pass the address of an int64_t");
    *count = static_cast<int64_t>(c->skipped.size());
    return absl::OkStatus();
  });
}

int drocc_ckpt_skipped_line(const drocc_ckpt_t* c, int64_t index, const char** line) {
  constexpr absl::string_view kFn = "drocc_ckpt_skipped_line";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    if (line == nullptr) return NullArgument(kFn, "line", "pass the address of a const char*");
    *line = nullptr;
    if (index < 0 || static_cast<uint64_t>(index) >= c->skipped.size()) {
      return absl::OutOfRangeError(absl::StrCat(kFn, ": index ", index,
                                                " is outside [0, drocc_ckpt_skipped_count) = [0, ",
                                                c->skipped.size(), ")"));
    }
    *line = c->skipped[static_cast<size_t>(index)].c_str();
    return absl::OkStatus();
  });
}

int drocc_ckpt_should_stop(drocc_ckpt_t* c, int64_t step, int* stop) {
  constexpr absl::string_view kFn = "drocc_ckpt_should_stop";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    if (stop == nullptr) return NullArgument(kFn, "stop", "pass the address of an int");
    *stop = c->checkpointer->ShouldStop(step) ? 1 : 0;
    return absl::OkStatus();
  });
}

int drocc_ckpt_get_stats(const drocc_ckpt_t* c, drocc_ckpt_stats_t* stats, size_t struct_size) {
  constexpr absl::string_view kFn = "drocc_ckpt_get_stats";
  return Guard(kFn, [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckHandle(kFn, c));
    if (stats == nullptr) {
      return NullArgument(kFn, "stats", "pass the address of a drocc_ckpt_stats_t");
    }
    RETURN_IF_ERROR(
        CheckSize(kFn, "struct_size", struct_size, kStatsMinSize, sizeof(drocc_ckpt_stats_t)));
    const drocc::runtime::CheckpointStats s = c->checkpointer->Stats();
    const drocc_ckpt_stats_t out{.struct_size = struct_size,
                                 .saves_started = s.saves_started,
                                 .saves_skipped = s.saves_skipped,
                                 .saves_committed = s.saves_committed,
                                 .saves_failed = s.saves_failed,
                                 .last_committed_step = s.last_committed_step,
                                 .last_save_skipped = s.last_save_skipped ? 1 : 0,
                                 .last_stall_seconds = s.last_stall_seconds,
                                 .buffer_bytes = s.buffer_bytes};
    std::memcpy(stats, &out, struct_size);
    return absl::OkStatus();
  });
}

}  // extern "C"
