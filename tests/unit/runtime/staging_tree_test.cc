// The pieces of staging below StageIn/StageOut: the tree walk and its path checks, the list's
// wire form, the manifest, node names and grouping, and the POSIX FileSystem's errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "runtime/src/staging/manifest.h"
#include "runtime/src/staging/session.h"
#include "runtime/src/staging/tree.h"
#include "tests/unit/runtime/staging_fixture.h"
#include "tests/unit/runtime/test_dir.h"

namespace drocc::runtime::staging {
namespace {

namespace fs = std::filesystem;
using runtime::testing::TestDir;
using runtime::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> Paths(const Tree& tree) {
  std::vector<std::string> out;
  for (const Entry& e : tree) out.push_back(e.path);
  return out;
}

const Entry* Find(const Tree& tree, const std::string& path) {
  for (const Entry& e : tree) {
    if (e.path == path) return &e;
  }
  return nullptr;
}

class TreeTest : public ::testing::Test {
 protected:
  std::string Src() const { return dir_.path() + "/src"; }
  void SetUp() override { fs::create_directories(Src()); }
  absl::StatusOr<Tree> Walk(int threads = 3) { return WalkTree(posix_, Src(), threads); }
  void Link(const std::string& target, const std::string& rel) {
    fs::create_symlink(target, Src() + "/" + rel);
  }

  TestDir dir_;
  PosixFileSystem posix_;
};

TEST_F(TreeTest, ListsEveryEntrySortedWithParentsFirst) {
  fs::create_directories(Src() + "/b/c");
  WriteFile(Src() + "/b/c/f", "12345");
  WriteFile(Src() + "/a", "");
  WriteFile(Src() + "/b.txt", "x");
  Link("b/c/f", "l");
  absl::StatusOr<Tree> t = Walk();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Paths(*t), ElementsAre("", "a", "b", "b.txt", "b/c", "b/c/f", "l"));
  EXPECT_EQ((*t)[0].type, FileType::kDirectory);
  EXPECT_EQ(Find(*t, "b/c/f")->size, 5u);
  EXPECT_EQ(Find(*t, "l")->type, FileType::kSymlink);
  EXPECT_EQ(Find(*t, "l")->target, "b/c/f");
}

TEST_F(TreeTest, TheSameTreeWhateverTheThreadCount) {
  runtime::testing::MakeMixedTree(Src(), 50, 1);
  absl::StatusOr<Tree> one = Walk(1);
  absl::StatusOr<Tree> many = Walk(8);
  ASSERT_TRUE(one.ok() && many.ok());
  EXPECT_EQ(EncodeTree(*one), EncodeTree(*many));
}

TEST_F(TreeTest, ARegularFileIsATreeOfOne) {
  WriteFile(Src() + "/f", "abc");
  absl::StatusOr<Tree> t = WalkTree(posix_, Src() + "/f", 2);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->size(), 1u);
  EXPECT_EQ((*t)[0].path, "");
  EXPECT_EQ((*t)[0].size, 3u);
}

TEST_F(TreeTest, MissingSourceIsNotFound) {
  absl::StatusOr<Tree> t = WalkTree(posix_, Src() + "/nope", 2);
  EXPECT_TRUE(absl::IsNotFound(t.status())) << t.status();
  EXPECT_THAT(t.status().message(), HasSubstr("SRC " + Src() + "/nope does not exist"));
}

TEST_F(TreeTest, AFifoIsRefusedByName) {
  fs::create_directories(Src() + "/d");
  ASSERT_EQ(::mkfifo((Src() + "/d/pipe").c_str(), 0600), 0);
  absl::StatusOr<Tree> t = Walk();
  EXPECT_TRUE(absl::IsFailedPrecondition(t.status())) << t.status();
  EXPECT_THAT(t.status().message(), HasSubstr(Src() + "/d/pipe, a fifo"));
  EXPECT_THAT(t.status().message(), HasSubstr("regular files, directories and symbolic links"));
}

