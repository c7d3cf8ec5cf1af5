#pragma once

// How the C APIs (checkpoint_c.h, staging_c.h) report: every entry point runs its body under
// Guard, which turns the absl::Status it returns (or any exception it throws) into the int
// status code and the calling thread's last-error message (drocc_ckpt_last_error,
// drocc_stage_last_error: one message per thread for the whole runtime). Nothing thrown gets
// past it. And the argument checks the APIs share.

#include <mpi.h>

#include <cstddef>
#include <exception>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace drocc::runtime::capi {

// Records `status` as the thread's last call and returns its code. Never throws: a message
// that cannot be stored (out of memory) is replaced by a fixed one.
int Finish(const absl::Status& status) noexcept;
int Finish(absl::StatusCode code, absl::string_view message) noexcept;

// The calling thread's last message (the storage behind the *_last_error functions).
const char* LastError() noexcept;

// INVALID_ARGUMENT "<function>: <what> is NULL; <hint>" for a NULL argument.
absl::Status NullArgument(absl::string_view function, absl::string_view what,
                          absl::string_view hint);

// INVALID_ARGUMENT unless min_size <= size <= max_size: `what` is the size a caller gave for a
// versioned struct declared in `header` ("drocc/runtime/checkpoint_c.h").
absl::Status CheckStructSize(absl::string_view function, absl::string_view what, size_t size,
                             size_t min_size, size_t max_size, absl::string_view header);

// FAILED_PRECONDITION unless MPI is initialised and not finalized (`when` says how to call the
// function instead, e.g. "call it between MPI_Init and MPI_Finalize"); INVALID_ARGUMENT for
// MPI_COMM_NULL (`which` says what communicator to pass).
absl::Status CheckMpiComm(absl::string_view function, MPI_Comm comm, absl::string_view when,
                          absl::string_view which);

template <typename Body>
int Guard(absl::string_view function, Body&& body) noexcept {
  try {
    return Finish(body());
  } catch (const std::bad_alloc&) {
    return Finish(absl::StatusCode::kResourceExhausted, "out of memory in libdrocc-runtime");
  } catch (const std::exception& e) {
    try {
      return Finish(absl::InternalError(std::string(function) + ": " + e.what()));
    } catch (...) {
      return Finish(absl::StatusCode::kInternal, e.what());
    }
  } catch (...) {
    return Finish(absl::StatusCode::kInternal,
                  "an unknown exception was raised inside libdrocc-runtime");
  }
}

// A save or load callback of the application is running on this thread while this object
// lives; drocc_ckpt_set_callback_error during that time records the message of its failure.
class CallbackScope {
 public:
  CallbackScope();
  ~CallbackScope();
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

  // The error for a callback that returned `rc` != 0: its code (UNKNOWN if `rc` is not a
  // status code) and the message it set, or one that names the code.
  absl::Status Failure(int rc) const;

 private:
  // The enclosing scope's state (a callback that calls back into the library), restored by
  // the destructor.
  bool outer_active_;
  bool outer_set_;
  std::string outer_message_;
};

}  // namespace drocc::runtime::capi
