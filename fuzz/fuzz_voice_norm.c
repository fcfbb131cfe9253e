/*
 * fuzz_voice_norm.c - libFuzzer target for the French normaliser of the
 * voice (voice_norm.c), which reads any text sent to /api/v1/tts.
 *
 * Invariants: voice_normalize never crashes; it accepts every valid UTF-8
 * text of at most VOICE_TEXT_MAX bytes without NUL and refuses the rest
 * with GU_EINVAL; its output is valid UTF-8, at most VOICE_SPOKEN_MAX
 * bytes, holds no digit (every number is said in words) and none of the
 * symbols it drops (markdown, brackets), and has no leading or trailing
 * space.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "voice/voice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gu_arena *a;
    struct gu_err err;
    char *s, *out = NULL;
    bool ok;
    size_t n;
    int rc;

    if (size > 4 * VOICE_TEXT_MAX)
        return 0;
    s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    ok = size <= VOICE_TEXT_MAX && !memchr(data, '\0', size) &&
         gu_utf8_valid(s, size);
    a = gu_arena_new(0);
    if (!a)
        abort();
    gu_err_clear(&err);
    rc = voice_normalize(a, s, &out, &err);
    if (ok != (rc == 0) && !(rc == 0 && memchr(data, '\0', size)))
        abort();
    if (rc != 0 && rc != GU_EINVAL)
        abort();
    if (rc == 0) {
        n = strlen(out);
        if (n > VOICE_SPOKEN_MAX || !gu_utf8_valid(out, n))
            abort();
        if (strpbrk(out, "0123456789<>*#_{}[]|\\`~^$"))
            abort();
        if (n && (out[0] == ' ' || out[n - 1] == ' '))
            abort();
    }
    gu_arena_free(a);
    free(s);
    return 0;
}
