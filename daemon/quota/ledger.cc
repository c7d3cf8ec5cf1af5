#include "daemon/quota/ledger.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"

namespace drocc::quota {
namespace {

absl::Status CheckNonNegative(const ResourceVector& v, const ResourceCatalog& catalog,
                              std::string_view what) {
  for (size_t i = 0; i < kMaxResources; ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (v[r].is_negative() || v[r] > kMaxAmount) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::string(what), " of ", FormatMilli(v[r]), " ",
                       i < catalog.size() ? catalog.Name(r) : std::string("units"),
                       " is out of range; amounts are from 0.0 to ", FormatMilli(kMaxAmount)));
    }
  }
  return absl::OkStatus();
}

void AddDraw(std::vector<GrantDraw>& draws, GrantId id, ResourceId r, MilliUnits amount) {
  for (GrantDraw& d : draws) {
    if (d.grant == id) {
      d.amount += amount;
      return;
    }
  }
  draws.push_back({id, r, amount});
}

}  // namespace

Ledger::Ledger(ResourceCatalog catalog) : catalog_(std::move(catalog)) {}

absl::Status Ledger::AddGrant(const Grant& g) {
  RETURN_IF_ERROR(ValidateGrant(g));
  if (g.resource >= catalog_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "grant ", g.id, " is for a resource this site does not define; use one of its units"));
  }
  if (grant_index_.contains(g.id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("grant ", g.id, " already exists; update it or use a new id"));
  }
  const size_t index = grants_.size();
  grants_.push_back({g, MilliUnits::Zero()});
  grant_index_.emplace(g.id, index);
  std::vector<size_t>& order = books_[g.project].grants[g.resource];
  auto before = [this](size_t a, size_t b) {
    const Grant& x = grants_[a].grant;
    const Grant& y = grants_[b].grant;
    return std::tie(x.valid_until, x.id) < std::tie(y.valid_until, y.id);
  };
  order.insert(std::upper_bound(order.begin(), order.end(), index, before), index);
  return absl::OkStatus();
}

const Grant* Ledger::FindGrant(GrantId id) const {
  auto it = grant_index_.find(id);
  return it == grant_index_.end() ? nullptr : &grants_[it->second].grant;
}

absl::Status Ledger::UpdateGrant(const Grant& g) {
  auto it = grant_index_.find(g.id);
  if (it == grant_index_.end()) {
    return absl::NotFoundError(absl::StrCat("grant ", g.id, " does not exist"));
  }
  RETURN_IF_ERROR(ValidateGrant(g));
  GrantEntry& e = grants_[it->second];
  if (g.project != e.grant.project || g.resource != e.grant.resource) {
    return absl::InvalidArgumentError(absl::StrCat(
        "grant ", g.id, " keeps its project and resource; create a new grant instead"));
  }
  if (g.amount < e.charged) {
    return absl::InvalidArgumentError(absl::StrCat(
        "grant ", g.id, " has already been charged ",
        FormatAmount(e.charged, catalog_.Name(g.resource)), "; its amount cannot go below that"));
  }
  e.grant = g;
  // The draw order depends on valid_until: re-sort the project's list for this resource.
  std::vector<size_t>& order = books_[g.project].grants[g.resource];
  std::sort(order.begin(), order.end(), [this](size_t a, size_t b) {
    const Grant& x = grants_[a].grant;
    const Grant& y = grants_[b].grant;
    return std::tie(x.valid_until, x.id) < std::tie(y.valid_until, y.id);
  });
  return absl::OkStatus();
}

