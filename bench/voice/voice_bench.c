/*
 * voice_bench.c - speed of the speech synthesis (voice_tts.c), per
 * engine installed: time to first audio and real-time factor (synthesis
 * time / audio duration) for a 30-word French answer, normaliser
 * included, at the engine's rate and at 8 kHz for the telephone
 * (resampling included). A figure, never a pass/fail: bench/voice/run.sh
 * pins it to one core and prints the table.
 *
 *   voice_bench [RUNS]     (default 20; medians are printed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "voice/voice.h"

/* 30 words, as the assistant answers: hours, a phone number, an acronym. */
static const char answer[] =
    "La mairie est ouverte du lundi au vendredi de 8h30 à 12h et de 13h30 "
    "à 17h. Pour votre carte d'identité, prenez RDV en ligne ou appelez le "
    "02 40 12 34 56.";

static double
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct first {
    double t0, first; /* ms */
    size_t n;
    unsigned rate;
};

static int
on_pcm(void *user, const int16_t *pcm, size_t n, unsigned rate)
{
    struct first *f = user;

    (void)pcm;
    if (f->n == 0 && n > 0)
        f->first = now_ms() - f->t0;
    f->n += n;
    f->rate = rate;
    return 0;
}

static int
words(const char *s)
{
    int n = 0, in = 0;

    for (; *s; s++) {
        int sp = *s == ' ';
        if (!sp && !in)
            n++;
        in = !sp;
    }
    return n;
}

static int
bench(enum voice_engine e, int runs)
{
    struct voice_tts_opts o = {e, 0, 0};
    struct gu_err err;
    double *ttfa = calloc((size_t)runs, sizeof(double));
    double *rtf = calloc((size_t)runs, sizeof(double));
    double *rtf8 = calloc((size_t)runs, sizeof(double));
    double init, audio_s = 0, t;
    int rc = 0;

    /* first use: engine initialisation (dlopen, voice data) */
    t = now_ms();
    if (!voice_engine_available(e)) {
        printf("| %-9s | not installed |\n", voice_engine_name(e));
        goto out;
    }
    init = now_ms() - t;
    for (int i = -1; i < runs; i++) { /* one warm-up run */
        struct gu_arena *a = gu_arena_new(1 << 20);
        struct first f = {0, 0, 0, 0};
        struct voice_audio au;

        f.t0 = now_ms();
        rc = voice_tts_stream(a, &o, answer, on_pcm, &f, &err);
        t = now_ms() - f.t0;
        if (rc < 0) {
            fprintf(stderr, "voice_bench: %s\n", err.msg);
            gu_arena_free(a);
            goto out;
        }
        audio_s = (double)f.n / f.rate;
        if (i >= 0) {
            ttfa[i] = f.first;
            rtf[i] = t / 1e3 / audio_s;
        }
        o.rate = 8000;
        t = now_ms();
        rc = voice_tts(a, &o, answer, &au, &err);
        t = now_ms() - t;
        o.rate = 0;
        if (rc < 0) {
            fprintf(stderr, "voice_bench: %s\n", err.msg);
            gu_arena_free(a);
            goto out;
        }
        if (i >= 0)
            rtf8[i] = t / 1e3 / ((double)au.n / au.rate);
        gu_arena_free(a);
    }
    printf("| %-9s | %5u Hz | %7.1f | %7.1f | %6.1f | %7.4f | %8.4f |\n",
           voice_engine_name(e), voice_engine_rate(e), init,
           median(ttfa, runs), audio_s, median(rtf, runs),
           median(rtf8, runs));
out:
    free(ttfa);
    free(rtf);
    free(rtf8);
    return rc;
}

int
main(int argc, char **argv)
{
    long runs = 20;
    int rc = 0;

    if (argc > 1 && gu_parse_long(argv[1], 1, 10000, &runs) < 0) {
        fprintf(stderr, "usage : voice_bench [ESSAIS]\n");
        return 2;
    }
    gu_log_set_level(GU_LOG_ERROR);
    printf("Text (%d words): %s\n\n", words(answer), answer);
    printf("| engine    | rate     | init ms | TTFA ms | audio s | RTF     | RTF 8 kHz |\n");
    printf("|-----------|----------|--------:|--------:|-------:|--------:|---------:|\n");
    rc |= bench(VOICE_ENGINE_PICO, (int)runs);
    rc |= bench(VOICE_ENGINE_ESPEAK, (int)runs);
    printf("\nMedians of %ld runs after one warm-up; TTFA = time from the "
           "call to the first PCM\n(normaliser included); RTF = synthesis "
           "time / audio duration; \"RTF 8 kHz\" adds\nthe resampling to "
           "8 kHz (libsoxr) for the telephone.\n", runs);
    return rc ? 1 : 0;
}
