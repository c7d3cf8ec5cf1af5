#pragma once

// Status helpers shared by every component: errors cross component boundaries as
// absl::Status / absl::StatusOr<T>, never as exceptions.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define DROCC_CONCAT_INNER_(a, b) a##b
#define DROCC_CONCAT_(a, b) DROCC_CONCAT_INNER_(a, b)

// Returns from the current function if `expr` (an absl::Status) is not OK.
#define RETURN_IF_ERROR(expr)              \
  do {                                     \
    ::absl::Status drocc_status_ = (expr); \
    if (!drocc_status_.ok()) {             \
      return drocc_status_;                \
    }                                      \
  } while (0)

// ASSIGN_OR_RETURN(auto x, StatusOrExpr()): assigns the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL_(DROCC_CONCAT_(drocc_statusor_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) {                             \
    return tmp.status();                       \
  }                                            \
  lhs = std::move(tmp).value()