absl::Status Ledger::RemoveGrant(GrantId id) {
  auto it = grant_index_.find(id);
  if (it == grant_index_.end()) {
    return absl::NotFoundError(absl::StrCat("grant ", id, " does not exist"));
  }
  const size_t index = it->second;
  const GrantEntry& e = grants_[index];
  if (!e.charged.is_zero()) {
    return absl::FailedPreconditionError(
        absl::StrCat("grant ", id, " has been charged ",
                     FormatAmount(e.charged, catalog_.Name(e.grant.resource)),
                     "; end it early by updating its end date instead"));
  }
  std::vector<size_t>& order = books_[e.grant.project].grants[e.grant.resource];
  order.erase(std::remove(order.begin(), order.end(), index), order.end());
  grant_index_.erase(it);
  // Move the last entry into the hole so indices stay dense.
  const size_t last = grants_.size() - 1;
  if (index != last) {
    grants_[index] = std::move(grants_[last]);
    grant_index_[grants_[index].grant.id] = index;
    for (size_t& i : books_[grants_[index].grant.project].grants[grants_[index].grant.resource]) {
      if (i == last) i = index;
    }
  }
  grants_.pop_back();
  return absl::OkStatus();
}

absl::Status Ledger::RestoreReservation(const Reservation& r) {
  if (reservations_.contains(r.job)) {
    return absl::AlreadyExistsError(absl::StrCat("job ", r.job, " already holds a reservation"));
  }
  RETURN_IF_ERROR(CheckNonNegative(r.amount, catalog_, "a reservation"));
  Book& book = books_[r.project];
  for (size_t i = 0; i < kMaxResources; ++i) {
    const ResourceId id = static_cast<ResourceId>(i);
    if (!r.amount[id].is_positive()) continue;
    book.reserved[id] += r.amount[id];
    ++book.holders[id];
  }
  settled_.erase(r.job);
  reservations_.emplace(r.job, r);
  return absl::OkStatus();
}

absl::Status Ledger::RestoreCharge(GrantId id, MilliUnits amount) {
  auto it = grant_index_.find(id);
  if (it == grant_index_.end()) {
    return absl::NotFoundError(absl::StrCat("charges name grant ", id, ", which does not exist"));
  }
  grants_[it->second].charged += amount;
  return absl::OkStatus();
}

void Ledger::RestoreOverdraft(const std::string& project, ResourceId r, MilliUnits amount) {
  if (r < kMaxResources) books_[project].overdraft[r] += amount;
}

const Ledger::Book* Ledger::FindBook(const std::string& project) const {
  auto it = books_.find(project);
  return it == books_.end() ? nullptr : &it->second;
}

ProjectBudget Ledger::Budget(const std::string& project, absl::Time now) const {
  ProjectBudget b;
  const Book* book = FindBook(project);
  if (book == nullptr) return b;
  for (size_t i = 0; i < kMaxResources; ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (!book->grants[r].empty()) b.ever_granted.set(r);
    for (size_t index : book->grants[r]) {
      const GrantEntry& e = grants_[index];
      if (!e.grant.ActiveAt(now)) continue;
      b.active.set(r);
      b.granted[r] += e.grant.amount;
      b.charged[r] += e.charged;
    }
    b.reserved[r] = book->reserved[r];
    b.holders[r] = book->holders[r];
  }
  return b;
}

absl::Status Ledger::Reserve(JobId job, const std::string& project, const ResourceVector& cost,
                             absl::Time now) {
  if (settled_.contains(job)) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job, " was already settled; it cannot reserve again"));
  }
  if (reservations_.contains(job)) {
    return absl::AlreadyExistsError(
        absl::StrCat("job ", job, " already holds a reservation; settle or release it first"));
  }
  RETURN_IF_ERROR(CheckNonNegative(cost, catalog_, "a cost"));
  const ProjectBudget budget = Budget(project, now);
  if (std::optional<std::string> why = BudgetShortfall(budget, catalog_, cost)) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job, " of project \"", project, "\" cannot be admitted: ", *why));
  }
  const ResourceSet billed = BilledResources(budget, catalog_.always_billed(), cost);
  Reservation res{job, project, {}, now};
  Book& book = books_[project];
  for (size_t i = 0; i < kMaxResources; ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (!billed[r] || !cost[r].is_positive()) continue;
    res.amount[r] = cost[r];
    book.reserved[r] += cost[r];
    ++book.holders[r];
  }
  reservations_.emplace(job, std::move(res));
  return absl::OkStatus();
}

