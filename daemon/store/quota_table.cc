#include "daemon/store/quota_table.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/status.h"
#include "daemon/store/job_table.h"
#include "daemon/store/quota_changes.h"
#include "daemon/store/usage_table.h"

namespace drocc::store {
namespace {

// Grant validity ends: NULL for an open end (InfinitePast or InfiniteFuture), like the job
// time columns.
void BindBound(Statement& stmt, int index, absl::Time t) {
  if (t == absl::InfiniteFuture()) {
    stmt.BindNull(index);
  } else {
    stmt.BindTime(index, t);  // NULL for InfinitePast
  }
}

absl::Time ReadUntil(const Statement& row, int col) {
  return row.IsNull(col) ? absl::InfiniteFuture() : row.Time(col);
}

absl::StatusOr<int64_t> CountRows(Connection& conn, const char* sql, const std::string& key) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql));
  stmt.Bind(1, key);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.Int(0) : 0;
}

absl::Status Delete(Connection& conn, const char* sql, const std::string& key1,
                    const std::string* key2 = nullptr) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql));
  stmt.Bind(1, key1);
  if (key2 != nullptr) stmt.Bind(2, *key2);
  return stmt.Run();
}

// The integer column `col` of every row, in order.
absl::StatusOr<std::vector<uint64_t>> Ids(Statement& stmt) {
  std::vector<uint64_t> ids;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return ids;
    ids.push_back(static_cast<uint64_t>(stmt.Int(0)));
  }
}

absl::Status Corrupt(const std::string& what) {
  return absl::DataLossError(absl::StrCat(what,
                                          " in the job database; was it written by a newer "
                                          "droccd? Otherwise restore it from backup"));
}

// The quota tables over one connection, inside the caller's transaction.
class SqlQuotaTables final : public QuotaTables {
 public:
  explicit SqlQuotaTables(Connection& conn) : conn_(conn) {}

  absl::StatusOr<bool> HasAccount(const std::string& name) override {
    ASSIGN_OR_RETURN(int64_t n,
                     CountRows(conn_, "SELECT count(*) FROM accounts WHERE name = ?1", name));
    return n > 0;
  }

  absl::StatusOr<bool> HasProject(const std::string& name) override {
    ASSIGN_OR_RETURN(int64_t n,
                     CountRows(conn_, "SELECT count(*) FROM projects WHERE name = ?1", name));
    return n > 0;
  }

