#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "testing/files.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"
#include "testing/object_source_conformance.hpp"
#include "testing/scratch_dir.hpp"
#include "vpcflow/object_source.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

using Entry = std::pair<std::string, std::string>;  // key, problem

Result<ObjectSourcePtr> MakeLocalDirSource(const std::vector<TestObject>& objects,
                                           const std::string& scratch_dir) {
  for (const TestObject& o : objects) WriteFile(scratch_dir + "/" + o.key, o.bytes);
  return NewLocalDirSource(scratch_dir);
}

INSTANTIATE_TEST_SUITE_P(LocalDir, ObjectSourceConformanceTest,
                         ::testing::Values(ObjectSourceFactory(&MakeLocalDirSource)));

class LocalDirSourceTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(root_.empty()); }

  void Put(const std::string& key, std::string_view bytes = "x") {
    WriteFile(root_ + "/" + key, bytes);
  }

  ObjectSourcePtr Source() {
    Result<ObjectSourcePtr> source = NewLocalDirSource(root_);
    EXPECT_THAT(source, IsOk());
    return source.ok() ? std::move(*source) : nullptr;
  }

  // Every listed entry: key and ObjectInfo::problem.
  static std::vector<Entry> Entries(ObjectSource& source) {
    Result<ListPage> page = ListAll(source, {});
    EXPECT_THAT(page, IsOk());
    std::vector<Entry> entries;
    if (page.ok()) {
      for (const ObjectInfo& o : page->objects) entries.push_back({o.key, o.problem});
    }
    return entries;
  }

  static std::vector<std::string> Keys(ObjectSource& source, ListRequest request = {}) {
    Result<ListPage> page = ListAll(source, std::move(request));
    EXPECT_THAT(page, IsOk());
    std::vector<std::string> keys;
    if (page.ok()) {
      for (const ObjectInfo& o : page->objects) keys.push_back(o.key);
    }
    return keys;
  }

  ScratchDir scratch_;
  const std::string root_ = scratch_.path();
};