TEST_F(TreeTest, ASourceThatIsAFifoIsRefused) {
  ASSERT_EQ(::mkfifo((Src() + "/pipe").c_str(), 0600), 0);
  absl::StatusOr<Tree> t = WalkTree(posix_, Src() + "/pipe", 1);
  EXPECT_TRUE(absl::IsFailedPrecondition(t.status())) << t.status();
  EXPECT_THAT(t.status().message(), HasSubstr("is a fifo"));
}

TEST_F(TreeTest, ASymlinkLeadingUpAndOutIsRefusedNamingLinkAndTarget) {
  fs::create_directories(Src() + "/a");
  Link("../../etc/passwd", "a/evil");
  absl::StatusOr<Tree> t = Walk();
  EXPECT_TRUE(absl::IsFailedPrecondition(t.status())) << t.status();
  EXPECT_THAT(t.status().message(),
              HasSubstr("symbolic link " + Src() + "/a/evil points to ../../etc/passwd"));
  EXPECT_THAT(t.status().message(), HasSubstr("outside SRC"));
}

TEST_F(TreeTest, ASymlinkToTheParentOfTheRootIsRefused) {
  Link("..", "up");
  EXPECT_TRUE(absl::IsFailedPrecondition(Walk().status()));
}

TEST_F(TreeTest, AnEscapeThroughAnotherSymlinkIsSeenThroughIt) {
  // Lexically a/b/up/../.. is a/ (inside), but a/b/up is a/, so the kernel goes to SRC/.. .
  fs::create_directories(Src() + "/a/b");
  Link("..", "a/b/up");
  Link("a/b/up/../../outside", "sneaky");
  absl::StatusOr<Tree> t = Walk();
  EXPECT_TRUE(absl::IsFailedPrecondition(t.status())) << t.status();
  EXPECT_THAT(t.status().message(), HasSubstr("/sneaky points to a/b/up/../../outside"));
}

TEST_F(TreeTest, ALoopOfSymlinksIsRefused) {
  Link("b", "a");
  Link("a", "b");
  Link("a/x", "c");
  absl::StatusOr<Tree> t = Walk();
  EXPECT_TRUE(absl::IsFailedPrecondition(t.status())) << t.status();
  EXPECT_THAT(t.status().message(), HasSubstr("loop"));
}

TEST_F(TreeTest, InsideLinksAreKeptEvenDanglingOnes) {
  fs::create_directories(Src() + "/a/b");
  Link("../..", "a/b/root");  // the root itself
  Link("missing/file", "a/dangling");
  Link("b/root/a", "a/via");  // through another link, still inside
  absl::StatusOr<Tree> t = Walk();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Find(*t, "a/b/root")->target, "../..");
  EXPECT_EQ(Find(*t, "a/dangling")->target, "missing/file");
}

TEST_F(TreeTest, AbsoluteTargetsInsideBecomeRelativeOnesOutsideAreRefused) {
  fs::create_directories(Src() + "/a/b");
  WriteFile(Src() + "/f", "x");
  Link(Src() + "/f", "a/b/abs");             // as SRC was written
  Link(Src() + "/a/./b/../../f", "a/abs2");  // not normalized
  Link(Src(), "a/root");
  Link(Src() + "/f", "top");
  absl::StatusOr<Tree> t = Walk();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Find(*t, "a/b/abs")->target, "../../f");
  EXPECT_EQ(Find(*t, "a/abs2")->target, "../f");
  EXPECT_EQ(Find(*t, "a/root")->target, "..");
  EXPECT_EQ(Find(*t, "top")->target, "f");

  Link("/etc/passwd", "a/outside");
  t = Walk();
  EXPECT_TRUE(absl::IsFailedPrecondition(t.status())) << t.status();
  EXPECT_THAT(t.status().message(), HasSubstr("/a/outside points to /etc/passwd, outside SRC"));
}

