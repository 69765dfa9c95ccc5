#pragma once
/// S3Client: the project's small Amazon S3 client (issue 4). Requests go through an HttpClient
/// (default: libcurl with connection reuse and the system's CAs), are signed with our SigV4
/// signer (sigv4.hpp) using credentials from a CredentialsProvider (credentials.hpp), and XML
/// answers are parsed with pugixml.
///
/// Addressing: with no endpoint, AWS virtual-hosted style
/// `https://<bucket>.s3.<region>.amazonaws.com/<key>` (path style
/// `https://s3.<region>.amazonaws.com/<bucket>/<key>` for bucket names with dots); with an
/// endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL), path style `<endpoint>/<bucket>/<key>`.
///
/// Errors (one mapping, here, for every operation):
/// - 404 (NoSuchKey, NoSuchBucket, NoSuchUpload) -> NotFound;
/// - 403 -> PermissionDenied, the message naming the operation, bucket and key, S3's error code
///   and the likely cause (SignatureDoesNotMatch: "the secret access key does not match the
///   access key id"; InvalidAccessKeyId: "the access key id is unknown"; AccessDenied: "the
///   credentials lack permission for <operation> on bucket <b>"; RequestTimeTooSkewed: "the
///   clock is off");
/// - 412 -> FailedPrecondition (If-Match / If-None-Match failed; PutObject maps it to
///   AlreadyExists);
/// - 400/405/409/411/416 and other 4xx -> InvalidArgument with S3's code and message;
/// - 500, 502, 503, 504, SlowDown, InternalError, RequestTimeout, connection errors and timeouts
///   -> retried with capped exponential backoff and full jitter (S3ClientOptions::retry), then
///   Unavailable naming the attempts and the last cause.
/// Credentials are fetched per attempt (so a refresh is picked up). Messages never contain
/// credentials, signatures or bodies other than S3's error code and message.
///
/// Thread-safe: one client serves every thread (the HttpClient pools connections).

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/retry.hpp"
#include "s3/credentials.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct S3ClientOptions {
  std::string region = "us-east-1";
  /// "" = AWS (virtual-hosted); else an absolute http(s) URL, path-style ("http://127.0.0.1:7480").
  std::string endpoint{};
  /// Retries of one request (common/retry.hpp): 5 attempts, full jitter capped 100 ms .. 5 s.
  RetryPolicy retry{.max_attempts = 5, .base_delay_ms = 100, .max_delay_ms = 5000};
  int64_t timeout_ms = 60000;  ///< per HTTP request
  /// Time for signing; null = SystemClock().
  ClockPtr clock{};
  /// Waits between retries; null = ThreadSleeper() (tests record instead).
  Sleeper sleep{};
};

/// Metadata of one object.
struct S3ObjectMeta {
  uint64_t size = 0;
  std::string etag{};  ///< as S3 sends it, quotes included
};

/// An inclusive byte range, as in "Range: bytes=first-last".
struct S3Range {
  uint64_t first = 0;
  uint64_t last = 0;
};

struct S3GetResult {
  std::string body{};
  uint64_t object_size = 0;  ///< the whole object's size (from Content-Range when ranged)
  std::string etag{};
};

struct S3PutOptions {
  std::string content_type{};  ///< "" = none sent
  /// Send "If-None-Match: *": the PUT fails with AlreadyExists when the key exists (on servers
  /// that support conditional writes; others ignore the header).
  bool if_none_match = false;
  /// Send "If-Match: <etag>": the PUT fails with FailedPrecondition when the object's ETag
  /// differs or it does not exist (conditional replace). A quoted ETag refused with 412 is tried
  /// once more bare: Ceph RGW compares a PUT's If-Match unquoted.
  std::string if_match{};
};

/// An object opened for streaming (S3Client::Open).
struct S3OpenedObject {
  ObjectReaderPtr reader{};
  uint64_t size = 0;
  std::string etag{};
};

/// A streaming upload to one key. Append() buffers; once `part_size` bytes are buffered the upload
/// turns multipart and each full part is sent (UploadPart). Close() sends the rest: one PutObject
/// when the whole body fit below `part_size`, else the last part and CompleteMultipartUpload.
/// Destroying the sink without a successful Close() aborts a started multipart upload (nothing
/// becomes visible). After an error every call returns that error.
class S3UploadSink : public ByteSink {
 public:
  /// Bytes appended so far.
  virtual uint64_t size() const = 0;
};
using S3UploadSinkPtr = std::unique_ptr<S3UploadSink>;

