#include "runtime/src/checkpoint/manifest.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "runtime/src/hash/xxh3.h"

namespace drocc::runtime::checkpoint {
namespace {

using nlohmann::json;

std::string Hex(uint64_t v) { return absl::StrFormat("%016x", v); }

uint64_t BodyHash(const json& body) {
  const std::string text = body.dump();
  return Xxh3Of(text.data(), text.size());
}

absl::StatusOr<ItemKind> KindFromName(const std::string& name) {
  for (ItemKind k : {ItemKind::kReplicated, ItemKind::kDistributed, ItemKind::kCallback}) {
    if (ItemKindName(k) == name) return k;
  }
  return absl::DataLossError(absl::StrCat("unknown item kind \"", name, "\""));
}

}  // namespace

const char* ItemKindName(ItemKind kind) {
  switch (kind) {
    case ItemKind::kReplicated:
      return "replicated";
    case ItemKind::kDistributed:
      return "distributed";
    case ItemKind::kCallback:
      return "callback";
  }
  return "?";
}

std::string EncodeManifest(const Manifest& m) {
  json body;
  body["step"] = m.step;
  body["world_size"] = m.world_size;
  body["shards"] = json::array();
  for (const ShardEntry& s : m.shards) {
    body["shards"].push_back(
        {{"rank", s.rank}, {"file", s.file}, {"bytes", s.bytes}, {"xxh3", Hex(s.xxh3)}});
  }
  body["items"] = json::array();
  for (const ItemEntry& it : m.items) {
    json slices = json::array();
    for (const SliceEntry& s : it.slices) {
      slices.push_back({{"rank", s.rank},
                        {"offset", s.offset},
                        {"count", s.count},
                        {"file_offset", s.file_offset},
                        {"bytes", s.bytes}});
    }
    body["items"].push_back({{"name", it.name},
                             {"kind", std::string(ItemKindName(it.kind))},
                             {"element_size", it.element_size},
                             {"global_count", it.global_count},
                             {"slices", std::move(slices)}});
  }
  json doc;
  doc["format"] = "drocc-checkpoint";
  doc["version"] = kManifestVersion;
  doc["body_xxh3"] = Hex(BodyHash(body));
  doc["body"] = std::move(body);
  return doc.dump(1) + "\n";
}

absl::StatusOr<Manifest> DecodeManifest(std::string_view text) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::DataLossError("manifest is not valid JSON (truncated or corrupt)");
  }
  try {
    if (doc.at("format").get<std::string>() != "drocc-checkpoint") {
      return absl::DataLossError("manifest has the wrong format tag");
    }
    if (doc.at("version").get<int>() != kManifestVersion) {
      return absl::DataLossError(absl::StrCat("manifest version ", doc.at("version").dump(),
                                              " is not supported by this library (",
                                              kManifestVersion, ")"));
    }
    const json& body = doc.at("body");
    if (doc.at("body_xxh3").get<std::string>() != Hex(BodyHash(body))) {
      return absl::DataLossError("manifest checksum mismatch (the manifest is corrupt)");
    }
    Manifest m;
    m.step = body.at("step").get<int64_t>();
    m.world_size = body.at("world_size").get<int>();
    for (const json& s : body.at("shards")) {
      ShardEntry e{.rank = s.at("rank").get<int>(),
                   .file = s.at("file").get<std::string>(),
                   .bytes = s.at("bytes").get<uint64_t>()};
      e.xxh3 = std::stoull(s.at("xxh3").get<std::string>(), nullptr, 16);
      m.shards.push_back(std::move(e));
    }
    for (const json& it : body.at("items")) {
      absl::StatusOr<ItemKind> kind = KindFromName(it.at("kind").get<std::string>());
      if (!kind.ok()) return kind.status();
      ItemEntry e{.name = it.at("name").get<std::string>(),
                  .kind = *kind,
                  .element_size = it.at("element_size").get<uint64_t>(),
                  .global_count = it.at("global_count").get<uint64_t>()};
      for (const json& s : it.at("slices")) {
        e.slices.push_back({.rank = s.at("rank").get<int>(),
                            .offset = s.at("offset").get<uint64_t>(),
                            .count = s.at("count").get<uint64_t>(),
                            .file_offset = s.at("file_offset").get<uint64_t>(),
                            .bytes = s.at("bytes").get<uint64_t>()});
      }
      m.items.push_back(std::move(e));
    }
    if (m.world_size < 1 || m.shards.size() != static_cast<size_t>(m.world_size)) {
      return absl::DataLossError("manifest lists a shard count different from its world size");
    }
    for (int r = 0; r < m.world_size; ++r) {
      if (m.shards[r].rank != r) return absl::DataLossError("manifest shards out of rank order");
    }
    return m;
  } catch (const std::exception& e) {
    return absl::DataLossError(absl::StrCat("manifest is malformed: ", e.what()));
  }
}

}  // namespace drocc::runtime::checkpoint
