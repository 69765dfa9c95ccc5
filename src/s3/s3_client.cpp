#include "s3/s3_client.hpp"

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstring>
#include <pugixml.hpp>
#include <random>
#include <span>
#include <sstream>
#include <thread>
#include <utility>

#include "common/redact.hpp"
#include "s3/sigv4.hpp"

namespace vpcflow {

/// One S3 operation as Execute() sends it.
struct S3Client::Call {
  std::string_view operation;  ///< "GetObject": for messages
  std::string_view method = "GET";
  std::string_view bucket;
  std::string_view key{};  ///< "" = the bucket itself
  std::vector<QueryParam> query{};
  std::vector<std::pair<std::string, std::string>> headers{};  ///< signed and sent
  std::string_view body{};
  /// Non-2xx statuses handed back as answers (the caller interprets them) instead of errors.
  std::vector<int> accept{};
  /// S3 may answer 200 and report the failure in an <Error> body (CompleteMultipartUpload).
  bool error_in_ok_body = false;
  /// Not owned: the answer's body goes here instead of HttpResponse::body (HttpRequest).
  std::string* body_into = nullptr;

  /// "S3 GetObject s3://bucket/key".
  std::string Name() const {
    std::string name = "S3 " + std::string(operation) + " s3://" + std::string(bucket);
    if (!key.empty()) name += "/" + std::string(key);
    return name;
  }
};

namespace {

constexpr int kMaxKeysLimit = 1000;

// Parses "http(s)://host[:port][/path]" (Boost.URL); nullopt when it is not such a URL (no user
// info, query or fragment).
std::optional<S3Client::Endpoint> ParseEndpoint(std::string_view text) {
  boost::system::result<boost::urls::url_view> url = boost::urls::parse_absolute_uri(text);
  if (!url || (url->scheme_id() != boost::urls::scheme::http &&
               url->scheme_id() != boost::urls::scheme::https)) {
    return std::nullopt;
  }
  if (!url->has_authority() || url->encoded_host().empty() || url->has_userinfo() ||
      url->has_query() || url->has_fragment()) {
    return std::nullopt;
  }
  S3Client::Endpoint endpoint{.scheme = std::string(url->scheme()),
                              .authority = std::string(url->encoded_host_and_port()),
                              .base_path = std::string(url->encoded_path())};
  while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/') {
    endpoint.base_path.pop_back();
  }
  return endpoint;
}

// A bucket name usable as a DNS label under the S3 domain (virtual-hosted style): lower-case
// letters, digits and hyphens. Names with dots break the wildcard TLS certificate and legacy
// names (upper case, '_') are not host names, so those go path style (S3 User Guide, "Virtual
// hosting of buckets").
bool IsVirtualHostable(std::string_view bucket) {
  if (bucket.empty() || bucket.size() > 63) return false;
  return std::all_of(bucket.begin(), bucket.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string AwsDomain(std::string_view region) {
  return region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

// S3 API Reference, "Error responses": these codes mean "try again" whatever the status, as the
// AWS SDKs retry them (the statuses are IsRetryableHttpStatus).
bool IsRetryableCode(std::string_view code) {
  return code == "SlowDown" || code == "InternalError" || code == "RequestTimeout";
}

// <Error><Code>..</Code><Message>..</Message></Error>; nullopt when the body is no such document
// (HEAD answers have no body, proxies send HTML).
struct S3ErrorBody {
  std::string code;
  std::string message;
};

// Only the code and the message are ever passed on, never the rest of the body (which may quote
// the request, its signature or a presigned URL); URLs in the message are redacted, and both are
// bounded.
std::optional<S3ErrorBody> ParseErrorBody(std::string_view body) {
  constexpr size_t kMaxCodeBytes = 64;
  constexpr size_t kMaxMessageBytes = 512;
  if (body.empty()) return std::nullopt;
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return std::nullopt;
  pugi::xml_node error = doc.child("Error");
  if (!error) return std::nullopt;
  S3ErrorBody out{error.child_value("Code"), RedactUrls(error.child_value("Message"))};
  if (out.code.size() > kMaxCodeBytes) out.code.resize(kMaxCodeBytes);
  if (out.message.size() > kMaxMessageBytes) out.message.resize(kMaxMessageBytes);
  return out;
}

// "HTTP 403 SignatureDoesNotMatch: The request signature ..." (RGW sends an empty message).
std::string DescribeAnswer(int status, const S3ErrorBody& error) {
  std::string text = "HTTP " + std::to_string(status);
  if (!error.code.empty()) text += " " + error.code;
  if (!error.message.empty()) text += ": " + error.message;
  return text;
}

// The likely cause of a 403, from S3's error code ("" when there is nothing useful to add).
std::string LikelyCauseOf403(std::string_view code, std::string_view operation,
                             std::string_view bucket) {
  std::string permission = "the credentials lack permission for " + std::string(operation) +
                           " on bucket " + std::string(bucket);
  if (code == "SignatureDoesNotMatch") {
    return "the secret access key does not match the access key id";
  }
  if (code == "InvalidAccessKeyId") return "the access key id is unknown";
  if (code == "AccessDenied" || code == "AllAccessDisabled") return permission;
  if (code == "RequestTimeTooSkewed") return "the clock is off";
  if (code == "ExpiredToken") return "the session token expired";
  if (code == "InvalidToken") return "the session token is invalid";
  if (code.empty()) {
    return "no S3 error code (HEAD answers have no body): a wrong secret access key, an unknown "
           "access key id, " +
           permission + ", or a clock that is off";
  }
  return "";
}

Status MapError(const std::string& name, int status, const S3ErrorBody& error,
                std::string_view operation, std::string_view bucket,
                const std::string& credentials_source) {
  std::string message = name + ": " + DescribeAnswer(status, error);
  if (status == 404) return NotFoundError(std::move(message));
  if (status == 403) {
    std::string cause = LikelyCauseOf403(error.code, operation, bucket);
    if (!cause.empty()) message += " (likely cause: " + cause + ")";
    message += "; credentials from " + credentials_source;
    return PermissionDeniedError(std::move(message));
  }
  if (status == 412) return FailedPreconditionError(std::move(message));
  if (status == 501) return UnimplementedError(std::move(message));
  if (status >= 500) return UnavailableError(std::move(message));
  if (error.code == "AuthorizationHeaderMalformed" || error.code == "PermanentRedirect") {
    message += " (likely cause: the bucket is in another region)";
  }
  return InvalidArgumentError(std::move(message));
}

bool ParseUint64(std::string_view text, uint64_t& out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

// "bytes 0-99/1234" -> 1234 (RFC 9110, Content-Range).
std::optional<uint64_t> TotalFromContentRange(std::string_view value) {
  size_t slash = value.rfind('/');
  if (!value.starts_with("bytes ") || slash == std::string_view::npos) return std::nullopt;
  uint64_t total = 0;
  if (!ParseUint64(value.substr(slash + 1), total)) return std::nullopt;
  return total;
}

// A request body: <root xmlns="S3's namespace">, filled by `fill`, written by pugixml (which
// escapes the text).
template <typename Fill>
std::string XmlBody(const char* root, Fill fill) {
  pugi::xml_document doc;
  pugi::xml_node node = doc.append_child(root);
  node.append_attribute("xmlns") = "http://s3.amazonaws.com/doc/2006-03-01/";
  fill(node);
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration);
  return out.str();
}

// A 2xx answer's XML document; DataLoss naming the operation when it is not XML or lacks `root`.
Result<pugi::xml_node> ParseAnswer(pugi::xml_document& doc, const std::string& body,
                                   const char* root, const std::string& name) {
  pugi::xml_parse_result parsed = doc.load_buffer(body.data(), body.size());
  if (!parsed) {
    return DataLossError(name + ": the answer is not XML (" + parsed.description() + ")");
  }
  pugi::xml_node node = doc.child(root);
  if (!node) return DataLossError(name + ": the answer has no <" + std::string(root) + ">");
  return node;
}

// A GET's answer as an S3GetResult. A ranged GET answered 200 (a server that ignores Range)
// holds the whole object; `cut_to_range` cuts it to the range asked for. `body_into`: where
// Execute put the body (then result.body stays empty), null = response.body.
Result<S3GetResult> GetResultFrom(const std::string& name, HttpResponse response,
                                  const std::optional<S3Range>& range, bool cut_to_range,
                                  std::string* body_into = nullptr) {
  S3GetResult result;
  result.etag = response.Header("etag");
  std::string& body = body_into != nullptr ? *body_into : result.body;
  if (body_into == nullptr) result.body = std::move(response.body);
  if (response.status == 206) {
    std::optional<uint64_t> total = TotalFromContentRange(response.Header("content-range"));
    if (!total) {
      return DataLossError(name + ": a 206 answer without a usable Content-Range (\"" +
                           response.Header("content-range") + "\")");
    }
    result.object_size = *total;
    return result;
  }
  result.object_size = body.size();
  if (range && cut_to_range) {
    uint64_t first = std::min<uint64_t>(range->first, body.size());
    uint64_t end = std::min<uint64_t>(range->last + 1, body.size());
    body.erase(end);
    body.erase(0, first);
  }
  return result;
}

// Streams an object with ranged GETs (see S3Client::OpenReader). The first chunk arrives with
// the construction; `client` must outlive the reader.
class S3ObjectReader final : public ObjectReader {
 public:
  S3ObjectReader(S3Client* client, std::string bucket, std::string key, uint64_t chunk_bytes,
                 S3GetResult first)
      : client_(client),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        chunk_bytes_(chunk_bytes),
        etag_(std::move(first.etag)),
        object_size_(first.object_size),
        next_(first.body.size()),
        buffer_(std::move(first.body)) {}

  Result<size_t> Read(std::span<char> out) override {
    if (!error_.ok()) return error_;
    while (position_ == buffer_.size()) {
      if (next_ >= object_size_ || out.empty()) return size_t{0};
      Status fetched = FetchNext();
      if (!fetched.ok()) {
        buffer_.clear();  // whatever arrived is not handed out
        position_ = 0;
        error_ = fetched;
        return error_;
      }
    }
    size_t n = std::min(out.size(), buffer_.size() - position_);
    std::memcpy(out.data(), buffer_.data() + position_, n);
    position_ += n;
    return n;
  }

 private:
  Status FetchNext() {
    S3Range range{next_, std::min(next_ + chunk_bytes_, object_size_) - 1};
    // Every chunk is read into the same buffer (consumed by now): no fresh memory per chunk.
    position_ = 0;
    VPCFLOW_ASSIGN_OR_RETURN(S3GetResult got,
                             client_->GetObject(bucket_, key_, range, etag_, &buffer_));
    const uint64_t expected = range.last - range.first + 1;
    if (got.object_size != object_size_) {
      return FailedPreconditionError("S3 GetObject s3://" + bucket_ + "/" + key_ +
                                     ": the object changed while it was read (size " +
                                     std::to_string(object_size_) + " became " +
                                     std::to_string(got.object_size) + ")");
    }
    if (buffer_.size() != expected) {
      return DataLossError("S3 GetObject s3://" + bucket_ + "/" + key_ + ": bytes " +
                           std::to_string(range.first) + "-" + std::to_string(range.last) +
                           " came back as " + std::to_string(buffer_.size()) + " bytes");
    }
    next_ = range.last + 1;
    return OkStatus();
  }

  S3Client* const client_;
  const std::string bucket_;
  const std::string key_;
  const uint64_t chunk_bytes_;
  const std::string etag_;
  const uint64_t object_size_;
  uint64_t next_;  // the first byte not fetched yet
  std::string buffer_;
  size_t position_ = 0;
  Status error_;
};

// See S3Client::OpenRandomAccess. `client` must outlive the object.
class S3RandomAccess final : public RandomAccessObject {
 public:
  S3RandomAccess(S3Client* client, std::string bucket, std::string key, uint64_t size,
                 std::string etag, std::string tail)
      : client_(client),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        size_(size),
        etag_(std::move(etag)),
        tail_offset_(size - tail.size()),
        tail_(std::move(tail)) {}

  uint64_t size() const override { return size_; }

  Status ReadAt(uint64_t offset, std::span<char> out) override {
    if (offset > size_ || out.size() > size_ - offset) {
      return InvalidArgumentError("read past the end of s3://" + bucket_ + "/" + key_);
    }
    if (out.empty()) return OkStatus();
    // Bytes inside the tail are copied from it; only those before it are fetched.
    const uint64_t end = offset + out.size();
    if (end > tail_offset_) {
      const uint64_t from = std::max(offset, tail_offset_);
      std::memcpy(out.data() + (from - offset), tail_.data() + (from - tail_offset_), end - from);
      out = out.first(from - offset);
      if (out.empty()) return OkStatus();
    }
    const S3Range range{offset, offset + out.size() - 1};
    VPCFLOW_ASSIGN_OR_RETURN(S3GetResult got, client_->GetObject(bucket_, key_, range, etag_));
    if (got.object_size != size_) {
      return FailedPreconditionError("S3 GetObject s3://" + bucket_ + "/" + key_ +
                                     ": the object changed while it was read");
    }
    if (got.body.size() != out.size()) {
      return DataLossError("S3 GetObject s3://" + bucket_ + "/" + key_ + ": bytes " +
                           std::to_string(range.first) + "-" + std::to_string(range.last) +
                           " came back as " + std::to_string(got.body.size()) + " bytes");
    }
    std::memcpy(out.data(), got.body.data(), out.size());
    return OkStatus();
  }

 private:
  S3Client* const client_;
  const std::string bucket_;
  const std::string key_;
  const uint64_t size_;
  const std::string etag_;
  const uint64_t tail_offset_;  // where tail_ starts in the object
  const std::string tail_;
};

// See S3UploadSink. `client` must outlive the sink.
class S3Upload final : public S3UploadSink {
 public:
  S3Upload(S3Client* client, std::string bucket, std::string key, std::string content_type,
           uint64_t part_size)
      : client_(client),
        bucket_(std::move(bucket)),
        key_(std::move(key)),
        content_type_(std::move(content_type)),
        part_size_(std::max<uint64_t>(part_size, 1)) {}

  ~S3Upload() override {
    if (!upload_id_.empty() && !closed_) Abort();
  }

  Status Append(std::string_view bytes) override {
    if (!error_.ok()) return error_;
    if (closed_) return FailedPreconditionError(Name() + ": Append after Close");
    buffer_.append(bytes);
    size_ += bytes.size();
    // Full parts go out from the front; the buffer is shifted once, whatever the append's size.
    size_t sent_bytes = 0;
    while (buffer_.size() - sent_bytes >= part_size_) {
      Status sent = SendPart(std::string_view(buffer_).substr(sent_bytes, part_size_));
      if (!sent.ok()) return Fail(sent);
      sent_bytes += part_size_;
    }
    buffer_.erase(0, sent_bytes);
    return OkStatus();
  }

  Status Close() override {
    if (!error_.ok()) return error_;
    if (closed_) return OkStatus();
    if (upload_id_.empty()) {
      Status put = client_->PutObject(bucket_, key_, buffer_, {.content_type = content_type_});
      if (!put.ok()) return Fail(put);
    } else {
      if (!buffer_.empty()) {
        Status sent = SendPart(buffer_);
        if (!sent.ok()) return Fail(sent);
      }
      Status completed = client_->CompleteMultipartUpload(bucket_, key_, upload_id_, etags_);
      if (!completed.ok()) return Fail(completed);
    }
    closed_ = true;
    buffer_.clear();
    buffer_.shrink_to_fit();
    return OkStatus();
  }

  uint64_t size() const override { return size_; }

 private:
  std::string Name() const { return "S3 upload s3://" + bucket_ + "/" + key_; }

  Status SendPart(std::string_view part) {
    if (upload_id_.empty()) {
      VPCFLOW_ASSIGN_OR_RETURN(upload_id_,
                               client_->CreateMultipartUpload(bucket_, key_, content_type_));
    }
    VPCFLOW_ASSIGN_OR_RETURN(
        std::string etag,
        client_->UploadPart(bucket_, key_, upload_id_, static_cast<int>(etags_.size()) + 1, part));
    etags_.push_back(std::move(etag));
    return OkStatus();
  }

  // Sticky: the upload is abandoned (and aborted, so no parts linger).
  Status Fail(Status status) {
    error_ = std::move(status);
    buffer_.clear();
    buffer_.shrink_to_fit();
    if (!upload_id_.empty()) Abort();
    return error_;
  }

  void Abort() {
    // Best effort: a failed abort leaves parts that a bucket lifecycle rule cleans up.
    (void)client_->AbortMultipartUpload(bucket_, key_, upload_id_);
    upload_id_.clear();
  }

  S3Client* const client_;
  const std::string bucket_;
  const std::string key_;
  const std::string content_type_;
  const uint64_t part_size_;
  std::string buffer_;
  uint64_t size_ = 0;
  std::string upload_id_;
  std::vector<std::string> etags_;
  bool closed_ = false;
  Status error_;
};

}  // namespace

S3Client::S3Client(S3ClientOptions options, CredentialsProviderPtr credentials,
                   std::shared_ptr<HttpClient> http)
    : options_(std::move(options)), credentials_(std::move(credentials)), http_(std::move(http)) {
  if (http_ == nullptr) http_ = NewCurlHttpClient();
  if (options_.clock == nullptr) options_.clock = SystemClock();
  if (!options_.sleep) options_.sleep = ThreadSleeper();
  if (options_.retry.max_attempts < 1) options_.retry.max_attempts = 1;
  if (!options_.endpoint.empty()) endpoint_ = ParseEndpoint(options_.endpoint);
}

S3Client::~S3Client() = default;

std::string S3Client::Describe() const {
  std::string text = "s3";
  if (!options_.endpoint.empty()) text += " " + RedactUrl(options_.endpoint);
  return text + " (region " + options_.region + ")";
}

Result<HttpResponse> S3Client::Execute(const Call& call) {
  const std::string name = call.Name();

  // Addressing (see the header). `path` is unencoded; what is sent is its canonical form.
  std::string scheme = "https";
  std::string host;
  std::string path;
  if (options_.endpoint.empty()) {
    if (IsVirtualHostable(call.bucket)) {
      host = std::string(call.bucket) + ".s3." + options_.region + "." + AwsDomain(options_.region);
      path = "/" + std::string(call.key);
    } else {
      host = "s3." + options_.region + "." + AwsDomain(options_.region);
      path = "/" + std::string(call.bucket);
      if (!call.key.empty()) path += "/" + std::string(call.key);
    }
  } else {
    if (!endpoint_) {
      return InvalidArgumentError(name + ": the endpoint \"" + RedactUrl(options_.endpoint) +
                                  "\" is not an http(s)://host[:port] URL");
    }
    scheme = endpoint_->scheme;
    host = endpoint_->authority;
    path = endpoint_->base_path + "/" + std::string(call.bucket);
    if (!call.key.empty()) path += "/" + std::string(call.key);
  }
  const std::string query = SigV4CanonicalQuery(call.query);

  HttpRequest request;
  request.method = std::string(call.method);
  request.url = scheme + "://" + host + SigV4CanonicalUri(path);
  if (!query.empty()) request.url += "?" + query;
  request.body = std::string(call.body);
  request.timeout_ms = options_.timeout_ms;
  request.body_into = call.body_into;

  SigV4Request to_sign;
  to_sign.method = request.method;
  to_sign.path = path;
  to_sign.query = call.query;
  to_sign.headers = call.headers;
  to_sign.headers.emplace_back("Host", host);
  to_sign.payload_hash =
      call.body.empty() ? std::string(kEmptyPayloadSha256) : Sha256Hex(call.body);

  std::string last_cause;
  Result<HttpResponse> answer = UnavailableError("not sent");
  auto attempt = [&](int) -> RetryVerdict {
    Result<AwsCredentials> credentials = credentials_->Get();
    if (!credentials.ok()) {
      answer =
          credentials.status().WithContext(name + ": credentials from " + credentials_->Describe());
      return RetryVerdict::kStop;
    }
    SigV4Signature signature = SignV4(to_sign, credentials->keys, options_.region, "s3",
                                      options_.clock->NowUnixMillis() / 1000);
    request.headers = to_sign.headers;
    for (auto& header : signature.headers) request.headers.push_back(std::move(header));

    Result<HttpResponse> sent = http_->Send(request);
    if (!sent.ok()) {
      if (!IsTransientError(sent.status())) {
        answer = sent.status().WithContext(name);
        return RetryVerdict::kStop;
      }
      last_cause = sent.status().message();
      return RetryVerdict::kRetry;
    }
    HttpResponse& response = sent.value();
    const std::string& body = call.body_into != nullptr ? *call.body_into : response.body;
    const bool success = response.status >= 200 && response.status < 300;
    std::optional<S3ErrorBody> error;
    if (!success || call.error_in_ok_body) error = ParseErrorBody(body);
    const bool accepted =
        std::find(call.accept.begin(), call.accept.end(), response.status) != call.accept.end();
    if ((success && !error) || (!success && accepted)) {
      answer = std::move(response);
      return RetryVerdict::kStop;
    }
    S3ErrorBody fields = error.value_or(S3ErrorBody{});
    if (IsRetryableHttpStatus(response.status) || IsRetryableCode(fields.code)) {
      last_cause = DescribeAnswer(response.status, fields);
      return RetryVerdict::kRetry;
    }
    // An <Error> inside a 200 is S3's failure report (retryable ones were retried above).
    const int status = success ? 400 : response.status;
    Status mapped =
        MapError(name, status, fields, call.operation, call.bucket, credentials_->Describe());
    // S3 names the bucket's region on a wrong-region answer (301 to HEAD, 400/403 otherwise).
    const std::string bucket_region = response.Header("x-amz-bucket-region");
    if (!bucket_region.empty() && bucket_region != options_.region) {
      mapped = Status(mapped.code(), mapped.message() + " (the bucket is in region " +
                                         bucket_region + ", not " + options_.region + ")");
    }
    answer = mapped;
    return RetryVerdict::kStop;
  };
  const RetryOutcome outcome = Retry(options_.retry, attempt, options_.sleep);
  if (outcome.exhausted || outcome.interrupted) {
    return UnavailableError(name + ": failed " + std::to_string(outcome.attempts) +
                            (outcome.attempts == 1 ? " attempt" : " attempts") +
                            "; last: " + last_cause);
  }
  return answer;
}

Result<ListPage> S3Client::ListObjectsV2(std::string_view bucket, const ListRequest& request) {
  Call call{.operation = "ListObjectsV2", .bucket = bucket};
  call.query.emplace_back("list-type", "2");
  if (!request.prefix.empty()) call.query.emplace_back("prefix", request.prefix);
  if (!request.delimiter.empty()) call.query.emplace_back("delimiter", request.delimiter);
  if (!request.start_after.empty()) call.query.emplace_back("start-after", request.start_after);
  if (!request.continuation_token.empty()) {
    call.query.emplace_back("continuation-token", request.continuation_token);
  }
  call.query.emplace_back("max-keys",
                          std::to_string(std::clamp(request.max_keys, 1, kMaxKeysLimit)));
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));

  const std::string name = call.Name();
  pugi::xml_document doc;
  VPCFLOW_ASSIGN_OR_RETURN(pugi::xml_node result,
                           ParseAnswer(doc, response.body, "ListBucketResult", name));
  ListPage page;
  for (pugi::xml_node contents : result.children("Contents")) {
    ObjectInfo info;
    info.key = contents.child_value("Key");
    if (!ParseUint64(contents.child_value("Size"), info.size)) {
      return DataLossError(name + ": bad <Size> \"" + contents.child_value("Size") +
                           "\" for key \"" + info.key + "\"");
    }
    page.objects.push_back(std::move(info));
  }
  for (pugi::xml_node prefixes : result.children("CommonPrefixes")) {
    page.common_prefixes.emplace_back(prefixes.child_value("Prefix"));
  }
  if (std::string_view(result.child_value("IsTruncated")) == "true") {
    page.next_token = result.child_value("NextContinuationToken");
    if (page.next_token.empty()) {
      return DataLossError(name + ": a truncated listing without a NextContinuationToken");
    }
  }
  return page;
}

Result<S3GetResult> S3Client::GetObject(std::string_view bucket, std::string_view key,
                                        std::optional<S3Range> range, std::string_view if_match,
                                        std::string* body_into) {
  Call call{.operation = "GetObject", .bucket = bucket, .key = key, .body_into = body_into};
  if (range) {
    call.headers.emplace_back(
        "Range", "bytes=" + std::to_string(range->first) + "-" + std::to_string(range->last));
  }
  if (!if_match.empty()) call.headers.emplace_back("If-Match", std::string(if_match));
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  return GetResultFrom(call.Name(), std::move(response), range, /*cut_to_range=*/true, body_into);
}

Result<S3ObjectMeta> S3Client::HeadObject(std::string_view bucket, std::string_view key) {
  Call call{.operation = "HeadObject", .method = "HEAD", .bucket = bucket, .key = key};
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  S3ObjectMeta meta;
  meta.etag = response.Header("etag");
  if (!ParseUint64(response.Header("content-length"), meta.size)) {
    return DataLossError(call.Name() + ": the answer has no usable Content-Length");
  }
  return meta;
}

Status S3Client::HeadBucket(std::string_view bucket) {
  Call call{.operation = "HeadBucket", .method = "HEAD", .bucket = bucket};
  return Execute(call).status();
}

Status S3Client::CreateBucket(std::string_view bucket) {
  Call call{.operation = "CreateBucket", .method = "PUT", .bucket = bucket};
  // us-east-1 is the default location and must not be named (S3 answers InvalidLocationConstraint).
  std::string body;
  if (!options_.region.empty() && options_.region != "us-east-1") {
    body = XmlBody("CreateBucketConfiguration", [&](pugi::xml_node root) {
      root.append_child("LocationConstraint").text().set(options_.region.c_str());
    });
    call.body = body;
  }
  call.accept = {409};
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status != 409) return OkStatus();
  S3ErrorBody error = ParseErrorBody(response.body).value_or(S3ErrorBody{});
  if (error.code == "BucketAlreadyOwnedByYou") return OkStatus();
  // RGW answers BucketAlreadyExists for a bucket its owner re-creates; tell the two apart by
  // whether we can reach it.
  if (error.code == "BucketAlreadyExists" && HeadBucket(bucket).ok()) return OkStatus();
  return AlreadyExistsError(call.Name() + ": " + DescribeAnswer(409, error));
}

