/*
 * voice_audio.c - the audio helpers of voice.h: resampling with libsoxr
 * (8 kHz for the telephone, any rate for the web) and RIFF/WAVE output.
 *
 * Both work on whole buffers from the caller's arena: a synthesis is at
 * most VOICE_AUDIO_MAX_S seconds, so nothing here streams.
 */
#include <limits.h>
#include <string.h>

#include <soxr.h>

#include "voice/voice.h"

/* Rates we accept, in and out: from narrow-band telephony to 48 kHz. */
#define RATE_MIN 4000u
#define RATE_MAX 48000u

int
voice_resample(struct gu_arena *a, const struct voice_audio *in,
               unsigned rate, struct voice_audio *out, struct gu_err *err)
{
    soxr_io_spec_t io;
    soxr_quality_spec_t q;
    soxr_error_t e;
    size_t cap, idone = 0, odone = 0;
    int16_t *pcm;

    memset(out, 0, sizeof(*out));
    if (!in || (in->n && !in->pcm) || in->rate < RATE_MIN ||
        in->rate > RATE_MAX || rate < RATE_MIN || rate > RATE_MAX)
        return gu_err_set(err, GU_EINVAL, "debit",
                          "Fréquence d'échantillonnage invalide (4000 à "
                          "48000 Hz).",
                          "resample: bad rate %u -> %u",
                          in ? in->rate : 0u, rate);
    if (in->n > (size_t)VOICE_AUDIO_MAX_S * RATE_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL, "Audio trop long.",
                          "resample: %zu samples", in->n);
    if (in->rate == rate || in->n == 0) {
        pcm = gu_arena_alloc(a, in->n ? in->n * sizeof(int16_t) : 1);
        if (!pcm)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "resample: oom");
        if (in->n)
            memcpy(pcm, in->pcm, in->n * sizeof(int16_t));
        out->pcm = pcm;
        out->n = in->n;
        out->rate = rate;
        return 0;
    }
    /* Output length plus a margin for the filter's rounding. */
    cap = (size_t)((double)in->n * rate / in->rate) + 64;
    pcm = gu_arena_alloc(a, cap * sizeof(int16_t));
    if (!pcm)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "resample: oom");
    io = soxr_io_spec(SOXR_INT16_I, SOXR_INT16_I);
    q = soxr_quality_spec(SOXR_HQ, 0);
    e = soxr_oneshot(in->rate, rate, 1, in->pcm, in->n, &idone, pcm, cap,
                     &odone, &io, &q, NULL);
    if (e)
        return gu_err_set(err, GU_EIO, NULL,
                          "Le rééchantillonnage de l'audio a échoué.",
                          "soxr_oneshot: %s", e);
    out->pcm = pcm;
    out->n = odone;
    out->rate = rate;
    return 0;
}

static void
put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)((v >> 8) & 0xff);
    p[2] = (unsigned char)((v >> 16) & 0xff);
    p[3] = (unsigned char)((v >> 24) & 0xff);
}

static void
put_le16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v & 0xff);
    p[1] = (unsigned char)((v >> 8) & 0xff);
}

int
voice_wav(struct gu_arena *a, const struct voice_audio *in,
          unsigned char **buf, size_t *len, struct gu_err *err)
{
    unsigned char *b;
    size_t data;

    *buf = NULL;
    *len = 0;
    if (!in || (in->n && !in->pcm) || in->rate < RATE_MIN ||
        in->rate > RATE_MAX)
        return gu_err_set(err, GU_EINVAL, NULL, NULL, "wav: bad input");
    if (in->n > (size_t)VOICE_AUDIO_MAX_S * RATE_MAX)
        return gu_err_set(err, GU_ETOOBIG, NULL, "Audio trop long.",
                          "wav: %zu samples", in->n);
    data = in->n * 2;
    b = gu_arena_alloc(a, 44 + data);
    if (!b)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "wav: oom");
    memcpy(b, "RIFF", 4);
    put_le32(b + 4, (uint32_t)(36 + data));
    memcpy(b + 8, "WAVEfmt ", 8);
    put_le32(b + 16, 16);             /* fmt chunk size */
    put_le16(b + 20, 1);              /* PCM */
    put_le16(b + 22, 1);              /* mono */
    put_le32(b + 24, in->rate);       /* sample rate */
    put_le32(b + 28, in->rate * 2u);  /* byte rate */
    put_le16(b + 32, 2);              /* block align */
    put_le16(b + 34, 16);             /* bits per sample */
    memcpy(b + 36, "data", 4);
    put_le32(b + 40, (uint32_t)data);
    /* Samples little-endian whatever the host. */
    for (size_t i = 0; i < in->n; i++)
        put_le16(b + 44 + 2 * i, (uint16_t)in->pcm[i]);
    *buf = b;
    *len = 44 + data;
    return 0;
}
