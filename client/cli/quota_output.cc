#include "client/cli/quota_output.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/cli/output.h"
#include "common/human.h"

namespace drocc::cli {
namespace {

nlohmann::json TextOrNull(const std::string& s) {
  return s.empty() ? nlohmann::json() : nlohmann::json(s);
}

// Adds "<name>_milli" and "<name>" (the decimal) to a JSON object.
void AddAmount(nlohmann::json& j, const std::string& name, int64_t milli) {
  j[name + "_milli"] = milli;
  j[name] = FormatMilli(milli);
}

std::string Plural(uint64_t n, const char* one, const char* many) {
  return absl::StrCat(n, " ", n == 1 ? one : many);
}

template <typename T, typename Pred>
bool Any(const Repeated<T>& items, Pred pred) {
  return std::any_of(items.begin(), items.end(), pred);
}

std::string CountOrNone(uint64_t n) { return n == 0 ? "-" : absl::StrCat(n); }

std::string WalltimeOrNone(int64_t s) { return s <= 0 ? "-" : HumanDuration(absl::Seconds(s)); }

}  // namespace

std::string BalanceTable(const Repeated<v1::Balance>& balances) {
  const bool upcoming = Any(balances, [](const auto& b) { return b.upcoming_milli() != 0; });
  const bool overdraft = Any(balances, [](const auto& b) { return b.overdraft_milli() != 0; });
  std::vector<std::string> header = {"PROJECT",   "GRANTED",         "CHARGED", "RESERVED",
                                     "AVAILABLE", "EXPIRING IN 30D", "LAPSED"};
  if (upcoming) header.push_back("NOT YET VALID");
  if (overdraft) header.push_back("OVERDRAFT");
  Table t(std::move(header));
  std::string notes;
  for (const v1::Balance& b : balances) {
    auto amount = [&b](int64_t milli) { return FormatAmount(milli, b.resource()); };
    std::string reserved = amount(b.reserved_milli());
    if (b.holders() > 0) absl::StrAppend(&reserved, " (", Plural(b.holders(), "job", "jobs"), ")");
    std::vector<std::string> row = {b.project(),
                                    amount(b.granted_milli()),
                                    amount(b.charged_milli()),
                                    reserved,
                                    amount(b.available_milli()),
                                    amount(b.expiring_soon_milli()),
                                    amount(b.lapsed_milli())};
    if (upcoming) row.push_back(amount(b.upcoming_milli()));
    if (overdraft) row.push_back(amount(b.overdraft_milli()));
    t.Add(std::move(row));
    if (b.expiring_soon_milli() > 0) {
      absl::StrAppend(&notes, b.project(), ": ", amount(b.expiring_soon_milli()),
                      " in grants ending within 30 days");
      if (IsSet(b.next_expiry()))
        absl::StrAppend(&notes, "; the next ends ", TimeText(b.next_expiry()));
      absl::StrAppend(&notes, "\n");
    }
  }
  std::string out = t.Render();
  if (!notes.empty()) absl::StrAppend(&out, "\n", notes);
  return out;
}

nlohmann::json BalanceJson(const Repeated<v1::Balance>& balances) {
  nlohmann::json arr = nlohmann::json::array();
  for (const v1::Balance& b : balances) {
    nlohmann::json j = {{"project", b.project()}, {"resource", b.resource()}};
    AddAmount(j, "granted", b.granted_milli());
    AddAmount(j, "charged", b.charged_milli());
    AddAmount(j, "reserved", b.reserved_milli());
    AddAmount(j, "available", b.available_milli());
    AddAmount(j, "expiring_soon", b.expiring_soon_milli());
    j["next_expiry"] = TimeJson(b.next_expiry());
    AddAmount(j, "lapsed", b.lapsed_milli());
    AddAmount(j, "upcoming", b.upcoming_milli());
    AddAmount(j, "overdraft", b.overdraft_milli());
    j["holders"] = b.holders();
    arr.push_back(std::move(j));
  }
  return arr;
}

std::string UsageTable(const Repeated<v1::UsageRow>& rows) {
  const bool per_user = Any(rows, [](const auto& r) { return !r.user().empty(); });
  const bool per_month = Any(rows, [](const auto& r) { return !r.month().empty(); });
  std::vector<std::string> header = {"PROJECT"};
  if (per_user) header.push_back("USER");
  if (per_month) header.push_back("MONTH");
  header.insert(header.end(), {"AMOUNT", "JOBS"});
  Table t(std::move(header));
  for (const v1::UsageRow& r : rows) {
    std::vector<std::string> row = {r.project()};
    if (per_user) row.push_back(r.user().empty() ? "(all)" : r.user());
    if (per_month) row.push_back(r.month().empty() ? "(all)" : r.month());
    row.push_back(FormatAmount(r.amount()));
    row.push_back(absl::StrCat(r.jobs()));
    t.Add(std::move(row));
  }
  return t.Render();
}

std::string UsageCsv(const Repeated<v1::UsageRow>& rows) {
  std::string out = CsvRow({"project", "user", "month", "resource", "amount", "jobs"});
  for (const v1::UsageRow& r : rows) {
    out += CsvRow({r.project(), r.user(), r.month(), r.amount().resource(),
                   FormatMilli(r.amount().milli()), absl::StrCat(r.jobs())});
  }
  return out;
}

nlohmann::json UsageJson(const Repeated<v1::UsageRow>& rows) {
  nlohmann::json arr = nlohmann::json::array();
  for (const v1::UsageRow& r : rows) {
    nlohmann::json j = {{"project", r.project()},
                        {"user", TextOrNull(r.user())},
                        {"month", TextOrNull(r.month())},
                        {"resource", r.amount().resource()}};
    AddAmount(j, "amount", r.amount().milli());
    j["jobs"] = r.jobs();
    arr.push_back(std::move(j));
  }
  return arr;
}

std::string GrantTable(const Repeated<v1::Grant>& grants) {
  Table t({"ID", "PROJECT", "AMOUNT", "USED", "LAPSED", "VALID FROM", "VALID UNTIL", "REFERENCE"});
  for (const v1::Grant& g : grants) {
    const std::string& unit = g.amount().resource();
    t.Add({absl::StrCat(g.id()), g.project(), FormatAmount(g.amount()),
           FormatAmount(g.used().milli(), unit),
           g.lapsed().milli() == 0 ? "-" : FormatAmount(g.lapsed().milli(), unit),
           TimeText(g.valid_from()), TimeText(g.valid_until()), g.reference()});
  }
  return t.Render();
}

std::string GrantSummary(const v1::Grant& g) {
  std::string out = absl::StrCat("grant ", g.id(), ": ", FormatAmount(g.amount()), " for project ",
                                 g.project(), ", valid from ", TimeText(g.valid_from()));
  absl::StrAppend(&out, IsSet(g.valid_until()) ? absl::StrCat(" until ", TimeText(g.valid_until()))
                                               : " without end");
  if (g.used().milli() != 0) {
    absl::StrAppend(&out, ", used ", FormatAmount(g.used().milli(), g.amount().resource()));
  }
  if (g.lapsed().milli() != 0) {
    absl::StrAppend(&out, ", lapsed ", FormatAmount(g.lapsed().milli(), g.amount().resource()));
  }
  if (!g.reference().empty()) absl::StrAppend(&out, ", reference ", g.reference());
  return out;
}

nlohmann::json GrantJson(const v1::Grant& g) {
  nlohmann::json j = {
      {"id", g.id()}, {"project", g.project()}, {"resource", g.amount().resource()}};
  AddAmount(j, "amount", g.amount().milli());
  AddAmount(j, "used", g.used().milli());
  AddAmount(j, "lapsed", g.lapsed().milli());
  j["valid_from"] = TimeJson(g.valid_from());
  j["valid_until"] = TimeJson(g.valid_until());
  j["reference"] = g.reference();
  return j;
}

nlohmann::json GrantsJson(const Repeated<v1::Grant>& grants) {
  nlohmann::json arr = nlohmann::json::array();
  for (const v1::Grant& g : grants) arr.push_back(GrantJson(g));
  return arr;
}

std::string LimitTable(const Repeated<v1::Limit>& limits) {
  Table t({"PROJECT", "USER", "MAX GPUS", "MAX CPUS", "MAX NODES", "MAX PENDING", "MAX WALLTIME"});
  for (const v1::Limit& l : limits) {
    t.Add({l.project(), l.user().empty() ? "(whole project)" : l.user(), CountOrNone(l.max_gpus()),
           CountOrNone(l.max_cpus()), CountOrNone(l.max_nodes()), CountOrNone(l.max_pending_jobs()),
           WalltimeOrNone(l.max_walltime_s())});
  }
  return t.Render();
}

std::string LimitSummary(const v1::Limit& l) {
  auto count = [](uint32_t n) { return n == 0 ? std::string("no limit") : absl::StrCat(n); };
  return absl::StrCat(
      "limits of project ", l.project(), l.user().empty() ? "" : absl::StrCat(", user ", l.user()),
      ": GPUs ", count(l.max_gpus()), ", CPUs ", count(l.max_cpus()), ", nodes ",
      count(l.max_nodes()), ", pending jobs ", count(l.max_pending_jobs()), ", walltime ",
      l.max_walltime_s() <= 0 ? "no limit" : HumanDuration(absl::Seconds(l.max_walltime_s())));
}

nlohmann::json LimitJson(const v1::Limit& l) {
  return {{"project", l.project()},
          {"user", TextOrNull(l.user())},
          {"max_gpus", l.max_gpus()},
          {"max_cpus", l.max_cpus()},
          {"max_nodes", l.max_nodes()},
          {"max_pending_jobs", l.max_pending_jobs()},
          {"max_walltime_s", l.max_walltime_s()}};
}

std::string EstimateText(const v1::EstimateJobResponse& e) {
  Table t({"Project", e.project().empty() ? "-" : e.project()});
  t.Add({"Cost", FormatAmounts(e.cost())});
  t.Add({"Available", absl::StrCat(FormatAmounts(e.available()), " (after current holds)")});
  std::string now = e.admissible_now() ? "yes" : "no";
  if (!e.reason().empty()) absl::StrAppend(&now, ": ", e.reason());
  t.Add({"Admissible now", now});
  t.Add({"Affordable ever", e.affordable_ever()
                                ? "yes"
                                : "no: the project's grants can never cover it, so drocc submit "
                                  "would reject the job"});
  return t.Render();
}

nlohmann::json EstimateJson(const v1::EstimateJobResponse& e) {
  nlohmann::json cost = nlohmann::json::array();
  for (const v1::Amount& a : e.cost()) cost.push_back(AmountJson(a));
  nlohmann::json available = nlohmann::json::array();
  for (const v1::Amount& a : e.available()) available.push_back(AmountJson(a));
  return {{"project", e.project()}, {"cost", cost},
          {"available", available}, {"admissible_now", e.admissible_now()},
          {"reason", e.reason()},   {"affordable_ever", e.affordable_ever()}};
}

}  // namespace drocc::cli