TEST_F(TreeTest, AbsoluteTargetsThroughTheRealPathOfTheRootCountAsInside) {
  // SRC given through a symlink; links inside name the real directory.
  fs::create_directories(dir_.path() + "/real");
  WriteFile(dir_.path() + "/real/f", "x");
  fs::create_symlink(dir_.path() + "/real/f", dir_.path() + "/real/abs");
  fs::create_symlink(dir_.path() + "/real", dir_.path() + "/alias");
  absl::StatusOr<Tree> t = WalkTree(posix_, dir_.path() + "/alias", 2);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Find(*t, "abs")->target, "f");
}

TEST_F(TreeTest, StagingStateAtTheTopOfSrcIsNotData) {
  fs::create_directories(Src() + "/.drocc-stage/partial");
  fs::create_directories(Src() + "/sub/.drocc-stage");  // only the top one is staging's
  absl::StatusOr<Tree> t = Walk();
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_THAT(Paths(*t), ElementsAre("", "sub", "sub/.drocc-stage"));
}

TEST_F(TreeTest, WireFormRoundTripsAndRefusesDamage) {
  runtime::testing::MakeMixedTree(Src(), 20, 1);
  absl::StatusOr<Tree> t = Walk();
  ASSERT_TRUE(t.ok()) << t.status();
  const std::string wire = EncodeTree(*t);
  absl::StatusOr<Tree> back = DecodeTree(wire);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(EncodeTree(*back), wire);
  EXPECT_TRUE(absl::IsDataLoss(DecodeTree(wire.substr(0, wire.size() - 1)).status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeTree(wire + "x").status()));
  EXPECT_TRUE(absl::IsDataLoss(DecodeTree("").status()));

  for (const char* bad : {"..", "a/../../x", "/abs", "a//b", "./a"}) {
    Tree evil = {Entry{.path = "", .type = FileType::kDirectory},
                 Entry{.path = bad, .type = FileType::kRegular}};
    EXPECT_TRUE(absl::IsDataLoss(DecodeTree(EncodeTree(evil)).status())) << bad;
  }
  Tree abs_link = {Entry{.path = "", .type = FileType::kDirectory},
                   Entry{.path = "l", .type = FileType::kSymlink, .target = "/etc"}};
  EXPECT_TRUE(absl::IsDataLoss(DecodeTree(EncodeTree(abs_link)).status()));
  Tree unsorted = {Entry{.path = "", .type = FileType::kDirectory},
                   Entry{.path = "b", .type = FileType::kRegular},
                   Entry{.path = "a", .type = FileType::kRegular}};
  EXPECT_TRUE(absl::IsDataLoss(DecodeTree(EncodeTree(unsorted)).status()));
}

TEST(PathTest, Helpers) {
  EXPECT_TRUE(IsCleanRelativePath("a/b.c/d"));
  for (const char* bad : {"", "/a", "a/", "a//b", ".", "..", "a/../b", "./a"}) {
    EXPECT_FALSE(IsCleanRelativePath(bad)) << bad;
  }
  EXPECT_EQ(JoinPath("/d", ""), "/d");
  EXPECT_EQ(JoinPath("/d/", "x"), "/d/x");
  EXPECT_EQ(JoinPath("/d", "x/y"), "/d/x/y");
  EXPECT_EQ(TreeParent("a/b/c"), "a/b");
  EXPECT_EQ(TreeParent("a"), "");
  EXPECT_EQ(LexicalAbsolute("/a/./b/../c//d/"), "/a/c/d");
  EXPECT_EQ(LexicalAbsolute("/.."), "/");
  EXPECT_EQ(LexicalAbsolute("x"), LexicalAbsolute(fs::current_path().string()) + "/x");
}

// ---- manifest ------------------------------------------------------------------------------

