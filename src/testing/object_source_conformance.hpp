#pragma once
/// The ObjectSource conformance suite: S3 listing semantics (prefix, delimiter roll-up, byte
/// order, pagination, start-after), Open/Read round trips, Size, random access (when the source
/// has it; else the OpenRandomAccessOrRead fallback), NotFound for what is not an object,
/// concurrent use. Any implementation, a user's too, runs it with one line in ONE test
/// file of a binary (the TEST_Ps are defined here):
///
///   INSTANTIATE_TEST_SUITE_P(LocalDir, ObjectSourceConformanceTest,
///       ::testing::Values(ObjectSourceFactory(
///           [](const std::vector<TestObject>& objects, const std::string& scratch_dir) {
///             WriteFiles(scratch_dir, objects);
///             return NewLocalDirSource(scratch_dir); })));
///
/// The factory returns a source holding exactly `objects`; `scratch_dir` is a fresh empty
/// directory per test, removed after it (a directory-backed source keeps its files there;
/// others ignore it). The key sets are valid both as S3 keys and as file paths: no key is a
/// folder of another ("a/b" and "a/b/c" never both), no empty segment, no segment starting
/// with '.'.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "testing/matchers.hpp"
#include "testing/reader.hpp"
#include "testing/scratch_dir.hpp"
#include "vpcflow/object_source.hpp"

namespace vpcflow {

/// One object a factory must pre-load.
struct TestObject {
  std::string key;
  std::string bytes;
};

namespace conformance_internal {

/// Deterministic bytes of every value, including '\0' and bytes >= 0x80.
inline std::string PseudoRandomBytes(size_t n, uint32_t seed) {
  std::string out(n, '\0');
  uint32_t x = seed;
  for (char& c : out) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return out;
}

/// The standard set. Byte order: 'A' < '-' ... and "a/z" < "a/\xc3\xa9" (bytes, not signed chars).
inline std::vector<TestObject> StandardObjects() {
  return {
      {"AWSLogs/111122223333/vpcflowlogs/us-east-1/2019/01/01/x.log.gz", "flow"},
      {"a-b/c", "abc"},
      {"a.txt", "a dot txt"},
      {"a/b", "ab"},
      {"a/c/d", ""},
      {"a/c/e", "ace"},
      {"a/z", "az"},
      {"a/\xc3\xa9", "e acute"},
      {"b", std::string("\0\x01\xff\n\r\nbinary", 12)},
      {"top.log", PseudoRandomBytes(1024 * 1024 + 17, 7)},
  };
}

/// An entry of a listing, in listing order: an object key or a common prefix (marked "P:").
inline std::vector<std::string> Entries(const ListPage& page) {
  std::vector<std::string> out;
  for (const ObjectInfo& o : page.objects) out.push_back(o.key);
  for (const std::string& p : page.common_prefixes) out.push_back("P:" + p);
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    auto strip = [](const std::string& s) {
      return std::string_view(s).substr(s.starts_with("P:") ? 2 : 0);
    };
    return strip(a) < strip(b);
  });
  return out;
}

inline std::vector<std::string> Keys(const ListPage& page) {
  std::vector<std::string> out;
  for (const ObjectInfo& o : page.objects) out.push_back(o.key);
  return out;
}

}  // namespace conformance_internal

struct ObjectSourceFactory {
  template <typename F>
  ObjectSourceFactory(F f) : make(std::move(f)) {}  // NOLINT(google-explicit-constructor)
  std::function<Result<ObjectSourcePtr>(const std::vector<TestObject>& objects,
                                        const std::string& scratch_dir)>
      make;
  friend void PrintTo(const ObjectSourceFactory&, std::ostream* os) {
    *os << "ObjectSourceFactory";
  }
};

class ObjectSourceConformanceTest : public ::testing::TestWithParam<ObjectSourceFactory> {
 protected:
  void TearDown() override { source_.reset(); }  // before the scratch directory goes

  /// Makes the source under test holding `objects` (use with ASSERT_NO_FATAL_FAILURE).
  void Load(const std::vector<TestObject>& objects) {
    ASSERT_FALSE(scratch_.path().empty());
    Result<ObjectSourcePtr> made = GetParam().make(objects, scratch_.path());
    ASSERT_THAT(made, IsOk());
    source_ = std::move(*made);
    ASSERT_NE(source_, nullptr);
  }
  void LoadStandard() { Load(conformance_internal::StandardObjects()); }

  ObjectSource& source() { return *source_; }

