#include "daemon/manager/quota_book.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/human.h"
#include "common/logging.h"
#include "common/status.h"
#include "daemon/quota/budget.h"

namespace drocc::manager {
namespace {

using quota::MilliUnits;
using quota::ResourceId;
using quota::ResourceVector;

bool Has(const std::vector<std::string>& fields, const char* name) {
  return fields.empty() || std::find(fields.begin(), fields.end(), name) != fields.end();
}

absl::Status CheckFields(const std::vector<std::string>& fields,
                         std::initializer_list<const char*> allowed, const char* what) {
  for (const std::string& f : fields) {
    bool ok = false;
    for (const char* a : allowed) ok |= f == a;
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot update field \"", f, "\" of a ", what,
                       "; changeable: ", absl::StrJoin(allowed.begin(), allowed.end(), ", ")));
    }
  }
  return absl::OkStatus();
}

template <typename T>
store::QuotaChange Put(T value) {
  return store::QuotaChange{.value = std::move(value), .remove = false};
}
template <typename T>
store::QuotaChange Remove(T value) {
  return store::QuotaChange{.value = std::move(value), .remove = true};
}

}  // namespace

QuotaBook::QuotaBook(QuotaOptions options)
    : options_(std::move(options)), ledger_(options_.catalog), fair_share_(options_.fair_share) {}

absl::Status QuotaBook::Load(store::Store& store, const std::vector<queue::Job>& active,
                             absl::Time now) {
  ASSIGN_OR_RETURN(store::QuotaModel model, store.LoadQuotaModel());
  for (quota::Account& a : model.accounts) accounts_.emplace(a.name, std::move(a));
  for (quota::Project& p : model.projects) projects_.emplace(p.name, std::move(p));
  for (quota::Member& m : model.members) members_.emplace(std::pair(m.project, m.user), m);
  for (quota::Limit& l : model.limits) limits_.emplace(std::pair(l.project, l.user), l);
  for (store::StoredGrant& g : model.grants) {
    std::optional<ResourceId> r = catalog().Find(g.resource);
    if (!r) {
      return absl::FailedPreconditionError(absl::StrCat(
          "grant ", g.grant.id, " of project \"", g.grant.project, "\" is in \"", g.resource,
          "\", which this droccd's configuration does not define; add that billing unit back "
          "under [quota] in droccd.toml"));
    }
    g.grant.resource = *r;
    RETURN_IF_ERROR(ledger_.AddGrant(g.grant));
  }
  ASSIGN_OR_RETURN(std::vector<store::ChargeTotal> totals, store.SumCharges());
  for (const store::ChargeTotal& t : totals) {
    std::optional<ResourceId> r = catalog().Find(t.resource);
    if (!r) {
      return absl::FailedPreconditionError(
          absl::StrCat("charges of project \"", t.project, "\" are in \"", t.resource,
                       "\", which this droccd's configuration does not define; add that "
                       "billing unit back under [quota] in droccd.toml"));
    }
    if (t.grant_id == 0) {
      ledger_.RestoreOverdraft(t.project, *r, MilliUnits::FromMilli(t.milli));
    } else {
      RETURN_IF_ERROR(ledger_.RestoreCharge(t.grant_id, MilliUnits::FromMilli(t.milli)));
    }
  }
  // Usage older than ten half-lives weighs less than 0.1%: not worth reading.
  const std::string& fs_resource = catalog().Name(fair_share_.options().resource);
  ASSIGN_OR_RETURN(std::vector<store::UsageEvent> usage,
                   store.ListUsageSince(now - 10 * fair_share_.options().half_life));
  for (const store::UsageEvent& u : usage) {
    if (u.resource == fs_resource) {
      fair_share_.AddUsage(u.project, MilliUnits::FromMilli(u.milli), u.time);
    }
  }
  Reindex();
  size_t restored = 0;
  for (const queue::Job& job : active) {
    if (!job.reserved.empty()) {
      quota::Reservation r{
          .job = job.id, .project = job.project, .amount = {}, .at = job.admit_time};
      for (const auto& [name, milli] : job.reserved) {
        std::optional<ResourceId> id = catalog().Find(name);
        if (!id) {
          return absl::FailedPreconditionError(absl::StrCat(
              "job ", job.id, " holds a reservation in \"", name,
              "\", which this droccd's configuration does not define; add that billing unit "
              "back under [quota] in droccd.toml"));
        }
        r.amount[*id] = MilliUnits::FromMilli(milli);
      }
      RETURN_IF_ERROR(ledger_.RestoreReservation(r));
      ++restored;
    }
    if (job.state == queue::JobState::kPending) AddPending(job);
  }
  spdlog::info("quota: {} accounts, {} projects, {} members, {} grants, {} limits; {} reservations",
               accounts_.size(), projects_.size(), members_.size(), model.grants.size(),
               limits_.size(), restored);
  return absl::OkStatus();
}