  absl::StatusOr<std::vector<std::string>> ProjectsOf(const std::string& account) override {
    ASSIGN_OR_RETURN(Statement stmt,
                     conn_.Prepare("SELECT name FROM projects WHERE account = ?1 ORDER BY name"));
    stmt.Bind(1, account);
    std::vector<std::string> names;
    while (true) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) return names;
      names.push_back(stmt.Text(0));
    }
  }

  absl::StatusOr<ProjectUse> UseOf(const std::string& project) override {
    ProjectUse use;
    ASSIGN_OR_RETURN(use.members,
                     CountRows(conn_, "SELECT count(*) FROM members WHERE project = ?1", project));
    ASSIGN_OR_RETURN(use.limits,
                     CountRows(conn_, "SELECT count(*) FROM limits WHERE project = ?1", project));
    {
      ASSIGN_OR_RETURN(Statement stmt,
                       conn_.Prepare("SELECT id FROM grants WHERE project = ?1 ORDER BY id"));
      stmt.Bind(1, project);
      ASSIGN_OR_RETURN(use.grants, Ids(stmt));
    }
    static const std::string* const kOpenJobs =
        new std::string(absl::StrCat("SELECT id FROM jobs WHERE project = ?1 AND state IN (",
                                     ActiveStatesSql(), ") ORDER BY id"));
    ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(*kOpenJobs));
    stmt.Bind(1, project);
    ASSIGN_OR_RETURN(use.open_jobs, Ids(stmt));
    return use;
  }

  absl::StatusOr<queue::AmountMap> ChargedFrom(quota::GrantId id) override {
    return SelectChargedFrom(conn_, id);
  }

  absl::Status Put(const quota::Account& a) override {
    ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(R"sql(
        INSERT INTO accounts (name, kind, description, create_time) VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (name) DO UPDATE SET
          kind = excluded.kind, description = excluded.description,
          create_time = excluded.create_time)sql"));
    stmt.Bind(1, a.name)
        .Bind(2, static_cast<int64_t>(a.kind))
        .Bind(3, a.description)
        .BindTime(4, a.create_time);
    return stmt.Run();
  }

  absl::Status Put(const quota::Project& p) override {
    ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(R"sql(
        INSERT INTO projects (name, account, share, description, create_time)
        VALUES (?1, ?2, ?3, ?4, ?5)
        ON CONFLICT (name) DO UPDATE SET
          account = excluded.account, share = excluded.share,
          description = excluded.description, create_time = excluded.create_time)sql"));
    stmt.Bind(1, p.name)
        .Bind(2, p.account)
        .Bind(3, int64_t{p.share})
        .Bind(4, p.description)
        .BindTime(5, p.create_time);
    return stmt.Run();
  }

  absl::Status Put(const quota::Member& m) override {
    ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(R"sql(
        INSERT INTO members (project, user, role, is_default) VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (project, user) DO UPDATE SET
          role = excluded.role, is_default = excluded.is_default)sql"));
    stmt.Bind(1, m.project)
        .Bind(2, m.user)
        .Bind(3, static_cast<int64_t>(m.role))
        .Bind(4, int64_t{m.is_default});
    return stmt.Run();
  }

  absl::Status Put(const quota::Limit& l) override {
    ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(R"sql(
        INSERT INTO limits (project, user, max_gpus, max_cpus, max_nodes, max_pending_jobs,
                            max_walltime_s)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        ON CONFLICT (project, user) DO UPDATE SET
          max_gpus = excluded.max_gpus, max_cpus = excluded.max_cpus,
          max_nodes = excluded.max_nodes, max_pending_jobs = excluded.max_pending_jobs,
          max_walltime_s = excluded.max_walltime_s)sql"));
    stmt.Bind(1, l.project)
        .Bind(2, l.user)
        .Bind(3, int64_t{l.max_gpus})
        .Bind(4, int64_t{l.max_cpus})
        .Bind(5, int64_t{l.max_nodes})
        .Bind(6, int64_t{l.max_pending_jobs})
        .Bind(7, absl::ToInt64Seconds(l.max_walltime));
    return stmt.Run();
  }

  absl::StatusOr<quota::GrantId> Put(const StoredGrant& g) override {
    // ?1 NULL lets AUTOINCREMENT pick the id; an explicit id above the highest moves the
    // sequence past it, so ids are still never reused.
    ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(R"sql(
        INSERT INTO grants (id, project, resource, amount_milli, valid_from, valid_until,
                            reference)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
        ON CONFLICT (id) DO UPDATE SET
          project = excluded.project, resource = excluded.resource,
          amount_milli = excluded.amount_milli, valid_from = excluded.valid_from,
          valid_until = excluded.valid_until, reference = excluded.reference)sql"));
    if (g.grant.id == 0) {
      stmt.BindNull(1);
    } else {
      stmt.Bind(1, static_cast<int64_t>(g.grant.id));
    }
    stmt.Bind(2, g.grant.project).Bind(3, g.resource).Bind(4, g.grant.amount.milli());
    BindBound(stmt, 5, g.grant.valid_from);
    BindBound(stmt, 6, g.grant.valid_until);
    stmt.Bind(7, g.grant.reference);
    RETURN_IF_ERROR(stmt.Run());
    return g.grant.id != 0 ? g.grant.id : static_cast<quota::GrantId>(conn_.LastInsertId());
  }

  absl::Status Remove(const quota::Account& a) override {
    return Delete(conn_, "DELETE FROM accounts WHERE name = ?1", a.name);
  }
  absl::Status Remove(const quota::Project& p) override {
    return Delete(conn_, "DELETE FROM projects WHERE name = ?1", p.name);
  }
  absl::Status Remove(const quota::Member& m) override {
    return Delete(conn_, "DELETE FROM members WHERE project = ?1 AND user = ?2", m.project,
                  &m.user);
  }
  absl::Status Remove(const quota::Limit& l) override {
    return Delete(conn_, "DELETE FROM limits WHERE project = ?1 AND user = ?2", l.project, &l.user);
  }
  absl::Status Remove(const StoredGrant& g) override {
    ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare("DELETE FROM grants WHERE id = ?1"));
    stmt.Bind(1, static_cast<int64_t>(g.grant.id));
    return stmt.Run();
  }

  absl::Status Append(AuditRecord& audit) override {
    ASSIGN_OR_RETURN(Statement stmt, conn_.Prepare(R"sql(
        INSERT INTO audit (time, user, peer, action, target, details, ok)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7))sql"));
    stmt.BindTime(1, audit.time)
        .Bind(2, audit.user)
        .Bind(3, audit.peer)
        .Bind(4, audit.action)
        .Bind(5, audit.target)
        .Bind(6, audit.details)
        .Bind(7, int64_t{audit.ok});
    RETURN_IF_ERROR(stmt.Run());
    audit.id = static_cast<uint64_t>(conn_.LastInsertId());
    return absl::OkStatus();
  }

 private:
  Connection& conn_;
};

