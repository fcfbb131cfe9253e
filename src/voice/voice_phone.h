/*
 * voice_phone.h - the phone voice bot (issue 8, second part): telephone
 * audio and keypad (G.711, DTMF), the call's menu, and the transports
 * that carry calls to it (Asterisk AudioSocket, a SIP user agent).
 *
 * Data flow of one call.
 *
 *   transport (one thread per call)          voice_call (this header)
 *   ------------------------------           ------------------------
 *   AudioSocket: 0x10 frames (slin 8 kHz) -> voice_call_audio_in(): the
 *   SIP/RTP: G.711 -> voice_g711_decode()     in-band DTMF detector
 *                                             (Goertzel, librem) turns
 *                                             tones into digits; while a
 *                                             voicemail records, the PCM
 *                                             is kept (bounded).
 *   AudioSocket 0x03, RFC 4733 events  ->    voice_call_digit()
 *                                             the menu (a table of
 *                                             states) reacts: prompt
 *                                             texts are synthesised at
 *                                             8 kHz by voice_tts (cached
 *                                             per text in the voice_phone)
 *                                             and queued for playback.
 *   every 20 ms: voice_call_audio_out() <-    the next 160 samples of
 *   -> 0x10 frame / G.711 RTP packet           the queue (silence when it
 *                                             is empty) and the action:
 *                                             continue, hang up, or
 *                                             transfer to a human number
 *                                             (SIP REFER; AudioSocket
 *                                             cannot transfer: the caller
 *                                             is offered the voicemail).
 *
 * The menu reads the commune (name, hours: store.h), the answers of the
 * assistant to the commune's most asked questions (asst.h; which ones:
 * the fiches its logged answers came from most over 90 days, read from
 * the assistant's asst_messages table, titles from kb.h), the next free
 * appointment slots and books or cancels them (rdv.h, channel "voix",
 * a numeric confirmation code read back), and files voicemails in the
 * request inbox (tri.h: channel "telephone", the WAV as attachment). The
 * caller's number never reaches a log line in clear: it is logged as a
 * keyed tag (privacy.h).
 *
 * Time is counted in frames: the call has no clock of its own except for
 * the opening hours and the slots (voice_phone_opts.now in tests), so a
 * test drives a call frame by frame without sleeping.
 *
 * Threads: a struct voice_phone is shared by every call (its prompt cache
 * is locked); a struct voice_call belongs to one thread at a time. With
 * opts.workers (the transports use two), the phone's own threads
 * synthesise new prompts and recognise speech: a call hands them a job
 * and picks the answer up at one of its next frames, so the transport's
 * thread never waits for an engine.
 */
#ifndef VOICE_VOICE_PHONE_H
#define VOICE_VOICE_PHONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core.h"
#include "store/store.h"

#define VOICE_PHONE_RATE 8000u   /* Hz, everything on the call side */
#define VOICE_FRAME 160u         /* samples of one 20 ms frame */
#define VOICE_DIGITS_MAX 20u     /* keypad entry (phone number, code) */

/* ------------------------------------------------------------------ */
/* Audio and keypad (voice_dsp.c)                                      */
/* ------------------------------------------------------------------ */

/* G.711 laws, valued as their static RTP payload types. */
enum voice_law { VOICE_PCMU = 0, VOICE_PCMA = 8 };

/* n samples <-> n bytes (librem's tables, ITU-T G.711). */
void voice_g711_encode(enum voice_law law, const int16_t *pcm, size_t n,
                       uint8_t *out);
void voice_g711_decode(enum voice_law law, const uint8_t *in, size_t n,
                       int16_t *pcm);

/*
 * In-band DTMF detector (librem's Goertzel decoder: the eight tones per
 * block, level, twist, and a tone must hold for two blocks, so speech and
 * a single tone are not digits). Heap; voice_dtmf_free(NULL) is a no-op.
 */
struct voice_dtmf;
int voice_dtmf_new(unsigned rate, struct voice_dtmf **out);
void voice_dtmf_free(struct voice_dtmf *d);
/* Feed samples; the digits that ended in them go to digits[0..cap), the
 * count is returned (extra digits beyond cap are dropped). */
size_t voice_dtmf_feed(struct voice_dtmf *d, const int16_t *pcm, size_t n,
                       char *digits, size_t cap);

/* Is c one of 0-9 * # A-D? */
bool voice_dtmf_valid(char c);

/*
 * Tone generation: the digit's two tones for on_ms then silence for
 * off_ms (amplitude amp per tone); a pure tone (the voicemail beep).
 * Return samples written (at most cap); 0 for an unknown digit.
 */
size_t voice_dtmf_tone(char digit, unsigned rate, unsigned on_ms,
                       unsigned off_ms, int16_t amp, int16_t *out,
                       size_t cap);
