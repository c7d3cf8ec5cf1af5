// The thread's last error, the status names, and the failure messages of callbacks.

#include "runtime/src/capi/errors.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "drocc/runtime/checkpoint_c.h"

namespace drocc::runtime::capi {
namespace {

thread_local std::string last_error;

// What drocc_ckpt_set_callback_error recorded for the innermost running callback.
struct CallbackState {
  bool active = false;
  bool set = false;
  std::string message;
};
thread_local CallbackState callback_state;

bool IsStatusCode(int code) { return code >= DROCC_CKPT_OK && code <= DROCC_CKPT_UNAUTHENTICATED; }

}  // namespace

int Finish(absl::StatusCode code, absl::string_view message) noexcept {
  try {
    last_error.assign(message.data(), message.size());
  } catch (...) {
    last_error.clear();  // never throws; capacity is kept
    constexpr absl::string_view kNoMemory = "out of memory while reporting an error";
    if (last_error.capacity() >= kNoMemory.size())
      last_error.append(kNoMemory.data(), kNoMemory.size());
  }
  return static_cast<int>(code);
}

int Finish(const absl::Status& status) noexcept { return Finish(status.code(), status.message()); }

const char* LastError() noexcept { return last_error.c_str(); }

absl::Status NullArgument(absl::string_view function, absl::string_view what,
                          absl::string_view hint) {
  return absl::InvalidArgumentError(absl::StrCat(function, ": ", what, " is NULL; ", hint));
}

absl::Status CheckStructSize(absl::string_view function, absl::string_view what, size_t size,
                             size_t min_size, size_t max_size, absl::string_view header) {
  if (size < min_size || size > max_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        function, ": ", what, " is ", size, " bytes, but this library knows sizes from ", min_size,
        " to ", max_size, " bytes; pass sizeof of the struct as declared in ", header,
        " (or c_sizeof in Fortran), and rebuild against the header of the library you link"));
  }
  return absl::OkStatus();
}

absl::Status CheckMpiComm(absl::string_view function, MPI_Comm comm, absl::string_view when,
                          absl::string_view which) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (!initialized || finalized) {
    return absl::FailedPreconditionError(absl::StrCat(
        function, ": MPI is ", finalized ? "already finalized" : "not initialised", "; ", when));
  }
  if (comm == MPI_COMM_NULL) {
    return absl::InvalidArgumentError(
        absl::StrCat(function, ": the communicator is MPI_COMM_NULL; ", which));
  }
  return absl::OkStatus();
}

CallbackScope::CallbackScope()
    : outer_active_(callback_state.active),
      outer_set_(callback_state.set),
      outer_message_(std::move(callback_state.message)) {
  callback_state = {.active = true};
}

CallbackScope::~CallbackScope() {
  callback_state.active = outer_active_;
  callback_state.set = outer_set_;
  callback_state.message = std::move(outer_message_);
}

absl::Status CallbackScope::Failure(int rc) const {
  const auto code =
      IsStatusCode(rc) ? static_cast<absl::StatusCode>(rc) : absl::StatusCode::kUnknown;
  if (callback_state.set && !callback_state.message.empty()) {
    return absl::Status(code, callback_state.message);
  }
  return absl::Status(code,
                      absl::StrCat("the callback returned ", rc, " (", drocc_ckpt_status_name(rc),
                                   ") without a message; call "
                                   "drocc_ckpt_set_callback_error before returning"));
}

}  // namespace drocc::runtime::capi

extern "C" {

const char* drocc_ckpt_last_error(void) { return drocc::runtime::capi::LastError(); }

const char* drocc_ckpt_status_name(int status) {
  switch (status) {
    case DROCC_CKPT_OK:
      return "OK";
    case DROCC_CKPT_CANCELLED:
      return "CANCELLED";
    case DROCC_CKPT_UNKNOWN:
      return "UNKNOWN";
    case DROCC_CKPT_INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case DROCC_CKPT_DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case DROCC_CKPT_NOT_FOUND:
      return "NOT_FOUND";
    case DROCC_CKPT_ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case DROCC_CKPT_PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case DROCC_CKPT_RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case DROCC_CKPT_FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case DROCC_CKPT_ABORTED:
      return "ABORTED";
    case DROCC_CKPT_OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case DROCC_CKPT_UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case DROCC_CKPT_INTERNAL:
      return "INTERNAL";
    case DROCC_CKPT_UNAVAILABLE:
      return "UNAVAILABLE";
    case DROCC_CKPT_DATA_LOSS:
      return "DATA_LOSS";
    case DROCC_CKPT_UNAUTHENTICATED:
      return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

void drocc_ckpt_set_callback_error(const char* message) {
  auto& state = drocc::runtime::capi::callback_state;
  if (!state.active) return;
  try {
    state.message = message == nullptr ? "" : message;
    state.set = true;
  } catch (...) {
    state.set = false;  // out of memory: the failure keeps the message naming its code
  }
}

}  // extern "C"
