// Case-insensitive substring search in the manner of Wojciech Muła's "SIMD-friendly algorithms for substring
// searching": a block of positions is tested at once for the needle's first and last bytes, and only the
// positions passing both are compared in full. glibc's memmem ignores case not at all and strcasestr needs
// NUL-terminated text, so neither fits a byte arena.
#include "CSearch.h"

#include <immintrin.h>

static inline uint8_t fold(uint8_t byte) { return (uint8_t)(byte - 'A') < 26 ? (byte | 0x20) : byte; }

static inline int equal_folded(const uint8_t *text, const uint8_t *needle, size_t length) {
    for (size_t index = 0; index < length; index++) {
        if (fold(text[index]) != needle[index]) return 0;
    }
    return 1;
}

// A letter is compared after setting its 0x20 bit (upper case becomes lower; no other byte becomes a lower-case
// letter); any other byte exactly.
static inline char case_bit(uint8_t byte) { return (uint8_t)(byte - 'a') < 26 ? 0x20 : 0; }

#define RECORD(position)                                                                                        \
    do {                                                                                                        \
        if (equal_folded(haystack + (position), needle, needle_length)) {                                       \
            offsets[count++] = (position);                                                                      \
            if (count == capacity) return count;                                                                \
        }                                                                                                       \
    } while (0)

__attribute__((target("avx2")))
static size_t find_avx2(const uint8_t *haystack, size_t length, const uint8_t *needle, size_t needle_length,
                        size_t *offsets, size_t capacity, size_t *resume) {
    const size_t last = needle_length - 1, end = length - last;
    const __m256i first_case = _mm256_set1_epi8(case_bit(needle[0])), last_case = _mm256_set1_epi8(case_bit(needle[last]));
    const __m256i first = _mm256_set1_epi8((char)needle[0]), final = _mm256_set1_epi8((char)needle[last]);
    size_t count = 0, block = 0;
    for (; block + 32 <= end; block += 32) {
        __m256i starts = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(haystack + block)), first_case);
        __m256i ends = _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(haystack + block + last)), last_case);
        uint32_t mask = (uint32_t)_mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(starts, first), _mm256_cmpeq_epi8(ends, final)));
        while (mask) {
            size_t position = block + (size_t)__builtin_ctz(mask);
            mask &= mask - 1;
            RECORD(position);
        }
    }
    *resume = block;
    return count;
}

static size_t find_sse2(const uint8_t *haystack, size_t length, const uint8_t *needle, size_t needle_length,
                        size_t *offsets, size_t capacity, size_t *resume) {
    const size_t last = needle_length - 1, end = length - last;
    const __m128i first_case = _mm_set1_epi8(case_bit(needle[0])), last_case = _mm_set1_epi8(case_bit(needle[last]));
    const __m128i first = _mm_set1_epi8((char)needle[0]), final = _mm_set1_epi8((char)needle[last]);
    size_t count = 0, block = 0;
    for (; block + 16 <= end; block += 16) {
        __m128i starts = _mm_or_si128(_mm_loadu_si128((const __m128i *)(haystack + block)), first_case);
        __m128i ends = _mm_or_si128(_mm_loadu_si128((const __m128i *)(haystack + block + last)), last_case);
        uint32_t mask = (uint32_t)_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(starts, first), _mm_cmpeq_epi8(ends, final)));
        while (mask) {
            size_t position = block + (size_t)__builtin_ctz(mask);
            mask &= mask - 1;
            RECORD(position);
        }
    }
    *resume = block;
    return count;
}

size_t csearch_find_all_folded(const uint8_t *haystack, size_t length, const uint8_t *needle, size_t needle_length,
                               size_t *offsets, size_t capacity) {
    if (needle_length == 0 || length < needle_length || capacity == 0) return 0;
    static int has_avx2 = -1;
    if (has_avx2 < 0) has_avx2 = __builtin_cpu_supports("avx2") ? 1 : 0;
    size_t block = 0;
    size_t count = has_avx2 ? find_avx2(haystack, length, needle, needle_length, offsets, capacity, &block)
                            : find_sse2(haystack, length, needle, needle_length, offsets, capacity, &block);
    if (count == capacity) return count;
    // The last positions, fewer than a block.
    for (size_t position = block; position + needle_length <= length; position++) RECORD(position);
    return count;
}