const quota::Member* QuotaBook::FindMember(const std::string& project,
                                           const std::string& user) const {
  auto it = members_.find(std::pair(project, user));
  return it == members_.end() ? nullptr : &it->second;
}

std::vector<quota::Member> QuotaBook::MembershipsOf(const std::string& user) const {
  std::vector<quota::Member> out;
  for (const auto& [key, m] : members_) {
    if (key.second == user) out.push_back(m);
  }
  return out;
}

quota::Limit QuotaBook::ProjectLimit(const std::string& project) const {
  auto it = limits_.find(std::pair(project, std::string()));
  if (it != limits_.end()) return it->second;
  return quota::Limit{.project = project};
}

std::optional<quota::Limit> QuotaBook::UserLimit(const std::string& project,
                                                 const std::string& user) const {
  auto it = limits_.find(std::pair(project, user));
  if (it == limits_.end()) return std::nullopt;
  return it->second;
}

void QuotaBook::Reindex() {
  project_index_.clear();
  project_names_.clear();
  for (const auto& [name, p] : projects_) {
    project_index_.emplace(name, static_cast<uint32_t>(project_names_.size()));
    project_names_.push_back(name);
  }
  user_index_.clear();
  user_keys_.clear();
  for (const auto& [key, l] : limits_) {
    if (key.second.empty()) continue;
    user_index_.emplace(key, static_cast<uint32_t>(user_keys_.size()));
    user_keys_.push_back(key);
  }
  for (size_t i = 0; i < snapshot_.pending.size(); ++i) {
    const std::string& project = names_[pending_meta_[i].project];
    const std::string& user = names_[pending_meta_[i].user];
    auto p = project_index_.find(project);
    snapshot_.pending[i].project = p == project_index_.end() ? UINT32_MAX : p->second;
    auto u = user_index_.find(std::pair(project, user));
    snapshot_.pending[i].user = u == user_index_.end() ? quota::kNoUserLimit : u->second;
  }
}

// ---- The model ----

