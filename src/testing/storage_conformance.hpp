#pragma once
/// The Storage conformance suite. Any implementation, a user's too, runs it with one line in
/// ONE test file of a binary (the TEST_Ps are defined here):
///
///   INSTANTIATE_TEST_SUITE_P(File, StorageConformanceTest,
///       ::testing::Values(StorageFactory([](const std::string& dir) {
///         return NewFileStorage(dir); })));
///
/// The factory gets a fresh empty scratch directory per test (ignore it if unused) and returns
/// the store under test, which must start empty.

#include <gtest/gtest.h>

#include <functional>
#include <latch>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "testing/matchers.hpp"
#include "testing/reader.hpp"
#include "testing/scratch_dir.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

struct StorageFactory {
  template <typename F>
  StorageFactory(F f) : make(std::move(f)) {}  // NOLINT(google-explicit-constructor)
  std::function<Result<StoragePtr>(const std::string& scratch_dir)> make;
  friend void PrintTo(const StorageFactory&, std::ostream* os) { *os << "StorageFactory"; }
};

class StorageConformanceTest : public ::testing::TestWithParam<StorageFactory> {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    Result<StoragePtr> storage = GetParam().make(scratch_.path());
    ASSERT_THAT(storage, IsOk());
    storage_ = std::move(storage).value();
  }

  static std::string Bytes(size_t n, unsigned seed) {
    std::mt19937 random(seed);
    std::string out(n, '\0');
    for (char& c : out) c = static_cast<char>(random());
    return out;
  }

  Status Store(const std::string& id, const std::string& digest, const std::string& manifest) {
    VPCFLOW_ASSIGN_OR_RETURN(StorageUploadPtr upload, storage_->Begin(id));
    for (size_t i = 0; i < digest.size(); i += 7919) {
      VPCFLOW_RETURN_IF_ERROR(upload->body().Append(std::string_view(digest).substr(i, 7919)));
    }
    return upload->Commit(manifest);
  }

  std::string GetDigest(const std::string& id) {
    Result<StoredDigest> got = storage_->Get(id);
    if (!got.ok()) return "<" + got.status().ToString() + ">";
    Result<std::string> bytes = ReadAll(*got->reader);
    if (!bytes.ok()) return "<" + bytes.status().ToString() + ">";
    if (bytes->size() != got->size) return "<size " + std::to_string(got->size) + " is wrong>";
    return *bytes;
  }

  ScratchDir scratch_;
  StoragePtr storage_;
};

