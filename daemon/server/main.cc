// droccd: the drocc daemon. Wires the components together and serves the v1 API on a Unix
// socket (peer credentials) and optionally on TCP (MUNGE credentials).

#include <fcntl.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_builder.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/escaping.h"
#include "common/logging.h"
#include "common/read_file.h"
#include "common/status.h"
#include "daemon/api/admin_service.h"
#include "daemon/api/job_service.h"
#include "daemon/api/project_service.h"
#include "daemon/api/runtime_service.h"
#include "daemon/auth/job_token.h"
#include "daemon/auth/service_token.h"
#include "daemon/auth/users.h"
#include "daemon/manager/job_manager.h"
#include "daemon/server/config.h"
#include "daemon/server/memory_trimmer.h"
#include "daemon/server/unix_listener.h"
#include "daemon/slurm/slurm_backend.h"
#include "daemon/store/sqlite_store.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/basic_file_sink.h"

namespace drocc::server {
namespace {

constexpr char kVersion[] = "0.1.0";

absl::Status SetUpLogging(const Config& cfg) {
  try {
    if (!cfg.log_file.empty()) {
      spdlog::set_default_logger(spdlog::basic_logger_mt("droccd", cfg.log_file));
    }
  } catch (const spdlog::spdlog_ex& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot open log file ", cfg.log_file, ": ", e.what()));
  }
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  spdlog::flush_on(spdlog::level::info);
  return absl::OkStatus();
}

// Two daemons on one database would each admit the same jobs. The lock is held for the
// process's lifetime and released by the kernel however it ends, SIGKILL included.
absl::Status LockDatabase(const std::string& db_path) {
  std::string path = db_path + ".lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", path, ": ", strerror(errno), "; check store.path"));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrCat("another droccd is using the job database ",
                                                      db_path, " (", path,
                                                      " is locked); stop it first"));
  }
  return absl::OkStatus();  // fd stays open: the lock lives as long as the process
}

absl::StatusOr<manager::QuotaOptions> QuotaOptionsFrom(const Config& cfg) {
  std::vector<quota::BillingUnit> units;
  for (const Config::BillingUnit& u : cfg.billing_units) {
    units.push_back({.name = u.name,
                     .node_weight_milli = u.node_weight_milli,
                     .cpu_weight_milli = u.cpu_weight_milli,
                     .gpu_weight_milli = u.gpu_weight_milli});
  }
  auto catalog = quota::ResourceCatalog::Create(std::move(units), cfg.always_billed);
  if (!catalog.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("[quota] in the configuration: ", catalog.status().message()));
  }
  std::optional<quota::ResourceId> fs = catalog->Find(cfg.fair_share_resource);
  if (!fs) {
    return absl::InvalidArgumentError(
        absl::StrCat("quota.fair_share_resource \"", cfg.fair_share_resource,
                     "\" is not gpu-hours, cpu-hours, node-hours or a configured billing unit"));
  }
  manager::QuotaOptions o{.catalog = *std::move(catalog)};
  o.fair_share = {.half_life = absl::Hours(cfg.fair_share_half_life_h), .resource = *fs};
  o.default_time_limit = absl::Minutes(cfg.default_time_limit_min);
  return o;
}

// The key of the per-job tokens: made once, then kept in the database (auth/job_token.h).
absl::StatusOr<auth::JobTokens> LoadJobTokens(store::Store& store) {
  constexpr char kKeySetting[] = "runtime.job_token_key";
  ASSIGN_OR_RETURN(std::optional<std::string> key, store.GetSetting(kKeySetting));
  if (!key) {
    ASSIGN_OR_RETURN(key, auth::JobTokens::NewKey());
    RETURN_IF_ERROR(store::PutSettingAndWait(store, kKeySetting, *key));
  }
  return auth::JobTokens::FromKey(*key);
}

constexpr char kSlurmHealthService[] = "slurm";

