#include "parquet/codec.hpp"

#include <snappy.h>
#include <zstd.h>

#include <cstring>

#include "common/gzip_reader.hpp"
#include "vpcflow/byte_sink.hpp"

namespace vpcflow::parquet {
namespace {

constexpr int kZstdLevel = 3;

std::string_view AsChars(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

Status SizeMismatch(Codec codec, size_t got, size_t expected) {
  return DataLossError(CodecName(codec) + " page decompresses to " + std::to_string(got) +
                       " bytes, its header says " + std::to_string(expected));
}

}  // namespace

bool IsSupportedCodec(Codec codec) {
  return codec == Codec::kUncompressed || codec == Codec::kGzip || codec == Codec::kSnappy ||
         codec == Codec::kZstd;
}

Status Decompress(Codec codec, std::span<const uint8_t> in, std::span<uint8_t> out) {
  switch (codec) {
    case Codec::kUncompressed:
      if (in.size() != out.size()) return SizeMismatch(codec, in.size(), out.size());
      if (!in.empty()) std::memcpy(out.data(), in.data(), in.size());
      return OkStatus();
    case Codec::kGzip: {
      Result<size_t> n =
          GunzipInto(AsChars(in), std::span<char>(reinterpret_cast<char*>(out.data()), out.size()));
      if (!n.ok()) return DataLossError("GZIP page: " + n.status().message());
      if (*n != out.size()) return SizeMismatch(codec, *n, out.size());
      return OkStatus();
    }
    case Codec::kSnappy: {
      size_t length = 0;
      const std::string_view data = AsChars(in);
      if (!snappy::GetUncompressedLength(data.data(), data.size(), &length)) {
        return DataLossError("SNAPPY page: corrupt length");
      }
      if (length != out.size()) return SizeMismatch(codec, length, out.size());
      // RawUncompress checks the stream against the length it announced.
      if (!snappy::RawUncompress(data.data(), data.size(), reinterpret_cast<char*>(out.data()))) {
        return DataLossError("SNAPPY page: corrupt data");
      }
      return OkStatus();
    }
    case Codec::kZstd: {
      // Several frames are decompressed one after the other; the output is bounded by `out`.
      const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
      if (ZSTD_isError(n)) {
        return DataLossError(std::string("ZSTD page: ") + ZSTD_getErrorName(n));
      }
      if (n != out.size()) return SizeMismatch(codec, n, out.size());
      return OkStatus();
    }
    default:
      break;
  }
  return DataLossError("compression codec " + CodecName(codec) + " is not supported");
}

Result<std::string> Compress(Codec codec, std::span<const uint8_t> in) {
  switch (codec) {
    case Codec::kUncompressed:
      return std::string(AsChars(in));
    case Codec::kGzip: {
      StringSink out;
      ByteSinkPtr gzip = NewGzipSink(&out, 1);
      VPCFLOW_RETURN_IF_ERROR(gzip->Append(AsChars(in)));
      VPCFLOW_RETURN_IF_ERROR(gzip->Close());
      return out.Release();
    }
    case Codec::kSnappy: {
      std::string out;
      snappy::Compress(reinterpret_cast<const char*>(in.data()), in.size(), &out);
      return out;
    }
    case Codec::kZstd: {
      std::string out(ZSTD_compressBound(in.size()), '\0');
      const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), kZstdLevel);
      if (ZSTD_isError(n)) return InternalError(std::string("zstd: ") + ZSTD_getErrorName(n));
      out.resize(n);
      return out;
    }
    default:
      break;
  }
  return InvalidArgumentError("the writer does not support codec " + CodecName(codec));
}

}  // namespace vpcflow::parquet