absl::StatusOr<std::vector<store::QuotaChange>> QuotaBook::Prepare(const QuotaRequest& req) const {
  std::vector<store::QuotaChange> out;
  if (const auto* a = std::get_if<quota::Account>(&req.record)) {
    auto it = accounts_.find(a->name);
    switch (req.op) {
      case QuotaOp::kCreate:
        RETURN_IF_ERROR(quota::ValidateAccount(*a));
        if (it != accounts_.end()) {
          return absl::AlreadyExistsError(absl::StrCat("account \"", a->name, "\" already exists"));
        }
        out.push_back(Put(*a));
        break;
      case QuotaOp::kUpdate: {
        if (it == accounts_.end()) {
          return absl::NotFoundError(absl::StrCat("account \"", a->name, "\" does not exist"));
        }
        RETURN_IF_ERROR(CheckFields(req.fields, {"kind", "description"}, "account"));
        quota::Account next = it->second;
        if (Has(req.fields, "kind")) next.kind = a->kind;
        if (Has(req.fields, "description")) next.description = a->description;
        RETURN_IF_ERROR(quota::ValidateAccount(next));
        out.push_back(Put(next));
        break;
      }
      case QuotaOp::kDelete: {
        if (it == accounts_.end()) {
          return absl::NotFoundError(absl::StrCat("account \"", a->name, "\" does not exist"));
        }
        size_t n = 0;
        for (const auto& [name, p] : projects_) n += p.account == a->name ? 1 : 0;
        if (n > 0) {
          return absl::FailedPreconditionError(absl::StrCat("account \"", a->name, "\" still has ",
                                                            n, " project", n == 1 ? "" : "s",
                                                            "; delete them first"));
        }
        out.push_back(Remove(it->second));
        break;
      }
    }
    return out;
  }
  if (const auto* p = std::get_if<quota::Project>(&req.record)) {
    auto it = projects_.find(p->name);
    switch (req.op) {
      case QuotaOp::kCreate:
        RETURN_IF_ERROR(quota::ValidateProject(*p));
        if (it != projects_.end()) {
          return absl::AlreadyExistsError(absl::StrCat("project \"", p->name, "\" already exists"));
        }
        if (!accounts_.contains(p->account)) {
          return absl::NotFoundError(
              absl::StrCat("account \"", p->account, "\" does not exist; create it first"));
        }
        out.push_back(Put(*p));
        break;
      case QuotaOp::kUpdate: {
        if (it == projects_.end()) {
          return absl::NotFoundError(absl::StrCat("project \"", p->name, "\" does not exist"));
        }
        RETURN_IF_ERROR(CheckFields(req.fields, {"share", "description"}, "project"));
        quota::Project next = it->second;
        if (Has(req.fields, "share")) next.share = p->share;
        if (Has(req.fields, "description")) next.description = p->description;
        RETURN_IF_ERROR(quota::ValidateProject(next));
        out.push_back(Put(next));
        break;
      }
      case QuotaOp::kDelete: {
        if (it == projects_.end()) {
          return absl::NotFoundError(absl::StrCat("project \"", p->name, "\" does not exist"));
        }
        out.push_back(Remove(it->second));
        break;
      }
    }
    return out;
  }
  if (const auto* m = std::get_if<quota::Member>(&req.record)) {
    auto it = members_.find(std::pair(m->project, m->user));
    quota::Member next = *m;
    switch (req.op) {
      case QuotaOp::kCreate:
        RETURN_IF_ERROR(quota::ValidateMember(*m));
        if (!projects_.contains(m->project)) {
          return absl::NotFoundError(absl::StrCat("project \"", m->project, "\" does not exist"));
        }
        if (it != members_.end()) {
          return absl::AlreadyExistsError(
              absl::StrCat(m->user, " is already a member of project \"", m->project,
                           "\"; use `drocc admin member update` to change the role"));
        }
        break;
      case QuotaOp::kUpdate:
        if (it == members_.end()) {
          return absl::NotFoundError(
              absl::StrCat(m->user, " is not a member of project \"", m->project, "\""));
        }
        RETURN_IF_ERROR(CheckFields(req.fields, {"role", "is_default"}, "membership"));
        next = it->second;
        if (Has(req.fields, "role")) next.role = m->role;
        if (Has(req.fields, "is_default")) next.is_default = m->is_default;
        RETURN_IF_ERROR(quota::ValidateMember(next));
        break;
      case QuotaOp::kDelete:
        if (it == members_.end()) {
          return absl::NotFoundError(
              absl::StrCat(m->user, " is not a member of project \"", m->project, "\""));
        }
        out.push_back(Remove(it->second));
        return out;
    }
    // A user's first project is their default; a new default replaces the old one.
    std::vector<quota::Member> others = MembershipsOf(m->user);
    bool has_default = false;
    for (const quota::Member& o : others) {
      if (o.project == m->project) continue;
      if (o.is_default && next.is_default) {
        quota::Member cleared = o;
        cleared.is_default = false;
        out.push_back(Put(cleared));
      }
      has_default |= o.is_default;
    }
    if (req.op == QuotaOp::kCreate && !has_default) next.is_default = true;
    out.push_back(Put(next));
    return out;
  }
  if (const auto* g = std::get_if<quota::Grant>(&req.record)) {
    switch (req.op) {
      case QuotaOp::kCreate: {
        quota::Grant next = *g;
        next.id = 1;  // ValidateGrant wants an id; the store assigns the real one
        RETURN_IF_ERROR(quota::ValidateGrant(next));
        if (g->resource >= catalog().size()) {
          return absl::InvalidArgumentError("the grant's resource is not defined at this site");
        }
        if (!projects_.contains(g->project)) {
          return absl::NotFoundError(absl::StrCat("project \"", g->project, "\" does not exist"));
        }
        next.id = 0;
        out.push_back(Put(store::StoredGrant{next, catalog().Name(g->resource)}));
        break;
      }
      case QuotaOp::kUpdate: {
        const quota::Grant* cur = ledger_.FindGrant(g->id);
        if (cur == nullptr)
          return absl::NotFoundError(absl::StrCat("grant ", g->id, " does not exist"));
        RETURN_IF_ERROR(
            CheckFields(req.fields, {"amount", "valid_from", "valid_until", "reference"}, "grant"));
        quota::Grant next = *cur;
        if (Has(req.fields, "amount")) next.amount = g->amount;
        if (Has(req.fields, "valid_from")) next.valid_from = g->valid_from;
        if (Has(req.fields, "valid_until")) next.valid_until = g->valid_until;
        if (Has(req.fields, "reference")) next.reference = g->reference;
        RETURN_IF_ERROR(quota::ValidateGrant(next));
        for (const quota::GrantStatus& st : ledger_.Grants(cur->project, absl::InfinitePast())) {
          if (st.grant.id == cur->id && next.amount < st.charged) {
            return absl::InvalidArgumentError(
                absl::StrCat("grant ", cur->id, " has already been charged ",
                             quota::FormatAmount(st.charged, catalog().Name(cur->resource)),
                             "; its amount cannot go below that"));
          }
        }
        out.push_back(Put(store::StoredGrant{next, catalog().Name(next.resource)}));
        break;
      }
      case QuotaOp::kDelete: {
        const quota::Grant* cur = ledger_.FindGrant(g->id);
        if (cur == nullptr)
          return absl::NotFoundError(absl::StrCat("grant ", g->id, " does not exist"));
        out.push_back(Remove(store::StoredGrant{*cur, catalog().Name(cur->resource)}));
        break;
      }
    }
    return out;
  }
  const auto& l = std::get<quota::Limit>(req.record);
  auto it = limits_.find(std::pair(l.project, l.user));
  if (req.op == QuotaOp::kDelete) {
    if (it == limits_.end()) {
      return absl::NotFoundError(
          l.user.empty()
              ? absl::StrCat("project \"", l.project, "\" has no limits")
              : absl::StrCat("user ", l.user, " has no limits in project \"", l.project, "\""));
    }
    out.push_back(Remove(it->second));
    return out;
  }
  RETURN_IF_ERROR(quota::ValidateLimit(l));
  if (!projects_.contains(l.project)) {
    return absl::NotFoundError(absl::StrCat("project \"", l.project, "\" does not exist"));
  }
  out.push_back(Put(l));
  return out;
}

