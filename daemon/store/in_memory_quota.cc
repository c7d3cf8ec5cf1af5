// The quota half of InMemoryStore: configuration, audit log and usage sums.

#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "absl/time/time.h"
#include "common/status.h"
#include "daemon/store/in_memory_store.h"
#include "daemon/store/quota_changes.h"

namespace drocc::store {

// The quota tables over a QuotaState (the copy ApplyQuota works on), reading the jobs and
// charges of the store. Holds the appended audit record until the store keeps it.
class InMemoryStore::Tables final : public QuotaTables {
 public:
  Tables(QuotaState& state, const std::map<queue::JobId, queue::Job>& jobs,
         const std::vector<Charge>& charges, uint64_t next_audit_id)
      : state_(state), jobs_(jobs), charges_(charges), next_audit_id_(next_audit_id) {}

  std::optional<AuditRecord>& appended() { return appended_; }

  absl::StatusOr<bool> HasAccount(const std::string& name) override {
    return state_.accounts.contains(name);
  }
  absl::StatusOr<bool> HasProject(const std::string& name) override {
    return state_.projects.contains(name);
  }
  absl::StatusOr<std::vector<std::string>> ProjectsOf(const std::string& account) override {
    std::vector<std::string> names;
    for (const auto& [name, p] : state_.projects) {
      if (p.account == account) names.push_back(name);
    }
    return names;
  }
  absl::StatusOr<ProjectUse> UseOf(const std::string& project) override {
    ProjectUse use;
    for (const auto& [key, m] : state_.members) use.members += m.project == project;
    for (const auto& [key, l] : state_.limits) use.limits += l.project == project;
    for (const auto& [id, g] : state_.grants) {
      if (g.grant.project == project) use.grants.push_back(id);
    }
    for (const auto& [id, job] : jobs_) {
      if (job.project == project && !queue::IsTerminal(job.state)) use.open_jobs.push_back(id);
    }
    return use;
  }
  absl::StatusOr<queue::AmountMap> ChargedFrom(quota::GrantId id) override {
    queue::AmountMap charged;
    for (const Charge& c : charges_) {
      if (c.record.grant_id == id) charged[c.record.resource] += c.record.milli;
    }
    return charged;
  }

  absl::Status Put(const quota::Account& a) override {
    state_.accounts[a.name] = a;
    return absl::OkStatus();
  }
  absl::Status Put(const quota::Project& p) override {
    state_.projects[p.name] = p;
    return absl::OkStatus();
  }
  absl::Status Put(const quota::Member& m) override {
    state_.members[{m.project, m.user}] = m;
    return absl::OkStatus();
  }
  absl::Status Put(const quota::Limit& l) override {
    quota::Limit stored = l;
    stored.max_walltime = absl::Seconds(absl::ToInt64Seconds(l.max_walltime));
    state_.limits[{l.project, l.user}] = stored;
    return absl::OkStatus();
  }
  absl::StatusOr<quota::GrantId> Put(const StoredGrant& g) override {
    StoredGrant stored = g;
    stored.grant.resource = 0;
    if (stored.grant.id == 0) stored.grant.id = state_.next_grant_id;
    state_.next_grant_id = std::max(state_.next_grant_id, stored.grant.id + 1);
    quota::GrantId id = stored.grant.id;
    state_.grants[id] = std::move(stored);
    return id;
  }

  absl::Status Remove(const quota::Account& a) override {
    state_.accounts.erase(a.name);
    return absl::OkStatus();
  }
  absl::Status Remove(const quota::Project& p) override {
    state_.projects.erase(p.name);
    return absl::OkStatus();
  }
  absl::Status Remove(const quota::Member& m) override {
    state_.members.erase({m.project, m.user});
    return absl::OkStatus();
  }
  absl::Status Remove(const quota::Limit& l) override {
    state_.limits.erase({l.project, l.user});
    return absl::OkStatus();
  }
  absl::Status Remove(const StoredGrant& g) override {
    state_.grants.erase(g.grant.id);
    return absl::OkStatus();
  }

  absl::Status Append(AuditRecord& audit) override {
    audit.id = next_audit_id_;
    appended_ = audit;
    return absl::OkStatus();
  }

 private:
  QuotaState& state_;
  const std::map<queue::JobId, queue::Job>& jobs_;
  const std::vector<Charge>& charges_;
  const uint64_t next_audit_id_;
  std::optional<AuditRecord> appended_;
};

absl::StatusOr<uint64_t> InMemoryStore::ApplyQuota(const std::vector<QuotaChange>& changes,
                                                   AuditRecord audit) {
  std::lock_guard<std::mutex> lock(mu_);
  QuotaState state = quota_;
  Tables tables(state, jobs_, charges_, audit_.size() + 1);
  ASSIGN_OR_RETURN(uint64_t id, ApplyQuotaChangeList(tables, changes, std::move(audit)));
  quota_ = std::move(state);
  audit_.push_back(*std::move(tables.appended()));
  return id;
}

void InMemoryStore::ApplyQuotaChanges(std::vector<QuotaChange> changes, AuditRecord audit,
                                      IdCallback done) {
  done(ApplyQuota(changes, std::move(audit)));
}

void InMemoryStore::AppendAudit(AuditRecord audit, DoneCallback done) {
  StampAudit(audit);
  {
    std::lock_guard<std::mutex> lock(mu_);
    audit.id = audit_.size() + 1;
    audit_.push_back(std::move(audit));
  }
  done(absl::OkStatus());
}

void InMemoryStore::PutServiceToken(ServiceTokenRecord token, AuditRecord audit,
                                    DoneCallback done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!audit.action.empty()) {
      StampAudit(audit);
      audit.id = audit_.size() + 1;
      audit_.push_back(std::move(audit));
    }
    std::string id = token.id;
    service_tokens_[std::move(id)] = std::move(token);
  }
  done(absl::OkStatus());
}

