#ifndef STRATA_HINTS_H
#define STRATA_HINTS_H

/// Asks the CPU to start loading the cache line holding `address` for a read soon (a hint: no fault, no
/// effect on results). For loops that visit rows in an order the hardware prefetcher cannot guess.
static inline void strata_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

#endif
