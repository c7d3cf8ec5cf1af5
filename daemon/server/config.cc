#include "daemon/server/config.h"

#include <toml++/toml.h>
#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/resource_name.h"

namespace drocc::server {
namespace {

// Reads typed keys of one table and remembers which were seen, to report unknown ones.
class Table {
 public:
  Table(const toml::table* t, std::string name) : t_(t), name_(std::move(name)) {}

  absl::Status String(const char* key, std::string& out) {
    return Get<std::string>(key, "a string", [&](const std::string& v) {
      out = v;
      return absl::OkStatus();
    });
  }
  absl::Status Int(const char* key, int64_t min, int64_t max, auto& out) {
    return Get<int64_t>(key, "an integer", [&](int64_t v) {
      if (v < min || v > max) {
        return absl::InvalidArgumentError(
            absl::StrCat(name_, ".", key, " = ", v, " is out of range [", min, ", ", max, "]"));
      }
      out = static_cast<std::remove_reference_t<decltype(out)>>(v);
      return absl::OkStatus();
    });
  }
  // A list of strings.
  absl::Status Strings(const char* key, std::vector<std::string>& out) {
    seen_.insert(key);
    if (t_ == nullptr || t_->get(key) == nullptr) return absl::OkStatus();
    const toml::array* a = t_->get(key)->as_array();
    if (a == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(name_, ".", key, " must be a list of strings"));
    }
    out.clear();
    for (const toml::node& n : *a) {
      std::optional<std::string> v = n.value_exact<std::string>();
      if (!v) {
        return absl::InvalidArgumentError(
            absl::StrCat(name_, ".", key, " must be a list of strings"));
      }
      out.push_back(*v);
    }
    return absl::OkStatus();
  }
  // A non-negative decimal weight with at most three decimals, in thousandths.
  absl::Status Weight(const char* key, int64_t& out) {
    seen_.insert(key);
    if (t_ == nullptr || t_->get(key) == nullptr) return absl::OkStatus();
    std::optional<double> v = t_->get(key)->value<double>();
    const double milli = v ? *v * 1000.0 : -1;
    if (!v || !std::isfinite(milli) || milli < 0 || milli > 1e12 ||
        std::abs(milli - std::round(milli)) > 1e-6) {
      return absl::InvalidArgumentError(absl::StrCat(
          name_, ".", key, " must be a number >= 0 with at most three decimals (e.g. 8.0)"));
    }
    out = static_cast<int64_t>(std::llround(milli));
    return absl::OkStatus();
  }
  // Marks `key` as known and returns its node, if present.
  const toml::node* Seen(const char* key) {
    seen_.insert(key);
    return t_ == nullptr ? nullptr : t_->get(key);
  }
  absl::Status Unknown() const {
    if (t_ == nullptr) return absl::OkStatus();
    for (const auto& [k, v] : *t_) {
      if (seen_.count(std::string(k.str())) == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "unknown key ", name_, ".", std::string(k.str()), " (see deploy/droccd.example.toml)"));
      }
    }
    return absl::OkStatus();
  }

 private:
  template <typename T, typename F>
  absl::Status Get(const char* key, const char* what, F&& set) {
    seen_.insert(key);
    if (t_ == nullptr) return absl::OkStatus();
    const toml::node* n = t_->get(key);
    if (n == nullptr) return absl::OkStatus();
    std::optional<T> v = n->value_exact<T>();
    if (!v) {
      return absl::InvalidArgumentError(absl::StrCat(name_, ".", key, " must be ", what));
    }
    return set(*v);
  }

  const toml::table* t_;
  std::string name_;
  std::set<std::string> seen_;
};