size_t voice_tone(unsigned hz, unsigned rate, unsigned ms, int16_t amp,
                  int16_t *out, size_t cap);

/* Root mean square of n samples (0 for n = 0). */
double voice_rms(const int16_t *pcm, size_t n);

/*
 * RFC 4733 telephone-events. An event's packets share one RTP timestamp;
 * the receiver reports a digit once, on the first packet of an event
 * (end bit or not), and ignores the retransmitted end packets.
 */
struct voice_telev_rx {
    bool seen;
    uint32_t ts; /* RTP timestamp of the last event reported */
};
/* 1 and *digit on a new event, 0 for a repeat or a non-digit event,
 * GU_EINVAL for a payload shorter than 4 bytes. */
int voice_telev_recv(struct voice_telev_rx *rx, uint32_t rtp_ts,
                     const uint8_t *p, size_t n, char *digit);
/* The 4-byte payload of an event packet; GU_EINVAL for a bad digit. */
int voice_telev_make(char digit, bool end, uint8_t volume, uint16_t duration,
                     uint8_t out[4]);

/* ------------------------------------------------------------------ */
/* The call's menu (voice_call.c)                                      */
/* ------------------------------------------------------------------ */

/*
 * Prompt synthesis hook: text (French) -> 8 kHz PCM in `a`. The default
 * (NULL) is voice_tts with rate 8000; tests give their own to see what
 * the bot says.
 */
typedef int (*voice_phone_tts_fn)(void *arg, struct gu_arena *a,
                                  const char *text, int16_t **pcm, size_t *n,
                                  struct gu_err *err);

struct voice_phone_opts {
    const char *insee;       /* commune served; required */
    const char *transfer_to; /* SIP URI or number for « 0 », "" = none */
    const char *hours;       /* when « 0 » transfers: "lu-ve 08:30-12:00
                                13:30-17:00" (days lu ma me je ve sa di,
                                ranges with '-', several groups separated
                                by ';'); NULL = that default */
    unsigned voicemail_s;    /* 10..600, 0 = 120 */
    unsigned timeout_s;      /* silence before asking again, 0 = 8 */
    unsigned retries;        /* timeouts or wrong keys before goodbye, 0 = 3 */
    unsigned faq_max;        /* questions offered by « 1 », 1..9, 0 = 4 */
    const char *const *faq;  /* the questions; NULL = the commune's most
                                asked ones from the assistant's log (90
                                days, faq_max fiches answered at least 3
                                times each), else a built-in list */
    size_t nfaq;
    bool can_transfer;       /* the transport can transfer (AudioSocket:
                                false, then « 0 » leaves a voicemail) */
    voice_phone_tts_fn tts;  /* NULL = voice_tts at 8 kHz */
    void *tts_arg;
    int64_t now;             /* unix seconds for hours and slots; 0 = clock */
    unsigned workers;        /* threads that synthesise new prompts and run
                                speech recognition off the transport's
                                thread (0..8); 0 = synthesis inline in the
                                caller (tests), and one worker when asr */
    struct voice_asr *asr;   /* speech recognition (borrowed, outlives the
                                phone); NULL = keypad only */
};

/*
 * The bot of one commune: options (copied), store and config (borrowed:
 * they outlive it), the prompt cache. Thread-safe. GU_EINVAL (French)
 * for bad options or an hours string that does not parse, GU_ENOTFOUND
 * for an unknown commune.
 */
struct voice_phone;
int voice_phone_new(struct store *st, const struct gu_config *cfg,
                    const struct voice_phone_opts *o, struct voice_phone **out,
                    struct gu_err *err);
void voice_phone_free(struct voice_phone *ph);
/*
 * Synthesise now the prompts that depend only on the commune and the
 * settings (greeting, menus, voicemail, goodbye...), so that no call
 * waits for them. Returns how many are cached, or a negative GU_E* code
 * (the engine's error, e.g. GU_EBUSY when no engine is installed).
 */
int voice_phone_warm(struct voice_phone *ph, struct gu_err *err);
/* Prompts held in the cache and their total samples (tests, metrics). */
void voice_phone_cache_stats(struct voice_phone *ph, size_t *entries,
                             size_t *samples);

/* What the transport must do after a frame. */
enum voice_action {
    VOICE_ACT_CONTINUE = 0,
    VOICE_ACT_HANGUP,   /* send BYE / hangup frame, then voice_call_free */
    VOICE_ACT_TRANSFER, /* SIP REFER to voice_call_transfer_to(); hang up
                           once it succeeded, else
                           voice_call_transfer_failed() */
};

/*
 * One call. `caller` is the calling number as the transport got it (may
 * be NULL or "" when unknown, AudioSocket); `call_id` names the call in
 * logs (UUID, SIP Call-ID; may be NULL). The greeting is queued at once.
 */