QuotaRecord QuotaBook::Commit(const std::vector<store::QuotaChange>& changes,
                              uint64_t new_grant_id) {
  QuotaRecord last;
  for (const store::QuotaChange& c : changes) {
    std::visit(
        [&](const auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, quota::Account>) {
            if (c.remove) {
              accounts_.erase(v.name);
            } else {
              accounts_.insert_or_assign(v.name, v);
            }
            last = v;
          } else if constexpr (std::is_same_v<T, quota::Project>) {
            if (c.remove) {
              projects_.erase(v.name);
            } else {
              projects_.insert_or_assign(v.name, v);
            }
            last = v;
          } else if constexpr (std::is_same_v<T, quota::Member>) {
            if (c.remove) {
              members_.erase(std::pair(v.project, v.user));
            } else {
              members_.insert_or_assign(std::pair(v.project, v.user), v);
            }
            last = v;
          } else if constexpr (std::is_same_v<T, store::StoredGrant>) {
            quota::Grant g = v.grant;
            g.resource = catalog().Find(v.resource).value_or(quota::kGpuHours);
            absl::Status s;
            if (c.remove) {
              s = ledger_.RemoveGrant(g.id);
            } else if (g.id == 0) {
              g.id = new_grant_id;
              s = ledger_.AddGrant(g);
            } else {
              s = ledger_.UpdateGrant(g);
            }
            if (!s.ok())
              spdlog::error("quota: grant {} stored but not mirrored: {}", g.id, s.ToString());
            last = g;
          } else {
            if (c.remove) {
              limits_.erase(std::pair(v.project, v.user));
            } else {
              limits_.insert_or_assign(std::pair(v.project, v.user), v);
            }
            last = v;
          }
        },
        c.value);
  }
  Reindex();
  return last;
}

// ---- Jobs ----

absl::Status QuotaBook::ResolveSubmission(queue::Job& job) const {
  if (job.project.empty()) job.project = job.spec.project;
  if (job.project.empty()) {
    std::vector<quota::Member> mine = MembershipsOf(job.user);
    for (const quota::Member& m : mine) {
      if (m.is_default) job.project = m.project;
    }
    if (job.project.empty()) {
      if (mine.empty()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "user ", job.user,
            " is not a member of any drocc project; ask your project's manager or a drocc "
            "admin to add you"));
      }
      std::vector<std::string> names;
      for (const quota::Member& m : mine) names.push_back(m.project);
      return absl::FailedPreconditionError(
          absl::StrCat("you have no default project; name one with --project (yours: ",
                       absl::StrJoin(names, ", "), ")"));
    }
  } else if (FindMember(job.project, job.user) == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat("project \"", job.project, "\" does not exist or ", job.user,
                     " is not a member of it; see your projects with `drocc balance`"));
  }
  job.spec.project = job.project;
  if (job.spec.time_limit_s == 0) {
    job.spec.time_limit_s = absl::ToInt64Seconds(options_.default_time_limit);
  }
  return absl::OkStatus();
}

