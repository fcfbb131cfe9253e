/*
 * voice.h - virtual voices (issue 8, « Voix ») : French speech synthesis
 * and the audio helpers the phone bot shares.
 *
 * Data flow. A text (an assistant answer, a menu prompt, a list of free
 * slots) first goes through the French normaliser (voice_normalize):
 * hours, dates, amounts, phone numbers, abbreviations, ordinals, e-mail
 * and web addresses become the words a person would say. The spoken text
 * then goes to one synthesis engine behind one interface (voice_tts):
 * SVOX Pico's French voice when the non-free libttspico is installed
 * (loaded with dlopen, so the binary never needs it to build or start),
 * otherwise espeak-ng's French voice. Engines are not reentrant: calls
 * are serialised inside. The result is 16-bit mono PCM at the engine's
 * rate (Pico 16 kHz, espeak-ng 22.05 kHz), resampled on request
 * (libsoxr) — 8 kHz for the telephone (G.711) — and wrapped as WAV for
 * /api/v1/tts and the chat's « écouter » button.
 *
 * The phone bot (voice_phone.h) builds on this header: prompts are
 * synthesised at 8 kHz through voice_tts and cached per text.
 *
 * Layering: voice sits on core (and, for its routes, web/http.h); the
 * phone bot also reads the assistant, appointments and triage through
 * their public headers.
 */
#ifndef VOICE_VOICE_H
#define VOICE_VOICE_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "web/http.h"

/* Bounds on what enters. */
#define VOICE_TEXT_MAX 2000u       /* bytes of text per synthesis */
#define VOICE_SPOKEN_MAX 16000u    /* bytes after normalisation */
#define VOICE_AUDIO_MAX_S 180u     /* seconds of audio per synthesis */

/* 16-bit signed mono PCM; memory from the caller's arena. */
struct voice_audio {
    int16_t *pcm;
    size_t n;       /* samples */
    unsigned rate;  /* Hz */
};

enum voice_engine {
    VOICE_ENGINE_AUTO = 0, /* Pico when available, else espeak-ng */
    VOICE_ENGINE_PICO,
    VOICE_ENGINE_ESPEAK,
};

struct voice_tts_opts {
    enum voice_engine engine;
    unsigned rate;  /* output rate in Hz; 0 = the engine's own */
    int speed;      /* percent of the normal speaking rate, 50..200;
                       0 = 100 */
};

/*
 * French text (UTF-8, at most VOICE_TEXT_MAX bytes) to the words as they
 * are spoken: « RDV le 3/12 à 14h30, 12,50 € » -> « rendez-vous le trois
 * décembre à quatorze heures trente, douze euros cinquante ». Phone
 * numbers are read in pairs, e-mail and web addresses spelt out, M., Mme,
 * CNI, n°, 1er, 2e... expanded. Never fails on odd input (unknown
 * symbols are dropped, digits read as numbers); GU_EINVAL on invalid
 * UTF-8 or too long a text.
 */
int voice_normalize(struct gu_arena *a, const char *text, char **spoken,
                    struct gu_err *err);

/*
 * Normalise then synthesise `text`. GU_EINVAL on bad text or options,
 * GU_EBUSY (French user message) when the engine asked for is not
 * installed, GU_EIO on an engine failure. Thread-safe.
 */
int voice_tts(struct gu_arena *a, const struct voice_tts_opts *o,
              const char *text, struct voice_audio *out,
              struct gu_err *err);

/* Is this engine usable on this machine (AUTO: is any)? */
int voice_engine_available(enum voice_engine e);
/* "pico", "espeak-ng"; for AUTO, the engine AUTO picks (NULL if none). */
const char *voice_engine_name(enum voice_engine e);

/* Resample (libsoxr, quality high) into the arena. */
int voice_resample(struct gu_arena *a, const struct voice_audio *in,
                   unsigned rate, struct voice_audio *out,
                   struct gu_err *err);

/* RIFF/WAVE, PCM 16-bit mono, into the arena. */
int voice_wav(struct gu_arena *a, const struct voice_audio *in,
              unsigned char **buf, size_t *len, struct gu_err *err);

/* Routes: POST /api/v1/tts (public, rate-limited) -> audio/wav. */
extern const struct http_routes voice_routes;

#endif