TEST(ManifestTest, LinesRoundTripIncludingPathsThatAreNotUtf8) {
  for (const std::string& path :
       {std::string("a/b c/\"q\"\\.bin"), std::string("bad\xff\xfe/x"), std::string("")}) {
    const ManifestRecord r{.size = 123, .mtime_ns = -5, .xxh3 = 0xfedcba9876543210ULL};
    const std::string line = EncodeManifestLine(path, r);
    ASSERT_EQ(line.back(), '\n');
    std::string p;
    ManifestRecord got;
    ASSERT_TRUE(DecodeManifestLine(line.substr(0, line.size() - 1), &p, &got)) << line;
    EXPECT_EQ(p, path);
    EXPECT_EQ(got, r);
  }
}

TEST(ManifestTest, MalformedLinesAreNotRecords) {
  std::string p;
  ManifestRecord r;
  for (const char* bad : {
           "",
           "{",
           "[]",
           "{\"path\":\"a\",\"size\":1,\"mtime_ns\":2}",
           "{\"path\":\"a\",\"size\":-1,\"mtime_ns\":2,\"xxh3\":\"0000000000000000\"}",
           "{\"path\":\"a\",\"size\":1,\"mtime_ns\":2,\"xxh3\":\"zz00000000000000\"}",
           "{\"path\":\"a\",\"size\":1,\"mtime_ns\":2,\"xxh3\":\"00\"}",
           "{\"path\":\"../a\",\"size\":1,\"mtime_ns\":2,\"xxh3\":\"0000000000000000\"}",
           "{\"path_hex\":\"6\",\"size\":1,\"mtime_ns\":2,\"xxh3\":\"0000000000000000\"}",
           "{\"format\":\"drocc-stage-manifest\",\"version\":1}",
       }) {
    EXPECT_FALSE(DecodeManifestLine(bad, &p, &r)) << bad;
  }
}

TEST(ManifestTest, WriterAppendsLoadSkipsDamageAndLaterLinesWin) {
  TestDir dir;
  PosixFileSystem posix;
  const std::string path = dir.path() + "/manifest";
  {
    auto w = ManifestWriter::Open(posix, path, {{"old", {.size = 1, .mtime_ns = 1, .xxh3 = 1}}});
    ASSERT_TRUE(w.ok()) << w.status();
    ASSERT_TRUE((*w)->Add("a", {.size = 2, .mtime_ns = 2, .xxh3 = 2}).ok());
    ASSERT_TRUE((*w)->Add("a", {.size = 3, .mtime_ns = 3, .xxh3 = 3}).ok());
  }
  // A killed run leaves a torn last line; a damaged disk, garbage.
  std::string text = runtime::testing::ReadFile(path);
  text += "garbage\n";
  text += EncodeManifestLine("b", {.size = 4, .mtime_ns = 4, .xxh3 = 4});
  text += EncodeManifestLine("c", {.size = 5, .mtime_ns = 5, .xxh3 = 5}).substr(0, 20);
  WriteFile(path, text);
  absl::StatusOr<LoadedManifest> m = LoadManifest(posix, path);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->bad_lines, 2u);
  ASSERT_EQ(m->records.size(), 3u);
  EXPECT_EQ(m->records.at("a").size, 3u);
  EXPECT_EQ(m->records.at("b").xxh3, 4u);
  EXPECT_EQ(m->records.at("old").size, 1u);

  // Compaction keeps what it is told to, one line each, and nothing damaged.
  auto w = ManifestWriter::Open(posix, path, m->records);
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE((*w)->Add("d", {.size = 6, .mtime_ns = 6, .xxh3 = 6}).ok());
  ASSERT_TRUE(
      (*w)->Compact([](const std::string& p, const ManifestRecord&) { return p != "old"; }).ok());
  m = LoadManifest(posix, path);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->bad_lines, 0u);
  EXPECT_EQ(m->records.size(), 3u);  // a, b, d
  EXPECT_FALSE(m->records.count("old"));
  EXPECT_FALSE(fs::exists(path + ".tmp"));
}

