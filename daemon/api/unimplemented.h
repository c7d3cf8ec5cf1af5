#pragma once

// RPCs of the v1 surface whose feature has not landed answer UNIMPLEMENTED, naming the
// feature, after authenticating the caller like every other call.

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>

#include <string_view>

#include "absl/strings/str_cat.h"
#include "daemon/api/convert.h"
#include "daemon/api/deps.h"

namespace drocc::api {

inline grpc::ServerUnaryReactor* Unimplemented(const ApiDeps& deps,
                                               grpc::CallbackServerContext* ctx,
                                               absl::string_view method,
                                               absl::string_view feature) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps.authenticator->Authenticate(*ctx, method);
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
  } else {
    reactor->Finish(ToGrpc(
        absl::UnimplementedError(absl::StrCat(method.substr(method.rfind('/') + 1), " needs ",
                                              feature, ", which this droccd does not have yet"))));
  }
  return reactor;
}

}  // namespace drocc::api

// Declares an override of Service::Method that answers UNIMPLEMENTED naming `feature`.
#define DROCC_UNIMPLEMENTED_RPC(Service, Method, Req, Resp, feature)                            \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const v1::Req*, v1::Resp*) \
      override {                                                                                \
    return ::drocc::api::Unimplemented(deps_, ctx, "/drocc.v1." #Service "/" #Method, feature); \
  }
