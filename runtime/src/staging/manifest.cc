#include "runtime/src/staging/manifest.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/status.h"
#include "nlohmann/json.hpp"
#include "runtime/src/staging/tree.h"

namespace drocc::runtime::staging {
namespace {

using nlohmann::json;

constexpr size_t kReadBlock = 1 << 20;
constexpr char kFormat[] = "drocc-stage-manifest";

std::string HeaderLine() {
  return json{{"format", kFormat}, {"version", kManifestVersion}}.dump() + "\n";
}

bool IsHeader(const json& doc) {
  return doc.is_object() && doc.contains("format") && doc["format"] == kFormat;
}

}  // namespace

std::string EncodeManifestLine(const std::string& path, const ManifestRecord& record) {
  json doc = {{"size", record.size},
              {"mtime_ns", record.mtime_ns},
              {"xxh3", absl::StrFormat("%016x", record.xxh3)}};
  doc["path"] = path;
  try {
    return doc.dump() + "\n";
  } catch (const json::type_error&) {  // not UTF-8: JSON strings cannot hold it as it is
    doc.erase("path");
    doc["path_hex"] = absl::BytesToHexString(path);
    return doc.dump() + "\n";
  }
}

bool DecodeManifestLine(absl::string_view line, std::string* path, ManifestRecord* record) {
  const json doc = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || IsHeader(doc)) return false;
  const auto size = doc.find("size");
  const auto mtime = doc.find("mtime_ns");
  const auto xxh3 = doc.find("xxh3");
  if (size == doc.end() || !size->is_number_unsigned() || mtime == doc.end() ||
      !mtime->is_number_integer() || xxh3 == doc.end() || !xxh3->is_string()) {
    return false;
  }
  const std::string& hex = xxh3->get_ref<const std::string&>();
  if (hex.size() != 16 || !absl::SimpleHexAtoi(hex, &record->xxh3)) return false;
  if (const auto p = doc.find("path"); p != doc.end() && p->is_string()) {
    *path = p->get<std::string>();
  } else if (const auto h = doc.find("path_hex"); h != doc.end() && h->is_string()) {
    const std::string& text = h->get_ref<const std::string&>();
    if (text.size() % 2 != 0 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return absl::ascii_isxdigit(c); })) {
      return false;
    }
    *path = absl::HexStringToBytes(text);
  } else {
    return false;
  }
  if (!path->empty() && !IsCleanRelativePath(*path)) return false;
  record->size = size->get<uint64_t>();
  record->mtime_ns = mtime->get<int64_t>();
  return true;
}

void ManifestParser::Add(absl::string_view bytes) {
  if (other_version_) return;
  pending_.append(bytes.data(), bytes.size());
  size_t start = 0;
  for (size_t nl; !other_version_ && (nl = pending_.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    Line(absl::string_view(pending_.data() + start, nl - start));
  }
  pending_.erase(0, start);
}

LoadedManifest ManifestParser::Finish() && {
  if (!other_version_ && !pending_.empty()) Line(pending_);  // a torn last line
  if (other_version_) return LoadedManifest{};
  return std::move(out_);
}

void ManifestParser::Line(absl::string_view line) {
  if (first_) {
    first_ = false;
    const json doc = json::parse(line.begin(), line.end(), nullptr, false);
    if (IsHeader(doc)) {
      // Not value("version", 0): it throws when "version" is not a number. A version that is
      // not our integer, damaged or missing, is another version: everything is copied again.
      const auto version = doc.find("version");
      if (version == doc.end() || !version->is_number_integer() ||
          version->get<int64_t>() != kManifestVersion) {
        other_version_ = true;
      }
      return;
    }
  }
  std::string p;
  ManifestRecord record;
  if (DecodeManifestLine(line, &p, &record)) {
    out_.records.insert_or_assign(std::move(p), record);
  } else if (!line.empty()) {
    ++out_.bad_lines;
  }
}

absl::StatusOr<LoadedManifest> LoadManifest(FileSystem& fs, const std::string& path) {
  absl::StatusOr<std::unique_ptr<File>> file = fs.OpenForRead(path);
  if (absl::IsNotFound(file.status())) return LoadedManifest{};
  if (!file.ok()) return file.status();
  ManifestParser parser;
  std::string block(kReadBlock, '\0');
  for (uint64_t offset = 0; !parser.other_version();) {
    ASSIGN_OR_RETURN(const size_t n, (*file)->PRead(offset, block.data(), block.size()));
    if (n == 0) break;
    parser.Add(absl::string_view(block.data(), n));
    offset += n;
  }
  return std::move(parser).Finish();
}

absl::StatusOr<std::unique_ptr<ManifestWriter>> ManifestWriter::Open(FileSystem& fs,
                                                                     std::string path,
                                                                     ManifestRecords records) {
  std::unique_ptr<ManifestWriter> w(new ManifestWriter(fs, std::move(path)));
  w->records_ = std::move(records);
  std::lock_guard lock(w->mu_);
  RETURN_IF_ERROR(w->Rewrite([](const std::string&, const ManifestRecord&) { return true; }));
  return w;
}

ManifestWriter::~ManifestWriter() = default;

absl::Status ManifestWriter::Add(const std::string& path, const ManifestRecord& record) {
  const std::string line = EncodeManifestLine(path, record);
  std::lock_guard lock(mu_);
  if (file_ == nullptr) {
    return absl::FailedPreconditionError("the stage-in manifest was already closed");
  }
  RETURN_IF_ERROR(file_->PWrite(offset_, line.data(), line.size()));
  offset_ += line.size();
  records_.insert_or_assign(path, record);
  return absl::OkStatus();
}

absl::Status ManifestWriter::Compact(
    const std::function<bool(const std::string&, const ManifestRecord&)>& keep) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(Rewrite(keep));
  absl::Status st = file_->Close();
  file_.reset();
  return st;
}

absl::Status ManifestWriter::Rewrite(
    const std::function<bool(const std::string&, const ManifestRecord&)>& keep) {
  if (file_ != nullptr) {
    RETURN_IF_ERROR(file_->Close());
    file_.reset();
  }
  const std::string tmp = path_ + ".tmp";
  ASSIGN_OR_RETURN(std::unique_ptr<File> file, fs_.Create(tmp, 0644));
  std::string batch = HeaderLine();
  uint64_t written = 0;
  for (auto it = records_.begin(); it != records_.end();) {
    if (!keep(it->first, it->second)) {
      it = records_.erase(it);
      continue;
    }
    batch += EncodeManifestLine(it->first, it->second);
    ++it;
    if (batch.size() >= kReadBlock || it == records_.end()) {
      RETURN_IF_ERROR(file->PWrite(written, batch.data(), batch.size()));
      written += batch.size();
      batch.clear();
    }
  }
  if (!batch.empty()) {  // the header, or lines before records that were dropped
    RETURN_IF_ERROR(file->PWrite(written, batch.data(), batch.size()));
    written += batch.size();
  }
  RETURN_IF_ERROR(file->Sync());
  RETURN_IF_ERROR(fs_.Rename(tmp, path_));
  const size_t slash = path_.rfind('/');
  if (slash != std::string::npos) RETURN_IF_ERROR(fs_.SyncDir(path_.substr(0, slash)));
  file_ = std::move(file);  // the same file, now under path_: appends go on from here
  offset_ = written;
  return absl::OkStatus();
}

}  // namespace drocc::runtime::staging