TEST_F(LocalDirSourceTest, RootMustBeADirectory) {
  EXPECT_THAT(NewLocalDirSource(root_ + "/missing"),
              StatusIs(StatusCode::kNotFound, HasSubstr(root_ + "/missing")));
  Put("file");
  EXPECT_THAT(NewLocalDirSource(root_ + "/file"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(NewLocalDirSource(""), StatusIs(StatusCode::kNotFound));
}

TEST_F(LocalDirSourceTest, TrailingSlashesOnTheRootAreIgnored) {
  Put("a/b", "ab");
  Result<ObjectSourcePtr> source = NewLocalDirSource(root_ + "//");
  ASSERT_THAT(source, IsOk());
  EXPECT_EQ((*source)->Describe(), "dir:" + root_);
  EXPECT_THAT(Keys(**source), ElementsAre("a/b"));
  EXPECT_THAT((*source)->Size("a/b"), IsOkAndHolds(2u));
}

TEST_F(LocalDirSourceTest, HiddenFilesAndFoldersAreNotObjects) {
  Put("a/visible.log.gz");
  Put("a/.partial.log.gz");
  Put(".hidden/x");
  Put(".top");
  Put("a/.tmp/y");
  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  EXPECT_THAT(Keys(*source), ElementsAre("a/visible.log.gz"));
  EXPECT_THAT(Keys(*source, {.prefix = ".hidden/"}), IsEmpty());
  EXPECT_THAT(Keys(*source, {.prefix = "a/."}), IsEmpty());
  for (const char* key : {"a/.partial.log.gz", ".hidden/x", ".top", "a/.tmp/y"}) {
    EXPECT_THAT(source->Open(key), StatusIs(StatusCode::kNotFound)) << key;
    EXPECT_THAT(source->Size(key), StatusIs(StatusCode::kNotFound)) << key;
  }
}

TEST_F(LocalDirSourceTest, KeysCannotLeaveTheRoot) {
  Put("a/b");
  WriteFile(root_ + "-outside", "secret");
  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  const std::string outside = "../" + fs::path(root_ + "-outside").filename().string();
  for (const std::string& key :
       {outside, std::string("a/../a/b"), std::string("./a/b"), std::string("a//b"),
        std::string("/a/b"), root_ + "/a/b", std::string("a/b/")}) {
    EXPECT_THAT(source->Open(key), StatusIs(StatusCode::kNotFound)) << key;
    EXPECT_THAT(source->Size(key), StatusIs(StatusCode::kNotFound)) << key;
  }
  EXPECT_THAT(Keys(*source, {.prefix = "../"}), IsEmpty());
  fs::remove(root_ + "-outside");
}

TEST_F(LocalDirSourceTest, EmptyFoldersAreNotCommonPrefixes) {
  Put("full/x");
  fs::create_directories(root_ + "/empty/deeper");
  Put("hidden-only/.x");
  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  Result<ListPage> page = source->List({.delimiter = "/"});
  ASSERT_THAT(page, IsOk());
  EXPECT_THAT(page->common_prefixes, ElementsAre("full/"));
  EXPECT_THAT(page->objects, IsEmpty());
}

TEST_F(LocalDirSourceTest, FollowsSymlinksInsideTheRootAndNamesDanglingOnes) {
  Put("real/data.log", "data");
  fs::create_directory_symlink(root_ + "/real", root_ + "/linked");
  fs::create_symlink("real/data.log", root_ + "/file-link");  // relative
  fs::create_symlink(root_ + "/nowhere", root_ + "/dangling");
  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  EXPECT_THAT(Entries(*source),
              ElementsAre(Entry{"dangling", "a dangling symbolic link"}, Entry{"file-link", ""},
                          Entry{"linked/data.log", ""}, Entry{"real/data.log", ""}));
  EXPECT_THAT(source->Size("linked/data.log"), IsOkAndHolds(4u));
  EXPECT_THAT(source->Size("file-link"), IsOkAndHolds(4u));
  EXPECT_THAT(source->Open("file-link"), IsOk());
  EXPECT_THAT(source->Open("dangling"), StatusIs(StatusCode::kNotFound));
}

TEST_F(LocalDirSourceTest, SymlinkLoopsAreNamedNotWalked) {
  Put("a/x");
  fs::create_directory_symlink(root_ + "/a", root_ + "/a/loop");  // to the folder holding it
  fs::create_directory_symlink(root_, root_ + "/a/root");         // to the root
  fs::create_symlink(root_ + "/ping", root_ + "/pong");           // a chain that never ends
  fs::create_symlink(root_ + "/pong", root_ + "/ping");
  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  EXPECT_THAT(Entries(*source),
              ElementsAre(Entry{"a/loop", "a symbolic link loop (to a folder that contains it)"},
                          Entry{"a/root", "a symbolic link loop (to a folder that contains it)"},
                          Entry{"a/x", ""}, Entry{"ping", "a symbolic link loop"},
                          Entry{"pong", "a symbolic link loop"}));
  EXPECT_THAT(source->Open("ping"), StatusIs(StatusCode::kNotFound));
  // A listing that starts inside the loop still ends.
  EXPECT_THAT(Keys(*source, {.prefix = "a/loop/"}),
              ElementsAre("a/loop/loop", "a/loop/root", "a/loop/x"));
}

TEST_F(LocalDirSourceTest, LinksLeavingTheRootAreNotFollowedUnlessAsked) {
  ScratchDir outside;
  WriteFile(outside.Sub("logs/secret.log"), "secret");
  Put("in/own.log", "own");
  fs::create_directory_symlink(outside.Sub("logs"), root_ + "/in/out-dir");
  fs::create_symlink(outside.Sub("logs/secret.log"), root_ + "/in/out-file");
  fs::create_symlink("../../" + fs::path(outside.path()).filename().string() + "/logs/secret.log",
                     root_ + "/in/out-relative");  // relative, through ".."
  const std::string kLeaves = "a symbolic link leaving the source directory (not followed)";

  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  EXPECT_THAT(Entries(*source),
              ElementsAre(Entry{"in/out-dir", kLeaves}, Entry{"in/out-file", kLeaves},
                          Entry{"in/out-relative", kLeaves}, Entry{"in/own.log", ""}));
  for (const char* key : {"in/out-file", "in/out-relative", "in/out-dir/secret.log"}) {
    EXPECT_THAT(source->Open(key), StatusIs(StatusCode::kNotFound)) << key;
    EXPECT_THAT(source->Size(key), StatusIs(StatusCode::kNotFound)) << key;
  }
  // Listing the outside folder by its name inside the root finds nothing either.
  EXPECT_THAT(Keys(*source, {.prefix = "in/out-dir/"}), IsEmpty());

  Result<ObjectSourcePtr> following = NewLocalDirSource(root_, {.follow_links = true});
  ASSERT_THAT(following, IsOk());
  EXPECT_THAT(Entries(**following),
              ElementsAre(Entry{"in/out-dir/secret.log", ""}, Entry{"in/out-file", ""},
                          Entry{"in/out-relative", ""}, Entry{"in/own.log", ""}));
  EXPECT_THAT((*following)->Size("in/out-dir/secret.log"), IsOkAndHolds(6u));
  EXPECT_THAT((*following)->Open("in/out-file"), IsOk());
}

TEST_F(LocalDirSourceTest, ARootReachedThroughALinkKeepsItsInsideLinks) {
  Put("real/a.log", "a");
  fs::create_symlink("real/a.log", root_ + "/b.log");
  ScratchDir elsewhere;
  fs::create_directory_symlink(root_, elsewhere.Sub("root-link"));
  Result<ObjectSourcePtr> source = NewLocalDirSource(elsewhere.Sub("root-link"));
  ASSERT_THAT(source, IsOk());
  EXPECT_THAT(Entries(**source), ElementsAre(Entry{"b.log", ""}, Entry{"real/a.log", ""}));
  EXPECT_THAT((*source)->Open("b.log"), IsOk());
}

TEST_F(LocalDirSourceTest, ListsADayFolderOfThousandsOfFilesInPages) {
  const std::string day = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/01/";
  std::vector<std::string> want;
  for (int i = 0; i < 2000; ++i) {
    char name[96];
    std::snprintf(name, sizeof(name),
                  "123456789012_vpcflowlogs_us-east-1_fl-%04d_20190101T%02d%02dZ_abc.log.gz", i % 7,
                  (i / 12) % 24, (i % 12) * 5);
    want.push_back(day + name + std::to_string(i));
    Put(want.back(), "");
  }
  Put("AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/02/other.log.gz");
  std::sort(want.begin(), want.end());
  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  Result<ListPage> first = source->List({.prefix = day, .max_keys = 1000});
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->objects.size(), 1000u);
  EXPECT_EQ(first->next_token, want[999]);
  EXPECT_EQ(Keys(*source, {.prefix = day, .delimiter = "/", .max_keys = 1000}), want);
  // A narrower prefix inside the folder (an hour of one flow log).
  std::vector<std::string> hour;
  for (const std::string& k : want) {
    if (k.starts_with(day + "123456789012_vpcflowlogs_us-east-1_fl-0003_20190101T07")) {
      hour.push_back(k);
    }
  }
  ASSERT_FALSE(hour.empty());
  EXPECT_EQ(Keys(*source, {.prefix = day + "123456789012_vpcflowlogs_us-east-1_fl-0003_20190101T07",
                           .max_keys = 5}),
            hour);
}

TEST_F(LocalDirSourceTest, AgreesWithTheInMemoryBucketOnRandomTrees) {
  // Names from an alphabet around '/' (0x2f) in byte order: '-' '.' '0' 'a' '~' and UTF-8.
  const std::vector<std::string> alphabet = {"-", ".", "0", "a", "b", "~", "\xc3\xa9", "A"};
  std::mt19937 rng(42);
  for (int round = 0; round < 4; ++round) {
    fs::remove_all(root_);
    fs::create_directories(root_);
    std::set<std::string> keys;
    for (int i = 0; i < 60; ++i) {
      std::string key;
      const int segments = 1 + static_cast<int>(rng() % 3);
      for (int s = 0; s < segments; ++s) {
        if (s > 0) key += "/";
        const int len = 1 + static_cast<int>(rng() % 3);
        std::string segment;
        for (int c = 0; c < len; ++c) segment += alphabet[rng() % alphabet.size()];
        if (segment[0] == '.') segment = "n" + segment;
        key += segment;
      }
      keys.insert(key);
    }
    // A file cannot also be a folder: drop keys that are folders of others.
    MemoryObjectSource memory;
    for (const std::string& key : keys) {
      auto after = keys.lower_bound(key + "/");
      if (after != keys.end() && after->starts_with(key + "/")) continue;
      Put(key, key);
      memory.Put(key, key);
    }
    ObjectSourcePtr local = Source();
    ASSERT_NE(local, nullptr);
    for (const std::string& prefix : {std::string(), std::string("a"), std::string("a/"),
                                      std::string("0"), std::string("b-")}) {
      for (const std::string& delimiter : {std::string(), std::string("/"), std::string("a")}) {
        for (int max_keys : {1, 1000}) {
          for (const std::string& start_after :
               {std::string(), std::string("a/0"), std::string("b")}) {
            ListRequest request{.prefix = prefix,
                                .delimiter = delimiter,
                                .start_after = start_after,
                                .max_keys = max_keys};
            SCOPED_TRACE(::testing::Message() << "round " << round << " prefix '" << prefix
                                              << "' delimiter '" << delimiter << "' start_after '"
                                              << start_after << "' max_keys " << max_keys);
            Result<ListPage> want = ListAll(memory, request);
            Result<ListPage> got = ListAll(*local, request);
            ASSERT_THAT(want, IsOk());
            ASSERT_THAT(got, IsOk());
            EXPECT_EQ(got->objects, want->objects);
            EXPECT_EQ(got->common_prefixes, want->common_prefixes);
          }
        }
      }
    }
  }
}

TEST_F(LocalDirSourceTest, SpecialFilesAreNamedNeverOpened) {
  Put("a/real");
  ASSERT_EQ(::mkfifo((root_ + "/a/fifo").c_str(), 0600), 0);
  fs::create_symlink(root_ + "/a/fifo", root_ + "/a/fifo-link");
  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  EXPECT_THAT(Entries(*source),
              ElementsAre(Entry{"a/fifo", "a FIFO"},
                          Entry{"a/fifo-link", "a symbolic link to a FIFO"}, Entry{"a/real", ""}));
  EXPECT_THAT(source->Open("a/fifo"), StatusIs(StatusCode::kNotFound));  // and does not block
  EXPECT_THAT(source->Open("a/fifo-link"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(source->Size("a/fifo"), StatusIs(StatusCode::kNotFound));
}

TEST_F(LocalDirSourceTest, ARemovedRootIsNotFound) {
  Put("a/b");
  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  fs::remove_all(root_);
  EXPECT_THAT(source->List({}), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(source->List({.prefix = "a/"}), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(source->Open("a/b"), StatusIs(StatusCode::kNotFound));
  fs::create_directories(root_);
}

TEST_F(LocalDirSourceTest, AFolderThatCannotBeReadIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads every folder";
  Put("locked/x");
  fs::permissions(root_ + "/locked", fs::perms::none);
  ObjectSourcePtr source = Source();
  ASSERT_NE(source, nullptr);
  EXPECT_THAT(source->List({}), StatusIs(StatusCode::kPermissionDenied));
  fs::permissions(root_ + "/locked", fs::perms::owner_all);
}

}  // namespace
}  // namespace vpcflow
