#pragma once
/// Errors as values: `Status` and `Result<T>`, in the spirit of absl::Status / absl::StatusOr.
///
/// Every function that can fail across a module boundary returns one of these; exceptions never
/// cross an interface. The code set is small and canonical; the HTTP layer maps codes to HTTP
/// statuses in one place. Thread safety: values, safe to copy and move between threads.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vpcflow {

/// The canonical error codes (a subset of absl::StatusCode with the same meanings).
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     ///< the caller's input is wrong (bad window, bad option, bad JSON)
  kNotFound,            ///< the named thing does not exist
  kAlreadyExists,       ///< create of something that exists (digest, marker)
  kPermissionDenied,    ///< credentials lack the right
  kFailedPrecondition,  ///< the system is not in the state the call needs
  kDataLoss,            ///< data is corrupt or truncated (bad gzip)
  kUnavailable,         ///< a dependency cannot be reached now; retrying may help
  kDeadlineExceeded,    ///< a timeout expired
  kCancelled,           ///< the operation was cancelled (shutdown)
  kResourceExhausted,   ///< a limit was hit (too many keys, queue full)
  kUnimplemented,       ///< an optional capability the implementation does not have
  kInternal,            ///< a bug or an unexpected failure
};

/// The name of a code as written in logs and JSON ("NOT_FOUND", ...).
std::string_view StatusCodeName(StatusCode code);

/// A code plus a human-readable message. The default-constructed Status is OK.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  /// "NOT_FOUND: message", or "OK".
  std::string ToString() const;
  /// Returns a copy with `prefix + ": "` in front of the message (context while propagating).
  Status WithContext(std::string_view prefix) const;

  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
Status InvalidArgumentError(std::string message);
Status NotFoundError(std::string message);
Status AlreadyExistsError(std::string message);
Status PermissionDeniedError(std::string message);
Status FailedPreconditionError(std::string message);
Status DataLossError(std::string message);
Status UnavailableError(std::string message);
Status DeadlineExceededError(std::string message);
Status CancelledError(std::string message);
Status ResourceExhaustedError(std::string message);
Status UnimplementedError(std::string message);
Status InternalError(std::string message);

inline bool IsInvalidArgument(const Status& s) { return s.code() == StatusCode::kInvalidArgument; }
inline bool IsNotFound(const Status& s) { return s.code() == StatusCode::kNotFound; }
inline bool IsAlreadyExists(const Status& s) { return s.code() == StatusCode::kAlreadyExists; }
inline bool IsDataLoss(const Status& s) { return s.code() == StatusCode::kDataLoss; }
inline bool IsUnavailable(const Status& s) { return s.code() == StatusCode::kUnavailable; }
inline bool IsUnimplemented(const Status& s) { return s.code() == StatusCode::kUnimplemented; }

/// A value or the Status explaining its absence. Constructing from an OK Status is a bug; as
/// absl::StatusOr does, the Result then holds an Internal error saying so (in every build type,
/// so the caller sees an error rather than a value that is not there).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) {
      v_ = Status(StatusCode::kInternal, "a Result was built from an OK status without a value");
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  /// The error, or OK when a value is held.
  Status status() const { return ok() ? OkStatus() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace vpcflow

#define VPCFLOW_CONCAT_INNER_(a, b) a##b
#define VPCFLOW_CONCAT_(a, b) VPCFLOW_CONCAT_INNER_(a, b)

/// Returns the Status from the enclosing function when `expr` is not OK.
#define VPCFLOW_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::vpcflow::Status vpcflow_status_ = (expr);        \
    if (!vpcflow_status_.ok()) return vpcflow_status_; \
  } while (0)

/// `VPCFLOW_ASSIGN_OR_RETURN(auto x, ResultExpr());` declares x from the value or returns the
/// error.
#define VPCFLOW_ASSIGN_OR_RETURN(lhs, expr) \
  VPCFLOW_ASSIGN_OR_RETURN_IMPL_(VPCFLOW_CONCAT_(vpcflow_result_, __LINE__), lhs, expr)
// `tmp` and `lhs` are declarations, which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define VPCFLOW_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