// This job database's instance id, written into the comment of each job handed to Slurm
// (slurm::DroccTag): made once, then kept in the database, so a restored backup still knows
// its jobs. A database that already had jobs when the id was made came from a droccd that
// tagged nothing: its untagged Slurm jobs are taken as its own.
struct Instance {
  std::string id;
  bool adopt_untagged = false;
};
absl::StatusOr<Instance> LoadInstance(store::Store& store) {
  constexpr char kInstanceSetting[] = "slurm.instance";
  ASSIGN_OR_RETURN(std::optional<std::string> stored, store.GetSetting(kInstanceSetting));
  if (stored) {
    auto j = nlohmann::json::parse(*stored, nullptr, /*allow_exceptions=*/false);
    Instance instance{.id = j.is_object() ? j.value("id", "") : "",
                      .adopt_untagged = j.is_object() && j.value("adopt_untagged", false)};
    if (!slurm::IsValidInstance(instance.id)) {
      return absl::DataLossError(absl::StrCat("the job database's setting ", kInstanceSetting,
                                              " is damaged (", *stored,
                                              "); restore the database from a backup"));
    }
    return instance;
  }
  ASSIGN_OR_RETURN(std::string bytes, auth::RandomBytes(4));
  ASSIGN_OR_RETURN(std::vector<queue::Job> earlier, store.ListJobs({.limit = 1}));
  Instance instance{.id = absl::BytesToHexString(bytes), .adopt_untagged = !earlier.empty()};
  nlohmann::json j = {{"id", instance.id}, {"adopt_untagged", instance.adopt_untagged}};
  RETURN_IF_ERROR(store::PutSettingAndWait(store, kInstanceSetting, j.dump()));
  spdlog::info("this job database is drocc instance {}", instance.id);
  return instance;
}

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path, what));
  if (text.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " \"", path, "\" is empty; it must be a PEM file"));
  }
  return text;
}

