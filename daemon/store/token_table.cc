#include "daemon/store/token_table.h"

#include "common/status.h"
#include "daemon/store/quota_table.h"

namespace drocc::store {
namespace {

// NULL for "never": InfiniteFuture expires never, InfinitePast was never used.
void BindOptionalTime(Statement& stmt, int index, absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    stmt.BindNull(index);
  } else {
    stmt.BindTime(index, t);
  }
}

}  // namespace

absl::Status PutServiceTokenRow(Connection& conn, const ServiceTokenRecord& t,
                                const AuditRecord& audit) {
  ASSIGN_OR_RETURN(Statement put, conn.Prepare(R"sql(
      INSERT OR REPLACE INTO service_tokens (id, secret_hash, user, uid, project, description,
        created_by, create_time, expire_time, last_used_time, revoked)
      VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11))sql"));
  put.Bind(1, t.id)
      .Bind(2, t.secret_hash)
      .Bind(3, t.user)
      .Bind(4, int64_t{t.uid})
      .Bind(5, t.project)
      .Bind(6, t.description)
      .Bind(7, t.created_by)
      .BindTime(8, t.create_time);
  BindOptionalTime(put, 9, t.expire_time);
  BindOptionalTime(put, 10, t.last_used_time);
  put.Bind(11, int64_t{t.revoked ? 1 : 0});
  RETURN_IF_ERROR(put.Run());
  if (audit.action.empty()) return absl::OkStatus();
  return InsertAuditRow(conn, audit);
}

absl::StatusOr<std::vector<ServiceTokenRecord>> SelectServiceTokens(Connection& conn) {
  ASSIGN_OR_RETURN(Statement stmt, conn.Prepare(R"sql(
      SELECT id, secret_hash, user, uid, project, description, created_by, create_time,
        expire_time, last_used_time, revoked FROM service_tokens ORDER BY id)sql"));
  std::vector<ServiceTokenRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    ServiceTokenRecord t;
    t.id = stmt.Text(0);
    t.secret_hash = stmt.Text(1);
    t.user = stmt.Text(2);
    t.uid = static_cast<uint32_t>(stmt.Int(3));
    t.project = stmt.Text(4);
    t.description = stmt.Text(5);
    t.created_by = stmt.Text(6);
    t.create_time = stmt.Time(7);
    t.expire_time = stmt.IsNull(8) ? absl::InfiniteFuture() : stmt.Time(8);
    t.last_used_time = stmt.Time(9);
    t.revoked = stmt.Int(10) != 0;
    out.push_back(std::move(t));
  }
}

}  // namespace drocc::store