MilliUnits Ledger::DrawFromSlice(Book& book, ResourceId r, MilliUnits amount, absl::Time from,
                                 absl::Time to, std::vector<GrantDraw>& draws) {
  for (size_t index : book.grants[r]) {
    if (!amount.is_positive()) break;
    GrantEntry& e = grants_[index];
    const bool covers = from == to ? e.grant.ActiveAt(from)
                                   : e.grant.valid_from <= from && to <= e.grant.valid_until;
    if (!covers) continue;
    const MilliUnits take = MinAmount(amount, e.grant.amount - e.charged);
    if (!take.is_positive()) continue;
    e.charged += take;
    amount -= take;
    AddDraw(draws, e.grant.id, r, take);
  }
  return amount;
}

MilliUnits Ledger::Draw(Book& book, ResourceId r, MilliUnits amount, UsageWindow w,
                        std::vector<GrantDraw>& draws) {
  if (w.start == w.end) return DrawFromSlice(book, r, amount, w.start, w.end, draws);
  // Slice [start, end) at every grant boundary inside it, so each grant covers a slice
  // entirely or not at all.
  std::vector<absl::Time> cuts = {w.start, w.end};
  for (size_t index : book.grants[r]) {
    for (absl::Time t : {grants_[index].grant.valid_from, grants_[index].grant.valid_until}) {
      if (w.start < t && t < w.end) cuts.push_back(t);
    }
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  // Slice k gets floor(A·T_{k+1}/T) − floor(A·T_k/T) of the amount A, T_k being the time
  // from start to cut k: exact integers that add up to A.
  const __int128 total = absl::ToInt64Nanoseconds(w.end - w.start);
  const __int128 a = amount.milli();
  MilliUnits unpaid;
  __int128 given = 0;
  for (size_t k = 0; k + 1 < cuts.size(); ++k) {
    const __int128 upto =
        (k + 2 == cuts.size()) ? a : a * absl::ToInt64Nanoseconds(cuts[k + 1] - w.start) / total;
    const MilliUnits slice = MilliUnits::FromMilli(static_cast<int64_t>(upto - given));
    given = upto;
    unpaid += DrawFromSlice(book, r, slice, cuts[k], cuts[k + 1], draws);
  }
  return unpaid;
}

absl::StatusOr<Settlement> Ledger::Settle(JobId job, const ResourceVector& actual,
                                          UsageWindow window, absl::Time now) {
  if (auto it = settled_.find(job); it != settled_.end()) return it->second;
  auto it = reservations_.find(job);
  if (it == reservations_.end()) {
    return absl::NotFoundError(
        absl::StrCat("job ", job, " holds no reservation; only admitted jobs can be settled"));
  }
  RETURN_IF_ERROR(CheckNonNegative(actual, catalog_, "a usage"));
  const auto finite = [](absl::Time t) {
    return t != absl::InfinitePast() && t != absl::InfiniteFuture();
  };
  if (!finite(window.start) || !finite(window.end)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job ", job, " has no start or end time; settle it with the times Slurm reports"));
  }
  if (window.end < window.start) {
    return absl::InvalidArgumentError(absl::StrCat(
        "job ", job, " ends before it starts; settle it with its real start and end times"));
  }
  const Reservation& res = it->second;
  Book& book = books_[res.project];
  Settlement s;
  s.job = job;
  s.project = res.project;
  s.reserved = res.amount;
  s.settled_at = now;
  ResourceSet billed;
  for (size_t i = 0; i < kMaxResources; ++i) {
    if (!book.grants[i].empty() || res.amount[static_cast<ResourceId>(i)].is_positive() ||
        catalog_.always_billed()[i]) {
      billed.set(i);
    }
  }
  for (size_t i = 0; i < kMaxResources; ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (!billed[r] || !actual[r].is_positive()) continue;
    s.actual[r] = actual[r];
    s.overdraft[r] = Draw(book, r, actual[r], window, s.draws);
    s.charged[r] = actual[r] - s.overdraft[r];
    book.overdraft[r] += s.overdraft[r];
  }
  for (size_t i = 0; i < kMaxResources; ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (!res.amount[r].is_positive()) continue;
    book.reserved[r] -= res.amount[r];
    --book.holders[r];
  }
  reservations_.erase(it);
  return settled_.emplace(job, std::move(s)).first->second;
}

absl::Status Ledger::Release(JobId job) {
  if (settled_.contains(job)) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job, " was already settled; there is nothing to release"));
  }
  auto it = reservations_.find(job);
  if (it == reservations_.end()) {
    return absl::NotFoundError(absl::StrCat("job ", job, " holds no reservation to release"));
  }
  Book& book = books_[it->second.project];
  for (size_t i = 0; i < kMaxResources; ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    if (!it->second.amount[r].is_positive()) continue;
    book.reserved[r] -= it->second.amount[r];
    --book.holders[r];
  }
  reservations_.erase(it);
  return absl::OkStatus();
}