TEST_P(StorageConformanceTest, MissingDigestIsNotFound) {
  std::string id = TestDigestId(1);
  EXPECT_THAT(storage_->Get(id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(storage_->GetManifest(id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(storage_->Exists(id), IsOkAndHolds(false));
}

TEST_P(StorageConformanceTest, StoresAndStreamsDigestAndManifest) {
  std::string id = TestDigestId(2);
  std::string digest = Bytes(1 << 20, 2);
  ASSERT_OK(Store(id, digest, R"({"id":"x"})"));
  EXPECT_THAT(storage_->Exists(id), IsOkAndHolds(true));
  EXPECT_EQ(GetDigest(id), digest);
  EXPECT_THAT(storage_->GetManifest(id), IsOkAndHolds(std::string(R"({"id":"x"})")));
}

TEST_P(StorageConformanceTest, StoresAnEmptyDigest) {
  std::string id = TestDigestId(3);
  ASSERT_OK(Store(id, "", "{}"));
  EXPECT_THAT(storage_->Exists(id), IsOkAndHolds(true));
  EXPECT_EQ(GetDigest(id), "");
}

TEST_P(StorageConformanceTest, NothingIsVisibleBeforeCommit) {
  std::string id = TestDigestId(4);
  Result<StorageUploadPtr> upload = storage_->Begin(id);
  ASSERT_OK(upload);
  ASSERT_OK((*upload)->body().Append("partial bytes"));
  EXPECT_THAT(storage_->Exists(id), IsOkAndHolds(false));
  EXPECT_THAT(storage_->Get(id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(storage_->GetManifest(id), StatusIs(StatusCode::kNotFound));
  ASSERT_OK((*upload)->Commit("{}"));
  EXPECT_EQ(GetDigest(id), "partial bytes");
}

TEST_P(StorageConformanceTest, DestroyingAnUploadAbortsIt) {
  std::string id = TestDigestId(5);
  {
    Result<StorageUploadPtr> upload = storage_->Begin(id);
    ASSERT_OK(upload);
    ASSERT_OK((*upload)->body().Append(Bytes(100000, 5)));
  }
  EXPECT_THAT(storage_->Exists(id), IsOkAndHolds(false));
  EXPECT_THAT(storage_->Get(id), StatusIs(StatusCode::kNotFound));
}

TEST_P(StorageConformanceTest, CommitTwiceIsFailedPrecondition) {
  std::string id = TestDigestId(6);
  Result<StorageUploadPtr> upload = storage_->Begin(id);
  ASSERT_OK(upload);
  ASSERT_OK((*upload)->body().Append("a"));
  ASSERT_OK((*upload)->Commit("{}"));
  EXPECT_THAT((*upload)->Commit("{}"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(GetDigest(id), "a");
}

TEST_P(StorageConformanceTest, CommitReplacesAStoredDigest) {
  std::string id = TestDigestId(7);
  ASSERT_OK(Store(id, "first", R"({"n":1})"));
  ASSERT_OK(Store(id, "second", R"({"n":2})"));
  EXPECT_EQ(GetDigest(id), "second");
  EXPECT_THAT(storage_->GetManifest(id), IsOkAndHolds(std::string(R"({"n":2})")));
}

TEST_P(StorageConformanceTest, OpenReaderKeepsItsBytesWhenReplaced) {
  std::string id = TestDigestId(8);
  std::string first = Bytes(300000, 8);
  ASSERT_OK(Store(id, first, "{}"));
  Result<StoredDigest> opened = storage_->Get(id);
  ASSERT_OK(opened);
  ASSERT_OK(Store(id, "replacement", "{}"));
  EXPECT_THAT(ReadAll(*opened->reader), IsOkAndHolds(first));
  EXPECT_EQ(GetDigest(id), "replacement");
}

TEST_P(StorageConformanceTest, IdsAreKeptApart) {
  ASSERT_OK(Store(TestDigestId(9), "nine", "{9}"));
  ASSERT_OK(Store(TestDigestId(10), "ten", "{10}"));
  EXPECT_EQ(GetDigest(TestDigestId(9)), "nine");
  EXPECT_EQ(GetDigest(TestDigestId(10)), "ten");
  EXPECT_THAT(storage_->GetManifest(TestDigestId(9)), IsOkAndHolds(std::string("{9}")));
}

TEST_P(StorageConformanceTest, RejectsIdsThatAreNotDigestIds) {
  for (std::string bad :
       {"", "../../etc/passwd", "a/b", "9740a140-ba85-5600-8b93-7b46eec7761/",
        "9740A140-BA85-5600-8B93-7B46EEC77617", "9740a140-ba85-5600-8b93-7b46eec77617/..",
        ".9740a140-ba85-5600-8b93-7b46eec7761", "9740a140ba8505600-8b93-7b46eec77617"}) {
    SCOPED_TRACE(bad);
    EXPECT_THAT(storage_->Get(bad), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(storage_->GetManifest(bad), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(storage_->GetRows(bad), ::testing::AnyOf(StatusIs(StatusCode::kInvalidArgument),
                                                         StatusIs(StatusCode::kUnimplemented)));
    EXPECT_THAT(storage_->Exists(bad), StatusIs(StatusCode::kInvalidArgument));
    EXPECT_THAT(storage_->Begin(bad), StatusIs(StatusCode::kInvalidArgument));
  }
}

TEST_P(StorageConformanceTest, ConcurrentUploadsAllLand) {
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::vector<Status> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      results[t] = Store(TestDigestId(100 + t), Bytes(50000, t), "{}");
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_OK(results[t]);
    EXPECT_EQ(GetDigest(TestDigestId(100 + t)), Bytes(50000, t));
  }
}

TEST_P(StorageConformanceTest, ConcurrentUploadsOfOneIdLeaveOneWholeDigest) {
  constexpr int kThreads = 6;
  std::string id = TestDigestId(11);
  std::latch start(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      start.arrive_and_wait();
      EXPECT_OK(Store(id, Bytes(40000, t), std::to_string(t)));
    });
  }
  for (auto& thread : threads) thread.join();
  std::string digest = GetDigest(id);
  bool whole = false;
  for (int t = 0; t < kThreads; ++t) whole = whole || digest == Bytes(40000, t);
  EXPECT_TRUE(whole);
}

// Stores `digest` with the rows sidecar `rows` ("" = none); skips the test for a store without
// sidecars (Begin's upload has no rows_body).
#define VPCFLOW_STORE_WITH_ROWS(id, digest, rows)                              \
  do {                                                                         \
    Result<StorageUploadPtr> upload = storage_->Begin(id);                     \
    ASSERT_OK(upload);                                                         \
    if ((*upload)->rows_body() == nullptr) GTEST_SKIP() << "no rows sidecars"; \
    ASSERT_OK((*upload)->body().Append(digest));                               \
    if (!std::string_view(rows).empty()) {                                     \
      ASSERT_OK((*upload)->rows_body()->Append(rows));                         \
    }                                                                          \
    ASSERT_OK((*upload)->Commit("{}"));                                        \
  } while (false)

TEST_P(StorageConformanceTest, StoresTheRowsSidecarBesideItsDigest) {
  std::string id = TestDigestId(12);
  EXPECT_THAT(storage_->GetRows(id), ::testing::AnyOf(StatusIs(StatusCode::kNotFound),
                                                      StatusIs(StatusCode::kUnimplemented)));
  const std::string rows = Bytes(200000, 12);
  VPCFLOW_STORE_WITH_ROWS(id, "digest", rows);
  EXPECT_EQ(GetDigest(id), "digest");
  Result<StoredDigest> got = storage_->GetRows(id);
  ASSERT_OK(got);
  EXPECT_EQ(got->size, rows.size());
  EXPECT_THAT(ReadAll(*got->reader), IsOkAndHolds(rows));
}

TEST_P(StorageConformanceTest, ADigestReplacedWithoutASidecarLosesTheOldOne) {
  std::string id = TestDigestId(13);
  VPCFLOW_STORE_WITH_ROWS(id, "first", "first rows");
  VPCFLOW_STORE_WITH_ROWS(id, "second", "");
  EXPECT_EQ(GetDigest(id), "second");
  EXPECT_THAT(storage_->GetRows(id), StatusIs(StatusCode::kNotFound));
  VPCFLOW_STORE_WITH_ROWS(id, "third", "third rows");
  Result<StoredDigest> got = storage_->GetRows(id);
  ASSERT_OK(got);
  EXPECT_THAT(ReadAll(*got->reader), IsOkAndHolds(std::string("third rows")));
}

TEST_P(StorageConformanceTest, NoSidecarIsVisibleBeforeCommitOrAfterAnAbort) {
  std::string id = TestDigestId(14);
  {
    Result<StorageUploadPtr> upload = storage_->Begin(id);
    ASSERT_OK(upload);
    if ((*upload)->rows_body() == nullptr) GTEST_SKIP() << "no rows sidecars";
    ASSERT_OK((*upload)->body().Append("digest"));
    ASSERT_OK((*upload)->rows_body()->Append("rows"));
    EXPECT_THAT(storage_->GetRows(id), StatusIs(StatusCode::kNotFound));
  }
  EXPECT_THAT(storage_->GetRows(id), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(storage_->Exists(id), IsOkAndHolds(false));
}

#undef VPCFLOW_STORE_WITH_ROWS

// Partials are an optional capability: a store without them answers Unimplemented everywhere.
TEST_P(StorageConformanceTest, PartialsAreStoredReplacedListedAndDeleted) {
  const std::string id = TestDigestId(40);
  Result<PartialUploadPtr> first =
      storage_->BeginPartial(id, "123456789012-eu-west-1-2019010100-0");
  if (!first.ok() && first.status().code() == StatusCode::kUnimplemented) {
    GTEST_SKIP() << storage_->Describe() << " does not store partials";
  }
  ASSERT_THAT(first, IsOk());
  const std::string a = Bytes(100000, 1);
  ASSERT_THAT((*first)->body().Append(a), IsOk());
  // Not visible before Commit.
  EXPECT_THAT(storage_->ListPartials(id), IsOkAndHolds(std::vector<std::string>{}));
  ASSERT_THAT((*first)->Commit(), IsOk());
  {
    Result<PartialUploadPtr> abandoned = storage_->BeginPartial(id, "b");
    ASSERT_THAT(abandoned, IsOk());
    ASSERT_THAT((*abandoned)->body().Append("never"), IsOk());
  }
  Result<PartialUploadPtr> second = storage_->BeginPartial(id, "a");
  ASSERT_THAT(second, IsOk());
  ASSERT_THAT((*second)->body().Append("one"), IsOk());
  ASSERT_THAT((*second)->Commit(), IsOk());
  // Written again under the same name: replaced, not added.
  Result<PartialUploadPtr> again = storage_->BeginPartial(id, "a");
  ASSERT_THAT(again, IsOk());
  ASSERT_THAT((*again)->body().Append("two"), IsOk());
  ASSERT_THAT((*again)->Commit(), IsOk());
  EXPECT_THAT(storage_->ListPartials(id),
              IsOkAndHolds(std::vector<std::string>{"123456789012-eu-west-1-2019010100-0", "a"}));
  Result<ObjectReaderPtr> read = storage_->OpenPartial(id, "a");
  ASSERT_THAT(read, IsOk());
  EXPECT_THAT(ReadAll(**read), IsOkAndHolds(std::string("two")));
  read = storage_->OpenPartial(id, "123456789012-eu-west-1-2019010100-0");
  ASSERT_THAT(read, IsOk());
  EXPECT_THAT(ReadAll(**read), IsOkAndHolds(a));
  EXPECT_THAT(storage_->OpenPartial(id, "b"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(storage_->ListPartials(TestDigestId(41)), IsOkAndHolds(std::vector<std::string>{}));

  // One deleted, the other kept; a second delete of it is OK.
  EXPECT_THAT(storage_->DeletePartial(id, "a"), IsOk());
  EXPECT_THAT(storage_->ListPartials(id),
              IsOkAndHolds(std::vector<std::string>{"123456789012-eu-west-1-2019010100-0"}));
  EXPECT_THAT(storage_->OpenPartial(id, "a"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(storage_->DeletePartial(id, "a"), IsOk());
  EXPECT_THAT(storage_->DeletePartial(id, "../x"), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_THAT(storage_->DeletePartials(id), IsOk());
  EXPECT_THAT(storage_->ListPartials(id), IsOkAndHolds(std::vector<std::string>{}));
  EXPECT_THAT(storage_->OpenPartial(id, "a"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(storage_->DeletePartials(id), IsOk());
}

TEST_P(StorageConformanceTest, PartialNamesCannotLeaveTheirFolder) {
  const std::string id = TestDigestId(42);
  for (const char* bad : {"", "../x", "a/b", ".hidden", "a b"}) {
    Result<PartialUploadPtr> upload = storage_->BeginPartial(id, bad);
    if (!upload.ok() && upload.status().code() == StatusCode::kUnimplemented) GTEST_SKIP();
    EXPECT_THAT(upload, StatusIs(StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(storage_->OpenPartial(id, bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_THAT(storage_->ListPartials("../x"), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(StorageConformanceTest, IsReadyAndDescribed) {
  EXPECT_OK(storage_->Ready());
  EXPECT_FALSE(storage_->Describe().empty());
}

}  // namespace vpcflow
