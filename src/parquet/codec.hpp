#pragma once
/// Page compression codecs: UNCOMPRESSED, GZIP (zlib-free: ISA-L through common/gzip_reader,
/// several members per page allowed), SNAPPY (libsnappy), ZSTD (libzstd). Pure, thread-safe.

#include <cstdint>
#include <span>
#include <string>

#include "parquet/metadata.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow::parquet {

/// Whether Decompress supports `codec`.
bool IsSupportedCodec(Codec codec);

/// Decompresses one page's bytes into `out`, which has exactly the size the page header
/// declares. Returns DataLoss when the data is corrupt, when it decompresses to any other size
/// than `out.size()` (a codec that lies about sizes: nothing is written past `out`), or when the
/// codec is not supported (LZO, BROTLI, LZ4, LZ4_RAW, unknown values).
Status Decompress(Codec codec, std::span<const uint8_t> in, std::span<uint8_t> out);

/// Compresses for the writer: UNCOMPRESSED, GZIP (ISA-L level 1), SNAPPY, ZSTD (level 3).
/// Returns InvalidArgument for any other codec.
Result<std::string> Compress(Codec codec, std::span<const uint8_t> in);

}  // namespace vpcflow::parquet
