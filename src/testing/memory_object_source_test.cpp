#include "testing/memory_object_source.hpp"

#include <gtest/gtest.h>

#include "testing/matchers.hpp"
#include "testing/object_source_conformance.hpp"
#include "testing/reader.hpp"

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

Result<ObjectSourcePtr> MakeMemorySource(const std::vector<TestObject>& objects,
                                         const std::string& /*scratch_dir*/) {
  auto source = std::make_unique<MemoryObjectSource>();
  for (const TestObject& o : objects) source->Put(o.key, o.bytes);
  return ObjectSourcePtr(std::move(source));
}

INSTANTIATE_TEST_SUITE_P(Memory, ObjectSourceConformanceTest,
                         ::testing::Values(ObjectSourceFactory(&MakeMemorySource)));

TEST(MemoryObjectSourceTest, PutReplacesAndRemoveDeletes) {
  MemoryObjectSource source;
  source.Put("k", "one");
  source.Put("k", "three");
  EXPECT_THAT(source.Size("k"), IsOkAndHolds(5u));
  source.Remove("k");
  EXPECT_THAT(source.Size("k"), StatusIs(StatusCode::kNotFound, HasSubstr("'k'")));
  EXPECT_THAT(source.Open("k"), StatusIs(StatusCode::kNotFound));
}

TEST(MemoryObjectSourceTest, OpenReadersSurviveReplaceAndRemove) {
  MemoryObjectSource source;
  source.Put("k", "original");
  Result<ObjectReaderPtr> reader = source.Open("k");
  ASSERT_THAT(reader, IsOk());
  source.Put("k", "replaced");
  source.Remove("k");
  EXPECT_THAT(ReadAll(**reader, 3), IsOkAndHolds(std::string("original")));
}

TEST(MemoryObjectSourceTest, MaxPageSizeCapsPages) {
  MemoryObjectSource source;
  for (const char* k : {"a", "b", "c", "d", "e"}) source.Put(k, "");
  source.SetMaxPageSize(2);
  Result<ListPage> page = source.List({.max_keys = 1000});
  ASSERT_THAT(page, IsOk());
  EXPECT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->next_token, "b");
  Result<ListPage> all = ListAll(source, {});
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->objects.size(), 5u);
  EXPECT_EQ(source.list_calls().size(), 4u);
}

TEST(MemoryObjectSourceTest, RecordsListAndOpenCalls) {
  MemoryObjectSource source;
  source.Put("a/b", "x");
  (void)source.List({.prefix = "a/", .delimiter = "/"});
  (void)source.Open("a/b");
  (void)source.Open("missing");
  ASSERT_EQ(source.list_calls().size(), 1u);
  EXPECT_EQ(source.list_calls()[0].prefix, "a/");
  EXPECT_EQ(source.list_calls()[0].delimiter, "/");
  EXPECT_THAT(source.open_calls(), ElementsAre("a/b", "missing"));
}

TEST(MemoryObjectSourceTest, FailListMatchesPrefixesStartingWithIt) {
  MemoryObjectSource source;
  source.Put("AWSLogs/1/x", "x");
  source.FailList("AWSLogs/", UnavailableError("throttled"));
  EXPECT_THAT(source.List({.prefix = "AWSLogs/1/"}),
              StatusIs(StatusCode::kUnavailable, "throttled"));
  EXPECT_THAT(source.List({.prefix = "other/"}), IsOk());
  EXPECT_THAT(ListAll(source, {}), IsOk());  // "" does not start with "AWSLogs/"
  source.FailList("", PermissionDeniedError("denied"));
  EXPECT_THAT(source.List({}), StatusIs(StatusCode::kPermissionDenied));
}

TEST(MemoryObjectSourceTest, FailObjectOnOpenOrOnFirstRead) {
  MemoryObjectSource source;
  source.Put("a", "aaa");
  source.Put("b", "bbb");
  source.FailObject("a", UnavailableError("open failed"));
  source.FailObject("b", DataLossError("read failed"), /*on_open=*/false);
  EXPECT_THAT(source.Open("a"), StatusIs(StatusCode::kUnavailable, "open failed"));
  Result<ObjectReaderPtr> b = source.Open("b");
  ASSERT_THAT(b, IsOk());
  char buf[4];
  EXPECT_THAT((*b)->Read(std::span<char>(buf)), StatusIs(StatusCode::kDataLoss, "read failed"));
  EXPECT_THAT(source.Size("a"), IsOkAndHolds(3u));
  // The same faults for random access.
  EXPECT_THAT(source.OpenRandomAccess("a", 0), StatusIs(StatusCode::kUnavailable, "open failed"));
  Result<RandomAccessObjectPtr> random = source.OpenRandomAccess("b", 0);
  ASSERT_THAT(random, IsOk());
  EXPECT_EQ((*random)->size(), 3u);
  EXPECT_THAT((*random)->ReadAt(0, std::span<char>(buf, 1)),
              StatusIs(StatusCode::kDataLoss, "read failed"));
  EXPECT_THAT(source.open_calls(), ElementsAre("a", "b", "a", "b"));
}

}  // namespace
}  // namespace vpcflow