absl::StatusOr<ResourceVector> QuotaBook::CostOf(const queue::JobSpec& spec) const {
  if (spec.time_limit_s < 0) {
    return absl::InvalidArgumentError(
        "a job without a time limit cannot be budgeted; give it one with --time");
  }
  return catalog().Cost(quota::RequestedResources(spec), absl::Seconds(spec.time_limit_s));
}

absl::StatusOr<std::optional<std::string>> QuotaBook::CheckSubmission(const queue::Job& job,
                                                                      absl::Time now) const {
  absl::StatusOr<ResourceVector> cost = CostOf(job.spec);
  if (!cost.ok()) return std::optional<std::string>(std::string(cost.status().message()));
  quota::SubmitCandidate c{.project = job.project,
                           .cost = *cost,
                           .resources = quota::RequestedResources(job.spec),
                           .walltime = absl::Seconds(job.spec.time_limit_s)};
  quota::SubmitState st{.ledger = &ledger_, .project_limit = ProjectLimit(job.project)};
  auto pc = pending_count_.find(job.project);
  st.project_in_use.pending_jobs = pc == pending_count_.end() ? 0 : pc->second;
  st.user_limit = UserLimit(job.project, job.user);
  auto uc = user_pending_count_.find(std::pair(job.project, job.user));
  st.user_in_use.pending_jobs = uc == user_pending_count_.end() ? 0 : uc->second;
  absl::Status s = quota::CheckSubmit(c, st, now);
  if (s.ok()) return std::optional<std::string>();
  if (absl::IsResourceExhausted(s)) return s;
  return std::optional<std::string>(std::string(s.message()));
}

ResourceVector QuotaBook::Billed(const std::string& project, const ResourceVector& cost,
                                 absl::Time now) const {
  const quota::ProjectBudget b = ledger_.Budget(project, now);
  const quota::ResourceSet billed = quota::BilledResources(b, catalog().always_billed(), cost);
  ResourceVector out;
  for (size_t i = 0; i < quota::kMaxResources; ++i) {
    if (billed[i]) out[static_cast<ResourceId>(i)] = cost[static_cast<ResourceId>(i)];
  }
  return out;
}

JobEstimate QuotaBook::Estimate(const queue::Job& job,
                                const std::vector<const queue::Job*>& in_slurm, absl::Time now,
                                std::optional<std::string> blocked) const {
  JobEstimate e;
  e.project = job.project;
  e.budget = ledger_.Budget(job.project, now);
  absl::StatusOr<ResourceVector> cost = CostOf(job.spec);
  if (!cost.ok()) {
    e.reason = std::string(cost.status().message());
    return e;
  }
  e.billed = quota::BilledResources(e.budget, catalog().always_billed(), *cost);
  e.cost = Billed(job.project, *cost, now);
  absl::StatusOr<std::optional<std::string>> reject = CheckSubmission(job, now);
  if (!reject.ok()) {
    e.affordable_ever = true;
    e.reason = std::string(reject.status().message());
    return e;
  }
  if (*reject) {
    e.reason = **reject;
    return e;
  }
  e.affordable_ever = true;
  // The same checks as an admission pass, against what is held now.
  const quota::JobResources res = quota::RequestedResources(job.spec);
  quota::InUse project_use;
  quota::InUse user_use;
  for (const queue::Job* other : in_slurm) {
    if (other->project != job.project) continue;
    const quota::JobResources r = quota::RequestedResources(other->spec);
    project_use.Add(r);
    if (other->user == job.user) user_use.Add(r);
  }
  std::optional<std::string> why = quota::RunLimitReason(
      ProjectLimit(job.project), quota::LimitScope::kProject, project_use, res);
  if (!why) {
    if (std::optional<quota::Limit> ul = UserLimit(job.project, job.user)) {
      why = quota::RunLimitReason(*ul, quota::LimitScope::kUser, user_use, res);
    }
  }
  if (!why) why = quota::BudgetShortfall(e.budget, catalog(), *cost);
  if (!why && blocked) why = std::move(blocked);
  e.admissible_now = !why.has_value();
  if (why) e.reason = std::move(*why);
  return e;
}