  /// One page with a page size large enough for everything.
  ListPage ListOnePage(ListRequest request) {
    request.max_keys = 1000;
    Result<ListPage> page = source_->List(request);
    EXPECT_THAT(page, IsOk());
    if (!page.ok()) return {};
    EXPECT_EQ(page->next_token, "");
    return std::move(*page);
  }

  /// Follows continuation tokens by hand, checking every page's size and order.
  ListPage ListPaged(ListRequest request) {
    ListPage all;
    for (int pages = 0; pages < 10000; ++pages) {
      Result<ListPage> page = source_->List(request);
      EXPECT_THAT(page, IsOk());
      if (!page.ok()) return all;
      const size_t entries = page->objects.size() + page->common_prefixes.size();
      EXPECT_LE(entries, static_cast<size_t>(request.max_keys));
      EXPECT_TRUE(
          std::is_sorted(page->objects.begin(), page->objects.end(),
                         [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; }));
      EXPECT_TRUE(std::is_sorted(page->common_prefixes.begin(), page->common_prefixes.end()));
      for (ObjectInfo& o : page->objects) all.objects.push_back(std::move(o));
      for (std::string& p : page->common_prefixes) all.common_prefixes.push_back(std::move(p));
      if (page->next_token.empty()) return all;
      EXPECT_GT(entries, 0u) << "a page with a continuation token must make progress";
      EXPECT_NE(page->next_token, request.continuation_token);
      request.continuation_token = page->next_token;
    }
    ADD_FAILURE() << "listing did not end";
    return all;
  }

  /// Reads the whole object with reads of `chunk` bytes (ReadAll: no Read may return more).
  std::string ReadWhole(std::string_view key, size_t chunk) {
    Result<ObjectReaderPtr> reader = source_->Open(key);
    EXPECT_THAT(reader, IsOk());
    if (!reader.ok()) return "<open failed>";
    Result<std::string> bytes = ReadAll(**reader, chunk);
    EXPECT_THAT(bytes, IsOk());
    if (!bytes.ok()) return "<read failed>";
    // The end stays the end.
    std::vector<char> buf(chunk);
    Result<size_t> again = (*reader)->Read(std::span<char>(buf));
    EXPECT_THAT(again, IsOkAndHolds(0u));
    return *std::move(bytes);
  }

  ScratchDir scratch_;
  ObjectSourcePtr source_;
};

TEST_P(ObjectSourceConformanceTest, ListsEveryKeyInByteOrderWithSizes) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  std::vector<TestObject> objects = conformance_internal::StandardObjects();
  ListPage page = ListOnePage({});
  EXPECT_THAT(page.common_prefixes, ::testing::IsEmpty());
  EXPECT_THAT(conformance_internal::Keys(page),
              ::testing::ElementsAre(
                  "AWSLogs/111122223333/vpcflowlogs/us-east-1/2019/01/01/x.log.gz", "a-b/c",
                  "a.txt", "a/b", "a/c/d", "a/c/e", "a/z", "a/\xc3\xa9", "b", "top.log"));
  ASSERT_EQ(page.objects.size(), objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    EXPECT_EQ(page.objects[i].key, objects[i].key);
    EXPECT_EQ(page.objects[i].size, objects[i].bytes.size()) << objects[i].key;
  }
}

TEST_P(ObjectSourceConformanceTest, ListsByPrefix) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  EXPECT_THAT(conformance_internal::Keys(ListOnePage({.prefix = "a/"})),
              ::testing::ElementsAre("a/b", "a/c/d", "a/c/e", "a/z", "a/\xc3\xa9"));
  EXPECT_THAT(
      conformance_internal::Keys(ListOnePage({.prefix = "a"})),
      ::testing::ElementsAre("a-b/c", "a.txt", "a/b", "a/c/d", "a/c/e", "a/z", "a/\xc3\xa9"));
  EXPECT_THAT(conformance_internal::Keys(ListOnePage({.prefix = "a/c"})),
              ::testing::ElementsAre("a/c/d", "a/c/e"));
  EXPECT_THAT(conformance_internal::Keys(ListOnePage({.prefix = "a/b"})),
              ::testing::ElementsAre("a/b"));
  EXPECT_THAT(
      conformance_internal::Keys(ListOnePage({.prefix = "AWSLogs/111122223333/"})),
      ::testing::ElementsAre("AWSLogs/111122223333/vpcflowlogs/us-east-1/2019/01/01/x.log.gz"));
  EXPECT_THAT(conformance_internal::Keys(ListOnePage({.prefix = "t"})),
              ::testing::ElementsAre("top.log"));
}

