#pragma once

// A FileSystem for staging tests: the real one (PosixFileSystem) with hooks where a test
// injects faults or counts what is done. Every hook is optional and may be called from
// several threads at once (the hooks themselves must be thread-safe).
//
//   auto fs = std::make_shared<FaultFileSystem>();
//   fs->on_write = [](const std::string& path, uint64_t offset, std::string& data) {
//     data[0] ^= 1;                 // a corrupted write
//     return absl::OkStatus();      // or ErrnoStatus(ENOSPC, "cannot write", path)
//   };
//   StageIn(src, dst, {.fs = fs}, &comm);

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "drocc/runtime/file_system.h"

namespace drocc::runtime::testing {

class FaultFileSystem final : public FileSystem {
 public:
  // Before each write: may change the bytes, or fail it (nothing is then written).
  std::function<absl::Status(const std::string& path, uint64_t offset, std::string& data)> on_write;
  // Before each OpenForRead: may fail it.
  std::function<absl::Status(const std::string& path)> on_open;
  // Before each rename: may fail it (nothing is then renamed), or end the process.
  std::function<absl::Status(const std::string& from, const std::string& to)> on_rename;
  // Bytes read (PRead) from files whose path starts with `count_reads_under`.
  std::string count_reads_under = "/";
  std::atomic<uint64_t> bytes_read{0};
  // Bytes written by the kernel's copy (CopyRangeFrom) rather than by PWrite.
  std::atomic<uint64_t> bytes_copied_in_kernel{0};

  absl::StatusOr<FileInfo> Lstat(const std::string& path) override { return real_.Lstat(path); }
  absl::StatusOr<std::string> RealPath(const std::string& path) override {
    return real_.RealPath(path);
  }
  absl::StatusOr<std::unique_ptr<File>> OpenForRead(const std::string& path) override {
    if (on_open) {
      absl::Status st = on_open(path);
      if (!st.ok()) return st;
    }
    auto f = real_.OpenForRead(path);
    if (!f.ok()) return f.status();
    return std::unique_ptr<File>(std::make_unique<FaultFile>(this, path, *std::move(f)));
  }
  absl::StatusOr<std::unique_ptr<File>> Create(const std::string& path, uint32_t mode) override {
    auto f = real_.Create(path, mode);
    if (!f.ok()) return f.status();
    return std::unique_ptr<File>(std::make_unique<FaultFile>(this, path, *std::move(f)));
  }
  absl::StatusOr<std::vector<std::string>> ReadDir(const std::string& path) override {
    return real_.ReadDir(path);
  }
  absl::StatusOr<std::string> ReadLink(const std::string& path) override {
    return real_.ReadLink(path);
  }
  absl::Status MakeDir(const std::string& path, uint32_t mode) override {
    return real_.MakeDir(path, mode);
  }
  absl::Status Symlink(const std::string& target, const std::string& path) override {
    return real_.Symlink(target, path);
  }
  absl::Status Rename(const std::string& from, const std::string& to) override {
    if (on_rename) {
      absl::Status st = on_rename(from, to);
      if (!st.ok()) return st;
    }
    return real_.Rename(from, to);
  }
  absl::Status Exchange(const std::string& a, const std::string& b) override {
    if (no_exchange) return absl::UnimplementedError("no RENAME_EXCHANGE (test)");
    return real_.Exchange(a, b);
  }
  absl::Status Unlink(const std::string& path) override { return real_.Unlink(path); }
  absl::Status RemoveDir(const std::string& path) override { return real_.RemoveDir(path); }
  absl::Status Chmod(const std::string& path, uint32_t mode) override {
    return real_.Chmod(path, mode);
  }
  absl::Status SetMtime(const std::string& path, int64_t mtime_ns) override {
    return real_.SetMtime(path, mtime_ns);
  }
  absl::Status SyncDir(const std::string& path) override { return real_.SyncDir(path); }

  // Exchange says the filesystem cannot (as some network filesystems do).
  bool no_exchange = false;

  // An on_write that fails every write (ENOSPC, as the real one would) once more than `bytes`
  // bytes were written to paths containing `only` (all paths if empty).
  static decltype(on_write) NoSpaceAfter(uint64_t bytes, std::string only = "") {
    auto written = std::make_shared<std::atomic<uint64_t>>(0);
    return [=](const std::string& path, uint64_t, std::string& data) {
      if (path.find(only) == std::string::npos || (*written += data.size()) <= bytes) {
        return absl::OkStatus();
      }
      return ErrnoStatus(ENOSPC, "cannot write", path);
    };
  }

 private:
  class FaultFile final : public File {
   public:
    FaultFile(FaultFileSystem* fs, std::string path, std::unique_ptr<File> inner)
        : fs_(fs), path_(std::move(path)), inner_(std::move(inner)) {}
    absl::StatusOr<size_t> PRead(uint64_t offset, void* data, size_t n) override {
      auto got = inner_->PRead(offset, data, n);
      if (got.ok() && path_.rfind(fs_->count_reads_under, 0) == 0) fs_->bytes_read += *got;
      return got;
    }
    absl::Status PWrite(uint64_t offset, const void* data, size_t n) override {
      if (!fs_->on_write) return inner_->PWrite(offset, data, n);
      std::string bytes(static_cast<const char*>(data), n);
      absl::Status st = fs_->on_write(path_, offset, bytes);
      if (!st.ok()) return st;
      return inner_->PWrite(offset, bytes.data(), bytes.size());
    }
    // The kernel's copy, with on_write applied to the bytes it copies: a hook that fails it
    // writes nothing; one that changes the bytes has them written instead (a corrupted copy).
    absl::Status CopyRangeFrom(File& from, uint64_t offset, size_t n) override {
      auto* wrapped = dynamic_cast<FaultFile*>(&from);
      File& source = wrapped != nullptr ? *wrapped->inner_ : from;
      if (!fs_->on_write) return Copied(inner_->CopyRangeFrom(source, offset, n), n);
      std::string bytes(n, '\0');
      auto got = source.PRead(offset, bytes.data(), n);
      if (!got.ok()) return got.status();
      bytes.resize(*got);
      const std::string copied = bytes;
      absl::Status st = fs_->on_write(path_, offset, bytes);
      if (!st.ok()) return st;
      if (bytes == copied) return Copied(inner_->CopyRangeFrom(source, offset, n), n);
      return inner_->PWrite(offset, bytes.data(), bytes.size());
    }
    void StartWriteback(uint64_t offset, size_t n) override { inner_->StartWriteback(offset, n); }
    absl::StatusOr<FileInfo> Stat() override { return inner_->Stat(); }
    absl::Status SetMode(uint32_t mode) override { return inner_->SetMode(mode); }
    absl::Status SetMtime(int64_t mtime_ns) override { return inner_->SetMtime(mtime_ns); }
    absl::Status Sync() override { return inner_->Sync(); }
    absl::Status Close() override { return inner_->Close(); }

   private:
    absl::Status Copied(absl::Status st, size_t n) {
      if (st.ok()) fs_->bytes_copied_in_kernel += n;
      return st;
    }

    FaultFileSystem* fs_;
    std::string path_;
    std::unique_ptr<File> inner_;
  };

  PosixFileSystem real_;
};

}  // namespace drocc::runtime::testing