quota::PendingJob QuotaBook::MakePending(const queue::Job& job) const {
  quota::PendingJob p;
  p.id = job.id;
  auto pi = project_index_.find(job.project);
  p.project = pi == project_index_.end() ? UINT32_MAX : pi->second;
  auto ui = user_index_.find(std::pair(job.project, job.user));
  p.user = ui == user_index_.end() ? quota::kNoUserLimit : ui->second;
  p.priority = job.spec.priority;
  p.submit_time = job.submit_time;
  p.resources = quota::RequestedResources(job.spec);
  // A job whose cost cannot be computed never fits: its cost is beyond every budget.
  absl::StatusOr<ResourceVector> cost = CostOf(job.spec);
  if (cost.ok()) {
    p.cost = *cost;
  } else {
    for (auto& v : p.cost.v) v = quota::kMaxAmount;
  }
  return p;
}

void QuotaBook::AddInFlight(const std::string& project, const std::string& user) {
  ++pending_count_[project];
  ++user_pending_count_[std::pair(project, user)];
}

void QuotaBook::ForgetInFlight(const std::string& project, const std::string& user) {
  auto pc = pending_count_.find(project);
  if (pc != pending_count_.end() && pc->second > 0 && --pc->second == 0) pending_count_.erase(pc);
  auto uc = user_pending_count_.find(std::pair(project, user));
  if (uc != user_pending_count_.end() && uc->second > 0 && --uc->second == 0) {
    user_pending_count_.erase(uc);
  }
}

uint32_t QuotaBook::Intern(const std::string& name) {
  auto [it, inserted] = name_ids_.try_emplace(name, static_cast<uint32_t>(names_.size()));
  if (inserted) names_.push_back(name);
  return it->second;
}

size_t QuotaBook::PendingSlot(queue::JobId id) const {
  const std::vector<quota::PendingJob>& v = snapshot_.pending;
  return std::lower_bound(v.begin(), v.end(), id,
                          [](const quota::PendingJob& j, queue::JobId x) { return j.id < x; }) -
         v.begin();
}

const quota::PendingJob* QuotaBook::FindPending(queue::JobId id) const {
  const size_t i = PendingSlot(id);
  if (i == snapshot_.pending.size() || snapshot_.pending[i].id != id || pending_meta_[i].removed) {
    return nullptr;
  }
  return &snapshot_.pending[i];
}

void QuotaBook::AddPending(const queue::Job& job) {
  const size_t i = PendingSlot(job.id);
  std::vector<quota::PendingJob>& v = snapshot_.pending;
  const PendingMeta meta{.project = Intern(job.project), .user = Intern(job.user)};
  if (i < v.size() && v[i].id == job.id) {
    if (!pending_meta_[i].removed) return;
    v[i] = MakePending(job);  // back before the compaction: revive the slot
    pending_meta_[i] = meta;
    --removed_;
  } else {
    // Jobs come in id order (submissions, start-up), so this appends.
    v.insert(v.begin() + static_cast<ptrdiff_t>(i), MakePending(job));
    pending_meta_.insert(pending_meta_.begin() + static_cast<ptrdiff_t>(i), meta);
  }
  AddInFlight(job.project, job.user);
}

void QuotaBook::RemovePending(queue::JobId id) {
  const quota::PendingJob* job = FindPending(id);
  if (job == nullptr) return;
  const size_t i = static_cast<size_t>(job - snapshot_.pending.data());
  ForgetInFlight(names_[pending_meta_[i].project], names_[pending_meta_[i].user]);
  pending_meta_[i].removed = true;
  ++removed_;
}

void QuotaBook::Compact() {
  if (removed_ == 0) return;
  std::vector<quota::PendingJob>& v = snapshot_.pending;
  size_t out = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    if (pending_meta_[i].removed) continue;
    if (out != i) {
      v[out] = v[i];
      pending_meta_[out] = pending_meta_[i];
    }
    ++out;
  }
  v.resize(out);
  pending_meta_.resize(out);
  removed_ = 0;
}