absl::StatusOr<std::vector<quota::Account>> SelectAccounts(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT name, kind, description, create_time "
                                                "FROM accounts ORDER BY name"));
  std::vector<quota::Account> accounts;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return accounts;
    quota::Account a{.name = stmt.Text(0),
                     .kind = static_cast<quota::AccountKind>(stmt.Int(1)),
                     .description = stmt.Text(2),
                     .create_time = stmt.Time(3)};
    if (quota::ParseAccountKind(quota::AccountKindName(a.kind)) != a.kind) {
      return Corrupt(
          absl::StrCat("account \"", a.name, "\" has an unknown kind (", stmt.Int(1), ")"));
    }
    accounts.push_back(std::move(a));
  }
}

absl::StatusOr<std::vector<quota::Project>> SelectProjects(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt,
                   conn.Prepare("SELECT name, account, share, description, create_time "
                                "FROM projects ORDER BY name"));
  std::vector<quota::Project> projects;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return projects;
    projects.push_back({.name = stmt.Text(0),
                        .account = stmt.Text(1),
                        .share = static_cast<uint32_t>(stmt.Int(2)),
                        .description = stmt.Text(3),
                        .create_time = stmt.Time(4)});
  }
}

absl::StatusOr<std::vector<quota::Member>> SelectMembers(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare("SELECT project, user, role, is_default "
                                                "FROM members ORDER BY project, user"));
  std::vector<quota::Member> members;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return members;
    quota::Member m{.project = stmt.Text(0),
                    .user = stmt.Text(1),
                    .role = static_cast<quota::ProjectRole>(stmt.Int(2)),
                    .is_default = stmt.Int(3) != 0};
    if (quota::ParseProjectRole(quota::ProjectRoleName(m.role)) != m.role) {
      return Corrupt(absl::StrCat("member \"", m.user, "\" of project \"", m.project,
                                  "\" has an unknown role (", stmt.Int(2), ")"));
    }
    members.push_back(std::move(m));
  }
}

absl::StatusOr<std::vector<StoredGrant>> SelectGrants(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(R"sql(
      SELECT id, project, resource, amount_milli, valid_from, valid_until, reference
      FROM grants ORDER BY id)sql"));
  std::vector<StoredGrant> grants;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return grants;
    StoredGrant g;
    g.grant.id = static_cast<quota::GrantId>(stmt.Int(0));
    g.grant.project = stmt.Text(1);
    g.resource = stmt.Text(2);
    g.grant.amount = quota::MilliUnits::FromMilli(stmt.Int(3));
    g.grant.valid_from = stmt.Time(4);
    g.grant.valid_until = ReadUntil(stmt, 5);
    g.grant.reference = stmt.Text(6);
    grants.push_back(std::move(g));
  }
}

