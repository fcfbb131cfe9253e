/*
 * fuzz_voice_phone.c - libFuzzer target for what a caller controls on the
 * phone: the keys and the audio of a call, driving the whole menu
 * (voice_call.c) against the demo commune in an in-memory store, and the
 * opening-hours setting the bot parses (voice.phone_hours).
 *
 * Input: byte 0 even -> a call: byte 1 picks the caller's number (bits
 * 0-1: none, a mobile, an international one, garbage) and the line (bit
 * 2: one that transfers « 0 » to an agent, or one that takes a
 * voicemail); then each byte is a step:
 *   0..11   a key "0123456789*#" (out of band: RFC 4733, AudioSocket)
 *   12..23  the same key as in-band tones through the detector
 *   24..39  (b - 23) x 10 frames played out (stops on hang-up/transfer)
 *   40..55  (b - 39) frames of noise in (a voicemail records them)
 *   other   nothing
 * Byte 0 odd -> the rest is an hours string for voice_phone_new.
 *
 * Invariants: no crash, no leak, no sanitizer report; a call always has
 * a state name; once the bot hangs up or transfers, it keeps saying so;
 * voice_phone_new accepts or refuses an hours string with GU_EINVAL and
 * the field voice.phone_hours, nothing else.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "kb/kb.h"
#include "rdv/rdv.h"
#include "voice/voice_phone.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct store *st;
static struct gu_config *cfg;
static struct voice_phone *ph[2]; /* transfers, voicemail */
static bool ready, failed;

static int
fake_tts(void *arg, struct gu_arena *a, const char *text, int16_t **pcm,
         size_t *n, struct gu_err *err)
{
    size_t k = strlen(text) % 400 + 160;

    (void)arg;
    (void)err;
    if (!(*pcm = gu_arena_alloc(a, k * sizeof(**pcm))))
        return GU_ENOMEM;
    *n = voice_tone(300, 8000, (unsigned)(k / 8), 3000, *pcm, k);
    return 0;
}

static void
teardown(void)
{
    voice_phone_free(ph[0]);
    voice_phone_free(ph[1]);
    store_close(st);
    gu_config_free(cfg);
}

static bool
setup(void)
{
    struct store_conn *c = NULL;
    struct store_commune m;
    struct gu_err err;
    size_t loaded = 0;

    if (ready || failed)
        return ready;
    failed = true;
    gu_err_clear(&err);
    memset(&m, 0, sizeof(m));
    memcpy(m.insee, "99001", 6);
    m.name = "Saint-Exemple-sur-Loire";
    m.zone = "B";
    m.hours = "du lundi au vendredi de 8 h 30 à 12 h";
    m.address = m.phone = m.email = "";
    gu_log_set_level(GU_LOG_ERROR);
    if (gu_crypto_init() < 0 || store_open("sqlite::memory:", &st, &err) < 0 ||
        app_migrate(st, NULL, &err) < 0 || store_acquire(st, &c, &err) < 0 ||
        gu_config_defaults(&cfg, &err) < 0 ||
        store_commune_create(c, &m, &err) < 0 ||
        kb_demo_load(c, "99001", "fuzz", &loaded, &err) < 0 ||
        rdv_demo_seed(c, "99001", &err) < 0) {
        fprintf(stderr, "fuzz_voice_phone setup: %s\n", err.msg);
        store_release(c);
        return false;
    }
    store_release(c);
    struct voice_phone_opts o = {.insee = "99001",
                                 .transfer_to = "sip:accueil@127.0.0.1",
                                 .hours = "lu-di 00:00-24:00",
                                 .voicemail_s = 10,
                                 .timeout_s = 1,
                                 .can_transfer = true,
                                 .tts = fake_tts};
    struct voice_phone_opts vm = o;
    vm.transfer_to = "";
    vm.can_transfer = false;
    if (voice_phone_new(st, cfg, &o, &ph[0], &err) < 0 ||
        voice_phone_new(st, cfg, &vm, &ph[1], &err) < 0) {
        fprintf(stderr, "fuzz_voice_phone phone: %s\n", err.msg);
        return false;
    }
    atexit(teardown);
    ready = true;
    failed = false;
    return true;
}

static void
hours(const uint8_t *data, size_t size)
{
    char text[256];
    struct voice_phone *p = NULL;
    struct gu_err err;
    size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;

    memcpy(text, data, n);
    text[n] = '\0';
    gu_err_clear(&err);
    struct voice_phone_opts o = {.insee = "99001", .hours = text,
                                 .tts = fake_tts};
    int rc = voice_phone_new(st, cfg, &o, &p, &err);
    if (rc < 0 && (rc != GU_EINVAL || strcmp(err.field, "voice.phone_hours")))
        abort();
    if ((rc == 0) != (p != NULL))
        abort();
    voice_phone_free(p);
}

static void
call(const uint8_t *data, size_t size)
{
    static const char *const callers[] = {NULL, "06 12 34 56 78",
                                          "+44 20 7946 0958", "abc;--"};
    static const char keys[] = "0123456789*#";
    struct voice_call *c = NULL;
    struct gu_err err;
    int16_t frame[VOICE_FRAME], tone[1600];
    enum voice_action ended = VOICE_ACT_CONTINUE;
    unsigned noise = 1;

    gu_err_clear(&err);
    if (voice_call_new(ph[size ? (data[0] >> 2) & 1 : 0],
                       callers[size ? data[0] % 4 : 0], "fuzz", &c, &err) < 0)
        return;
    for (size_t i = 1; i < size && i < 400; i++) {
        uint8_t b = data[i];
        if (b < 12) {
            voice_call_digit(c, keys[b]);
        } else if (b < 24) {
            size_t n = voice_dtmf_tone(keys[b - 12], 8000, 80, 80, 6000, tone,
                                       1600);
            for (size_t k = 0; k < n; k += VOICE_FRAME)
                voice_call_audio_in(c, tone + k,
                                    n - k < VOICE_FRAME ? n - k : VOICE_FRAME);
        } else if (b < 40) {
            for (int k = 0; k < (b - 23) * 10; k++) {
                enum voice_action act = voice_call_audio_out(c, frame);
                if (ended != VOICE_ACT_CONTINUE && act != ended)
                    abort(); /* an ended call stays ended */
                if (act != VOICE_ACT_CONTINUE) {
                    ended = act;
                    break;
                }
            }
        } else if (b < 56) {
            for (int k = 0; k < b - 39; k++) {
                for (size_t s = 0; s < VOICE_FRAME; s++) {
                    noise = noise * 1103515245u + 12345u;
                    frame[s] = (int16_t)((noise >> 16) % 4001) - 2000;
                }
                voice_call_audio_in(c, frame, VOICE_FRAME);
            }
        }
        if (!*voice_call_state(c))
            abort();
    }
    voice_call_free(c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || !setup())
        return 0;
    if (data[0] & 1)
        hours(data + 1, size - 1);
    else
        call(data + 1, size - 1);
    return 0;
}