queue::AdmissionPlan QuotaBook::Plan(const std::vector<const queue::Job*>& in_slurm,
                                     uint32_t max_jobs_in_slurm, bool drained,
                                     const std::string& drain_reason, absl::Time now,
                                     std::string hold_reason) {
  Compact();
  quota::AdmissionSnapshot& s = snapshot_;
  s.ledger = &ledger_;
  s.fair_share = &fair_share_;
  s.projects.clear();
  s.projects.reserve(project_names_.size());
  for (const std::string& name : project_names_) {
    const quota::Project& p = projects_.find(name)->second;
    s.projects.push_back(
        {.name = name, .share = p.share, .limit = ProjectLimit(name), .in_use = {}});
  }
  s.users.clear();
  s.users.reserve(user_keys_.size());
  for (const auto& key : user_keys_) s.users.push_back({.limit = limits_.at(key), .in_use = {}});
  for (const queue::Job* job : in_slurm) {
    const quota::JobResources res = quota::RequestedResources(job->spec);
    auto pi = project_index_.find(job->project);
    if (pi != project_index_.end()) s.projects[pi->second].in_use.Add(res);
    auto ui = user_index_.find(std::pair(job->project, job->user));
    if (ui != user_index_.end()) s.users[ui->second].in_use.Add(res);
  }
  s.jobs_in_slurm = static_cast<uint32_t>(in_slurm.size());
  s.max_jobs_in_slurm = max_jobs_in_slurm;
  s.drained = drained;
  s.drain_reason = drain_reason;
  s.hold_reason = std::move(hold_reason);
  return quota::PlanAdmission(s, now);
}

absl::StatusOr<queue::AmountMap> QuotaBook::Reserve(const queue::Job& job, absl::Time now) {
  const quota::PendingJob* pending = FindPending(job.id);
  ResourceVector cost = pending != nullptr ? pending->cost : MakePending(job).cost;
  RETURN_IF_ERROR(ledger_.Reserve(job.id, job.project, cost, now));
  return ToAmountMap(ledger_.FindReservation(job.id)->amount);
}

queue::AmountMap QuotaBook::ReserveAdopted(const queue::Job& job, absl::Time now) {
  const quota::PendingJob* pending = FindPending(job.id);
  const ResourceVector cost = pending != nullptr ? pending->cost : MakePending(job).cost;
  absl::Status s = ledger_.Reserve(job.id, job.project, cost, now);
  if (!s.ok() && !absl::IsAlreadyExists(s)) {
    spdlog::warn(
        "job {}: adopted from Slurm although its cost no longer fits ({}); reserving "
        "it anyway",
        job.id, s.message());
    s = ledger_.RestoreReservation(
        {.job = job.id, .project = job.project, .amount = cost, .at = now});
    if (!s.ok()) spdlog::error("job {}: cannot reserve its cost: {}", job.id, s.ToString());
  }
  const quota::Reservation* held = ledger_.FindReservation(job.id);
  return held != nullptr ? ToAmountMap(held->amount) : queue::AmountMap{};
}

void QuotaBook::Release(queue::JobId id) {
  if (ledger_.FindReservation(id) != nullptr) ledger_.Release(id).IgnoreError();
}

void QuotaBook::Settle(const queue::Job& job, const slurm::BackendJob* slurm, queue::JobUpdate& u,
                       absl::Time now) {
  const quota::Reservation* held = ledger_.FindReservation(job.id);
  if (held == nullptr) return;  // admitted before quotas existed
  Provisional& p = provisional_[job.id] = Provisional{.released = *held};
  absl::Time start = job.start_time;
  if (slurm != nullptr && slurm->start_time != absl::InfinitePast()) start = slurm->start_time;
  if (u.start_time) start = *u.start_time;
  u.reserved = queue::AmountMap{};
  if (start == absl::InfinitePast()) {  // never ran (again): nothing more to charge
    ledger_.Release(job.id).IgnoreError();
    u.charged = job.charged;
    return;
  }
  absl::Time end = u.end_time ? *u.end_time : now;
  if (u.to == queue::JobState::kLost && job.spec.time_limit_s > 0) {
    // Slurm forgot the job: charge what it may have run, at most its time limit.
    end = std::min(end, start + absl::Seconds(job.spec.time_limit_s));
  }
  p.settlement = SettleRun(job, slurm, start, end, u, now);
  p.usage_end = end;
}