struct voice_call;
int voice_call_new(struct voice_phone *ph, const char *caller,
                   const char *call_id, struct voice_call **out,
                   struct gu_err *err);
/*
 * Ends the call: a voicemail being recorded is filed first (a caller who
 * hangs up after speaking still leaves the message). NULL is a no-op.
 */
void voice_call_free(struct voice_call *c);

/* Inbound audio, 8 kHz; any n (the DTMF detector keeps its state). */
void voice_call_audio_in(struct voice_call *c, const int16_t *pcm, size_t n);
/* A digit from out-of-band signalling (RFC 4733, AudioSocket 0x03). */
void voice_call_digit(struct voice_call *c, char digit);
/* The next 20 ms to play (VOICE_FRAME samples) and what to do next. */
enum voice_action voice_call_audio_out(struct voice_call *c,
                                       int16_t out[VOICE_FRAME]);
/* The transfer target (valid while the call lives). */
const char *voice_call_transfer_to(const struct voice_call *c);
/*
 * The transport could not transfer (REFER refused or unanswered, the
 * agent busy or not answering): the caller hears it, then the voicemail.
 * Only after VOICE_ACT_TRANSFER; otherwise a no-op.
 */
void voice_call_transfer_failed(struct voice_call *c);

/* For tests and logs: the state's name ("menu", "creneaux"...), the last
 * prompt text queued, the number of the voicemail request filed ("" if
 * none), and the booking made during the call (0 if none). */
const char *voice_call_state(const struct voice_call *c);
const char *voice_call_last_prompt(const struct voice_call *c);
const char *voice_call_voicemail_number(const struct voice_call *c);
int64_t voice_call_booking(const struct voice_call *c);
/* Speech: the last phrase the engine heard ("" if none) and the current
 * menu's grammar as handed to it ("" without an engine or outside a
 * menu). */
const char *voice_call_heard(const struct voice_call *c);
const char *voice_call_grammar(const struct voice_call *c);

/*
 * The confirmation code of a phone booking: the booking id followed by
 * six digits of a keyed hash (the commune's privacy key) of it, so a code
 * cannot be guessed from another. voice_code_check gives back the id.
 */
int voice_code_make(struct store_conn *c, const char *insee, int64_t id,
                    char *out, size_t cap, struct gu_err *err);
