// Throughput of Strata's CRC-32C (Sources/CStrataCRC) on 1 GiB in memory, one core:
//   clang -O2 -ISources/CStrataCRC/include Sources/CStrataCRC/crc32c.c tools/bench/crc32c_bench.c -o /tmp/crc32c_bench && /tmp/crc32c_bench
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "strata_crc32c.h"

int main(void) {
    size_t count = (size_t)1 << 30;
    unsigned char *bytes = malloc(count);
    if (!bytes) return 1;
    for (size_t i = 0; i < count; i++) bytes[i] = (unsigned char)(i * 131);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    unsigned crc = strata_crc32c(0, bytes, count);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double seconds = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
    printf("crc32c %08x: %.0f MB/s\n", crc, count / 1e6 / seconds);
    free(bytes);
    return 0;
}
