#include "common/list_page_builder.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Offers `keys` (sorted) as a source would, honouring done().
ListPage Build(const std::set<std::string>& keys, const ListRequest& request) {
  ListPageBuilder builder(request);
  for (const std::string& key : keys) {
    if (builder.done()) break;
    if (builder.Offer(key)) builder.AddObject(key, key.size());
  }
  return std::move(builder).Finish();
}

const std::set<std::string> kKeys = {"a/1", "a/2", "a/b/1", "a/b/2", "a/c/1", "b", "c/1"};

TEST(ListPageBuilderTest, ListsAllWithoutDelimiter) {
  ListPage page = Build(kKeys, {});
  EXPECT_EQ(page.objects.size(), kKeys.size());
  EXPECT_EQ(page.next_token, "");
}

TEST(ListPageBuilderTest, RollsUpAtTheDelimiterAfterThePrefix) {
  ListPage page = Build(kKeys, {.prefix = "a/", .delimiter = "/"});
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].key, "a/1");
  EXPECT_THAT(page.common_prefixes, ElementsAre("a/b/", "a/c/"));
}

TEST(ListPageBuilderTest, MultiCharacterDelimiter) {
  ListPage page = Build({"x--y--z", "x--y--w", "x-y", "xz--"}, {.delimiter = "--"});
  EXPECT_THAT(page.common_prefixes, ElementsAre("x--", "xz--"));
  ASSERT_EQ(page.objects.size(), 1u);
  EXPECT_EQ(page.objects[0].key, "x-y");
}

TEST(ListPageBuilderTest, TokenIsTheLastEntryAndResumesAfterIt) {
  ListPage first = Build(kKeys, {.delimiter = "/", .max_keys = 1});
  EXPECT_THAT(first.common_prefixes, ElementsAre("a/"));
  EXPECT_EQ(first.next_token, "a/");
  ListPage second =
      Build(kKeys, {.delimiter = "/", .continuation_token = first.next_token, .max_keys = 1});
  ASSERT_EQ(second.objects.size(), 1u);
  EXPECT_EQ(second.objects[0].key, "b");
  EXPECT_EQ(second.next_token, "b");
  ListPage third =
      Build(kKeys, {.delimiter = "/", .continuation_token = second.next_token, .max_keys = 1});
  EXPECT_THAT(third.common_prefixes, ElementsAre("c/"));
  EXPECT_EQ(third.next_token, "");
}

TEST(ListPageBuilderTest, ContinuationTokenSupersedesStartAfter) {
  ListPage page = Build(kKeys, {.start_after = "a/1", .continuation_token = "a/c/1"});
  ASSERT_EQ(page.objects.size(), 2u);
  EXPECT_EQ(page.objects[0].key, "b");
}

TEST(ListPageBuilderTest, NonPositiveMaxKeysMeansTheDefault) {
  std::set<std::string> many;
  for (int i = 0; i < 1500; ++i) many.insert("k" + std::to_string(10000 + i));
  ListPage page = Build(many, {.max_keys = 0});
  EXPECT_EQ(page.objects.size(), 1000u);
  EXPECT_EQ(page.next_token, "k10999");
}

TEST(ListPageBuilderTest, MayContainPrunesByPrefixStartAndRolledUpPrefix) {
  ListPageBuilder builder({.prefix = "a/", .delimiter = "/", .start_after = "a/b/1"});
  EXPECT_FALSE(builder.MayContain("b/"));
  EXPECT_TRUE(builder.MayContain("a/"));
  EXPECT_TRUE(builder.MayContain("a/b/"));  // holds keys after a/b/1
  EXPECT_FALSE(builder.MayContain("a/a/"));
  EXPECT_TRUE(builder.MayContain("a/c/"));
  EXPECT_FALSE(builder.Offer("a/c/1"));  // rolled up into a/c/
  EXPECT_FALSE(builder.MayContain("a/c/d/"));
  EXPECT_TRUE(builder.MayContain("a/d/"));
  EXPECT_EQ(builder.first_candidate(), "a/b/1");
  ListPage page = std::move(builder).Finish();
  EXPECT_THAT(page.objects, IsEmpty());
  EXPECT_THAT(page.common_prefixes, ElementsAre("a/c/"));
}

}  // namespace
}  // namespace vpcflow