TEST(ManifestTest, MissingOrOfAnotherVersionIsEmpty) {
  TestDir dir;
  PosixFileSystem posix;
  absl::StatusOr<LoadedManifest> m = LoadManifest(posix, dir.path() + "/none");
  ASSERT_TRUE(m.ok());
  EXPECT_THAT(m->records, IsEmpty());
  WriteFile(dir.path() + "/v2", "{\"format\":\"drocc-stage-manifest\",\"version\":2}\n" +
                                    EncodeManifestLine("a", {.size = 1}));
  m = LoadManifest(posix, dir.path() + "/v2");
  ASSERT_TRUE(m.ok());
  EXPECT_THAT(m->records, IsEmpty());
}

// Found by stage_manifest_fuzz: a header whose version was not a number threw out of
// LoadManifest (nlohmann's value() throws on a type mismatch) and ended the process.
TEST(ManifestTest, AHeaderWithAVersionThatIsNotAnIntegerIsAnotherVersion) {
  TestDir dir;
  PosixFileSystem posix;
  for (const char* version : {"\"1\"", "1.5", "null", "[1]", "{}", "-1", "18446744073709551617"}) {
    WriteFile(dir.path() + "/m",
              absl::StrCat("{\"format\":\"drocc-stage-manifest\",\"version\":", version, "}\n",
                           EncodeManifestLine("a", {.size = 1})));
    absl::StatusOr<LoadedManifest> m = LoadManifest(posix, dir.path() + "/m");
    ASSERT_TRUE(m.ok()) << version << ": " << m.status();
    EXPECT_THAT(m->records, IsEmpty()) << version;
  }
}

TEST(ManifestTest, ALargeManifestLoadsAcrossReadBlocks) {
  TestDir dir;
  PosixFileSystem posix;
  ManifestRecords records;
  for (int i = 0; i < 30000; ++i) {
    records["dir/file-with-a-longish-name-" + std::to_string(i)] = {.size = uint64_t(i)};
  }
  ASSERT_TRUE(ManifestWriter::Open(posix, dir.path() + "/m", records).ok());
  absl::StatusOr<LoadedManifest> m = LoadManifest(posix, dir.path() + "/m");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->bad_lines, 0u);
  EXPECT_EQ(m->records, records);
}

TEST(ManifestTest, ParsingDoesNotDependOnWhereThePiecesEnd) {
  const std::string text = "{\"format\":\"drocc-stage-manifest\",\"version\":1}\n" +
                           EncodeManifestLine("a", {.size = 1, .xxh3 = 7}) + "not a record\n" +
                           EncodeManifestLine("d/b", {.size = 2, .mtime_ns = -5}) +
                           EncodeManifestLine("a", {.size = 3});
  const std::string torn = text + "{\"path\":\"c\",\"si";
  for (const std::string& input : {text, torn}) {
    ManifestParser whole;
    whole.Add(input);
    const LoadedManifest expected = std::move(whole).Finish();
    EXPECT_EQ(expected.records.size(), 2u);
    EXPECT_EQ(expected.records.at("a").size, 3u);  // the later line wins
    EXPECT_EQ(expected.bad_lines, input == torn ? 2u : 1u);
    for (size_t piece = 1; piece <= 7; ++piece) {
      ManifestParser parser;
      for (size_t at = 0; at < input.size(); at += piece) {
        parser.Add(absl::string_view(input).substr(at, piece));
      }
      const LoadedManifest got = std::move(parser).Finish();
      EXPECT_EQ(got.records, expected.records) << "pieces of " << piece;
      EXPECT_EQ(got.bad_lines, expected.bad_lines) << "pieces of " << piece;
    }
  }
}

// ---- nodes ---------------------------------------------------------------------------------