TEST_P(ObjectSourceConformanceTest, MissingPrefixIsAnEmptyPageNotAnError) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  for (const char* prefix : {"missing/", "a/c/d/", "zzz", "a/q"}) {
    ListPage page = ListOnePage({.prefix = prefix, .delimiter = "/"});
    EXPECT_THAT(page.objects, ::testing::IsEmpty()) << prefix;
    EXPECT_THAT(page.common_prefixes, ::testing::IsEmpty()) << prefix;
  }
}

TEST_P(ObjectSourceConformanceTest, EmptySourceListsNothing) {
  ASSERT_NO_FATAL_FAILURE(Load({}));
  ListPage page = ListOnePage({.delimiter = "/"});
  EXPECT_THAT(page.objects, ::testing::IsEmpty());
  EXPECT_THAT(page.common_prefixes, ::testing::IsEmpty());
}

TEST_P(ObjectSourceConformanceTest, DelimiterRollsUpCommonPrefixes) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  ListPage top = ListOnePage({.delimiter = "/"});
  EXPECT_THAT(conformance_internal::Keys(top), ::testing::ElementsAre("a.txt", "b", "top.log"));
  EXPECT_THAT(top.common_prefixes, ::testing::ElementsAre("AWSLogs/", "a-b/", "a/"));

  ListPage a = ListOnePage({.prefix = "a/", .delimiter = "/"});
  EXPECT_THAT(conformance_internal::Keys(a), ::testing::ElementsAre("a/b", "a/z", "a/\xc3\xa9"));
  EXPECT_THAT(a.common_prefixes, ::testing::ElementsAre("a/c/"));

  ListPage partial = ListOnePage({.prefix = "a", .delimiter = "/"});
  EXPECT_THAT(conformance_internal::Keys(partial), ::testing::ElementsAre("a.txt"));
  EXPECT_THAT(partial.common_prefixes, ::testing::ElementsAre("a-b/", "a/"));

  ListPage leaf = ListOnePage({.prefix = "a/c/", .delimiter = "/"});
  EXPECT_THAT(conformance_internal::Keys(leaf), ::testing::ElementsAre("a/c/d", "a/c/e"));
  EXPECT_THAT(leaf.common_prefixes, ::testing::IsEmpty());

  ListPage deep = ListOnePage({.prefix = "AWSLogs/", .delimiter = "/"});
  EXPECT_THAT(deep.objects, ::testing::IsEmpty());
  EXPECT_THAT(deep.common_prefixes, ::testing::ElementsAre("AWSLogs/111122223333/"));
}

TEST_P(ObjectSourceConformanceTest, PagesConcatenateToTheWholeListing) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  for (const char* prefix : {"", "a", "a/"}) {
    for (const char* delimiter : {"", "/"}) {
      const ListPage whole = ListOnePage({.prefix = prefix, .delimiter = delimiter});
      for (int max_keys : {1, 2, 3, 4, 7}) {
        SCOPED_TRACE(::testing::Message() << "prefix '" << prefix << "' delimiter '" << delimiter
                                          << "' max_keys " << max_keys);
        const ListPage paged =
            ListPaged({.prefix = prefix, .delimiter = delimiter, .max_keys = max_keys});
        EXPECT_EQ(conformance_internal::Entries(paged), conformance_internal::Entries(whole));
        EXPECT_EQ(paged.objects, whole.objects);
        EXPECT_EQ(paged.common_prefixes, whole.common_prefixes);
      }
    }
  }
}

TEST_P(ObjectSourceConformanceTest, PrefixesAndObjectsShareThePageSize) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  // Top level with '/': AWSLogs/, a-b/, a.txt, a/, b, top.log; one entry per page.
  std::vector<std::string> seen;
  ListRequest request{.delimiter = "/", .max_keys = 1};
  for (int i = 0; i < 10; ++i) {
    Result<ListPage> page = source().List(request);
    ASSERT_THAT(page, IsOk());
    ASSERT_EQ(page->objects.size() + page->common_prefixes.size(), 1u);
    const std::vector<std::string> entries = conformance_internal::Entries(*page);
    seen.push_back(entries.front());
    if (page->next_token.empty()) break;
    request.continuation_token = page->next_token;
  }
  EXPECT_THAT(seen,
              ::testing::ElementsAre("P:AWSLogs/", "P:a-b/", "a.txt", "P:a/", "b", "top.log"));
}