Status S3Client::PutObject(std::string_view bucket, std::string_view key, std::string_view body,
                           const S3PutOptions& options) {
  Call call{.operation = "PutObject", .method = "PUT", .bucket = bucket, .key = key, .body = body};
  if (!options.content_type.empty())
    call.headers.emplace_back("Content-Type", options.content_type);
  if (options.if_none_match) call.headers.emplace_back("If-None-Match", "*");
  if (!options.if_match.empty()) call.headers.emplace_back("If-Match", options.if_match);
  // If-Match on a missing key: S3 answers 404 NoSuchKey; the contract says FailedPrecondition.
  if (!options.if_match.empty()) call.accept = {404};
  Result<HttpResponse> response = Execute(call);
  const std::string& etag = options.if_match;
  if (!response.ok() && response.status().code() == StatusCode::kFailedPrecondition &&
      etag.size() > 2 && etag.front() == '"' && etag.back() == '"') {
    // Ceph RGW (16.2) compares a PUT's If-Match with the ETag unquoted, so the quoted form
    // (RFC 9110, what S3 sends and expects) never matches there. Ask once more with the bare
    // ETag: a real mismatch fails that way too.
    for (auto& [name, value] : call.headers) {
      if (name == "If-Match") value = etag.substr(1, etag.size() - 2);
    }
    response = Execute(call);
  }
  if (!response.ok()) {
    if (response.status().code() == StatusCode::kFailedPrecondition && options.if_none_match) {
      return AlreadyExistsError(response.status().message());
    }
    return response.status();
  }
  if (response->status == 404) {
    S3ErrorBody error = ParseErrorBody(response->body).value_or(S3ErrorBody{});
    Status mapped =
        MapError(call.Name(), 404, error, call.operation, bucket, credentials_->Describe());
    if (error.code == "NoSuchBucket") return mapped;
    return FailedPreconditionError(mapped.message());
  }
  return OkStatus();
}

