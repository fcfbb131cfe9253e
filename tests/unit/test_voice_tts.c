/*
 * test_voice_tts.c - synthesis (voice_tts.c) and its audio helpers
 * (voice_audio.c): WAV header, resampling, both engines when installed,
 * errors. The engines are real: espeak-ng is a build dependency; Pico's
 * tests run when libttspico is installed (scripts/deps.sh --non-free)
 * and check the French error otherwise.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "voice/voice.h"

/* Root mean square of the samples: speech is far from silence. */
static double
rms(const struct voice_audio *au)
{
    double s = 0;

    if (au->n == 0)
        return 0;
    for (size_t i = 0; i < au->n; i++)
        s += (double)au->pcm[i] * au->pcm[i];
    return sqrt(s / (double)au->n);
}

/* Strongest frequency between 100 and 4000 Hz, by a coarse DFT. */
static double
peak_hz(const struct voice_audio *au)
{
    double best = 0, best_f = 0;
    size_t n = au->n > 4000 ? 4000 : au->n;

    for (double f = 100; f <= 4000; f += 10) {
        double re = 0, im = 0;
        for (size_t i = 0; i < n; i++) {
            double ph = 2 * M_PI * f * (double)i / au->rate;
            re += au->pcm[i] * cos(ph);
            im += au->pcm[i] * sin(ph);
        }
        if (re * re + im * im > best) {
            best = re * re + im * im;
            best_f = f;
        }
    }
    return best_f;
}

static void
test_wav_header(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    int16_t pcm[4] = {0, 1000, -1000, 32767};
    struct voice_audio au = {pcm, 4, 16000};
    unsigned char *w = NULL;
    size_t len = 0;

    CHECK_EQ(voice_wav(a, &au, &w, &len, &err), 0);
    CHECK_EQ(len, 44 + 8);
    CHECK(memcmp(w, "RIFF", 4) == 0);
    CHECK_EQ(th_le32(w + 4), 36 + 8);
    CHECK(memcmp(w + 8, "WAVEfmt ", 8) == 0);
    CHECK_EQ(th_le32(w + 16), 16);
    CHECK_EQ(th_le16(w + 20), 1);     /* PCM */
    CHECK_EQ(th_le16(w + 22), 1);     /* mono */
    CHECK_EQ(th_le32(w + 24), 16000); /* rate */
    CHECK_EQ(th_le32(w + 28), 32000); /* bytes per second */
    CHECK_EQ(th_le16(w + 32), 2);
    CHECK_EQ(th_le16(w + 34), 16);
    CHECK(memcmp(w + 36, "data", 4) == 0);
    CHECK_EQ(th_le32(w + 40), 8);
    CHECK_EQ((int16_t)th_le16(w + 46), 1000);
    CHECK_EQ((int16_t)th_le16(w + 48), -1000);
    CHECK_EQ((int16_t)th_le16(w + 50), 32767);

    au.rate = 1000; /* not a rate we make */
    CHECK_EQ(voice_wav(a, &au, &w, &len, &err), GU_EINVAL);
    gu_arena_free(a);
}

static void
test_resample(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct voice_audio in, out;
    int16_t *pcm = malloc(22050 * sizeof(int16_t));

    /* one second of 440 Hz at 22.05 kHz */
    for (int i = 0; i < 22050; i++)
        pcm[i] = (int16_t)(8000 * sin(2 * M_PI * 440 * i / 22050.0));
    in.pcm = pcm;
    in.n = 22050;
    in.rate = 22050;
    CHECK_EQ(voice_resample(a, &in, 8000, &out, &err), 0);
    CHECK_EQ(out.rate, 8000);
    /* one second, give or take the filter's edges */
    CHECK(out.n > 7900 && out.n <= 8000);
    CHECK(fabs(peak_hz(&out) - 440) <= 10);
    CHECK(rms(&out) > 5000 && rms(&out) < 6000); /* 8000 / sqrt 2 */

    /* same rate: a copy */
    CHECK_EQ(voice_resample(a, &in, 22050, &out, &err), 0);
    CHECK_EQ(out.n, 22050);
    CHECK(out.pcm != in.pcm && memcmp(out.pcm, in.pcm, 22050 * 2) == 0);

    CHECK_EQ(voice_resample(a, &in, 100, &out, &err), GU_EINVAL);
    free(pcm);
    gu_arena_free(a);
}

static const char *const sentence =
    "Bonjour, la mairie est ouverte du lundi au vendredi de 9h à 12h. "
    "Pour votre CNI, prenez RDV au 01 23 45 67 89.";

