#include "common/crc32c.hpp"

#include <isa-l/crc.h>

namespace vpcflow {

uint32_t Crc32c(std::string_view bytes) {
  // ISA-L's crc32_iscsi is the bare CRC register: standard CRC-32C starts at and ends with ~0.
  return ~crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(bytes.data())),
                      static_cast<int>(bytes.size()), 0xffffffffu);
}

}  // namespace vpcflow
