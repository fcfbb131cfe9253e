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

/* ----- added by the TTS helper (voice_tts.c) ----- */

/*
 * A PCM sink for voice_tts_stream: `n` samples at `rate` Hz, valid only
 * during the call. Return 0 to go on, a negative GU_E* code to stop the
 * synthesis (voice_tts_stream then returns that code).
 */
typedef int (*voice_pcm_fn)(void *user, const int16_t *pcm, size_t n,
                            unsigned rate);

/*
 * voice_tts, but the audio goes to `fn` as the engine produces it, at the
 * engine's own rate (o->rate is ignored): time to first audio, prompts
 * streamed to a call. The engine's lock is held while `fn` runs, so `fn`
 * must be quick and must not call voice_tts. Same errors as voice_tts.
 */
int voice_tts_stream(struct gu_arena *a, const struct voice_tts_opts *o,
                     const char *text, voice_pcm_fn fn, void *user,
                     struct gu_err *err);

/*
 * Read the [voice] settings (voice.engine = the engine AUTO means,
 * voice.pico_lang_dir). Cheap; call it at start and on reload. Pico's
 * resources are read once, at its first use: a later change of
 * directory needs a restart.
 */
void voice_tts_configure(const struct gu_config *cfg);

/* "auto", "pico", "espeak-ng" (also "espeak") -> engine; GU_EINVAL else. */
int voice_engine_parse(const char *s, enum voice_engine *out);

/* The engine's own rate in Hz (AUTO: of the engine it picks); 0 if none. */
unsigned voice_engine_rate(enum voice_engine e);

#endif