Status S3Client::DeleteObject(std::string_view bucket, std::string_view key) {
  Call call{.operation = "DeleteObject", .method = "DELETE", .bucket = bucket, .key = key};
  call.accept = {404};
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  if (response.status == 404) {
    // An absent key is fine (S3 itself answers 204); an absent bucket is not.
    S3ErrorBody error = ParseErrorBody(response.body).value_or(S3ErrorBody{});
    if (error.code == "NoSuchBucket") {
      return MapError(call.Name(), 404, error, call.operation, bucket, credentials_->Describe());
    }
  }
  return OkStatus();
}

Result<std::string> S3Client::CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                    std::string_view content_type) {
  Call call{.operation = "CreateMultipartUpload", .method = "POST", .bucket = bucket, .key = key};
  call.query.emplace_back("uploads", "");
  if (!content_type.empty()) call.headers.emplace_back("Content-Type", std::string(content_type));
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  pugi::xml_document doc;
  VPCFLOW_ASSIGN_OR_RETURN(
      pugi::xml_node result,
      ParseAnswer(doc, response.body, "InitiateMultipartUploadResult", call.Name()));
  std::string upload_id = result.child_value("UploadId");
  if (upload_id.empty()) return DataLossError(call.Name() + ": the answer has no <UploadId>");
  return upload_id;
}

