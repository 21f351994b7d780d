/* The libFuzzer entry point every tests/fuzz/fuzz_<target>.c defines.
 * replay.c calls it for each corpus file, so gcc builds can replay the
 * corpora without libFuzzer. */
#ifndef SVCDNS_FUZZ_H
#define SVCDNS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* Runs one input; returns 0 (libFuzzer reserves other values). Aborts if
 * an invariant of the code under test does not hold. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
