#include "common/gzip_reader.hpp"

#include <isa-l.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <string>

namespace vpcflow {

namespace {

// Compressed input is read from the object in chunks of this size, into one reused buffer.
constexpr size_t kInputBufferBytes = size_t{256} * 1024;
// Input held in memory is handed to the inflater in slices of at most this (its count is 32-bit).
constexpr size_t kMaxInPlaceSlice = size_t{1} << 30;

const char* InflateErrorText(int code) {
  switch (code) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid deflate distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported gzip compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC32 or length mismatch in the gzip trailer";
    case ISAL_NEED_DICT:
      return "deflate stream needs a preset dictionary";
    default:
      return "inflate failed";
  }
}

class GzipTextStream final : public TextStream {
 public:
  explicit GzipTextStream(ObjectReader* reader) : reader_(reader) {
    isal_inflate_init(&state_);
    state_.crc_flag = ISAL_GZIP;  // ISA-L parses the header and checks CRC32 and ISIZE
  }
  // Over bytes in memory, inflated in place: no buffer, no copy.
  explicit GzipTextStream(std::string_view bytes) : reader_(nullptr), bytes_(bytes) {
    isal_inflate_init(&state_);
    state_.crc_flag = ISAL_GZIP;
  }

  Result<size_t> Read(char* out, size_t size) override {
    if (!error_.ok()) return error_;
    if (done_ || size == 0) return size_t{0};
    const auto want =
        static_cast<uint32_t>(std::min<size_t>(size, std::numeric_limits<uint32_t>::max()));
    state_.next_out = reinterpret_cast<uint8_t*>(out);
    state_.avail_out = want;
    while (state_.avail_out == want) {
      if (state_.block_state == ISAL_BLOCK_FINISH) {
        Status s = StartNextMember(out, want);
        if (!s.ok()) return Fail(std::move(s));
        if (done_) break;
      }
      if (state_.avail_in == 0 && !input_eof_) {
        Status s = Fill();
        if (!s.ok()) return Fail(std::move(s));
      }
      if (state_.avail_in == 0 && input_eof_ && bytes_read_ == 0) {
        done_ = true;  // an empty object is empty text
        break;
      }
      const uint32_t in_before = state_.avail_in;
      const int ret = isal_inflate(&state_);
      if (ret != ISAL_DECOMP_OK) return Fail(Corrupt(InflateErrorText(ret)));
      const bool progressed = state_.avail_in != in_before || state_.avail_out != want ||
                              state_.block_state == ISAL_BLOCK_FINISH;
      if (!progressed && input_eof_) {
        return Fail(Corrupt("truncated: the object ends inside a gzip member"));
      }
      if (!progressed && state_.avail_in != 0) {
        return Fail(Corrupt("inflate made no progress"));
      }
    }
    return static_cast<size_t>(want - state_.avail_out);
  }

  uint64_t compressed_bytes() const override { return bytes_read_ - state_.avail_in; }

 private:
  // Called when a member has ended. RFC 1952 2.2: a gzip file is a series of members; S3 writers
  // and `cat a.gz b.gz` produce several. Zero bytes after the last member (tape-style padding)
  // are tolerated; anything else must be a valid member.
  Status StartNextMember(char* out, uint32_t want) {
    if (state_.avail_in == 0) {
      VPCFLOW_RETURN_IF_ERROR(Fill());
      if (state_.avail_in == 0) {
        done_ = true;
        return OkStatus();
      }
    }
    if (state_.next_in[0] == 0) return SkipZeroPadding();
    uint8_t* next_in = state_.next_in;
    const uint32_t avail_in = state_.avail_in;
    isal_inflate_reset(&state_);
    state_.crc_flag = ISAL_GZIP;
    state_.next_in = next_in;
    state_.avail_in = avail_in;
    state_.next_out = reinterpret_cast<uint8_t*>(out);
    state_.avail_out = want;
    ++member_;
    return OkStatus();
  }

  Status SkipZeroPadding() {
    for (;;) {
      const uint8_t* p = state_.next_in;
      if (std::any_of(p, p + state_.avail_in, [](uint8_t b) { return b != 0; })) {
        return Corrupt("non-zero bytes after the zero padding that follows the last member");
      }
      state_.next_in += state_.avail_in;
      state_.avail_in = 0;
      VPCFLOW_RETURN_IF_ERROR(Fill());
      if (state_.avail_in == 0) {
        done_ = true;
        return OkStatus();
      }
    }
  }

  Status Fill() {
    if (reader_ != nullptr && in_ == nullptr) {
      // A reader holding the object in memory is inflated in place, like bytes given to us.
      if (std::optional<std::string_view> held = reader_->TakeInMemory()) {
        reader_ = nullptr;
        bytes_ = *held;
      } else {
        in_.reset(new uint8_t[kInputBufferBytes]);
      }
    }
    if (reader_ == nullptr) {
      const size_t n = std::min(bytes_.size(), kMaxInPlaceSlice);
      state_.next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(bytes_.data()));
      state_.avail_in = static_cast<uint32_t>(n);
      bytes_read_ += n;
      input_eof_ = n == 0;
      bytes_.remove_prefix(n);
      return OkStatus();
    }
    Result<size_t> n =
        reader_->Read(std::span<char>(reinterpret_cast<char*>(in_.get()), kInputBufferBytes));
    if (!n.ok()) return n.status();
    if (*n == 0) input_eof_ = true;
    state_.next_in = in_.get();
    state_.avail_in = static_cast<uint32_t>(*n);
    bytes_read_ += *n;
    return OkStatus();
  }