TEST(NodeTest, NamesComeFromTheOptionTheEnvironmentOrTheHost) {
  EXPECT_EQ(*NodeName("node%r", 7), "node7");
  ::setenv("SLURMD_NODENAME", "cn042", 1);
  EXPECT_EQ(*NodeName("", 3), "cn042");
  ::unsetenv("SLURMD_NODENAME");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  EXPECT_EQ(*NodeName("", 0), host);
  absl::StatusOr<std::string> bad = NodeName("a/b", 0);
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(bad.status().message(), HasSubstr("node_name"));
  EXPECT_EQ(ExpandNodeName("/local/%n/data-%n", "cn1"), "/local/cn1/data-cn1");
}

TEST(NodeTest, RanksWithTheSameNameFormANodeLedByTheirFirstRank) {
  const std::vector<std::string> names = {"b", "a", "b", "c", "a"};
  NodeLayout r0 = LayOutNodes(names, 0);
  EXPECT_THAT(r0.names, ElementsAre("b", "a", "c"));
  EXPECT_THAT(r0.node_of_rank, ElementsAre(0, 1, 0, 2, 1));
  EXPECT_TRUE(r0.leader);
  EXPECT_TRUE(LayOutNodes(names, 1).leader);
  NodeLayout r2 = LayOutNodes(names, 2);
  EXPECT_EQ(r2.node, 0);
  EXPECT_FALSE(r2.leader);
  EXPECT_FALSE(LayOutNodes(names, 4).leader);
  EXPECT_TRUE(LayOutNodes(names, 3).leader);
}

// ---- POSIX errors --------------------------------------------------------------------------

TEST(PosixFileSystemTest, ErrorsSayWhatToDo) {
  absl::Status full = ErrnoStatus(ENOSPC, "cannot write", "/local/x");
  EXPECT_TRUE(absl::IsResourceExhausted(full));
  EXPECT_THAT(full.message(), HasSubstr("destination full: cannot write /local/x"));
  EXPECT_THAT(full.message(), HasSubstr("stage to another directory"));
  EXPECT_TRUE(absl::IsPermissionDenied(ErrnoStatus(EACCES, "cannot open", "/x")));
  EXPECT_TRUE(absl::IsNotFound(ErrnoStatus(ENOENT, "cannot open", "/x")));

  TestDir dir;
  PosixFileSystem posix;
  fs::create_symlink("/etc/passwd", dir.path() + "/l");
  // Neither reading nor writing follows a symlink in the last component.
  EXPECT_TRUE(absl::IsFailedPrecondition(posix.OpenForRead(dir.path() + "/l").status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(posix.Create(dir.path() + "/l", 0600).status()));
  EXPECT_TRUE(absl::IsFailedPrecondition(posix.Chmod(dir.path() + "/l", 0600)));
  EXPECT_TRUE(absl::IsAlreadyExists(posix.MakeDir(dir.path() + "/l", 0700)));
  // RemoveTree removes the link, never what it points to; read-only directories too.
  fs::create_directories(dir.path() + "/t/ro/sub");
  WriteFile(dir.path() + "/t/ro/sub/f", "x");
  fs::create_symlink(dir.path() + "/keep", dir.path() + "/t/ro/link");
  WriteFile(dir.path() + "/keep", "kept");
  ::chmod((dir.path() + "/t/ro/sub").c_str(), 0500);
  ::chmod((dir.path() + "/t/ro").c_str(), 0500);
  EXPECT_TRUE(RemoveTree(posix, dir.path() + "/t").ok());
  EXPECT_FALSE(fs::exists(dir.path() + "/t"));
  EXPECT_EQ(runtime::testing::ReadFile(dir.path() + "/keep"), "kept");
  EXPECT_TRUE(RemoveTree(posix, dir.path() + "/t").ok());  // nothing there: fine
}

}  // namespace
}  // namespace drocc::runtime::staging
