// CRC-32C (Castagnoli), the checksum of checkpoint tensor bytes: the SSE4.2 crc32 instruction
// where the CPU has it (several GB/s), a table-driven fallback elsewhere (and on other architectures). Both give the same value.
#include "ckernels.h"
#include <string.h>

static uint32_t ck_crc_table[256];

__attribute__((constructor)) static void ck_crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
        ck_crc_table[i] = c;
    }
}

static uint32_t ck_crc32c_table(uint32_t crc, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) crc = ck_crc_table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t ck_crc32c_hw(uint32_t crc, const uint8_t *p, size_t n) {
    uint64_t c = crc;
    while (n >= 8) {
        uint64_t word;
        memcpy(&word, p, 8);
        c = __builtin_ia32_crc32di(c, word);
        p += 8;
        n -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t ck_crc32c_update(uint32_t crc, const void *data, size_t count) {
    const uint8_t *p = (const uint8_t *)data;
    crc = ~crc;
#if defined(__x86_64__)
    // SSE4.2 is not part of baseline x86-64, so CHARNN_SIMD=baseline takes the table too.
    if (ck_simd_level() != 0 && __builtin_cpu_supports("sse4.2")) return ~ck_crc32c_hw(crc, p, count);
#endif
    return ~ck_crc32c_table(crc, p, count);
}
