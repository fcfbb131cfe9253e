/*
 * harness.h - the in-house test harness.
 *
 * A test file defines `static void test_xxx(void)` functions and lists
 * them in `TESTS(...)`; CHECK* record failures without stopping the test.
 * Each binary prints "N passed, N failed" and exits non-zero on failure.
 *
 *   static void test_add(void) { CHECK_EQ(1 + 1, 2); }
 *   TESTS(T(test_add))
 */
#ifndef GU_HARNESS_H
#define GU_HARNESS_H

#include <stdio.h>
#include <string.h>
#include <inttypes.h>

struct th_case {
    const char *name;
    void (*fn)(void);
};

/* Little-endian fields of a binary format (WAV headers...). */
static inline uint32_t
th_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static inline uint16_t
th_le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static int th_failures_in_test;

#define TH_FAIL(...)                                                       \
    do {                                                                   \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                  \
        fprintf(stderr, __VA_ARGS__);                                      \
        fputc('\n', stderr);                                               \
        th_failures_in_test++;                                             \
    } while (0)

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond))                                                       \
            TH_FAIL("CHECK(%s) failed", #cond);                            \
    } while (0)

#define CHECK_EQ(a, b)                                                     \
    do {                                                                   \
        long long th_a = (long long)(a), th_b = (long long)(b);            \
        if (th_a != th_b)                                                  \
            TH_FAIL("CHECK_EQ(%s, %s): %lld != %lld", #a, #b, th_a, th_b); \
    } while (0)

#define CHECK_STR(a, b)                                                    \
    do {                                                                   \
        const char *th_a = (a), *th_b = (b);                               \
        if (!th_a || !th_b || strcmp(th_a, th_b) != 0)                     \
            TH_FAIL("CHECK_STR(%s, %s): \"%s\" != \"%s\"", #a, #b,         \
                    th_a ? th_a : "(null)", th_b ? th_b : "(null)");       \
    } while (0)

/* Substring check, handy for messages. */
#define CHECK_CONTAINS(hay, needle)                                        \
    do {                                                                   \
        const char *th_h = (hay), *th_n = (needle);                        \
        if (!th_h || !strstr(th_h, th_n))                                  \
            TH_FAIL("CHECK_CONTAINS(%s, %s): \"%s\" lacks \"%s\"", #hay,   \
                    #needle, th_h ? th_h : "(null)", th_n);                \
    } while (0)

#define T(fn) {#fn, fn}

#define TESTS(...)                                                         \
    int main(int argc, char **argv)                                        \
    {                                                                      \
        static const struct th_case cases[] = {__VA_ARGS__};               \
        int passed = 0, failed = 0;                                        \
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {    \
            if (argc > 1 && !strstr(cases[i].name, argv[1]))               \
                continue;                                                  \
            th_failures_in_test = 0;                                       \
            cases[i].fn();                                                 \
            if (th_failures_in_test) {                                     \
                failed++;                                                  \
                fprintf(stderr, "FAIL %s\n", cases[i].name);               \
            } else {                                                       \
                passed++;                                                  \
                fprintf(stderr, "ok   %s\n", cases[i].name);               \
            }                                                              \
        }                                                                  \
        printf("%d passed, %d failed\n", passed, failed);                  \
        return failed ? 1 : 0;                                             \
    }

#endif