absl::StatusOr<std::vector<ServiceTokenRecord>> InMemoryStore::ListServiceTokens() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ServiceTokenRecord> out;
  for (const auto& [id, t] : service_tokens_) out.push_back(t);
  return out;
}

absl::StatusOr<uint64_t> InMemoryStore::Backup(const std::string&) {
  return absl::FailedPreconditionError("an in-memory store has no file to back up");
}

absl::StatusOr<QuotaModel> InMemoryStore::LoadQuotaModel() {
  std::lock_guard<std::mutex> lock(mu_);
  QuotaModel model;
  for (const auto& [k, v] : quota_.accounts) model.accounts.push_back(v);
  for (const auto& [k, v] : quota_.projects) model.projects.push_back(v);
  for (const auto& [k, v] : quota_.members) model.members.push_back(v);
  for (const auto& [k, v] : quota_.grants) model.grants.push_back(v);
  for (const auto& [k, v] : quota_.limits) model.limits.push_back(v);
  return model;
}

absl::StatusOr<std::vector<AuditRecord>> InMemoryStore::ListAudit(const AuditFilter& filter) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<AuditRecord> records;
  for (auto it = audit_.rbegin(); it != audit_.rend(); ++it) {
    if (filter.limit != 0 && records.size() >= filter.limit) break;
    if (filter.before_id != 0 && it->id >= filter.before_id) continue;
    if (it->time < filter.from || it->time >= filter.until) continue;
    if (!filter.user.empty() && it->user != filter.user) continue;
    records.push_back(*it);
  }
  return records;
}

absl::StatusOr<std::vector<UsageRow>> InMemoryStore::QueryUsage(const UsageQuery& query) {
  std::lock_guard<std::mutex> lock(mu_);
  std::set<std::string> projects(query.projects.begin(), query.projects.end());
  struct Sum {
    int64_t milli = 0;
    std::set<queue::JobId> jobs;
  };
  std::map<std::tuple<std::string, std::string, std::string, std::string>, Sum> sums;
  for (const Charge& c : charges_) {
    if (!projects.empty() && !projects.contains(c.project)) continue;
    // An unset time is InfinitePast: before any `from`, before any `until`.
    if (c.time < query.from || c.time >= query.until) continue;
    std::string month;
    if (query.per_month && c.time != absl::InfinitePast()) {
      month = absl::FormatTime("%Y-%m", c.time, absl::UTCTimeZone());
    }
    Sum& sum = sums[{c.project, query.per_user ? c.user : "", month, c.record.resource}];
    sum.milli += c.record.milli;
    sum.jobs.insert(c.job_id);
  }
  std::vector<UsageRow> rows;
  for (const auto& [key, sum] : sums) {
    const auto& [project, user, month, resource] = key;
    rows.push_back(
        {project, user, month, resource, sum.milli, static_cast<uint32_t>(sum.jobs.size())});
  }
  return rows;
}

absl::StatusOr<std::vector<ChargeTotal>> InMemoryStore::SumCharges() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::tuple<uint64_t, std::string, std::string>, int64_t> sums;
  for (const Charge& c : charges_) {
    sums[{c.record.grant_id, c.project, c.record.resource}] += c.record.milli;
  }
  std::vector<ChargeTotal> totals;
  for (const auto& [key, milli] : sums) {
    const auto& [grant_id, project, resource] = key;
    totals.push_back({grant_id, project, resource, milli});
  }
  return totals;
}

absl::StatusOr<std::vector<UsageEvent>> InMemoryStore::ListUsageSince(absl::Time since) {
  std::lock_guard<std::mutex> lock(mu_);
  // A job's charges share one time and project: (time, job, resource) orders them as SQL does.
  std::map<std::tuple<absl::Time, queue::JobId, std::string>, UsageEvent> events;
  for (const Charge& c : charges_) {
    if (c.time < since) continue;
    UsageEvent& e = events[{c.time, c.job_id, c.record.resource}];
    e.project = c.project;
    e.resource = c.record.resource;
    e.milli += c.record.milli;
    e.time = c.time;
  }
  std::vector<UsageEvent> result;
  for (auto& [key, e] : events) result.push_back(std::move(e));
  return result;
}

}  // namespace drocc::store