TEST_P(ObjectSourceConformanceTest, NoTokenWhenThePageHoldsExactlyTheRest) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  Result<ListPage> page = source().List({.prefix = "a/", .max_keys = 5});
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->objects.size(), 5u);
  EXPECT_EQ(page->next_token, "");
  Result<ListPage> first = source().List({.prefix = "a/", .max_keys = 4});
  ASSERT_THAT(first, IsOk());
  EXPECT_EQ(first->objects.size(), 4u);
  EXPECT_NE(first->next_token, "");
}

TEST_P(ObjectSourceConformanceTest, StartAfterSkipsKeysUpToAndIncludingIt) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  const auto keys = [&](ListRequest r) { return conformance_internal::Keys(ListOnePage(r)); };
  EXPECT_THAT(keys({.start_after = "a/b"}),
              ::testing::ElementsAre("a/c/d", "a/c/e", "a/z", "a/\xc3\xa9", "b", "top.log"));
  EXPECT_THAT(keys({.start_after = "a/bb"}),
              ::testing::ElementsAre("a/c/d", "a/c/e", "a/z", "a/\xc3\xa9", "b", "top.log"));
  EXPECT_THAT(keys({.prefix = "a/", .start_after = "a/c/"}),
              ::testing::ElementsAre("a/c/d", "a/c/e", "a/z", "a/\xc3\xa9"));
  EXPECT_THAT(keys({.prefix = "a/", .start_after = "A"}),
              ::testing::ElementsAre("a/b", "a/c/d", "a/c/e", "a/z", "a/\xc3\xa9"));
  EXPECT_THAT(keys({.prefix = "a/", .start_after = "a/z"}), ::testing::ElementsAre("a/\xc3\xa9"));
  EXPECT_THAT(keys({.start_after = "zzz"}), ::testing::IsEmpty());
  EXPECT_THAT(keys({.start_after = "top.log"}), ::testing::IsEmpty());
}

TEST_P(ObjectSourceConformanceTest, StartAfterWithPagination) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  const ListPage paged = ListPaged({.start_after = "a.txt", .max_keys = 2});
  EXPECT_THAT(conformance_internal::Keys(paged),
              ::testing::ElementsAre("a/b", "a/c/d", "a/c/e", "a/z", "a/\xc3\xa9", "b", "top.log"));
  const ListPage rolled =
      ListPaged({.prefix = "a/", .delimiter = "/", .start_after = "a/b", .max_keys = 1});
  EXPECT_THAT(conformance_internal::Entries(rolled),
              ::testing::ElementsAre("P:a/c/", "a/z", "a/\xc3\xa9"));
}

TEST_P(ObjectSourceConformanceTest, ListAllFollowsTokens) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  Result<ListPage> all = ListAll(source(), {.prefix = "a", .max_keys = 2});
  ASSERT_THAT(all, IsOk());
  EXPECT_THAT(
      conformance_internal::Keys(*all),
      ::testing::ElementsAre("a-b/c", "a.txt", "a/b", "a/c/d", "a/c/e", "a/z", "a/\xc3\xa9"));
  EXPECT_EQ(all->next_token, "");
}

TEST_P(ObjectSourceConformanceTest, OpenReadsEveryObjectExactly) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  for (const TestObject& o : conformance_internal::StandardObjects()) {
    SCOPED_TRACE(o.key);
    EXPECT_EQ(ReadWhole(o.key, 1 << 20), o.bytes);
    if (o.bytes.size() < 100000) {
      EXPECT_EQ(ReadWhole(o.key, 1), o.bytes);
    }
    EXPECT_EQ(ReadWhole(o.key, 7), o.bytes);
    EXPECT_EQ(ReadWhole(o.key, 256 * 1024), o.bytes);
    EXPECT_THAT(source().Size(o.key), IsOkAndHolds(o.bytes.size()));
  }
}

TEST_P(ObjectSourceConformanceTest, ReadersOfOneObjectAreIndependent) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  Result<ObjectReaderPtr> r1 = source().Open("a/c/e");
  Result<ObjectReaderPtr> r2 = source().Open("a/c/e");
  ASSERT_THAT(r1, IsOk());
  ASSERT_THAT(r2, IsOk());
  char c1[2];
  char c2[3];
  EXPECT_THAT((*r1)->Read(std::span<char>(c1)), IsOkAndHolds(2u));
  EXPECT_THAT((*r2)->Read(std::span<char>(c2)), IsOkAndHolds(3u));
  EXPECT_EQ(std::string(c1, 2), "ac");
  EXPECT_EQ(std::string(c2, 3), "ace");
  EXPECT_THAT((*r1)->Read(std::span<char>(c1)), IsOkAndHolds(1u));
  EXPECT_EQ(c1[0], 'e');
}

