#ifndef STRATA_CRC32C_H
#define STRATA_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial and final XOR 0xFFFFFFFF) of `count`
/// bytes, continuing from `crc` (0 for a new checksum). Uses the SSE 4.2 crc32 instruction when the CPU
/// has it, a table otherwise; both give the same value.
uint32_t strata_crc32c(uint32_t crc, const void *bytes, size_t count);

/// The CRC-32C of two pieces one after the other, from each piece's CRC and the second's length.
uint32_t strata_crc32c_combine(uint32_t first, uint32_t second, uint64_t second_length);

#endif