absl::Status Ledger::UndoSettle(const Settlement& s) {
  for (const GrantDraw& d : s.draws) {
    auto it = grant_index_.find(d.grant);
    if (it == grant_index_.end() || grants_[it->second].charged < d.amount) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", s.job, " drew ", FormatAmount(d.amount, catalog_.Name(d.resource)),
                       " from grant ", d.grant,
                       ", which no longer holds that charge; its settlement cannot be undone"));
    }
  }
  for (const GrantDraw& d : s.draws) grants_[grant_index_.at(d.grant)].charged -= d.amount;
  Book& book = books_[s.project];
  for (size_t i = 0; i < kMaxResources; ++i) {
    const ResourceId r = static_cast<ResourceId>(i);
    book.overdraft[r] -= s.overdraft[r];
  }
  settled_.erase(s.job);
  return absl::OkStatus();
}

ResourceBalance Ledger::Balance(const std::string& project, ResourceId resource, absl::Time now,
                                absl::Duration expiring_window) const {
  ResourceBalance b;
  const Book* book = FindBook(project);
  if (book == nullptr || resource >= kMaxResources) return b;
  for (size_t index : book->grants[resource]) {
    const GrantEntry& e = grants_[index];
    const MilliUnits unspent = e.grant.amount - e.charged;
    if (e.grant.ActiveAt(now)) {
      b.granted += e.grant.amount;
      b.charged += e.charged;
      if (e.grant.valid_until <= now + expiring_window) b.expiring_soon += unspent;
    } else if (e.grant.valid_until <= now) {
      b.lapsed += unspent;
    } else {
      b.upcoming += e.grant.amount;
    }
  }
  b.reserved = book->reserved[resource];
  b.holders = book->holders[resource];
  b.available = MaxAmount(MilliUnits::Zero(), b.granted - b.charged - b.reserved);
  b.overdraft = book->overdraft[resource];
  return b;
}

std::vector<GrantStatus> Ledger::Grants(const std::string& project, absl::Time now) const {
  std::vector<GrantStatus> out;
  const Book* book = FindBook(project);
  if (book == nullptr) return out;
  for (const std::vector<size_t>& order : book->grants) {
    for (size_t index : order) {
      const GrantEntry& e = grants_[index];
      GrantStatus st;
      st.grant = e.grant;
      st.charged = e.charged;
      st.unspent = e.grant.amount - e.charged;
      st.active = e.grant.ActiveAt(now);
      if (e.grant.valid_until <= now) st.lapsed = st.unspent;
      out.push_back(std::move(st));
    }
  }
  return out;
}

const Reservation* Ledger::FindReservation(JobId job) const {
  auto it = reservations_.find(job);
  return it == reservations_.end() ? nullptr : &it->second;
}

const Settlement* Ledger::FindSettlement(JobId job) const {
  auto it = settled_.find(job);
  return it == settled_.end() ? nullptr : &it->second;
}

}  // namespace drocc::quota