TEST_P(ObjectSourceConformanceTest, WhatIsNotAnObjectIsNotFound) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  for (const char* key : {"missing", "a", "a/", "a/c", "a/c/", "a/b/", "A/b", "a/b/c", ""}) {
    EXPECT_THAT(source().Open(key), StatusIs(StatusCode::kNotFound)) << "'" << key << "'";
    EXPECT_THAT(source().Size(key), StatusIs(StatusCode::kNotFound)) << "'" << key << "'";
  }
  EXPECT_FALSE(source().Describe().empty());
}

TEST_P(ObjectSourceConformanceTest, RandomAccessReadsAnyRangeOfEveryObject) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  for (const TestObject& o : conformance_internal::StandardObjects()) {
    SCOPED_TRACE(o.key);
    // Tail hints of nothing, a few bytes, and more than the object.
    for (uint64_t tail : {uint64_t{0}, uint64_t{5}, uint64_t{64 * 1024}, uint64_t{4 << 20}}) {
      SCOPED_TRACE("tail hint " + std::to_string(tail));
      // A source without random access is read whole by the fallback: the same contract.
      Result<RandomAccessObjectPtr> object =
          OpenRandomAccessOrRead(source(), o.key, tail, uint64_t{16} << 20);
      ASSERT_THAT(object, IsOk());
      const uint64_t size = o.bytes.size();
      EXPECT_EQ((*object)->size(), size);
      const std::vector<std::pair<uint64_t, uint64_t>> ranges = {
          {0, size},
          {0, std::min<uint64_t>(size, 3)},
          {size / 2, size - size / 2},
          {size - std::min<uint64_t>(size, 8), std::min<uint64_t>(size, 8)},
          {size, 0},
          {size / 3, std::min<uint64_t>(size / 3, 70000)}};
      for (const auto& [offset, length] : ranges) {
        std::string got(length, '\0');
        ASSERT_THAT((*object)->ReadAt(offset, std::span<char>(got)), IsOk())
            << offset << "+" << length;
        EXPECT_EQ(got, o.bytes.substr(offset, length)) << offset << "+" << length;
      }
      char byte;
      EXPECT_THAT((*object)->ReadAt(size, std::span<char>(&byte, 1)),
                  StatusIs(StatusCode::kInvalidArgument));
      std::string two(2, '\0');
      if (size > 0) {
        EXPECT_THAT((*object)->ReadAt(size - 1, std::span<char>(two)),
                    StatusIs(StatusCode::kInvalidArgument));
      }
    }
  }
}

TEST_P(ObjectSourceConformanceTest, RandomAccessIsOptionalAndNamesMissingKeys) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  Result<RandomAccessObjectPtr> direct = source().OpenRandomAccess("a/c/e", 16);
  if (!direct.ok()) {
    // The only error an existing key may give: the capability is missing.
    EXPECT_THAT(direct, StatusIs(StatusCode::kUnimplemented));
  }
  for (const char* key : {"missing", "a/c", "a/b/c", ""}) {
    EXPECT_THAT(OpenRandomAccessOrRead(source(), key, 16, 1 << 20), StatusIs(StatusCode::kNotFound))
        << "'" << key << "'";
  }
  EXPECT_THAT(OpenRandomAccessOrRead(source(), "top.log", 16, 1000),
              direct.ok() ? StatusIs(StatusCode::kOk) : StatusIs(StatusCode::kResourceExhausted));
}

TEST_P(ObjectSourceConformanceTest, ServesSeveralThreadsAtOnce) {
  ASSERT_NO_FATAL_FAILURE(LoadStandard());
  const std::vector<TestObject> objects = conformance_internal::StandardObjects();
  constexpr int kThreads = 4;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        Result<ListPage> all = ListAll(source(), {.max_keys = 3});
        if (!all.ok() || all->objects.size() != objects.size()) ++failures[t];
        for (const TestObject& o : objects) {
          Result<ObjectReaderPtr> reader = source().Open(o.key);
          if (!reader.ok()) {
            ++failures[t];
            continue;
          }
          std::string got;
          std::vector<char> buf(64 * 1024);
          for (;;) {
            Result<size_t> n = (*reader)->Read(std::span<char>(buf));
            if (!n.ok()) {
              ++failures[t];
              break;
            }
            if (*n == 0) break;
            got.append(buf.data(), *n);
          }
          if (got != o.bytes) ++failures[t];
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_THAT(failures, ::testing::Each(0));
}

}  // namespace vpcflow