#define DROCC_TRY(expr)              \
  do {                               \
    absl::Status s_ = (expr);        \
    if (!s_.ok()) return prefix(s_); \
  } while (0)

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view text, std::string_view source) {
  auto prefix = [&](const absl::Status& s) {
    return absl::Status(s.code(), absl::StrCat(std::string(source), ": ", s.message()));
  };
  toml::table root;
  try {
    // Debian's toml++ is built with exceptions; none leaves this function.
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(std::string(source), ":", e.source().begin.line,
                                                   ":", e.source().begin.column, ": ",
                                                   std::string(e.description())));
  }
  static const std::set<std::string> kTables = {"server", "store", "admission", "quota", "slurm",
                                                "auth",   "tls",   "limits",    "log"};
  for (const auto& [k, v] : root) {
    if (kTables.count(std::string(k.str())) == 0 || !v.is_table()) {
      return prefix(absl::InvalidArgumentError(absl::StrCat(
          "unknown section [", std::string(k.str()), "] (see deploy/droccd.example.toml)")));
    }
  }
  Config c;
  Table server(root["server"].as_table(), "server");
  std::string mode;
  DROCC_TRY(server.String("socket", c.socket));
  DROCC_TRY(server.String("socket_mode", mode));
  if (!mode.empty()) {
    uint32_t m = 0;
    auto [end, ec] = std::from_chars(mode.data(), mode.data() + mode.size(), m, 8);
    if (ec != std::errc() || end != mode.data() + mode.size() || m > 0777) {
      return prefix(absl::InvalidArgumentError(
          absl::StrCat("server.socket_mode \"", mode, "\" is not an octal mode like \"0666\"")));
    }
    c.socket_mode = m;
  }
  DROCC_TRY(server.String("tcp_listen", c.tcp_listen));
  DROCC_TRY(server.String("job_address", c.job_address));
  DROCC_TRY(server.Int("shutdown_grace_s", 0, 3600, c.shutdown_grace_s));
  DROCC_TRY(server.Unknown());

  Table store(root["store"].as_table(), "store");
  DROCC_TRY(store.String("path", c.store_path));
  DROCC_TRY(store.Unknown());

  Table admission(root["admission"].as_table(), "admission");
  DROCC_TRY(admission.Int("max_jobs_in_slurm", 0, 1'000'000, c.max_jobs_in_slurm));
  DROCC_TRY(admission.Unknown());

  Table quota(root["quota"].as_table(), "quota");
  DROCC_TRY(quota.Int("fair_share_half_life_h", 1, 24 * 365 * 10, c.fair_share_half_life_h));
  DROCC_TRY(quota.String("fair_share_resource", c.fair_share_resource));
  DROCC_TRY(quota.Int("default_time_limit_min", 1, 60 * 24 * 365, c.default_time_limit_min));
  DROCC_TRY(quota.Strings("always_billed", c.always_billed));
  if (const toml::node* units = quota.Seen("billing_units")) {
    const toml::array* a = units->as_array();
    if (a == nullptr || !a->is_array_of_tables()) {
      return prefix(absl::InvalidArgumentError(
          "quota.billing_units must be a list of tables: [[quota.billing_units]]"));
    }
    for (const toml::node& n : *a) {
      Table unit(n.as_table(), "quota.billing_units");
      Config::BillingUnit u;
      DROCC_TRY(unit.String("name", u.name));
      if (!IsResourceName(u.name)) {
        return prefix(absl::InvalidArgumentError(absl::StrCat(
            "quota.billing_units: name \"", absl::CEscape(u.name),
            "\" is not a resource name: use a letter, then letters, digits, - or _ (at most ",
            kMaxResourceNameLength, " characters), e.g. \"billing-hours\"")));
      }
      DROCC_TRY(unit.Weight("node_weight", u.node_weight_milli));
      DROCC_TRY(unit.Weight("cpu_weight", u.cpu_weight_milli));
      DROCC_TRY(unit.Weight("gpu_weight", u.gpu_weight_milli));
      DROCC_TRY(unit.Unknown());
      c.billing_units.push_back(std::move(u));
    }
  }
  DROCC_TRY(quota.Unknown());

  Table slurm(root["slurm"].as_table(), "slurm");
  DROCC_TRY(slurm.String("conf", c.slurm_conf));
  DROCC_TRY(slurm.Int("poll_interval_ms", 100, 600'000, c.poll_interval_ms));
  DROCC_TRY(slurm.Int("reconcile_interval_s", 10, 86400, c.reconcile_interval_s));
  DROCC_TRY(slurm.Unknown());

  Table auth(root["auth"].as_table(), "auth");
  DROCC_TRY(auth.String("admin_group", c.admin_group));
  DROCC_TRY(auth.Int("min_uid", 0, 1'000'000'000, c.min_uid));
  DROCC_TRY(auth.Int("munge_ttl_s", 1, 86400, c.munge_ttl_s));
  DROCC_TRY(auth.Unknown());

  Table limits(root["limits"].as_table(), "limits");
  DROCC_TRY(limits.Int("submit_rate_per_s", 0, 1'000'000, c.submit_rate_per_s));
  DROCC_TRY(limits.Int("submit_burst", 1, 1'000'000, c.submit_burst));
  DROCC_TRY(limits.Unknown());

  Table tls(root["tls"].as_table(), "tls");
  DROCC_TRY(tls.String("listen", c.tls_listen));
  DROCC_TRY(tls.String("cert", c.tls_cert));
  DROCC_TRY(tls.String("key", c.tls_key));
  DROCC_TRY(tls.String("client_ca", c.tls_client_ca));
  DROCC_TRY(tls.Unknown());
  if (!c.tls_listen.empty() && (c.tls_cert.empty() || c.tls_key.empty())) {
    return prefix(absl::InvalidArgumentError(
        "tls.listen is set but tls.cert or tls.key is not: give the PEM files of the server's "
        "certificate chain and private key"));
  }

  Table log(root["log"].as_table(), "log");
  DROCC_TRY(log.String("level", c.log_level));
  DROCC_TRY(log.String("file", c.log_file));
  DROCC_TRY(log.Unknown());
  static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error"};
  if (kLevels.count(c.log_level) == 0) {
    return prefix(absl::InvalidArgumentError(absl::StrCat(
        "log.level \"", c.log_level, "\" is not one of trace, debug, info, warn, error")));
  }
  if (c.socket.empty() && c.tcp_listen.empty() && c.tls_listen.empty()) {
    return prefix(absl::InvalidArgumentError(
        "none of server.socket, server.tcp_listen and tls.listen is set: droccd would not "
        "listen at all"));
  }
  if (c.job_address.empty()) {
    c.job_address = !c.socket.empty() ? absl::StrCat("unix:", c.socket) : c.tcp_listen;
  }
  return c;
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read the configuration file ", path,
                                            " (does it exist? pass --config PATH)"));
  }
  std::stringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path);
}

}  // namespace drocc::server