/* Speech at the engine's rate, long enough, not silence. */
static void
check_speech(enum voice_engine e, unsigned want_rate)
{
    struct gu_arena *a = gu_arena_new(0);
    struct voice_tts_opts o = {e, 0, 0};
    struct voice_audio au, fast;
    struct gu_err err;
    double secs;

    gu_err_clear(&err);
    CHECK_EQ(voice_tts(a, &o, sentence, &au, &err), 0);
    CHECK_EQ(au.rate, want_rate);
    secs = (double)au.n / au.rate;
    /* about 30 words: several seconds of speech */
    CHECK(secs > 4 && secs < 30);
    CHECK(rms(&au) > 300);

    /* twice the speed is clearly shorter */
    o.speed = 200;
    CHECK_EQ(voice_tts(a, &o, sentence, &fast, &err), 0);
    CHECK(fast.n < au.n * 3 / 4);

    /* at 8 kHz for the telephone */
    o.speed = 0;
    o.rate = 8000;
    CHECK_EQ(voice_tts(a, &o, sentence, &au, &err), 0);
    CHECK_EQ(au.rate, 8000);
    CHECK(fabs((double)au.n / 8000 - secs) < 0.5);
    gu_arena_free(a);
}

static void
test_espeak(void)
{
    CHECK(voice_engine_available(VOICE_ENGINE_ESPEAK));
    CHECK_STR(voice_engine_name(VOICE_ENGINE_ESPEAK), "espeak-ng");
    CHECK_EQ(voice_engine_rate(VOICE_ENGINE_ESPEAK), 22050);
    check_speech(VOICE_ENGINE_ESPEAK, 22050);
}

static void
test_pico(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct voice_tts_opts o = {VOICE_ENGINE_PICO, 0, 0};
    struct voice_audio au;
    struct gu_err err;

    if (voice_engine_available(VOICE_ENGINE_PICO)) {
        fprintf(stderr, "  (SVOX Pico installed: tested)\n");
        check_speech(VOICE_ENGINE_PICO, 16000);
        /* AUTO prefers Pico */
        CHECK_STR(voice_engine_name(VOICE_ENGINE_AUTO), "pico");
    } else {
        fprintf(stderr, "  (SVOX Pico not installed: its error tested)\n");
        gu_err_clear(&err);
        CHECK_EQ(voice_tts(a, &o, "Bonjour", &au, &err), GU_EBUSY);
        CHECK_CONTAINS(err.user, "Pico n'est pas installée");
        CHECK_STR(err.field, "moteur");
        CHECK_STR(voice_engine_name(VOICE_ENGINE_AUTO), "espeak-ng");
    }
    gu_arena_free(a);
}

static void
test_errors(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct voice_tts_opts o = {VOICE_ENGINE_ESPEAK, 0, 0};
    struct voice_audio au;
    struct gu_err err;
    enum voice_engine e;

    o.speed = 20;
    CHECK_EQ(voice_tts(a, &o, "Bonjour", &au, &err), GU_EINVAL);
    CHECK_STR(err.field, "vitesse");
    o.speed = 0;
    o.rate = 100;
    CHECK_EQ(voice_tts(a, &o, "Bonjour", &au, &err), GU_EINVAL);
    o.rate = 0;
    o.engine = (enum voice_engine)7;
    CHECK_EQ(voice_tts(a, &o, "Bonjour", &au, &err), GU_EINVAL);
    CHECK_STR(err.field, "moteur");
    o.engine = VOICE_ENGINE_ESPEAK;
    CHECK_EQ(voice_tts(a, &o, "caf\xc3", &au, &err), GU_EINVAL);

    /* punctuation only: no speech, an empty but valid audio */
    CHECK_EQ(voice_tts(a, &o, "***", &au, &err), 0);
    CHECK(au.n < 22050 / 2);

    CHECK_EQ(voice_engine_parse("auto", &e), 0);
    CHECK_EQ(e, VOICE_ENGINE_AUTO);
    CHECK_EQ(voice_engine_parse("espeak-ng", &e), 0);
    CHECK_EQ(e, VOICE_ENGINE_ESPEAK);
    CHECK_EQ(voice_engine_parse("pico", &e), 0);
    CHECK_EQ(e, VOICE_ENGINE_PICO);
    CHECK_EQ(voice_engine_parse("festival", &e), GU_EINVAL);
    gu_arena_free(a);
}

/* A sink that stops after the first chunk: the engine stops too. */
static int
stop_first(void *user, const int16_t *pcm, size_t n, unsigned rate)
{
    size_t *got = user;

    (void)pcm;
    (void)rate;
    *got += n;
    return GU_EIO;
}

static void
test_stream_stop(void)
{
    struct gu_arena *a = gu_arena_new(0);
    struct voice_tts_opts o = {VOICE_ENGINE_ESPEAK, 0, 0};
    struct gu_err err;
    size_t got = 0;

    CHECK_EQ(voice_tts_stream(a, &o, sentence, stop_first, &got, &err),
             GU_EIO);
    CHECK(got > 0 && got < 22050 * 2);
    /* and the engine works again afterwards */
    struct voice_audio au;
    CHECK_EQ(voice_tts(a, &o, "Bonjour.", &au, &err), 0);
    CHECK(au.n > 22050 / 4);
    gu_arena_free(a);
}

