#pragma once

// What the gRPC services need, wired by daemon/server.

#include <cstdint>

#include "common/clock.h"
#include "daemon/api/authenticator.h"
#include "daemon/api/policy.h"
#include "daemon/api/rate_limiter.h"
#include "daemon/api/service_tokens.h"
#include "daemon/auth/job_token.h"
#include "daemon/manager/job_manager.h"
#include "daemon/store/store.h"

namespace drocc::api {

struct ApiLimits {
  uint32_t min_uid = 1000;            // no jobs for root or system accounts
  size_t max_script_bytes = 4 << 20;  // 4 MiB
  size_t max_environment_bytes = 1 << 20;
  uint32_t max_page_size = 1000;
  uint32_t default_page_size = 100;
};

struct ApiDeps {
  store::Store* store = nullptr;
  manager::JobManager* manager = nullptr;
  const Authenticator* authenticator = nullptr;
  const Policy* policy = nullptr;
  const Clock* clock = nullptr;
  const auth::JobTokens* job_tokens = nullptr;     // null: RuntimeService refuses every call
  ServiceTokenRegistry* service_tokens = nullptr;  // null: no service tokens
  RateLimiter* submit_limiter = nullptr;           // SubmitJob, EstimateJob; null: no limit
  ApiLimits limits;
};

}  // namespace drocc::api
