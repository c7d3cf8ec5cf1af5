#include "runtime/src/checkpoint/manifest.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <limits>
#include <stdexcept>
#include <utility>

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

// The integer at `key` of `j`, which must be an integer that fits T: get<T>() would convert a
// float or an integer out of T's range without a word (a float out of range is undefined
// behaviour), so a damaged manifest could name another rank or offset. Throws like at().
template <typename T>
T IntegerAt(const json& j, const char* key) {
  const json& v = j.at(key);
  if (v.is_number_unsigned() && std::in_range<T>(v.get<uint64_t>())) {
    return static_cast<T>(v.get<uint64_t>());
  }
  if (v.is_number_integer() && !v.is_number_unsigned() && std::in_range<T>(v.get<int64_t>())) {
    return static_cast<T>(v.get<int64_t>());
  }
  throw std::out_of_range(absl::StrCat("\"", key, "\" is ", v.dump(), ", not an integer in [",
                                       std::numeric_limits<T>::min(), ", ",
                                       std::numeric_limits<T>::max(), "]"));
}

// The 16 hex digits at `key` (as Hex writes them).
uint64_t HashAt(const json& j, const char* key) {
  const std::string& text = j.at(key).get_ref<const std::string&>();
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (text.size() != 16 || ec != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument(
        absl::StrCat("\"", key, "\" is \"", text, "\", not 16 hexadecimal digits"));
  }
  return value;
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
    if (IntegerAt<int>(doc, "version") != kManifestVersion) {
      return absl::DataLossError(absl::StrCat("manifest version ", doc.at("version").dump(),
                                              " is not supported by this library (",
                                              kManifestVersion, ")"));
    }
    const json& body = doc.at("body");
    if (doc.at("body_xxh3").get<std::string>() != Hex(BodyHash(body))) {
      return absl::DataLossError("manifest checksum mismatch (the manifest is corrupt)");
    }
    Manifest m;
    m.step = IntegerAt<int64_t>(body, "step");
    m.world_size = IntegerAt<int>(body, "world_size");
    for (const json& s : body.at("shards")) {
      m.shards.push_back({.rank = IntegerAt<int>(s, "rank"),
                          .file = s.at("file").get<std::string>(),
                          .bytes = IntegerAt<uint64_t>(s, "bytes"),
                          .xxh3 = HashAt(s, "xxh3")});
    }
    for (const json& it : body.at("items")) {
      absl::StatusOr<ItemKind> kind = KindFromName(it.at("kind").get<std::string>());
      if (!kind.ok()) return kind.status();
      ItemEntry e{.name = it.at("name").get<std::string>(),
                  .kind = *kind,
                  .element_size = IntegerAt<uint64_t>(it, "element_size"),
                  .global_count = IntegerAt<uint64_t>(it, "global_count")};
      for (const json& s : it.at("slices")) {
        e.slices.push_back({.rank = IntegerAt<int>(s, "rank"),
                            .offset = IntegerAt<uint64_t>(s, "offset"),
                            .count = IntegerAt<uint64_t>(s, "count"),
                            .file_offset = IntegerAt<uint64_t>(s, "file_offset"),
                            .bytes = IntegerAt<uint64_t>(s, "bytes")});
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