absl::StatusOr<std::vector<quota::Limit>> SelectLimits(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(R"sql(
      SELECT project, user, max_gpus, max_cpus, max_nodes, max_pending_jobs, max_walltime_s
      FROM limits ORDER BY project, user)sql"));
  std::vector<quota::Limit> limits;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return limits;
    limits.push_back({.project = stmt.Text(0),
                      .user = stmt.Text(1),
                      .max_gpus = static_cast<uint32_t>(stmt.Int(2)),
                      .max_cpus = static_cast<uint32_t>(stmt.Int(3)),
                      .max_nodes = static_cast<uint32_t>(stmt.Int(4)),
                      .max_pending_jobs = static_cast<uint32_t>(stmt.Int(5)),
                      .max_walltime = absl::Seconds(stmt.Int(6))});
  }
}

}  // namespace

absl::StatusOr<uint64_t> ApplyQuotaChangeRows(Connection& conn,
                                              const std::vector<QuotaChange>& changes,
                                              const AuditRecord& audit) {
  SqlQuotaTables tables(conn);
  return ApplyQuotaChangeList(tables, changes, audit);
}

absl::Status InsertAuditRow(Connection& conn, AuditRecord audit) {
  StampAudit(audit);
  SqlQuotaTables tables(conn);
  return tables.Append(audit);
}

absl::StatusOr<QuotaModel> SelectQuotaModel(Connection& conn) {
  QuotaModel model;
  ASSIGN_OR_RETURN(model.accounts, SelectAccounts(conn));
  ASSIGN_OR_RETURN(model.projects, SelectProjects(conn));
  ASSIGN_OR_RETURN(model.members, SelectMembers(conn));
  ASSIGN_OR_RETURN(model.grants, SelectGrants(conn));
  ASSIGN_OR_RETURN(model.limits, SelectLimits(conn));
  return model;
}

absl::StatusOr<std::vector<AuditRecord>> SelectAudit(Connection& conn, const AuditFilter& filter) {
  // As in SelectJobs, the text depends only on which filters are set.
  std::string sql = "SELECT id, time, user, peer, action, target, details, ok FROM audit WHERE 1";
  int n = 0;
  const bool from = filter.from != absl::InfinitePast();
  const bool until = filter.until != absl::InfiniteFuture();
  if (from) absl::StrAppend(&sql, " AND time >= ?", ++n);
  if (until) absl::StrAppend(&sql, " AND time < ?", ++n);
  if (!filter.user.empty()) absl::StrAppend(&sql, " AND user = ?", ++n);
  if (filter.before_id != 0) absl::StrAppend(&sql, " AND id < ?", ++n);
  absl::StrAppend(&sql, " ORDER BY id DESC");
  if (filter.limit != 0) absl::StrAppend(&sql, " LIMIT ?", ++n);

  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(sql));
  n = 0;
  if (from) stmt.Bind(++n, absl::ToUnixMicros(filter.from));
  if (until) stmt.Bind(++n, absl::ToUnixMicros(filter.until));
  if (!filter.user.empty()) stmt.Bind(++n, filter.user);
  if (filter.before_id != 0) stmt.Bind(++n, static_cast<int64_t>(filter.before_id));
  if (filter.limit != 0) stmt.Bind(++n, int64_t{filter.limit});
  std::vector<AuditRecord> records;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return records;
    records.push_back({.id = static_cast<uint64_t>(stmt.Int(0)),
                       .time = stmt.Time(1),
                       .user = stmt.Text(2),
                       .peer = stmt.Text(3),
                       .action = stmt.Text(4),
                       .target = stmt.Text(5),
                       .details = stmt.Text(6),
                       .ok = stmt.Int(7) != 0});
  }
}

}  // namespace drocc::store