int voice_code_check(struct store_conn *c, const char *insee,
                     const char *code, int64_t *id, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Speech recognition, a plug-in (voice_asr.c)                         */
/* ------------------------------------------------------------------ */

/*
 * When the administrator installs an engine and a French model, the
 * menus also accept speech, restricted to each menu's small list of
 * phrases (« rendez-vous », « annuler », « agent », « un », « oui »...),
 * which map to the same events as the keypad's keys. The engine's
 * library is loaded with dlopen (Vosk's C API, libvosk.so), never linked:
 * without it, or without a model, everything works by keypad and the
 * reason is reported (log line at start, GET /api/v1/tts/reconnaissance).
 *
 * In a call: an energy detector cuts the caller's audio into utterances
 * (at most VOICE_ASR_MAX_MS, VOICE_ASR_PER_CALL per call) while a menu
 * waits for a choice; each goes to the phone's worker threads (never the
 * transport's audio thread), and the phrase recognised comes back to the
 * call, which acts on it at its next frame as if the key had been
 * pressed.
 */
#define VOICE_ASR_MAX_MS 4000u   /* longest utterance handed to the engine */
#define VOICE_ASR_PER_CALL 60u   /* utterances recognised per call at most */

enum voice_asr_engine { VOICE_ASR_NONE = 0, VOICE_ASR_VOSK };

/* What was found, for logs, `guichet voice asr` and the HTTP status. */
struct voice_asr_status {
    const char *engine;  /* "none", "vosk" (static) */
    bool library_found;  /* dlopen worked and the symbols are there */
    bool model_found;    /* the model directory exists (and loaded) */
    bool ready;          /* usable */
    char library[256];   /* the library tried */
    char model[256];     /* voice.asr_model */
    char reason[512];    /* French: why it is not usable; "" when ready */
};

/* "none" (or ""), "vosk" -> engine; GU_EINVAL else. */
int voice_asr_engine_parse(const char *s, enum voice_asr_engine *out);

/*
 * Load the engine of the settings voice.asr_engine, voice.asr_library
 * (default libvosk.so, found by the dynamic loader) and voice.asr_model
 * (a model directory). Fills *st in every case. 0 and *out set when
 * ready; 0 and *out NULL when the engine is "none"; GU_EBUSY (French
 * message: the reason) when the library, one of its symbols or the model
 * is missing; GU_ECONFIG for an unknown engine. voice_asr_free(NULL) is
 * a no-op. The struct is shared by every call and thread.
 */
struct voice_asr;
int voice_asr_open(const struct gu_config *cfg, struct voice_asr **out,
                   struct voice_asr_status *st, struct gu_err *err);
void voice_asr_free(struct voice_asr *r);
/* voice_asr_open then free: the state only. Without load_model, the model
 * directory is only checked to exist (cheap, for the HTTP status). */
int voice_asr_probe(const struct gu_config *cfg, bool load_model,
                    struct voice_asr_status *st);

/*
 * For a command (`guichet voice asr`): loads the engine and the model as
 * the phone would, prints in French what was found and why not, and
 * returns the exit status: 0 ready, 1 not (engine none or missing).
 */
int voice_asr_report(const struct gu_config *cfg, FILE *out);

/*
 * Recognise one utterance (8 kHz, at most VOICE_ASR_MAX_MS) against a
 * grammar (a JSON array of phrases, as Vosk takes it). text gets the
 * phrase heard ("" for nothing). Thread-safe; GU_EIO on engine failure.
 */
int voice_asr_recognize(struct voice_asr *r, const int16_t *pcm, size_t n,
                        const char *grammar, char *text, size_t cap,
                        struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Transports                                                          */
/* ------------------------------------------------------------------ */

/*
 * Asterisk AudioSocket server (voice_audiosocket.c): TCP on `addr`
 * ("127.0.0.1:9092", port 0 = any free port), one thread per call, at
 * most max_calls at once (others are refused with an error frame).
 * Frames: type (1 byte), length (2, big-endian), payload: 0x01 UUID (16
 * bytes, first), 0x10 signed-linear 16-bit 8 kHz audio, 0x03 a DTMF digit
 * (ASCII), 0x00 hangup, 0xff error. Payloads over 4096 bytes end the call.
 * The server paces its audio at 20 ms a frame.
 */
struct voice_as_server;
int voice_as_start(struct voice_phone *ph, const char *addr,
                   unsigned max_calls, struct voice_as_server **out,
                   struct gu_err *err);
/* The port it listens on. */
unsigned voice_as_port(const struct voice_as_server *s);
/* Calls taken since start (finished or not). */
unsigned voice_as_calls(const struct voice_as_server *s);
/* Stop listening, hang up the calls in progress, join every thread. */
void voice_as_stop(struct voice_as_server *s);

/*
 * SIP user agent (voice_sip.c, Debian's libre): answers INVITEs on the
 * UDP address `addr` ("127.0.0.1:5060", port 0 = any free port) with
 * G.711 PCMU or PCMA (the caller's first choice) and RFC 4733 events in
 * SDP, RTP in 20 ms packets; in-band tones work too. The bot's hang-up
 * is a BYE, its transfer a REFER (Refer-To: the transfer number as a
 * SIP URI; a bare number is referred to the host that sent the INVITE,
 * sip:NUMBER@that-host). At most max_calls at once (486 beyond).
 * libre's loop runs in its own thread; see voice_sip.c.
 */
struct voice_sip_server;
int voice_sip_start(struct voice_phone *ph, const char *addr,
                    unsigned max_calls, struct voice_sip_server **out,
                    struct gu_err *err);
unsigned voice_sip_port(const struct voice_sip_server *s);
/* Calls answered since start. */
unsigned voice_sip_calls(struct voice_sip_server *s);
/* Hang up every call (BYE; voicemails filed), stop the loop, join. */
void voice_sip_stop(struct voice_sip_server *s);

/*
 * The phone line as a service (voice_service.c), for `guichet voice
 * phone` and `guichet serve`: the commune (`insee`, else the setting
 * voice.phone_commune, else the only commune), the transfer number,
 * hours, voicemail length and call limit from the voice.phone_* settings,
 * the AudioSocket server on `audiosocket` and the SIP agent on `sip`
 * (NULL = the settings voice.phone_audiosocket, voice.phone_sip; "" =
 * not started). Nothing to start: 0 and *out NULL. GU_ECONFIG (French)
 * for a commune that cannot be chosen, GU_EINVAL or GU_EIO for an
 * address that cannot be listened on.
 */
struct voice_service;
int voice_service_start(struct store *st, const struct gu_config *cfg,
                        const char *insee, const char *audiosocket,
                        const char *sip, struct voice_service **out,
                        struct gu_err *err);
/* The ports listened on (0 when that transport is not started). */
unsigned voice_service_audiosocket_port(const struct voice_service *s);
unsigned voice_service_sip_port(const struct voice_service *s);
/* Stop every transport (calls hung up, voicemails filed). NULL ok. */
void voice_service_stop(struct voice_service *s);

#endif
