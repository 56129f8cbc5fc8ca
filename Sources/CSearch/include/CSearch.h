// Byte search over stored log text with SIMD, which Swift's SIMD types cannot express well (no movemask):
// the search behind free-word queries over a whole ring.
#ifndef CSEARCH_H
#define CSEARCH_H

#include <stddef.h>
#include <stdint.h>

/// Writes to `offsets` (in increasing order, at most `capacity`) every offset of `haystack` where `needle`
/// occurs, ASCII letters compared without regard to case; `needle` must be lower-case. Returns how many.
size_t csearch_find_all_folded(const uint8_t *haystack, size_t length, const uint8_t *needle, size_t needle_length,
                               size_t *offsets, size_t capacity);

#endif