class S3Client {
 public:
  /// `http` null = NewCurlHttpClient(). `credentials` must not be null.
  S3Client(S3ClientOptions options, CredentialsProviderPtr credentials,
           std::shared_ptr<HttpClient> http = nullptr);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  /// ListObjectsV2 (list-type=2) with prefix, delimiter, start-after, continuation-token and
  /// max-keys (1-1000). Keys are returned as S3 sends them (no encoding-type). NotFound when the
  /// bucket does not exist.
  [[nodiscard]] Result<ListPage> ListObjectsV2(std::string_view bucket, const ListRequest& request);
  /// The whole object, or `range` of it (206). `if_match` (an ETag) makes the GET fail with
  /// FailedPrecondition when the object changed. `body_into` (optional, not owned): the bytes go
  /// there instead of result.body (which stays empty); it is cleared first and its capacity
  /// reused (HttpRequest::body_into), and after an error holds no meaningful bytes.
  [[nodiscard]] Result<S3GetResult> GetObject(std::string_view bucket, std::string_view key,
                                              std::optional<S3Range> range = std::nullopt,
                                              std::string_view if_match = "",
                                              std::string* body_into = nullptr);
  [[nodiscard]] Result<S3ObjectMeta> HeadObject(std::string_view bucket, std::string_view key);
  /// OK when the bucket exists and is accessible; NotFound / PermissionDenied otherwise.
  [[nodiscard]] Status HeadBucket(std::string_view bucket);
  /// CreateBucket in the client's region. OK when the bucket already exists and is ours
  /// (BucketAlreadyOwnedByYou, or RGW's 409 BucketAlreadyExists for the same owner);
  /// AlreadyExists when another account owns the name.
  [[nodiscard]] Status CreateBucket(std::string_view bucket);
  [[nodiscard]] Status PutObject(std::string_view bucket, std::string_view key,
                                 std::string_view body, const S3PutOptions& options = {});
  /// OK when the key is absent too (S3 semantics).
  [[nodiscard]] Status DeleteObject(std::string_view bucket, std::string_view key);

  /// Multipart upload, step by step (S3UploadSink drives these). Part numbers are 1-10000; every
  /// part but the last must be at least 5 MiB on AWS.
  [[nodiscard]] Result<std::string> CreateMultipartUpload(std::string_view bucket,
                                                          std::string_view key,
                                                          std::string_view content_type = "");
  /// Returns the part's ETag.
  [[nodiscard]] Result<std::string> UploadPart(std::string_view bucket, std::string_view key,
                                               std::string_view upload_id, int part_number,
                                               std::string_view body);
  /// `etags[i]` is part i+1's ETag.
  [[nodiscard]] Status CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                               std::string_view upload_id,
                                               const std::vector<std::string>& etags);
  [[nodiscard]] Status AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                            std::string_view upload_id);

  /// A reader that streams the object (the client must outlive the reader) with ranged GETs of
  /// `chunk_bytes` each (every chunk retried on its own), all with If-Match on the first answer's
  /// ETag: an object replaced mid-read gives FailedPrecondition rather than mixed bytes. An object
  /// no larger than `chunk_bytes` is read by one GET. NotFound when the key does not exist
  /// (reported here, not at the first Read).
  [[nodiscard]] Result<ObjectReaderPtr> OpenReader(std::string_view bucket, std::string_view key,
                                                   uint64_t chunk_bytes = 8 << 20);
  /// Random access to the object (the client must outlive it), pinned to the ETag of the first
  /// answer with If-Match like OpenReader. The open is one GET of the last `tail_bytes` bytes
  /// (a suffix range, which also gives the size and ETag; a HEAD when `tail_bytes` is 0); reads
  /// are served from those bytes where they overlap them, and the rest of each read is one
  /// ranged GET. NotFound when the key does not exist.
  [[nodiscard]] Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view bucket,
                                                               std::string_view key,
                                                               uint64_t tail_bytes);
  /// OpenReader, with the object's size and ETag from the same first answer (no HEAD first).
  [[nodiscard]] Result<S3OpenedObject> Open(std::string_view bucket, std::string_view key,
                                            uint64_t chunk_bytes = 8 << 20);
  /// A streaming upload (see S3UploadSink); the client must outlive the sink. `part_size` >= 5 MiB
  /// for AWS (tests may go lower against servers that allow it).
  [[nodiscard]] S3UploadSinkPtr NewUpload(std::string bucket, std::string key,
                                          std::string content_type = "",
                                          uint64_t part_size = 8 << 20);

  /// "s3 (region us-east-1)" or "s3 http://127.0.0.1:7480 (region us-east-1)", for messages.
  std::string Describe() const;
  const S3ClientOptions& options() const { return options_; }

  /// options().endpoint split once at construction (path-style addressing).
  struct Endpoint {
    std::string scheme;     ///< "http" or "https"
    std::string authority;  ///< "host[:port]": the Host header
    std::string base_path;  ///< "" or "/prefix" (no trailing slash)
  };

 private:
  struct Call;  // one operation: method, bucket, key, query, headers, body, what it is named
  Result<HttpResponse> Execute(const Call& call);  // sign, send, retry, map errors: one place
  S3ClientOptions options_;
  std::optional<Endpoint> endpoint_;  // nullopt with a custom endpoint: not a usable URL
  CredentialsProviderPtr credentials_;
  std::shared_ptr<HttpClient> http_;
};

/// Splits "s3://bucket/prefix/" into bucket and prefix ("" when none). InvalidArgument when the
/// text is not an s3:// URL with a bucket.
struct S3Url {
  std::string bucket;
  std::string prefix;
};
Result<S3Url> ParseS3Url(std::string_view url);

}  // namespace vpcflow
