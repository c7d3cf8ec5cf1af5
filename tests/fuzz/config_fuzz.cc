// Fuzzes droccd's configuration parser, ParseConfig (daemon/server/config.h; TOML through
// toml++). Besides not crashing or leaking (toml++ throws on bad TOML; nothing may escape):
// an accepted configuration keeps every documented bound, and written back as TOML it parses
// to the same Config (so no value is read differently from how it was written).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>

#include <toml++/toml.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "daemon/server/config.h"
#include "tests/fuzz/fuzz_check.h"

namespace drocc::server {
namespace {

// `c` as droccd.toml text, every key written out.
std::string ToToml(const Config& c) {
  toml::array always_billed;
  for (const std::string& r : c.always_billed) always_billed.push_back(r);
  toml::array units;
  for (const Config::BillingUnit& u : c.billing_units) {
    units.push_back(toml::table{{"name", u.name},
                                {"node_weight", static_cast<double>(u.node_weight_milli) / 1000},
                                {"cpu_weight", static_cast<double>(u.cpu_weight_milli) / 1000},
                                {"gpu_weight", static_cast<double>(u.gpu_weight_milli) / 1000}});
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", c.socket_mode);
  toml::table root{
      {"server", toml::table{{"socket", c.socket},
                             {"socket_mode", std::string(mode)},
                             {"tcp_listen", c.tcp_listen},
                             {"job_address", c.job_address},
                             {"shutdown_grace_s", c.shutdown_grace_s}}},
      {"store", toml::table{{"path", c.store_path}}},
      {"admission", toml::table{{"max_jobs_in_slurm", int64_t{c.max_jobs_in_slurm}}}},
      {"quota", toml::table{{"fair_share_half_life_h", c.fair_share_half_life_h},
                            {"fair_share_resource", c.fair_share_resource},
                            {"default_time_limit_min", c.default_time_limit_min},
                            {"always_billed", always_billed}}},
      {"slurm", toml::table{{"conf", c.slurm_conf},
                            {"poll_interval_ms", c.poll_interval_ms},
                            {"reconcile_interval_s", c.reconcile_interval_s}}},
      {"auth", toml::table{{"admin_group", c.admin_group},
                           {"min_uid", int64_t{c.min_uid}},
                           {"munge_ttl_s", c.munge_ttl_s}}},
      {"tls", toml::table{{"listen", c.tls_listen},
                          {"cert", c.tls_cert},
                          {"key", c.tls_key},
                          {"client_ca", c.tls_client_ca}}},
      {"limits", toml::table{{"submit_rate_per_s", int64_t{c.submit_rate_per_s}},
                             {"submit_burst", int64_t{c.submit_burst}}}},
      {"log", toml::table{{"level", c.log_level}, {"file", c.log_file}}},
  };
  if (!units.empty()) root["quota"].as_table()->insert("billing_units", units);
  // toml++ 3.3 writes a string that holds a newline as a literal string, which TOML does not
  // allow, or, when it starts with one, as a multi-line literal whose first newline every
  // reader drops: its writer's slips, not the parser's, so the text is written with basic
  // strings only (newlines escaped).
  std::ostringstream out;
  out << toml::toml_formatter(
      root, toml::toml_formatter::default_flags & ~(toml::format_flags::allow_multi_line_strings |
                                                    toml::format_flags::allow_literal_strings));
  return out.str();
}

void CheckBounds(const Config& c) {
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  DROCC_FUZZ_CHECK(kLevels.count(c.log_level) == 1, c.log_level);
  DROCC_FUZZ_CHECK(!c.socket.empty() || !c.tcp_listen.empty() || !c.tls_listen.empty(),
                   "no listener");
  DROCC_FUZZ_CHECK(c.tls_listen.empty() || (!c.tls_cert.empty() && !c.tls_key.empty()),
                   "a TLS listener without a certificate or key");
  DROCC_FUZZ_CHECK(!c.job_address.empty(), "empty job_address");
  DROCC_FUZZ_CHECK(c.socket_mode <= 0777, absl::StrCat("socket_mode ", c.socket_mode));
  DROCC_FUZZ_CHECK(c.shutdown_grace_s >= 0 && c.shutdown_grace_s <= 3600,
                   absl::StrCat(c.shutdown_grace_s));
  DROCC_FUZZ_CHECK(c.fair_share_half_life_h >= 1, absl::StrCat(c.fair_share_half_life_h));
  DROCC_FUZZ_CHECK(c.default_time_limit_min >= 1, absl::StrCat(c.default_time_limit_min));
  DROCC_FUZZ_CHECK(c.poll_interval_ms >= 100 && c.poll_interval_ms <= 600'000,
                   absl::StrCat(c.poll_interval_ms));
  DROCC_FUZZ_CHECK(c.reconcile_interval_s >= 10 && c.reconcile_interval_s <= 86400,
                   absl::StrCat(c.reconcile_interval_s));
  DROCC_FUZZ_CHECK(c.munge_ttl_s >= 1 && c.munge_ttl_s <= 86400, absl::StrCat(c.munge_ttl_s));
  for (const Config::BillingUnit& u : c.billing_units) {
    DROCC_FUZZ_CHECK(u.node_weight_milli >= 0 && u.cpu_weight_milli >= 0 && u.gpu_weight_milli >= 0,
                     absl::StrCat("negative weight in billing unit ", u.name));
  }
}

}  // namespace
}  // namespace drocc::server

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace drocc::server;
  const absl::StatusOr<Config> config = ParseConfig(drocc::fuzz::AsText(data, size), "fuzz.toml");
  if (!config.ok()) {
    DROCC_FUZZ_CHECK(absl::IsInvalidArgument(config.status()), config.status().ToString());
    DROCC_FUZZ_CHECK(absl::StartsWith(config.status().message(), "fuzz.toml:"),
                     absl::StrCat("error does not name the file: ", config.status().message()));
    return 0;
  }
  CheckBounds(*config);
  const std::string text = ToToml(*config);
  const absl::StatusOr<Config> again = ParseConfig(text, "rewritten.toml");
  DROCC_FUZZ_CHECK(again.ok(), absl::StrCat(again.status().ToString(), " in\n", text));
  DROCC_FUZZ_CHECK(*config == *again, absl::StrCat("read back differently:\n", text));
  return 0;
}
