/*
 * voice_dsp.c - telephone audio and keypad: G.711 (librem's tables),
 * in-band DTMF detection (librem's Goertzel decoder), RFC 4733 event
 * payloads, and tone generation for the voicemail beep and the tests.
 *
 * librem's decoder was checked before use (tests/unit/test_voice_dsp.c
 * keeps the checks): every digit at -12 dBFS with noise, nothing on a
 * harmonic speech-like signal, a single tone, a 20 ms burst, a 15 dB
 * twist or a -50 dBFS tone, and a digit pressed twice is two digits.
 */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "voice/voice_phone.h"

/*
 * libre's umbrella header re.h cannot be included beside jansson (both
 * define JSON_STRING...), so only the small headers used here.
 */
#include <re_mem.h>
#include <re_telev.h>
#include <rem_dtmf.h>
#include <rem_g711.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/*
 * librem's encoders negate the sample in int16_t: -32768 stays negative
 * and g711_pcm2alaw then reads its table at index -2048 (found by UBSan
 * in test_voice_dsp). The sample is clamped to -32767 first.
 */
void
voice_g711_encode(enum voice_law law, const int16_t *pcm, size_t n,
                  uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int16_t v = pcm[i] == INT16_MIN ? -INT16_MAX : pcm[i];
        out[i] = law == VOICE_PCMA ? g711_pcm2alaw(v) : g711_pcm2ulaw(v);
    }
}

void
voice_g711_decode(enum voice_law law, const uint8_t *in, size_t n,
                  int16_t *pcm)
{
    for (size_t i = 0; i < n; i++)
        pcm[i] = law == VOICE_PCMA ? g711_alaw2pcm(in[i])
                                   : g711_ulaw2pcm(in[i]);
}

/* ----- in-band DTMF ----- */

#define PENDING_MAX 32

struct voice_dtmf {
    struct dtmf_dec *dec; /* libre memory (mem_deref) */
    char pending[PENDING_MAX];
    size_t npending;
};

static void
on_digit(char digit, void *arg)
{
    struct voice_dtmf *d = arg;
    if (d->npending < PENDING_MAX)
        d->pending[d->npending++] = digit;
}

int
voice_dtmf_new(unsigned rate, struct voice_dtmf **out)
{
    struct voice_dtmf *d = gu_calloc(1, sizeof(*d));

    *out = NULL;
    if (!d)
        return GU_ENOMEM;
    if (rate == 0 || dtmf_dec_alloc(&d->dec, rate, 1, on_digit, d) != 0) {
        gu_free(d);
        return rate == 0 ? GU_EINVAL : GU_ENOMEM;
    }
    *out = d;
    return 0;
}

void
voice_dtmf_free(struct voice_dtmf *d)
{
    if (!d)
        return;
    mem_deref(d->dec);
    gu_free(d);
}

size_t
voice_dtmf_feed(struct voice_dtmf *d, const int16_t *pcm, size_t n,
                char *digits, size_t cap)
{
    size_t k;

    d->npending = 0;
    if (n)
        dtmf_dec_probe(d->dec, pcm, n);
    k = d->npending < cap ? d->npending : cap;
    memcpy(digits, d->pending, k);
    d->npending = 0;
    return k;
}

static const char keys[] = "123A456B789C*0#D";
static const unsigned low_hz[4] = {697, 770, 852, 941};
static const unsigned high_hz[4] = {1209, 1336, 1477, 1633};

bool
voice_dtmf_valid(char c)
{
    return c != '\0' && strchr(keys, c) != NULL;
}

size_t
voice_dtmf_tone(char digit, unsigned rate, unsigned on_ms, unsigned off_ms,
                int16_t amp, int16_t *out, size_t cap)
{
    const char *k = digit ? strchr(keys, digit) : NULL;
    size_t on, off, i, n = 0;

    if (!k || rate == 0)
        return 0;
    unsigned f1 = low_hz[(k - keys) / 4], f2 = high_hz[(k - keys) % 4];
    on = (size_t)rate * on_ms / 1000;
    off = (size_t)rate * off_ms / 1000;
    for (i = 0; i < on && n < cap; i++)
        out[n++] = (int16_t)lrint(amp * sin(2 * M_PI * f1 * i / rate) +
                                  amp * sin(2 * M_PI * f2 * i / rate));
    for (i = 0; i < off && n < cap; i++)
        out[n++] = 0;
    return n;
}

size_t
voice_tone(unsigned hz, unsigned rate, unsigned ms, int16_t amp, int16_t *out,
           size_t cap)
{
    size_t n = rate ? (size_t)rate * ms / 1000 : 0;

    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++)
        out[i] = (int16_t)lrint(amp * sin(2 * M_PI * hz * i / rate));
    return n;
}

double
voice_rms(const int16_t *pcm, size_t n)
{
    double s = 0;

    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        s += (double)pcm[i] * pcm[i];
    return sqrt(s / (double)n);
}

/* ----- RFC 4733 ----- */

int
voice_telev_recv(struct voice_telev_rx *rx, uint32_t rtp_ts,
                 const uint8_t *p, size_t n, char *digit)
{
    int d;

    if (n < 4)
        return GU_EINVAL;
    if (rx->seen && rx->ts == rtp_ts)
        return 0; /* the same event: continuation or end retransmission */
    rx->seen = true;
    rx->ts = rtp_ts;
    d = telev_code2digit(p[0]);
    if (d < 0 || !voice_dtmf_valid((char)d))
        return 0; /* flash, tones we do not use */
    *digit = (char)d;
    return 1;
}

int
voice_telev_make(char digit, bool end, uint8_t volume, uint16_t duration,
                 uint8_t out[4])
{
    int code = voice_dtmf_valid(digit) ? telev_digit2code(digit) : -1;

    if (code < 0)
        return GU_EINVAL;
    out[0] = (uint8_t)code;
    out[1] = (uint8_t)((end ? 0x80 : 0) | (volume & 0x3f));
    out[2] = (uint8_t)(duration >> 8);
    out[3] = (uint8_t)(duration & 0xff);
    return 0;
}
