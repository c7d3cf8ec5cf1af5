#include "runtime/src/checkpoint/manifest.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "runtime/src/hash/xxh3.h"

namespace drocc::runtime::checkpoint {
namespace {

Manifest Sample() {
  return Manifest{
      .step = 42,
      .world_size = 2,
      .shards = {{.rank = 0, .file = "shard-000000.bin", .bytes = 48, .xxh3 = 0xfedcba9876543210},
                 {.rank = 1, .file = "shard-000001.bin", .bytes = 40, .xxh3 = 1}},
      .items = {{.name = "lr",
                 .kind = ItemKind::kReplicated,
                 .element_size = 1,
                 .global_count = 8,
                 .slices = {{.rank = 0, .offset = 0, .count = 8, .file_offset = 0, .bytes = 8}}},
                {.name = "x",
                 .kind = ItemKind::kDistributed,
                 .element_size = 8,
                 .global_count = 10,
                 .slices = {{.rank = 0, .offset = 0, .count = 5, .file_offset = 8, .bytes = 40},
                            {.rank = 1, .offset = 5, .count = 5, .file_offset = 0, .bytes = 40}}}},
  };
}

TEST(ManifestTest, RoundTrips) {
  const Manifest m = Sample();
  absl::StatusOr<Manifest> back = DecodeManifest(EncodeManifest(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(ManifestTest, EncodingIsDeterministic) {
  EXPECT_EQ(EncodeManifest(Sample()), EncodeManifest(Sample()));
}

TEST(ManifestTest, DetectsAChangedValueThatStillParses) {
  std::string text = EncodeManifest(Sample());
  const size_t pos = text.find("\"step\": 42");
  ASSERT_NE(pos, std::string::npos) << text;
  text[pos + 9] = '3';  // 42 -> 43: valid JSON, wrong content
  absl::StatusOr<Manifest> back = DecodeManifest(text);
  ASSERT_FALSE(back.ok());
  EXPECT_TRUE(absl::IsDataLoss(back.status()));
  EXPECT_NE(back.status().message().find("checksum"), absl::string_view::npos) << back.status();
}

TEST(ManifestTest, DetectsEveryFlippedByte) {
  const std::string text = EncodeManifest(Sample());
  for (size_t i = 0; i < text.size(); ++i) {
    std::string bad = text;
    bad[i] ^= 0x01;
    absl::StatusOr<Manifest> back = DecodeManifest(bad);
    // A flip inside insignificant whitespace changes nothing; everything else is caught.
    if (back.ok()) {
      EXPECT_EQ(*back, Sample()) << "byte " << i;
    } else {
      EXPECT_TRUE(absl::IsDataLoss(back.status())) << "byte " << i << ": " << back.status();
    }
  }
}

TEST(ManifestTest, RejectsTruncation) {
  const std::string text = EncodeManifest(Sample());
  for (size_t len : {size_t{0}, size_t{1}, text.size() / 2, text.size() - 3}) {
    absl::StatusOr<Manifest> back = DecodeManifest(text.substr(0, len));
    EXPECT_TRUE(absl::IsDataLoss(back.status())) << len << ": " << back.status();
  }
}

TEST(ManifestTest, RejectsOtherVersionsAndFormats) {
  std::string text = EncodeManifest(Sample());
  std::string v2 = text;
  v2.replace(v2.find("\"version\": 1"), 12, "\"version\": 2");
  EXPECT_NE(DecodeManifest(v2).status().message().find("version 2"), absl::string_view::npos);
  EXPECT_FALSE(DecodeManifest("{\"format\": \"other\"}").ok());
  EXPECT_FALSE(DecodeManifest("[]").ok());
}

TEST(ManifestTest, RejectsShardCountOtherThanWorldSize) {
  Manifest m = Sample();
  m.world_size = 3;
  EXPECT_TRUE(absl::IsDataLoss(DecodeManifest(EncodeManifest(m)).status()));
}

// Sample()'s manifest with `edit` applied to its body, and a checksum that matches the edited
// body: what a reader sees when the damage is not in the checksum's reach (or a bug wrote it).
std::string WithBody(const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json doc = nlohmann::json::parse(EncodeManifest(Sample()));
  edit(doc["body"]);
  const std::string body = doc["body"].dump();
  doc["body_xxh3"] = absl::StrFormat("%016x", Xxh3Of(body.data(), body.size()));
  return doc.dump(1);
}

TEST(ManifestTest, WithBodyKeepsAnUneditedManifestValid) {
  absl::StatusOr<Manifest> back = DecodeManifest(WithBody([](nlohmann::json&) {}));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, Sample());
}

// Found by checkpoint_manifest_fuzz: a float where an integer belongs was converted with
// undefined behaviour when out of range ("bytes": 3.6e84 -> uint64_t), and an integer out of
// an int's range was silently truncated (a rank of 2^32 read as rank 0).
TEST(ManifestTest, RejectsNumbersThatAreNotIntegersOfTheRightRange) {
  const std::vector<std::function<void(nlohmann::json&)>> edits = {
      [](nlohmann::json& b) { b["step"] = 1e300; },
      [](nlohmann::json& b) { b["step"] = 42.5; },
      [](nlohmann::json& b) { b["world_size"] = 4294967298u; },
      [](nlohmann::json& b) { b["shards"][1]["rank"] = 4294967297u; },
      [](nlohmann::json& b) { b["shards"][0]["bytes"] = 3.6e84; },
      [](nlohmann::json& b) { b["shards"][0]["bytes"] = -1; },
      [](nlohmann::json& b) { b["items"][0]["element_size"] = "1"; },
      [](nlohmann::json& b) { b["items"][1]["slices"][0]["offset"] = -5; },
      [](nlohmann::json& b) { b["items"][1]["slices"][1]["rank"] = 1.0; },
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    absl::StatusOr<Manifest> back = DecodeManifest(WithBody(edits[i]));
    ASSERT_FALSE(back.ok()) << "edit " << i;
    EXPECT_TRUE(absl::IsDataLoss(back.status())) << "edit " << i << ": " << back.status();
    EXPECT_NE(back.status().message().find("malformed"), absl::string_view::npos) << back.status();
  }
  std::string text = EncodeManifest(Sample());
  text.replace(text.find("\"version\": 1"), 12, "\"version\": 1e300");
  EXPECT_TRUE(absl::IsDataLoss(DecodeManifest(text).status()));
}

TEST(ManifestTest, RejectsAShardHashThatIsNotSixteenHexDigits) {
  for (const char* hash : {"-1", "1", " 00000000000000001", "0x00000000000001", "000000000000000g",
                           "00000000000000001"}) {
    absl::StatusOr<Manifest> back =
        DecodeManifest(WithBody([&](nlohmann::json& b) { b["shards"][0]["xxh3"] = hash; }));
    EXPECT_TRUE(absl::IsDataLoss(back.status())) << hash << ": " << back.status();
  }
}

}  // namespace
}  // namespace drocc::runtime::checkpoint
