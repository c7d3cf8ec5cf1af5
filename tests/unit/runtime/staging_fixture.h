#pragma once

// Trees for staging tests: a mixed tree built with known contents, modes and mtimes, and a
// comparison of a copy with its source (content, type, mode, mtime, symlink targets).

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tests/unit/runtime/test_dir.h"

namespace drocc::runtime::testing {

// Deterministic bytes: `size` of them from `seed`.
inline std::string Bytes(uint64_t size, uint64_t seed) {
  std::string out(size, '\0');
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (uint64_t i = 0; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    out[i] = static_cast<char>(x);
  }
  return out;
}

inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Sets the mtime of `path` itself (not of a symlink's target).
inline void SetMtime(const std::string& path, int64_t seconds, long nanos = 0) {
  struct timespec t[2] = {{seconds, nanos}, {seconds, nanos}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

inline int64_t MtimeNs(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return -1;
  return st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
}

struct MixedTree {
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t directories = 0;  // below the root
  uint64_t symlinks = 0;
};

// The acceptance tree: an empty file, a 1-byte file, `small` small files in nested
// directories, a few files of a few MiB (`large_mib`), internal symlinks (relative, to a
// directory, dangling inside), odd modes and mtimes with nanoseconds.
inline MixedTree MakeMixedTree(const std::string& root, int small = 300, int large_mib = 3) {
  namespace fs = std::filesystem;
  MixedTree t;
  auto file = [&](const std::string& rel, const std::string& content, mode_t mode = 0644) {
    const std::string p = root + "/" + rel;
    WriteFile(p, content);
    ::chmod(p.c_str(), mode);
    SetMtime(p, 1'600'000'000 + static_cast<int64_t>(t.files), 123456789);
    ++t.files;
    t.bytes += content.size();
  };
  auto dir = [&](const std::string& rel, mode_t mode = 0755) {
    fs::create_directories(root + "/" + rel);
    ::chmod((root + "/" + rel).c_str(), mode);
    ++t.directories;
  };
  fs::create_directories(root);
  dir("a");
  dir("a/b");
  dir("a/b/c");
  dir("data");
  dir("empty-dir", 0700);
  dir("ro", 0555);
  file("empty", "");
  file("one", "x");
  file("a/script.sh", "#!/bin/sh\necho hi\n", 0755);
  file("a/b/c/deep.txt", Bytes(4097, 7), 0600);
  for (int i = 0; i < small; ++i) {
    file("data/small-" + std::to_string(i), Bytes(100 + (i * 37) % 5000, 100 + i));
  }
  for (int i = 0; i < large_mib; ++i) {
    file("data/large-" + std::to_string(i),
         Bytes((static_cast<uint64_t>(i) + 1) << 20 | 333, 1000 + i));
  }
  ::chmod((root + "/ro").c_str(), 0755);  // writable while filling it
  file("ro/readonly.txt", "read only\n", 0444);
  ::chmod((root + "/ro").c_str(), 0555);
  auto link = [&](const std::string& target, const std::string& rel) {
    fs::create_symlink(target, root + "/" + rel);
    SetMtime(root + "/" + rel, 1'500'000'000, 42);
    ++t.symlinks;
  };
  link("one", "link-to-one");
  link("../../../data", "a/b/c/link-to-data");
  link("does-not-exist", "a/dangling");
  // Directory mtimes last: filling a directory changes its mtime.
  for (const char* d : {"a/b/c", "a/b", "a", "data", "empty-dir", "ro"}) {
    SetMtime(root + "/" + d, 1'400'000'000, 5);
  }
  return t;
}

// Every difference between the tree at `want` and its copy at `got` (content, type, mode,
// mtime, symlink target, entries missing or extra), ignoring `ignore` at the top of `got`.
inline std::vector<std::string> TreeDifferences(const std::string& want, const std::string& got,
                                                const std::string& ignore = ".drocc-stage") {
  namespace fs = std::filesystem;
  std::vector<std::string> diffs;
  auto list = [&](const std::string& root) {
    std::map<std::string, fs::file_status> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::end(it); ++it) {
      const std::string rel = it->path().lexically_relative(root).string();
      if (it.depth() == 0 && rel == ignore) {
        it.disable_recursion_pending();
        continue;
      }
      out[rel] = it->symlink_status();
    }
    return out;
  };
  const auto a = list(want);
  const auto b = list(got);
  if (fs::status(want).permissions() != fs::status(got).permissions()) diffs.push_back("mode: .");
  if (MtimeNs(want) != MtimeNs(got)) diffs.push_back("mtime: .");
  for (const auto& [rel, st] : a) {
    const auto it = b.find(rel);
    if (it == b.end()) {
      diffs.push_back("missing: " + rel);
      continue;
    }
    const std::string pa = want + "/" + rel, pb = got + "/" + rel;
    if (st.type() != it->second.type()) {
      diffs.push_back("type: " + rel);
      continue;
    }
    if (st.type() == fs::file_type::symlink) {
      if (fs::read_symlink(pa) != fs::read_symlink(pb)) diffs.push_back("target: " + rel);
    } else if (st.permissions() != it->second.permissions()) {
      diffs.push_back("mode: " + rel);
    }
    if (st.type() == fs::file_type::regular && ReadFile(pa) != ReadFile(pb)) {
      diffs.push_back("content: " + rel);
    }
    if (MtimeNs(pa) != MtimeNs(pb)) diffs.push_back("mtime: " + rel);
  }
  for (const auto& [rel, st] : b) {
    if (!a.count(rel)) diffs.push_back("extra: " + rel);
  }
  return diffs;
}

// Runs `body` in a forked child that kills itself with SIGKILL (from a fault hook, at the
// moment the test wants: no cleanup, no destructor, nothing flushed), and waits for it.
inline void RunInAChildThatIsKilled(const std::function<void()>& body) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    alarm(60);  // never outlive a parent that died
    body();
    _exit(0);  // not killed: the parent's check fails
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
}

}  // namespace drocc::runtime::testing