Result<std::string> S3Client::UploadPart(std::string_view bucket, std::string_view key,
                                         std::string_view upload_id, int part_number,
                                         std::string_view body) {
  Call call{.operation = "UploadPart", .method = "PUT", .bucket = bucket, .key = key, .body = body};
  call.query.emplace_back("partNumber", std::to_string(part_number));
  call.query.emplace_back("uploadId", std::string(upload_id));
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  std::string etag = response.Header("etag");
  if (etag.empty()) {
    return DataLossError(call.Name() + ": part " + std::to_string(part_number) +
                         " was answered without an ETag");
  }
  return etag;
}

Status S3Client::CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                         std::string_view upload_id,
                                         const std::vector<std::string>& etags) {
  // S3 API Reference, CompleteMultipartUpload: the parts in ascending order.
  const std::string body = XmlBody("CompleteMultipartUpload", [&](pugi::xml_node root) {
    for (size_t i = 0; i < etags.size(); ++i) {
      pugi::xml_node part = root.append_child("Part");
      part.append_child("PartNumber").text().set(static_cast<unsigned long long>(i) + 1);
      part.append_child("ETag").text().set(etags[i].c_str());
    }
  });
  Call call{.operation = "CompleteMultipartUpload",
            .method = "POST",
            .bucket = bucket,
            .key = key,
            .body = body,
            .error_in_ok_body = true};
  call.query.emplace_back("uploadId", std::string(upload_id));
  return Execute(call).status();
}