// The TLS listener's credentials: cert and key, and a client CA to verify clients against.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsCredentials(const Config& cfg) {
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(cfg.tls_cert, "tls.cert"));
  ASSIGN_OR_RETURN(pair.private_key, ReadPem(cfg.tls_key, "tls.key"));
  options.pem_key_cert_pairs.push_back(std::move(pair));
  if (!cfg.tls_client_ca.empty()) {
    ASSIGN_OR_RETURN(options.pem_root_certs, ReadPem(cfg.tls_client_ca, "tls.client_ca"));
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

int Fail(const absl::Status& s) {
  spdlog::critical("{}", s.message());
  return 1;
}

int Run(const Config& cfg) {
  // Signals are taken by sigwait() below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (absl::Status s = LockDatabase(cfg.store_path); !s.ok()) return Fail(s);
  auto store = store::SqliteStore::Open({.path = cfg.store_path});
  if (!store.ok()) return Fail(store.status());
  auto instance = LoadInstance(**store);
  if (!instance.ok()) return Fail(instance.status());
  auto backend =
      slurm::SlurmBackend::Create({.slurm_conf = cfg.slurm_conf, .instance = instance->id});
  if (!backend.ok()) return Fail(backend.status());

  auto quota = QuotaOptionsFrom(cfg);
  if (!quota.ok()) return Fail(quota.status());
  auto job_tokens = LoadJobTokens(**store);
  if (!job_tokens.ok()) return Fail(job_tokens.status());
  manager::JobManager manager(store->get(), backend->get(), SystemClock::Get(),
                              {.max_jobs_in_slurm = cfg.max_jobs_in_slurm,
                               .poll_interval = absl::Milliseconds(cfg.poll_interval_ms),
                               .quota = *std::move(quota),
                               .job_tokens = &*job_tokens,
                               .runtime_server = cfg.job_address,
                               .instance = instance->id,
                               .adopt_untagged = instance->adopt_untagged,
                               .reconcile_interval = absl::Seconds(cfg.reconcile_interval_s)});
  if (absl::Status s = manager.Start(); !s.ok()) return Fail(s);

  api::AuthenticatorOptions auth_options{.munge_max_age_s = cfg.munge_ttl_s};
  if (auto gid = auth::LookupGroup(cfg.admin_group); gid.ok()) {
    auth_options.admin_gid = *gid;
  } else {
    spdlog::warn("admin group \"{}\" does not exist; only root is a drocc admin", cfg.admin_group);
  }
  auto service_tokens = api::ServiceTokenRegistry::Load(store->get(), SystemClock::Get());
  if (!service_tokens.ok()) return Fail(service_tokens.status());
  auth::PeerTable peers;
  api::Policy policy;
  api::RateLimiter submit_limiter({.per_second = cfg.submit_rate_per_s, .burst = cfg.submit_burst},
                                  SystemClock::Get());
  api::Authenticator authenticator(&peers, &policy, service_tokens->get(), auth_options);
  api::ApiDeps deps{.store = store->get(),
                    .manager = &manager,
                    .authenticator = &authenticator,
                    .policy = &policy,
                    .clock = SystemClock::Get(),
                    .job_tokens = &*job_tokens,
                    .service_tokens = service_tokens->get(),
                    .submit_limiter = cfg.submit_rate_per_s > 0 ? &submit_limiter : nullptr,
                    .limits = {.min_uid = cfg.min_uid}};
  api::JobServiceImpl jobs(deps);
  api::ProjectServiceImpl projects(deps);
  api::AdminServiceImpl admin(deps);
  api::RuntimeServiceImpl runtime(deps);

  // gRPC buffers an oversized request whole before refusing it: do not keep that memory.
  MemoryTrimmer trimmer({});
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int tcp_port = 0;
  if (!cfg.tcp_listen.empty()) {
    builder.AddListeningPort(cfg.tcp_listen, grpc::InsecureServerCredentials(), &tcp_port);
  }
  int tls_port = 0;
  if (!cfg.tls_listen.empty()) {
    auto creds = TlsCredentials(cfg);
    if (!creds.ok()) return Fail(creds.status());
    builder.AddListeningPort(cfg.tls_listen, *creds, &tls_port);
  }
  builder.RegisterService(&jobs);
  builder.RegisterService(&projects);
  builder.RegisterService(&admin);
  builder.RegisterService(&runtime);
  builder.SetMaxReceiveMessageSize(16 << 20);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || (!cfg.tcp_listen.empty() && tcp_port == 0) ||
      (!cfg.tls_listen.empty() && tls_port == 0)) {
    return Fail(absl::UnavailableError(absl::StrCat(
        "cannot listen on ", cfg.tcp_listen, " ", cfg.tls_listen,
        " (in use, or a bad certificate or key? set server.tcp_listen and tls.listen)")));
  }
  std::unique_ptr<UnixListener> unix_listener;
  if (!cfg.socket.empty()) {
    auto l = UnixListener::Bind(cfg.socket, cfg.socket_mode);
    if (!l.ok()) {
      server->Shutdown();
      return Fail(l.status());
    }
    unix_listener = *std::move(l);
    unix_listener->Start(server.get(), &peers);
  }
  spdlog::info("droccd {} ready: socket {}{}; store {}; at most {} jobs in Slurm", kVersion,
               cfg.socket.empty() ? "(none)" : cfg.socket,
               absl::StrCat(tcp_port ? absl::StrCat(", tcp port ", tcp_port, " (MUNGE)") : "",
                            tls_port ? absl::StrCat(", tls port ", tls_port, " (tokens)") : ""),
               cfg.store_path, cfg.max_jobs_in_slurm);

  // grpc.health.v1: "" (droccd) is SERVING while it runs; "slurm" says whether droccd can
  // reach slurmctld (NOT_SERVING while it cannot: submissions are still accepted and queued;
  // `drocc admin status` has the details).
  grpc::HealthCheckServiceInterface* health = server->GetHealthCheckService();
  std::optional<bool> slurm_serving;
  int sig = 0;
  while (true) {
    const bool reachable = manager.admission_status().slurm_reachable;
    if (health != nullptr && slurm_serving != reachable) {
      health->SetServingStatus(kSlurmHealthService, reachable);
      slurm_serving = reachable;
    }
    const timespec tick{.tv_sec = 1, .tv_nsec = 0};
    sig = sigtimedwait(&signals, nullptr, &tick);
    if (sig > 0) break;
  }
  spdlog::info("{} received: stopping (at most {} s for calls in flight)", strsignal(sig),
               cfg.shutdown_grace_s);
  if (unix_listener) unix_listener->Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(cfg.shutdown_grace_s));
  manager.Stop();
  store->reset();  // commits what is queued
  spdlog::info("droccd stopped");
  return 0;
}

}  // namespace
}  // namespace drocc::server

int main(int argc, char** argv) {
  CLI::App app{"droccd: the drocc job orchestration daemon"};
  std::string config_path = drocc::server::kDefaultConfigPath;
  bool check = false;
  app.add_option("-c,--config", config_path, "configuration file (TOML)");
  app.add_flag("--check-config", check, "check the configuration and exit");
  app.set_version_flag("--version", drocc::server::kVersion);
  CLI11_PARSE(app, argc, argv);

  drocc::server::Config cfg;
  auto loaded = drocc::server::LoadConfig(config_path);
  if (loaded.ok()) {
    cfg = *loaded;
  } else if (!(absl::IsNotFound(loaded.status()) && app.get_option("--config")->count() == 0)) {
    std::fprintf(stderr, "droccd: %s\n", std::string(loaded.status().message()).c_str());
    return 2;
  }
  if (check) {
    std::printf("%s: OK\n", config_path.c_str());
    return 0;
  }
  if (absl::Status s = drocc::server::SetUpLogging(cfg); !s.ok()) {
    std::fprintf(stderr, "droccd: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  if (!loaded.ok()) spdlog::info("no {}: using the defaults", config_path);
  return drocc::server::Run(cfg);
}
