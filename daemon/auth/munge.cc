#include "daemon/auth/munge.h"

#include <munge.h>

#include <cstdlib>
#include <ctime>
#include <memory>

#include "absl/strings/str_cat.h"

namespace drocc::auth {
namespace {

struct CtxDeleter {
  void operator()(munge_ctx_t ctx) const { munge_ctx_destroy(ctx); }
};
using Ctx = std::unique_ptr<std::remove_pointer_t<munge_ctx_t>, CtxDeleter>;

absl::Status Unreachable(munge_err_t e) {
  return absl::UnavailableError(
      absl::StrCat("cannot reach the MUNGE daemon (", munge_strerror(e), "); is munged running?"));
}

}  // namespace

absl::StatusOr<std::string> MungeEncode(absl::string_view payload) {
  char* cred = nullptr;
  munge_err_t e = munge_encode(&cred, nullptr, payload.data(), static_cast<int>(payload.size()));
  if (e != EMUNGE_SUCCESS) {
    if (e == EMUNGE_SOCKET) return Unreachable(e);
    return absl::InternalError(
        absl::StrCat("cannot create a MUNGE credential: ", munge_strerror(e)));
  }
  std::string out(cred);
  std::free(cred);
  return out;
}

absl::StatusOr<MungeIdentity> MungeDecode(const std::string& credential,
                                          absl::string_view expected_payload, int64_t max_age_s) {
  Ctx ctx(munge_ctx_create());
  if (!ctx) return absl::ResourceExhaustedError("cannot allocate a MUNGE context");
  void* buf = nullptr;
  int len = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  munge_err_t e = munge_decode(credential.c_str(), ctx.get(), &buf, &len, &uid, &gid);
  std::unique_ptr<void, decltype(&std::free)> payload(buf, &std::free);
  switch (e) {
    case EMUNGE_SUCCESS:
      break;
    case EMUNGE_SOCKET:
      return Unreachable(e);
    case EMUNGE_CRED_EXPIRED:
      return absl::UnauthenticatedError(
          "the MUNGE credential has expired; check that the clocks of client and server agree");
    case EMUNGE_CRED_REPLAYED:
      return absl::UnauthenticatedError("the MUNGE credential was already used (replayed)");
    default:
      return absl::UnauthenticatedError(
          absl::StrCat("invalid MUNGE credential: ", munge_strerror(e),
                       "; client and server need the same munge.key"));
  }
  if (absl::string_view(static_cast<const char*>(payload.get()), len) != expected_payload) {
    return absl::UnauthenticatedError("the MUNGE credential was made for another call");
  }
  time_t encoded = 0;
  if (munge_ctx_get(ctx.get(), MUNGE_OPT_ENCODE_TIME, &encoded) == EMUNGE_SUCCESS &&
      max_age_s > 0 && std::time(nullptr) - encoded > max_age_s) {
    return absl::UnauthenticatedError(
        absl::StrCat("the MUNGE credential is older than ", max_age_s, " s"));
  }
  return MungeIdentity{static_cast<uint32_t>(uid), static_cast<uint32_t>(gid)};
}

}  // namespace drocc::auth
