/*
 * asr_standin.c - a stand-in for the Vosk engine, for tests only.
 *
 * Vosk (libvosk.so) and its French models cannot be installed on the
 * test machines (no Debian package; the models are downloads), so the
 * tests build this small library, which implements the part of Vosk's C
 * ABI that src/voice/voice_asr.c loads with dlopen, with the same
 * signatures and contracts:
 *
 *   vosk_model_new(dir)         NULL unless dir/phrases.txt can be read
 *   vosk_model_free
 *   vosk_recognizer_new_grm(model, rate, grammar)   the grammar (a JSON
 *                               array of phrases) is appended to
 *                               dir/grammars.log, one line each, so a
 *                               test can check what the loader handed over
 *   vosk_recognizer_accept_waveform(rec, bytes, len)   16-bit PCM
 *   vosk_recognizer_final_result -> {"text" : "..."}
 *   vosk_recognizer_free, vosk_set_log_level
 *
 * Instead of a speech model, phrases.txt maps a pitch to a phrase, one
 * per line: "500 rendez-vous". The "recognised" phrase is the one whose
 * pitch is nearest to the utterance's (zero crossings), within 8 %, and
 * only if the grammar lists it, as a grammar-restricted recogniser
 * answers; otherwise the text is empty (Vosk's "[unk]" is dropped from
 * its result too). Built with `cc -shared -fPIC`; not linked into
 * Guichet.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PHRASES_MAX 32

struct model {
    char dir[512];
    int n;
    double hz[PHRASES_MAX];
    char text[PHRASES_MAX][64];
};

struct rec {
    struct model *m;
    float rate;
    char *grammar;
    unsigned long samples, crossings, first, last; /* crossings' span */
    int last_sign;
    char result[256];
};

/* The prototypes Vosk's header gives (vosk_api.h), opaque types as void. */
void *vosk_model_new(const char *model_path);
void vosk_model_free(void *model);
void *vosk_recognizer_new_grm(void *model, float sample_rate,
                              const char *grammar);
int vosk_recognizer_accept_waveform(void *recognizer, const char *data,
                                    int length);
const char *vosk_recognizer_final_result(void *recognizer);
void vosk_recognizer_free(void *recognizer);
void vosk_set_log_level(int log_level);

void *
vosk_model_new(const char *model_path)
{
    struct model *m;
    char path[600], line[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/phrases.txt", model_path);
    if (!(f = fopen(path, "r")))
        return NULL;
    if (!(m = calloc(1, sizeof(*m)))) {
        fclose(f);
        return NULL;
    }
    snprintf(m->dir, sizeof(m->dir), "%s", model_path);
    while (m->n < PHRASES_MAX && fgets(line, sizeof(line), f)) {
        char *end;
        double hz = strtod(line, &end);
        if (end == line || hz <= 0)
            continue;
        while (*end == ' ')
            end++;
        end[strcspn(end, "\r\n")] = '\0';
        m->hz[m->n] = hz;
        snprintf(m->text[m->n], sizeof(m->text[m->n]), "%s", end);
        m->n++;
    }
    fclose(f);
    return m;
}

void
vosk_model_free(void *model)
{
    free(model);
}

void *
vosk_recognizer_new_grm(void *model, float sample_rate, const char *grammar)
{
    struct model *m = model;
    struct rec *r;
    char path[600];
    FILE *f;

    if (!m || sample_rate <= 0 || !grammar || !(r = calloc(1, sizeof(*r))))
        return NULL;
    r->m = m;
    r->rate = sample_rate;
    if (!(r->grammar = strdup(grammar))) {
        free(r);
        return NULL;
    }
    snprintf(path, sizeof(path), "%s/grammars.log", m->dir);
    if ((f = fopen(path, "a"))) {
        fprintf(f, "%.0f %s\n", (double)sample_rate, grammar);
        fclose(f);
    }
    return r;
}

int
vosk_recognizer_accept_waveform(void *recognizer, const char *data,
                                int length)
{
    struct rec *r = recognizer;

    if (!r || length < 0 || length % 2)
        return -1;
    for (int i = 0; i + 1 < length; i += 2) {
        short s;
        memcpy(&s, data + i, sizeof(s));
        /* A dead band, so that the resampler's ringing around zero is
         * not counted as crossings. */
        int sign = s > 200 ? 1 : (s < -200 ? -1 : 0);
        if (sign && r->last_sign && sign != r->last_sign) {
            if (!r->crossings++)
                r->first = r->samples;
            r->last = r->samples;
        }
        if (sign)
            r->last_sign = sign;
        r->samples++;
    }
    return 0;
}

const char *
vosk_recognizer_final_result(void *recognizer)
{
    struct rec *r = recognizer;
    const char *best = "";
    double hz, gap = 0.08;
    char quoted[80];

    if (!r)
        return NULL;
    /* The pitch over the span of the crossings: the silence around the
     * utterance does not count. */
    hz = r->crossings > 10 && r->last > r->first
             ? (r->crossings - 1) / 2.0 * r->rate / (r->last - r->first)
             : 0;
    for (int i = 0; hz > 0 && i < r->m->n; i++) {
        double d = fabs(hz - r->m->hz[i]) / r->m->hz[i];
        snprintf(quoted, sizeof(quoted), "\"%s\"", r->m->text[i]);
        if (d < gap && strstr(r->grammar, quoted)) {
            gap = d;
            best = r->m->text[i];
        }
    }
    snprintf(r->result, sizeof(r->result), "{\"text\" : \"%s\"}", best);
    return r->result;
}

void
vosk_recognizer_free(void *recognizer)
{
    struct rec *r = recognizer;

    if (r)
        free(r->grammar);
    free(r);
}

void
vosk_set_log_level(int log_level)
{
    (void)log_level;
}
