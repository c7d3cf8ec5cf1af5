#include "daemon/api/service_tokens.h"

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "daemon/auth/service_token.h"

namespace drocc::api {
namespace {

store::AuditRecord UseAudit(const store::ServiceTokenRecord& t, std::string_view rpc,
                            const std::string& peer, absl::Time now) {
  store::AuditRecord a;
  a.time = now;
  a.user = t.user;
  a.peer = peer;
  a.action = std::string(rpc.substr(rpc.rfind('/') + 1));
  a.target = absl::StrCat("token ", t.id);
  a.details = absl::StrCat("{\"service_token\":\"", t.id, "\",\"project\":\"", t.project, "\"}");
  return a;
}

void LogWriteError(absl::Status s) {
  if (!s.ok()) spdlog::error("cannot store a service token's use: {}", s.ToString());
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceTokenRegistry>> ServiceTokenRegistry::Load(
    store::Store* store, const Clock* clock) {
  absl::StatusOr<std::vector<store::ServiceTokenRecord>> all = store->ListServiceTokens();
  if (!all.ok()) return all.status();
  std::unique_ptr<ServiceTokenRegistry> r(new ServiceTokenRegistry(store, clock));
  std::lock_guard lock(r->mu_);
  for (store::ServiceTokenRecord& t : *all) {
    std::string id = t.id;
    r->tokens_.emplace(std::move(id), std::move(t));
  }
  return r;
}

void ServiceTokenRegistry::AuditRefused(const store::ServiceTokenRecord& record,
                                        std::string_view rpc, const std::string& peer,
                                        const std::string& why) {
  store::AuditRecord a = UseAudit(record, rpc, peer, clock_->Now());
  a.ok = false;
  absl::StrAppend(&a.details, " -> ", why);
  store_->AppendAudit(std::move(a), LogWriteError);
}

absl::Status ServiceTokenRegistry::Refuse(const store::ServiceTokenRecord& record,
                                          std::string_view rpc, const std::string& peer,
                                          std::string why) {
  AuditRefused(record, rpc, peer, why);
  spdlog::warn("refused service token {} of {} from {}: {}", record.id, record.user, peer, why);
  return absl::UnauthenticatedError(absl::StrCat("service token ", record.id, ": ", why));
}

absl::StatusOr<store::ServiceTokenRecord> ServiceTokenRegistry::Verify(std::string_view text,
                                                                       std::string_view rpc,
                                                                       const std::string& peer) {
  absl::StatusOr<auth::ServiceTokenParts> parts = auth::ParseServiceToken(text);
  if (!parts.ok()) return absl::UnauthenticatedError(parts.status().message());
  std::lock_guard lock(mu_);
  auto it = tokens_.find(parts->id);
  if (it == tokens_.end()) {
    spdlog::warn("refused an unknown service token {} from {}", parts->id, peer);
    return absl::UnauthenticatedError(absl::StrCat(
        "service token ", parts->id, " does not exist; ask a drocc admin for a token"));
  }
  const store::ServiceTokenRecord& t = it->second;
  if (!auth::TokenSecretMatches(parts->secret, t.secret_hash)) {
    return Refuse(t, rpc, peer, "wrong secret; use the whole token as it was shown at creation");
  }
  if (t.revoked) return Refuse(t, rpc, peer, "revoked; ask a drocc admin for a new token");
  if (clock_->Now() >= t.expire_time) {
    return Refuse(
        t, rpc, peer,
        absl::StrCat("expired at ",
                     absl::FormatTime(absl::RFC3339_sec, t.expire_time, absl::UTCTimeZone()),
                     "; ask a drocc admin for a new token"));
  }
  return t;
}

void ServiceTokenRegistry::RecordUse(const std::string& id, std::string_view rpc,
                                     const std::string& peer, const absl::Status& outcome) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end()) return;
  if (!outcome.ok()) return AuditRefused(it->second, rpc, peer, outcome.ToString());
  const absl::Time now = clock_->Now();
  it->second.last_used_time = now;
  store_->PutServiceToken(it->second, UseAudit(it->second, rpc, peer, now), LogWriteError);
}

void ServiceTokenRegistry::Create(store::ServiceTokenRecord spec, store::AuditRecord audit,
                                  std::function<void(absl::StatusOr<Created>)> done) {
  absl::StatusOr<auth::NewServiceToken> made = auth::MakeServiceToken();
  if (!made.ok()) return done(made.status());
  spec.id = made->parts.id;
  spec.secret_hash = auth::HashTokenSecret(made->parts.secret);
  spec.create_time = clock_->Now();
  spec.last_used_time = absl::InfinitePast();
  spec.revoked = false;
  audit.target = absl::StrCat("token ", spec.id);
  {
    std::lock_guard lock(mu_);
    if (tokens_.contains(spec.id)) {  // 48 random bits: never in practice, but never silently
      return done(absl::AbortedError("a token id came out twice; try again"));
    }
  }
  // Not under mu_: nobody knows the new id yet, and the store may call back at once.
  store_->PutServiceToken(
      spec, std::move(audit),
      [this, spec, text = std::move(made->text), done = std::move(done)](absl::Status s) {
        if (!s.ok()) return done(s);
        {
          std::lock_guard lock(mu_);
          tokens_[spec.id] = spec;
        }
        done(Created{spec, text});
      });
}

void ServiceTokenRegistry::Revoke(
    const std::string& id, store::AuditRecord audit,
    std::function<void(absl::StatusOr<store::ServiceTokenRecord>)> done) {
  std::unique_lock lock(mu_);
  auto it = tokens_.find(id);
  if (it == tokens_.end()) {
    lock.unlock();
    return done(absl::NotFoundError(
        absl::StrCat("there is no service token \"", id, "\"; see `drocc admin token list`")));
  }
  it->second.revoked = true;  // refused from now on, even before the store has it
  store_->PutServiceToken(it->second, std::move(audit),
                          [record = it->second, done = std::move(done)](absl::Status s) {
                            if (!s.ok()) return done(s);
                            done(record);
                          });
}

std::vector<store::ServiceTokenRecord> ServiceTokenRegistry::List() const {
  std::lock_guard lock(mu_);
  std::vector<store::ServiceTokenRecord> out;
  out.reserve(tokens_.size());
  for (const auto& [id, t] : tokens_) out.push_back(t);
  return out;
}

}  // namespace drocc::api
