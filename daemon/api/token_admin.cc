// AdminService's service tokens: CreateToken, ListTokens, RevokeToken (admins only, audited).

#include "absl/strings/str_cat.h"
#include "daemon/api/admin_service.h"
#include "daemon/api/convert.h"
#include "daemon/api/request_bounds.h"
#include "daemon/auth/service_token.h"
#include "daemon/auth/users.h"

namespace drocc::api {
namespace {

constexpr char kPrefix[] = "/drocc.v1.AdminService/";
// A token lives at most this long: a leaked one cannot serve for ever.
constexpr absl::Duration kMaxTokenLifetime = absl::Hours(24 * 366);

void ToProto(const store::ServiceTokenRecord& t, v1::ServiceToken* out) {
  out->set_id(t.id);
  out->set_user(t.user);
  out->set_project(t.project);
  out->set_description(t.description);
  out->set_revoked(t.revoked);
  SetTime(t.create_time, out->mutable_create_time());
  SetTime(t.expire_time, out->mutable_expire_time());
  SetTime(t.last_used_time, out->mutable_last_used_time());
}

// The record a CreateToken request asks for (uid resolved), or INVALID_ARGUMENT.
absl::StatusOr<store::ServiceTokenRecord> TokenSpec(const v1::ServiceToken& t, absl::Time now,
                                                    uint32_t min_uid) {
  if (t.user().empty() || t.project().empty()) {
    return absl::InvalidArgumentError(
        "a service token needs a user and a project: --user USER --project PROJECT");
  }
  absl::StatusOr<auth::UserInfo> user = auth::LookupUserByName(t.user());
  if (!user.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("user \"", t.user(), "\" has no account on the droccd host"));
  }
  if (user->uid < min_uid) {
    return absl::InvalidArgumentError(absl::StrCat("service tokens act for ordinary users only; ",
                                                   t.user(), " has uid ", user->uid,
                                                   " (below auth.min_uid ", min_uid, ")"));
  }
  const absl::Time expires = FromProtoTime(t.expire_time(), absl::InfinitePast());
  if (expires <= now || expires > now + kMaxTokenLifetime) {
    return absl::InvalidArgumentError(
        "the expiry must be in the future and at most 366 days away: e.g. --expires 90d");
  }
  if (!IsOneLine(t.description())) {  // its length is CheckRequestBounds'
    return absl::InvalidArgumentError("the description must be one line of text");
  }
  store::ServiceTokenRecord r;
  r.user = user->name;
  r.uid = user->uid;
  r.project = t.project();
  r.description = t.description();
  r.expire_time = expires;
  return r;
}

}  // namespace

grpc::ServerUnaryReactor* AdminServiceImpl::CreateToken(grpc::CallbackServerContext* ctx,
                                                        const v1::CreateTokenRequest* req,
                                                        v1::CreateTokenResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, absl::StrCat(kPrefix, "CreateToken"));
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  const absl::Time now = deps_.clock->Now();
  store::AuditRecord audit = NewAudit(*caller, "CreateToken", "token", *req, now);
  absl::Status s = deps_.policy->CheckAdmin(*caller, "creating service tokens");
  if (s.ok()) s = CheckRequestBounds(*req);
  if (s.ok() && deps_.service_tokens == nullptr) {
    s = absl::FailedPreconditionError("this droccd keeps no service tokens");
  }
  absl::StatusOr<store::ServiceTokenRecord> spec =
      s.ok() ? TokenSpec(req->token(), now, deps_.limits.min_uid) : s;
  if (!spec.ok()) {
    AppendAudit(*deps_.store, std::move(audit), spec.status());
    reactor->Finish(ToGrpc(spec.status()));
    return reactor;
  }
  spec->created_by = caller->user;
  // The user must be a member of the project, read where the quota model lives.
  deps_.manager->ReadQuota([this, reactor, resp, spec = *std::move(spec), audit = std::move(audit)](
                               const manager::QuotaBook& book, absl::Time) mutable {
    absl::Status s;
    if (!book.projects().contains(spec.project)) {
      s = absl::NotFoundError(absl::StrCat("project \"", spec.project, "\" does not exist"));
    } else if (book.FindMember(spec.project, spec.user) == nullptr) {
      s = absl::FailedPreconditionError(absl::StrCat(
          spec.user, " is not a member of project \"", spec.project,
          "\"; add them first: drocc admin member add ", spec.project, " ", spec.user));
    }
    if (!s.ok()) {
      AppendAudit(*deps_.store, std::move(audit), s);
      return reactor->Finish(ToGrpc(s));
    }
    deps_.service_tokens->Create(
        std::move(spec), std::move(audit),
        [reactor, resp](absl::StatusOr<ServiceTokenRegistry::Created> made) {
          if (!made.ok()) return reactor->Finish(ToGrpc(made.status()));
          ToProto(made->record, resp->mutable_token());
          resp->set_secret(made->text);
          reactor->Finish(grpc::Status::OK);
        });
  });
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::ListTokens(grpc::CallbackServerContext* ctx,
                                                       const v1::ListTokensRequest*,
                                                       v1::ListTokensResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, absl::StrCat(kPrefix, "ListTokens"));
  absl::Status s = caller.status();
  if (s.ok()) s = deps_.policy->CheckAdmin(*caller, "listing service tokens");
  if (s.ok() && deps_.service_tokens != nullptr) {
    for (const store::ServiceTokenRecord& t : deps_.service_tokens->List()) {
      ToProto(t, resp->add_tokens());
    }
  }
  reactor->Finish(ToGrpc(s));
  return reactor;
}

grpc::ServerUnaryReactor* AdminServiceImpl::RevokeToken(grpc::CallbackServerContext* ctx,
                                                        const v1::RevokeTokenRequest* req,
                                                        v1::Empty*) {
  auto* reactor = ctx->DefaultReactor();
  auto caller = deps_.authenticator->Authenticate(*ctx, absl::StrCat(kPrefix, "RevokeToken"));
  if (!caller.ok()) {
    reactor->Finish(ToGrpc(caller.status()));
    return reactor;
  }
  const std::string& id = req->id();
  store::AuditRecord audit = NewAudit(
      *caller, "RevokeToken", absl::StrCat("token ", id.substr(0, 64)), *req, deps_.clock->Now());
  absl::Status s = deps_.policy->CheckAdmin(*caller, "revoking service tokens");
  if (s.ok()) s = CheckRequestBounds(*req);
  if (s.ok() && deps_.service_tokens == nullptr) {
    s = absl::FailedPreconditionError("this droccd keeps no service tokens");
  }
  if (s.ok() && (id.size() != auth::kServiceTokenIdChars || !auth::IsLowerHex(id))) {
    s = absl::InvalidArgumentError(
        absl::StrCat("a token id is ", auth::kServiceTokenIdChars,
                     " hex digits (the ID column of `drocc admin token list`)"));
  }
  if (!s.ok()) {
    AppendAudit(*deps_.store, std::move(audit), s);
    reactor->Finish(ToGrpc(s));
    return reactor;
  }
  store::Store* store = deps_.store;
  deps_.service_tokens->Revoke(
      id, audit, [reactor, store, audit](absl::StatusOr<store::ServiceTokenRecord> r) {
        if (absl::IsNotFound(r.status())) AppendAudit(*store, audit, r.status());
        reactor->Finish(ToGrpc(r.status()));
      });
  return reactor;
}

}  // namespace drocc::api