Status S3Client::AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                      std::string_view upload_id) {
  Call call{.operation = "AbortMultipartUpload", .method = "DELETE", .bucket = bucket, .key = key};
  call.query.emplace_back("uploadId", std::string(upload_id));
  return Execute(call).status();
}

Result<ObjectReaderPtr> S3Client::OpenReader(std::string_view bucket, std::string_view key,
                                             uint64_t chunk_bytes) {
  VPCFLOW_ASSIGN_OR_RETURN(S3OpenedObject opened, Open(bucket, key, chunk_bytes));
  return std::move(opened.reader);
}

Result<S3OpenedObject> S3Client::Open(std::string_view bucket, std::string_view key,
                                      uint64_t chunk_bytes) {
  chunk_bytes = std::max<uint64_t>(chunk_bytes, 1);
  const S3Range range{0, chunk_bytes - 1};
  Call call{.operation = "GetObject", .bucket = bucket, .key = key};
  call.headers.emplace_back("Range", "bytes=0-" + std::to_string(range.last));
  // 416 InvalidRange: the object is empty (no byte 0), so a ranged GET cannot answer it.
  call.accept = {416};
  VPCFLOW_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
  S3GetResult first;
  if (response.status == 416) {
    VPCFLOW_ASSIGN_OR_RETURN(first, GetObject(bucket, key));
  } else {
    VPCFLOW_ASSIGN_OR_RETURN(
        first, GetResultFrom(call.Name(), std::move(response), range, /*cut_to_range=*/false));
  }
  S3OpenedObject opened{.size = first.object_size, .etag = first.etag};
  opened.reader = std::make_unique<S3ObjectReader>(this, std::string(bucket), std::string(key),
                                                   chunk_bytes, std::move(first));
  return opened;
}