void QuotaBook::SettleRequeued(const queue::Job& job, const slurm::BackendJob* slurm,
                               absl::Time run_end, queue::JobUpdate& u, absl::Time now) {
  const quota::Reservation* held = ledger_.FindReservation(job.id);
  if (held == nullptr || job.start_time == absl::InfinitePast()) return;
  Provisional& p = provisional_[job.id] = Provisional{.released = *held};
  const quota::Reservation again{
      .job = job.id, .project = held->project, .amount = held->amount, .at = now};
  absl::Time end = run_end;
  if (job.spec.time_limit_s > 0) {
    end = std::min(end, job.start_time + absl::Seconds(job.spec.time_limit_s));
  }
  p.settlement = SettleRun(job, slurm, job.start_time, end, u, now);
  p.usage_end = end;
  if (!p.settlement) return;
  // The run is charged; the next one holds the job's cost again, as at admission.
  ledger_.ForgetSettlement(job.id);
  if (absl::Status s = ledger_.RestoreReservation(again); !s.ok()) {
    spdlog::error("job {}: cannot reserve its cost again after a requeue: {}", job.id,
                  s.ToString());
    u.reserved = queue::AmountMap{};
  } else {
    p.reserved_again = true;
    u.reserved = ToAmountMap(again.amount);
  }
  u.start_time = absl::InfinitePast();
}

void QuotaBook::Commit(queue::JobId id) {
  auto it = provisional_.find(id);
  if (it == provisional_.end()) return;
  const Provisional& p = it->second;
  if (p.settlement) fair_share_.AddUsage(p.settlement->project, p.settlement->actual, p.usage_end);
  ledger_.ForgetSettlement(id);
  provisional_.erase(it);
}

void QuotaBook::RollBack(queue::JobId id) {
  auto it = provisional_.find(id);
  if (it == provisional_.end()) return;
  const Provisional p = std::move(it->second);
  provisional_.erase(it);
  absl::Status s;
  if (p.reserved_again) s.Update(ledger_.Release(id));
  if (p.settlement) s.Update(ledger_.UndoSettle(*p.settlement));
  if (ledger_.FindReservation(id) == nullptr) s.Update(ledger_.RestoreReservation(p.released));
  if (!s.ok()) {
    spdlog::error("job {}: cannot undo a settlement the store did not record: {}", id,
                  s.ToString());
  }
}

std::optional<quota::Settlement> QuotaBook::SettleRun(const queue::Job& job,
                                                      const slurm::BackendJob* slurm,
                                                      absl::Time start, absl::Time end,
                                                      queue::JobUpdate& u, absl::Time now) {
  if (end < start) end = start;
  // Slurm's allocation when it reports one. GPUs are GRES, and Slurm always allocates at
  // least what a job asked for: a record without a GPU count means "as requested".
  const quota::JobResources requested = quota::RequestedResources(job.spec);
  quota::JobResources res = requested;
  if (slurm != nullptr && slurm->alloc_nodes > 0) {
    res = {.nodes = slurm->alloc_nodes,
           .cpus = slurm->alloc_cpus,
           .gpus = std::max(slurm->alloc_gpus, requested.gpus)};
  }
  absl::StatusOr<ResourceVector> actual = catalog().Cost(res, end - start);
  if (!actual.ok()) {
    spdlog::error("job {}: cannot compute its usage ({}); charging its reservation", job.id,
                  actual.status().message());
    actual = ledger_.FindReservation(job.id)->amount;
  }
  absl::StatusOr<quota::Settlement> st =
      ledger_.Settle(job.id, *actual, {.start = start, .end = end}, now);
  if (!st.ok()) {
    spdlog::error("job {}: cannot settle: {}; its reservation is released", job.id,
                  st.status().ToString());
    ledger_.Release(job.id).IgnoreError();
    u.reserved = queue::AmountMap{};
    u.charged = job.charged;
    return std::nullopt;
  }
  queue::AmountMap charged = job.charged;
  for (const auto& [name, milli] : ToAmountMap(st->actual)) charged[name] += milli;
  u.charged = std::move(charged);
  for (const quota::GrantDraw& d : st->draws) {
    u.charges.push_back(
        {.grant_id = d.grant, .resource = catalog().Name(d.resource), .milli = d.amount.milli()});
  }
  for (size_t i = 0; i < catalog().size(); ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (st->overdraft[r].is_positive()) {
      u.charges.push_back(
          {.grant_id = 0, .resource = catalog().Name(r), .milli = st->overdraft[r].milli()});
      spdlog::warn("job {}: {} of its usage could not be paid by any grant of project {}", job.id,
                   quota::FormatAmount(st->overdraft[r], catalog().Name(r)), job.project);
    }
  }
  return *std::move(st);
}

queue::AmountMap QuotaBook::ToAmountMap(const ResourceVector& v) const {
  queue::AmountMap out;
  for (size_t i = 0; i < catalog().size(); ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (!v[r].is_zero()) out.emplace(catalog().Name(r), v[r].milli());
  }
  return out;
}

}  // namespace drocc::manager
