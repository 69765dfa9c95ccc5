#pragma once
/// What this processor runs, for the flowlog builds chosen once at load time (the tokenizer's
/// and the line parser's; DESIGN.md, "Performance"). Each check initialises the compiler's
/// processor model first, so it may be called during static initialisation. Thread-safe.

namespace vpcflow {

/// SSSE3 (pshufb, pmaddubsw): the line parser's shuffles.
inline bool CpuHasSsse3() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("ssse3");
#else
  return false;
#endif
}

/// The parts of x86-64-v3 the tokenizer's build uses: POPCNT, BMI1/2 and AVX2.
inline bool CpuHasX86V3() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("bmi") &&
         __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

/// AVX-512 F/BW/VL/VBMI/VBMI2 with BMI2 and POPCNT (Ice Lake, Zen 4 and later): the line
/// parser's 64-byte build.
inline bool CpuHasAvx512Vbmi2() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi") &&
         __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("bmi2") &&
         __builtin_cpu_supports("popcnt");
#else
  return false;
#endif
}

}  // namespace vpcflow
