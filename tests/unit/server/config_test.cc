#include "daemon/server/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace drocc::server {
namespace {

TEST(ConfigTest, EmptyTextGivesTheDefaults) {
  auto c = ParseConfig("", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->socket, "/run/drocc/droccd.sock");
  EXPECT_EQ(c->socket_mode, 0666u);
  EXPECT_EQ(c->store_path, "/var/lib/drocc/droccd.db");
  EXPECT_EQ(c->max_jobs_in_slurm, 64u);
  EXPECT_EQ(c->admin_group, "drocc-admins");
  EXPECT_EQ(c->min_uid, 1000u);
  EXPECT_EQ(c->submit_rate_per_s, 100u);
  EXPECT_EQ(c->submit_burst, 1000u);
}

TEST(ConfigTest, TheDocumentedExampleParsesToTheDefaults) {
  std::ifstream in(std::string(DROCC_SOURCE_DIR) + "/deploy/droccd.example.toml");
  ASSERT_TRUE(in) << "deploy/droccd.example.toml";
  std::stringstream text;
  text << in.rdbuf();
  auto c = ParseConfig(text.str(), "droccd.example.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  Config defaults;
  EXPECT_EQ(c->socket, defaults.socket);
  EXPECT_EQ(c->socket_mode, defaults.socket_mode);
  EXPECT_EQ(c->tcp_listen, defaults.tcp_listen);
  EXPECT_EQ(c->store_path, defaults.store_path);
  EXPECT_EQ(c->max_jobs_in_slurm, defaults.max_jobs_in_slurm);
  EXPECT_EQ(c->poll_interval_ms, defaults.poll_interval_ms);
  EXPECT_EQ(c->reconcile_interval_s, defaults.reconcile_interval_s);
  EXPECT_EQ(c->munge_ttl_s, defaults.munge_ttl_s);
  EXPECT_EQ(c->log_level, defaults.log_level);
  EXPECT_EQ(c->submit_rate_per_s, defaults.submit_rate_per_s);
  EXPECT_EQ(c->submit_burst, defaults.submit_burst);
}

TEST(ConfigTest, SubmitRateLimitIsReadAndZeroTurnsItOff) {
  auto c = ParseConfig("[limits]\nsubmit_rate_per_s = 5\nsubmit_burst = 20\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->submit_rate_per_s, 5u);
  EXPECT_EQ(c->submit_burst, 20u);
  c = ParseConfig("[limits]\nsubmit_rate_per_s = 0\n", "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->submit_rate_per_s, 0u);
}

TEST(ConfigTest, ValuesAreRead) {
  auto c = ParseConfig(R"(
[server]
socket = "/tmp/d.sock"
socket_mode = "0660"
tcp_listen = "127.0.0.1:7890"
[admission]
max_jobs_in_slurm = 8
[slurm]
poll_interval_ms = 250
reconcile_interval_s = 300
[auth]
min_uid = 500
)",
                       "t.toml");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->socket, "/tmp/d.sock");
  EXPECT_EQ(c->socket_mode, 0660u);
  EXPECT_EQ(c->tcp_listen, "127.0.0.1:7890");
  EXPECT_EQ(c->max_jobs_in_slurm, 8u);
  EXPECT_EQ(c->poll_interval_ms, 250);
  EXPECT_EQ(c->reconcile_interval_s, 300);
  EXPECT_EQ(c->min_uid, 500u);
}

struct BadCase {
  const char* text;
  const char* says;
};

class BadConfigTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(BadConfigTest, IsRefusedNamingTheProblem) {
  auto c = ParseConfig(GetParam().text, "t.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find(GetParam().says), absl::string_view::npos)
      << c.status().message();
  EXPECT_NE(c.status().message().find("t.toml"), absl::string_view::npos);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    ::testing::Values(
        BadCase{"[server]\nsokcet = \"/x\"\n", "unknown key server.sokcet"},
        BadCase{"[sever]\n", "unknown section [sever]"},
        BadCase{"[store]\npath = 3\n", "store.path must be a string"},
        BadCase{"[admission]\nmax_jobs_in_slurm = -1\n", "out of range"},
        BadCase{"[server]\nsocket_mode = \"0999\"\n", "octal mode"},
        BadCase{"[log]\nlevel = \"loud\"\n", "log.level"},
        BadCase{"[server]\nsocket = \"\"\n", "would not listen"}, BadCase{"[server\n", "t.toml:1"},
        BadCase{"[limits]\nsubmit_burst = 0\n", "limits.submit_burst = 0 is out of range"},
        BadCase{"[limits]\nsubmit_rate_per_s = 2.5\n", "must be an integer"},
        BadCase{"[limits]\nsubmit_rate = 5\n", "unknown key limits.submit_rate"},
        BadCase{"[[quota.billing_units]]\nname = \"\\nsu\"\n",
                "name \"\\nsu\" is not a resource name"},
        BadCase{"[[quota.billing_units]]\nname = \"9su\"\n", "name \"9su\" is not a resource name"},
        BadCase{"[[quota.billing_units]]\nname = \"su\"\nnode_weight = nan\n",
                "node_weight must be a number >= 0"},
        BadCase{"[[quota.billing_units]]\nname = \"su\"\ncpu_weight = inf\n",
                "cpu_weight must be a number >= 0"},
        BadCase{"[slurm]\nreconcile_interval_s = 5\n",
                "slurm.reconcile_interval_s = 5 is out of range"}));

TEST(ConfigTest, MissingFileIsNotFound) {
  auto c = LoadConfig("/nonexistent/droccd.toml");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace drocc::server
