/*
 * test_voice_pico_dir.c - SVOX Pico configured with a directory that
 * lacks its French resources (voice.pico_lang_dir): Pico is reported
 * missing with a French message, AUTO falls back to espeak-ng. A binary
 * of its own: Pico is loaded once per process, and here that first load
 * must see the bad directory.
 */
#include <string.h>

#include "harness.h"
#include "voice/voice.h"

/* Pico from a directory without its resources: unusable, said clearly. */
static void
test_pico_missing_dir(void)
{
    struct gu_config *cfg = NULL;
    struct gu_err err;
    struct gu_arena *a = gu_arena_new(0);
    struct voice_tts_opts o = {VOICE_ENGINE_AUTO, 0, 0};
    struct voice_audio au;

    CHECK_EQ(gu_config_defaults(&cfg, &err), 0);
    CHECK_EQ(gu_config_parse_string(
                 cfg, "[voice]\npico_lang_dir = /nonexistent\n", &err),
             0);
    voice_tts_configure(cfg);
    CHECK(!voice_engine_available(VOICE_ENGINE_PICO));
    /* AUTO falls back to espeak-ng */
    CHECK_STR(voice_engine_name(VOICE_ENGINE_AUTO), "espeak-ng");
    CHECK_EQ(voice_tts(a, &o, "Bonjour", &au, &err), 0);
    CHECK_EQ(au.rate, 22050);
    o.engine = VOICE_ENGINE_PICO;
    gu_err_clear(&err);
    CHECK_EQ(voice_tts(a, &o, "Bonjour", &au, &err), GU_EBUSY);
    CHECK_CONTAINS(err.user, "--non-free");
    gu_config_free(cfg);
    gu_arena_free(a);
}

TESTS(T(test_pico_missing_dir))