Result<RandomAccessObjectPtr> S3Client::OpenRandomAccess(std::string_view bucket,
                                                         std::string_view key,
                                                         uint64_t tail_bytes) {
  S3GetResult first;
  if (tail_bytes == 0) {
    VPCFLOW_ASSIGN_OR_RETURN(S3ObjectMeta meta, HeadObject(bucket, key));
    first.object_size = meta.size;
    first.etag = std::move(meta.etag);
  } else {
    Call call{.operation = "GetObject", .bucket = bucket, .key = key};
    call.headers.emplace_back("Range", "bytes=-" + std::to_string(tail_bytes));
    // 416 InvalidRange: the object is empty (it has no last bytes).
    call.accept = {416};
    VPCFLOW_ASSIGN_OR_RETURN(HttpResponse response, Execute(call));
    if (response.status != 416) {
      VPCFLOW_ASSIGN_OR_RETURN(first, GetResultFrom(call.Name(), std::move(response), std::nullopt,
                                                    /*cut_to_range=*/false));
    }
    if (first.body.size() > first.object_size) {
      return DataLossError(call.Name() + ": " + std::to_string(first.body.size()) +
                           " bytes came back from an object of " +
                           std::to_string(first.object_size));
    }
  }
  return RandomAccessObjectPtr(std::make_unique<S3RandomAccess>(
      this, std::string(bucket), std::string(key), first.object_size, std::move(first.etag),
      std::move(first.body)));
}

S3UploadSinkPtr S3Client::NewUpload(std::string bucket, std::string key, std::string content_type,
                                    uint64_t part_size) {
  return std::make_unique<S3Upload>(this, std::move(bucket), std::move(key),
                                    std::move(content_type), part_size);
}

Result<S3Url> ParseS3Url(std::string_view url) {
  constexpr std::string_view kScheme = "s3://";
  if (!url.starts_with(kScheme)) {
    return InvalidArgumentError("\"" + std::string(url) + "\" is not an s3:// URL");
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  S3Url parsed;
  parsed.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) parsed.prefix = std::string(rest.substr(slash + 1));
  const bool bucket_ok =
      !parsed.bucket.empty() && std::all_of(parsed.bucket.begin(), parsed.bucket.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
      });
  if (!bucket_ok) {
    return InvalidArgumentError("\"" + std::string(url) + "\" has no valid bucket name");
  }
  return parsed;
}

}  // namespace vpcflow
