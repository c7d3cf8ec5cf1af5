#pragma once

// droccd's configuration, read from TOML (deploy/droccd.example.toml documents every key).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace drocc::server {

inline constexpr char kDefaultConfigPath[] = "/etc/drocc/droccd.toml";

struct Config {
  // [server]
  std::string socket = "/run/drocc/droccd.sock";
  uint32_t socket_mode = 0666;
  std::string tcp_listen;  // empty: no TCP listener
  // How jobs reach droccd (DROCC_SERVER in their environment); empty: "unix:<socket>", else
  // tcp_listen.
  std::string job_address;
  int64_t shutdown_grace_s = 10;
  // [store]
  std::string store_path = "/var/lib/drocc/droccd.db";
  // [admission]
  uint32_t max_jobs_in_slurm = 64;
  // [quota]
  int64_t fair_share_half_life_h = 168;
  std::string fair_share_resource = "node-hours";
  int64_t default_time_limit_min = 60;
  std::vector<std::string> always_billed = {"gpu-hours"};
  struct BillingUnit {
    std::string name;
    int64_t node_weight_milli = 0;
    int64_t cpu_weight_milli = 0;
    int64_t gpu_weight_milli = 0;
    bool operator==(const BillingUnit&) const = default;
  };
  std::vector<BillingUnit> billing_units;
  // [slurm]
  std::string slurm_conf;
  int64_t poll_interval_ms = 1000;
  int64_t reconcile_interval_s = 60;
  // [auth]
  std::string admin_group = "drocc-admins";
  uint32_t min_uid = 1000;
  int64_t munge_ttl_s = 300;
  // [limits] per-user rate of SubmitJob and EstimateJob calls (a token bucket); 0: no limit
  uint32_t submit_rate_per_s = 100;
  uint32_t submit_burst = 1000;
  // [tls]: remote access with service tokens (docs/security.md).
  std::string tls_listen;     // e.g. "0.0.0.0:7443"; empty: no TLS listener
  std::string tls_cert;       // PEM: the server's certificate chain
  std::string tls_key;        // PEM: its private key
  std::string tls_client_ca;  // PEM: if set, clients must present a certificate it signed
  // [log]
  std::string log_level = "info";
  std::string log_file;
  bool operator==(const Config&) const = default;
};

// Parses TOML text; `source` names it in errors. Unknown keys and wrong types are errors
// (INVALID_ARGUMENT naming the key and what is expected), so a typo never goes unnoticed.
absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view source);

// Reads a file. A missing file is NOT_FOUND.
absl::StatusOr<Config> LoadConfig(const std::string& path);

}  // namespace drocc::server
