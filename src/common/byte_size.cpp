#include "common/byte_size.hpp"

#include <cctype>
#include <cmath>
#include <string>

namespace vpcflow {

Result<uint64_t> ParseByteSize(std::string_view text) {
  auto bad = [&]() {
    return InvalidArgumentError("\"" + std::string(text.substr(0, 64)) +
                                "\" is not a size (e.g. 268435456, 512K, 256M, 2G)");
  };
  size_t i = 0;
  uint64_t whole = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (whole > (uint64_t{1} << 50)) return bad();
    whole = whole * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return bad();
  double fraction = 0;
  if (i < text.size() && text[i] == '.') {
    ++i;
    double scale = 0.1;
    const size_t digits_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      fraction += scale * (text[i] - '0');
      scale /= 10;
      ++i;
    }
    if (i == digits_start) return bad();
  }
  std::string unit;
  for (; i < text.size(); ++i) unit += static_cast<char>(std::toupper(text[i]));
  int shift = 0;
  if (!unit.empty()) {
    switch (unit[0]) {
      case 'B':
        shift = 0;
        break;
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
      default:
        return bad();
    }
    const std::string_view rest = std::string_view(unit).substr(1);
    if (!(rest.empty() || (unit[0] != 'B' && (rest == "B" || rest == "IB")))) return bad();
  }
  if (fraction != 0 && shift == 0) return bad();
  const double value = (static_cast<double>(whole) + fraction) * std::ldexp(1.0, shift);
  if (value > std::ldexp(1.0, 50)) return bad();
  if (fraction == 0) return whole << shift;
  return static_cast<uint64_t>(value);
}

}  // namespace vpcflow