/* Over VOICE_AUDIO_MAX_S of audio: refused, engine still usable. */
static void
audio_limit(enum voice_engine e)
{
    struct gu_arena *a = gu_arena_new(0);
    struct voice_tts_opts o = {e, 0, 50};
    struct voice_audio au;
    struct gu_err err;
    char *text = malloc(VOICE_TEXT_MAX + 1);
    size_t n = 0;

    /* 1999 bytes of phone numbers read slowly: far over 3 minutes */
    while (n + 15 < VOICE_TEXT_MAX) {
        memcpy(text + n, "01 23 45 67 89 ", 15);
        n += 15;
    }
    text[n] = '\0';
    gu_err_clear(&err);
    CHECK_EQ(voice_tts(a, &o, text, &au, &err), GU_ETOOBIG);
    CHECK_CONTAINS(err.user, "3 minutes");
    o.speed = 0;
    CHECK_EQ(voice_tts(a, &o, "Bonjour.", &au, &err), 0);
    CHECK(au.n > au.rate / 4);
    free(text);
    gu_arena_free(a);
}

static void
test_audio_limit(void)
{
    audio_limit(VOICE_ENGINE_ESPEAK);
    if (voice_engine_available(VOICE_ENGINE_PICO))
        audio_limit(VOICE_ENGINE_PICO);
}

/*
 * Many threads at once on both engines (what the HTTP server's pool and
 * the phone's calls do), each with one of two texts of very different
 * lengths: every result is that text's speech, as a lone call makes it.
 * Not sample for sample: espeak-ng varies its timing a little from one
 * call to the next (a few ms of pause) and Pico keeps some filter state,
 * so: the duration within 2 % or 100 ms and the loudness within 15 % of
 * the lone call's. A result of the other text, two texts mixed or a truncated
 * one would be far off.
 */
static const char *const texts[2] = {
    "Bonjour, la mairie est ouverte du lundi au vendredi de 9h à 12h. "
    "Pour votre CNI, prenez RDV au 01 23 45 67 89.",
    "Merci, au revoir."};

struct job {
    enum voice_engine e;
    int text;
    const struct voice_audio *want;
    int bad;
};

static bool
same_speech(const struct voice_audio *got, const struct voice_audio *want)
{
    double dn = fabs((double)got->n - (double)want->n);
    double r = rms(got) / rms(want);

    return got->rate == want->rate &&
           (dn <= want->n * 0.02 || dn <= want->rate / 10.0) && r > 0.85 &&
           r < 1.15;
}

static void *
worker(void *p)
{
    struct job *j = p;

    for (int k = 0; k < 3; k++) {
        struct gu_arena *a = gu_arena_new(0);
        struct voice_tts_opts o = {j->e, 0, 0};
        struct voice_audio au;
        struct gu_err err;

        if (voice_tts(a, &o, texts[j->text], &au, &err) != 0 ||
            !same_speech(&au, j->want))
            j->bad++;
        gu_arena_free(a);
    }
    return NULL;
}

static void
test_threads(void)
{
    enum voice_engine engines[2] = {VOICE_ENGINE_ESPEAK, VOICE_ENGINE_PICO};
    struct gu_arena *a = gu_arena_new(0);
    struct voice_audio ref[2][2];
    struct job jobs[8];
    pthread_t th[8];
    int ne = voice_engine_available(VOICE_ENGINE_PICO) ? 2 : 1;

    for (int e = 0; e < ne; e++) {
        for (int t = 0; t < 2; t++) {
            struct voice_tts_opts o = {engines[e], 0, 0};
            struct gu_err err;

            /* the second lone call is the reference: espeak-ng's first
             * one after start-up is a little different */
            CHECK_EQ(voice_tts(a, &o, texts[t], &ref[e][t], &err), 0);
            CHECK_EQ(voice_tts(a, &o, texts[t], &ref[e][t], &err), 0);
        }
        /* the check tells one text from the other */
        CHECK(!same_speech(&ref[e][1], &ref[e][0]));
    }
    for (int t = 0; t < 8; t++) {
        jobs[t].e = engines[t % ne];
        jobs[t].text = (t / 2) % 2;
        jobs[t].want = &ref[t % ne][jobs[t].text];
        jobs[t].bad = 0;
        CHECK_EQ(pthread_create(&th[t], NULL, worker, &jobs[t]), 0);
    }
    for (int t = 0; t < 8; t++) {
        pthread_join(th[t], NULL);
        if (jobs[t].bad)
            TH_FAIL("thread %d (%s, text %d): %d results off", t,
                    voice_engine_name(jobs[t].e), jobs[t].text,
                    jobs[t].bad);
    }
    gu_arena_free(a);
}

TESTS(T(test_wav_header), T(test_resample), T(test_espeak), T(test_pico),
      T(test_errors), T(test_stream_stop), T(test_audio_limit),
      T(test_threads))