  Status Corrupt(std::string_view what) const {
    return DataLossError("corrupt gzip (member " + std::to_string(member_) +
                         ", near compressed byte " + std::to_string(compressed_bytes()) +
                         "): " + std::string(what));
  }

  Status Fail(Status status) {
    error_ = std::move(status);
    return error_;
  }

  ObjectReader* reader_;           // null: the input is bytes_
  std::string_view bytes_;         // not consumed yet
  std::unique_ptr<uint8_t[]> in_;  // the reader's chunks; allocated at the first Fill
  inflate_state state_;
  uint64_t bytes_read_ = 0;
  int member_ = 1;
  bool input_eof_ = false;
  bool done_ = false;
  Status error_;  // sticky: the stream is unusable after the first error
};

class PlainTextStream final : public TextStream {
 public:
  explicit PlainTextStream(ObjectReader* reader) : reader_(reader) {}

  Result<size_t> Read(char* out, size_t size) override {
    Result<size_t> n = reader_->Read(std::span<char>(out, size));
    if (n.ok()) bytes_read_ += *n;
    return n;
  }
  uint64_t compressed_bytes() const override { return bytes_read_; }

 private:
  ObjectReader* reader_;
  uint64_t bytes_read_ = 0;
};

}  // namespace

Result<size_t> GunzipInto(std::string_view compressed, std::span<char> out) {
  if (compressed.size() > UINT32_MAX) return DataLossError("gzip data of 4 GiB or more");
  GzipTextStream stream(compressed);
  size_t written = 0;
  for (;;) {
    if (written == out.size()) {
      // Full: any further text means the data is larger than the caller said.
      char probe;
      VPCFLOW_ASSIGN_OR_RETURN(const size_t more, stream.Read(&probe, 1));
      if (more != 0) {
        return DataLossError("gzip data holds more than the expected " +
                             std::to_string(out.size()) + " bytes");
      }
      return written;
    }
    VPCFLOW_ASSIGN_OR_RETURN(const size_t n,
                             stream.Read(out.data() + written, out.size() - written));
    if (n == 0) return written;
    written += n;
  }
}

std::unique_ptr<TextStream> NewGzipTextStream(ObjectReader* reader) {
  return std::make_unique<GzipTextStream>(reader);
}

std::unique_ptr<TextStream> NewPlainTextStream(ObjectReader* reader) {
  return std::make_unique<PlainTextStream>(reader);
}

LineReader::LineReader(TextStream* stream, size_t buffer_bytes, size_t max_line_bytes)
    : stream_(stream), max_line_(std::max<size_t>(max_line_bytes, 1)) {
  // Room for a whole line of max_line_ bytes plus as much again to read into.
  cap_ = std::max(buffer_bytes, 2 * max_line_);
  buf_.reset(new char[cap_]);
}

LineReader::~LineReader() = default;

bool LineReader::Next(std::string_view* line) {
  if (!status_.ok()) return false;
  for (;;) {
    char* base = buf_.get();
    const auto* nl = static_cast<const char*>(std::memchr(base + begin_, '\n', end_ - begin_));
    if (nl != nullptr) {
      const size_t b = begin_;
      size_t e = static_cast<size_t>(nl - base);
      begin_ = e + 1;
      if (skipping_) {  // the tail of an over-long line already returned
        skipping_ = false;
        continue;
      }
      if (e > b && base[e - 1] == '\r') --e;
      *line = std::string_view(base + b, std::min(e - b, max_line_));
      return true;
    }
    if (skipping_) {
      begin_ = end_;
    } else if (end_ - begin_ > max_line_) {
      *line = std::string_view(base + begin_, max_line_);
      begin_ = end_;
      skipping_ = true;
      return true;
    }
    if (eof_) {
      if (begin_ == end_) return false;
      size_t e = end_;
      if (base[e - 1] == '\r') --e;
      *line = std::string_view(base + begin_, e - begin_);
      begin_ = end_;
      return true;
    }
    if (!Refill()) return false;
  }
}

bool LineReader::Refill() {
  if (begin_ > 0) {
    std::memmove(buf_.get(), buf_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  Result<size_t> n = stream_->Read(buf_.get() + end_, cap_ - end_);
  if (!n.ok()) {
    status_ = n.status();
    return false;
  }
  if (*n == 0) eof_ = true;
  end_ += *n;
  text_bytes_ += *n;
  return true;
}

Result<size_t> ReadFully(TextStream& stream, char* out, size_t size) {
  size_t done = 0;
  while (done < size) {
    VPCFLOW_ASSIGN_OR_RETURN(size_t n, stream.Read(out + done, size - done));
    if (n == 0) break;
    done += n;
  }
  return done;
}

}  // namespace vpcflow
