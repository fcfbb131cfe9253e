/*
 * voice_tts.c - one synthesis interface over two engines (voice.h).
 *
 * espeak-ng (libespeak-ng, linked): synchronous mode, French voice "fr",
 * 22.05 kHz, initialised once on first use. SVOX Pico (libttspico.so.0,
 * Debian non-free): loaded with dlopen on first use with its French
 * resources (fr-FR_ta.bin, fr-FR_nk0_sg.bin under voice.pico_lang_dir),
 * 16 kHz. Neither engine is reentrant, so each has its own mutex held
 * for the whole of a synthesis; the two can run side by side.
 *
 * A missing engine is not an error at start: it is found missing on
 * first use, logged once (voice.engine_missing) and reported to callers
 * as GU_EBUSY with a French message. AUTO picks Pico when it loads, else
 * espeak-ng.
 *
 * Both engines push PCM to a sink (voice_pcm_fn) as they produce it:
 * voice_tts collects it into the arena, voice_tts_stream hands it to the
 * caller (time to first audio, the phone's prompts).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <espeak-ng/speak_lib.h>

#include "voice/voice.h"

#define PICO_RATE 16000u
#define PICO_MEM_SIZE 2500000u
#define PICO_DIR_DEFAULT "/usr/share/pico/lang"
#define PICO_TA "fr-FR_ta.bin"
#define PICO_SG "fr-FR_nk0_sg.bin"
#define PICO_VOICE "guichet-fr"

/* ------------------------------------------------------------------ */
/* Settings (voice_tts_configure)                                      */
/* ------------------------------------------------------------------ */

static pthread_mutex_t cfg_mu = PTHREAD_MUTEX_INITIALIZER;
static char pico_dir[512] = PICO_DIR_DEFAULT;
static enum voice_engine default_engine = VOICE_ENGINE_AUTO;

void
voice_tts_configure(const struct gu_config *cfg)
{
    const char *dir;
    enum voice_engine eng;

    if (!cfg)
        return;
    dir = gu_config_str(cfg, "voice.pico_lang_dir");
    /* the setting is an enum auto|pico|espeak-ng, checked at load */
    if (voice_engine_parse(gu_config_str(cfg, "voice.engine"), &eng) < 0)
        eng = VOICE_ENGINE_AUTO;
    pthread_mutex_lock(&cfg_mu);
    if (dir && *dir && strlen(dir) < sizeof(pico_dir))
        memcpy(pico_dir, dir, strlen(dir) + 1);
    default_engine = eng;
    pthread_mutex_unlock(&cfg_mu);
}

int
voice_engine_parse(const char *s, enum voice_engine *out)
{
    if (!s || !*s || strcmp(s, "auto") == 0)
        *out = VOICE_ENGINE_AUTO;
    else if (strcmp(s, "pico") == 0)
        *out = VOICE_ENGINE_PICO;
    else if (strcmp(s, "espeak-ng") == 0 || strcmp(s, "espeak") == 0)
        *out = VOICE_ENGINE_ESPEAK;
    else
        return GU_EINVAL;
    return 0;
}

/* ------------------------------------------------------------------ */
/* The sink both engines write to                                      */
/* ------------------------------------------------------------------ */

struct sink {
    voice_pcm_fn fn;
    void *user;
    unsigned rate;
    size_t total;  /* samples so far */
    size_t limit;  /* VOICE_AUDIO_MAX_S at this rate */
    int rc;        /* first error: GU_ETOOBIG, or the callback's */
};

/* Nonzero to stop the engine. */
static int
sink_put(struct sink *s, const int16_t *pcm, size_t n)
{
    int rc;

    if (s->rc)
        return 1;
    if (n == 0)
        return 0;
    if (s->total + n > s->limit) {
        s->rc = GU_ETOOBIG;
        return 1;
    }
    s->total += n;
    rc = s->fn(s->user, pcm, n, s->rate);
    if (rc) {
        s->rc = rc < 0 ? rc : GU_EINTERNAL;
        return 1;
    }
    return 0;
}

/* The French message of an engine that is not there, logged once. */
static void
missing_once(int *logged, const char *engine, const char *why)
{
    char q[256];

    if (__atomic_exchange_n(logged, 1, __ATOMIC_ACQ_REL))
        return;
    gu_log_warn("voice.engine_missing", "engine=%s reason=%s", engine,
                gu_logq(q, sizeof(q), why));
}

/* ------------------------------------------------------------------ */
/* espeak-ng                                                           */
/* ------------------------------------------------------------------ */

static pthread_mutex_t esp_mu = PTHREAD_MUTEX_INITIALIZER;
/* 0 untried, 1 ready, -1 unusable; written under esp_mu, read without
 * it (atomics) so that asking whether espeak-ng is there never waits for
 * a running synthesis. */
static int esp_state;
static int esp_logged;
static unsigned esp_rate;
static struct sink *esp_cur; /* the running synthesis, under esp_mu */

static int
esp_callback(short *wav, int n, espeak_EVENT *ev)
{
    (void)ev;
    if (!esp_cur)
        return 1;
    if (!wav || n <= 0)
        return esp_cur->rc ? 1 : 0;
    return sink_put(esp_cur, wav, (size_t)n);
}

/* Under esp_mu. */
static int
esp_load(void)
{
    int rate;

    if (__atomic_load_n(&esp_state, __ATOMIC_ACQUIRE))
        return esp_state;
    rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL,
                             espeakINITIALIZE_DONT_EXIT);
    if (rate <= 0) {
        __atomic_store_n(&esp_state, -1, __ATOMIC_RELEASE);
        missing_once(&esp_logged, "espeak-ng",
                     "espeak_Initialize failed (espeak-ng-data missing?)");
        return esp_state;
    }
    if (espeak_SetVoiceByName("fr") != EE_OK) {
        __atomic_store_n(&esp_state, -1, __ATOMIC_RELEASE);
        missing_once(&esp_logged, "espeak-ng", "no French voice \"fr\"");
        return esp_state;
    }
    espeak_SetSynthCallback(esp_callback);
    esp_rate = (unsigned)rate;
    __atomic_store_n(&esp_state, 1, __ATOMIC_RELEASE);
    gu_log_info("voice.engine_ready", "engine=espeak-ng rate=%u", esp_rate);
    return esp_state;
}

static int
esp_available(void)
{
    int st = __atomic_load_n(&esp_state, __ATOMIC_ACQUIRE);

    if (st)
        return st > 0;
    pthread_mutex_lock(&esp_mu);
    st = esp_load();
    pthread_mutex_unlock(&esp_mu);
    return st > 0;
}

static int
esp_speak(const char *spoken, int speed, struct sink *s, struct gu_err *err)
{
    espeak_ERROR e;
    int wpm, rc = 0;

    pthread_mutex_lock(&esp_mu);
    if (esp_load() <= 0) {
        pthread_mutex_unlock(&esp_mu);
        return gu_err_set(err, GU_EBUSY, "moteur",
                          "La voix espeak-ng n'est pas installée sur ce "
                          "serveur (paquets espeak-ng-data, "
                          "libespeak-ng1).",
                          "espeak-ng unavailable");
    }
    s->rate = esp_rate;
    s->limit = (size_t)VOICE_AUDIO_MAX_S * esp_rate;
    wpm = espeakRATE_NORMAL * speed / 100;
    if (wpm < espeakRATE_MINIMUM)
        wpm = espeakRATE_MINIMUM;
    if (wpm > espeakRATE_MAXIMUM)
        wpm = espeakRATE_MAXIMUM;
    espeak_SetParameter(espeakRATE, wpm, 0);
    esp_cur = s;
    e = espeak_Synth(spoken, strlen(spoken) + 1, 0, POS_CHARACTER, 0,
                     espeakCHARS_UTF8, NULL, NULL);
    if (e == EE_OK)
        e = espeak_Synchronize();
    esp_cur = NULL;
    pthread_mutex_unlock(&esp_mu);
    if (s->rc)
        rc = s->rc;
    else if (e != EE_OK)
        rc = GU_EIO;
    if (rc == GU_ETOOBIG)
        return gu_err_set(err, rc, "texte",
                          "Le texte donnerait plus de 3 minutes d'audio.",
                          "espeak-ng: audio over %u s", VOICE_AUDIO_MAX_S);
    if (rc == GU_EIO)
        return gu_err_set(err, rc, NULL, "La synthèse vocale a échoué.",
                          "espeak_Synth: error %d", (int)e);
    return rc;
}

/* ------------------------------------------------------------------ */
/* SVOX Pico, by dlopen                                                */
/* ------------------------------------------------------------------ */

/*
 * The part of picoapi.h we use, declared here so that the build needs no
 * Pico header (the library is non-free and optional).
 */
typedef unsigned char pico_Char;
typedef signed short pico_Int16;
typedef signed int pico_Int32;
typedef unsigned int pico_Uint32;
typedef pico_Int16 pico_Status;
typedef struct pico_system *pico_System;
typedef struct pico_resource *pico_Resource;
typedef struct pico_engine *pico_Engine;
typedef pico_Char pico_Retstring[200];

#define PICO_OK 0
#define PICO_STEP_IDLE 200
#define PICO_STEP_BUSY 201
#define PICO_RESET_FULL 0
#define PICO_RESET_SOFT 0x10

struct pico_api {
    pico_Status (*initialize)(void *, const pico_Uint32, pico_System *);
    pico_Status (*terminate)(pico_System *);
    pico_Status (*load_resource)(pico_System, const pico_Char *,
                                 pico_Resource *);
    pico_Status (*get_resource_name)(pico_System, pico_Resource,
                                     pico_Retstring);
    pico_Status (*create_voice)(pico_System, const pico_Char *);
    pico_Status (*add_resource)(pico_System, const pico_Char *,
                                const pico_Char *);
    pico_Status (*new_engine)(pico_System, const pico_Char *, pico_Engine *);
    pico_Status (*put_text)(pico_Engine, const pico_Char *, const pico_Int16,
                            pico_Int16 *);
    pico_Status (*get_data)(pico_Engine, void *, const pico_Int16,
                            pico_Int16 *, pico_Int16 *);
    pico_Status (*reset)(pico_Engine, pico_Int32);
};

static pthread_mutex_t pico_mu = PTHREAD_MUTEX_INITIALIZER;
static int pico_state; /* as esp_state, under pico_mu */
static int pico_logged;
static char pico_why[256];
static struct pico_api P;
static void *pico_lib;
static void *pico_mem;
static pico_System pico_sys;
static pico_Engine pico_eng;

/* Record why Pico is unusable: `what` then `detail` (may be NULL). */
static int
pico_fail(const char *what, const char *detail)
{
    snprintf(pico_why, sizeof(pico_why), "%s%s", what,
             detail ? detail : "");
    __atomic_store_n(&pico_state, -1, __ATOMIC_RELEASE);
    missing_once(&pico_logged, "pico", pico_why);
    /* A half-initialised system is left as is: Pico stays unusable for
     * the life of the process and its memory is reachable (no leak). */
    return -1;
}

#define PICO_SYM(field, name)                                             \
    do {                                                                  \
        void *sym_ = dlsym(pico_lib, name);                               \
        if (!sym_)                                                        \
            return pico_fail("libttspico.so.0 lacks ", name);           \
        memcpy(&P.field, &sym_, sizeof(sym_));                            \
    } while (0)

/* Under pico_mu. */
static int
pico_load(void)
{
    char dir[512], ta[600], sg[600];
    pico_Retstring name;
    pico_Resource res;

    if (__atomic_load_n(&pico_state, __ATOMIC_ACQUIRE))
        return pico_state;
    pthread_mutex_lock(&cfg_mu);
    memcpy(dir, pico_dir, sizeof(dir));
    pthread_mutex_unlock(&cfg_mu);
    snprintf(ta, sizeof(ta), "%s/%s", dir, PICO_TA);
    snprintf(sg, sizeof(sg), "%s/%s", dir, PICO_SG);

    pico_lib = dlopen("libttspico.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!pico_lib)
        return pico_fail("dlopen libttspico.so.0: ", dlerror());
    PICO_SYM(initialize, "pico_initialize");
    PICO_SYM(terminate, "pico_terminate");
    PICO_SYM(load_resource, "pico_loadResource");
    PICO_SYM(get_resource_name, "pico_getResourceName");
    PICO_SYM(create_voice, "pico_createVoiceDefinition");
    PICO_SYM(add_resource, "pico_addResourceToVoiceDefinition");
    PICO_SYM(new_engine, "pico_newEngine");
    PICO_SYM(put_text, "pico_putTextUtf8");
    PICO_SYM(get_data, "pico_getData");
    PICO_SYM(reset, "pico_resetEngine");
    if (access(ta, R_OK) != 0)
        return pico_fail("French resource not readable: ", ta);
    if (access(sg, R_OK) != 0)
        return pico_fail("French resource not readable: ", sg);

    pico_mem = gu_malloc(PICO_MEM_SIZE);
    if (!pico_mem)
        return pico_fail("out of memory", NULL);
    if (P.initialize(pico_mem, PICO_MEM_SIZE, &pico_sys) != PICO_OK)
        return pico_fail("pico_initialize failed", NULL);
    if (P.create_voice(pico_sys, (const pico_Char *)PICO_VOICE) != PICO_OK)
        return pico_fail("pico_createVoiceDefinition failed", NULL);
    /* Text analysis then signal generation resource, in that order. */
    const char *files[2] = {ta, sg};
    for (int i = 0; i < 2; i++) {
        if (P.load_resource(pico_sys, (const pico_Char *)files[i], &res) !=
            PICO_OK)
            return pico_fail("pico_loadResource failed: ", files[i]);
        if (P.get_resource_name(pico_sys, res, name) != PICO_OK ||
            P.add_resource(pico_sys, (const pico_Char *)PICO_VOICE, name) !=
                PICO_OK)
            return pico_fail("pico resource not added: ", files[i]);
    }
    if (P.new_engine(pico_sys, (const pico_Char *)PICO_VOICE, &pico_eng) !=
        PICO_OK)
        return pico_fail("pico_newEngine failed", NULL);
    __atomic_store_n(&pico_state, 1, __ATOMIC_RELEASE);
    gu_log_info("voice.engine_ready", "engine=pico rate=%u", PICO_RATE);
    return pico_state;
}

static int
pico_available(void)
{
    int st = __atomic_load_n(&pico_state, __ATOMIC_ACQUIRE);

    if (st)
        return st > 0;
    pthread_mutex_lock(&pico_mu);
    st = pico_load();
    pthread_mutex_unlock(&pico_mu);
    return st > 0;
}

/* Pull what the engine has ready; -1 on an engine error. */
static int
pico_drain(struct sink *s, int until_idle)
{
    int16_t buf[1024];
    pico_Int16 got, type;
    pico_Status st;
    long spins = 0;

    for (;;) {
        got = 0;
        type = 0;
        st = P.get_data(pico_eng, buf, (pico_Int16)sizeof(buf), &got, &type);
        if (st != PICO_STEP_BUSY && st != PICO_STEP_IDLE)
            return -1;
        if (got > 0 && sink_put(s, buf, (size_t)got / 2))
            return 1;
        if (st == PICO_STEP_IDLE)
            return 0;
        if (!until_idle && got == 0 && ++spins > 1000000)
            return -1;
    }
}

static int
pico_speak(struct gu_arena *a, const char *spoken, int speed, struct sink *s,
           struct gu_err *err)
{
    char *text;
    size_t len, off = 0;
    int rc = 0, d = 0;

    /* Pico reads SVOX markup: angle brackets of the text are blanked,
     * then a speed tag wraps it. */
    text = gu_arena_strdup(a, spoken);
    if (!text)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "pico: oom");
    for (char *q = text; *q; q++) {
        if (*q == '<' || *q == '>')
            *q = ' ';
    }
    text = gu_arena_sprintf(a, "<speed level=\"%d\">%s</speed>", speed,
                            text);
    if (!text)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "pico: oom");
    len = strlen(text);
    len++; /* the NUL tells Pico the text is complete */

    pthread_mutex_lock(&pico_mu);
    if (pico_load() <= 0) {
        pthread_mutex_unlock(&pico_mu);
        return gu_err_set(err, GU_EBUSY, "moteur",
                          "La voix SVOX Pico n'est pas installée sur ce "
                          "serveur (paquets non libres libttspico0 et "
                          "libttspico-data : scripts/deps.sh --non-free).",
                          "pico unavailable: %s", pico_why);
    }
    s->rate = PICO_RATE;
    s->limit = (size_t)VOICE_AUDIO_MAX_S * PICO_RATE;
    while (off < len && d == 0) {
        pico_Int16 put = 0;
        size_t chunk = len - off > 4096 ? 4096 : len - off;

        if (P.put_text(pico_eng, (const pico_Char *)text + off,
                       (pico_Int16)chunk, &put) != PICO_OK ||
            put < 0) {
            d = -1;
            break;
        }
        off += (size_t)put;
        d = pico_drain(s, 0);
    }
    if (d == 0)
        d = pico_drain(s, 1);
    /* Ready for the next text, whatever happened to this one. */
    P.reset(pico_eng, d < 0 ? PICO_RESET_FULL : PICO_RESET_SOFT);
    pthread_mutex_unlock(&pico_mu);
    if (s->rc)
        rc = s->rc;
    else if (d < 0)
        rc = GU_EIO;
    if (rc == GU_ETOOBIG)
        return gu_err_set(err, rc, "texte",
                          "Le texte donnerait plus de 3 minutes d'audio.",
                          "pico: audio over %u s", VOICE_AUDIO_MAX_S);
    if (rc == GU_EIO)
        return gu_err_set(err, rc, NULL, "La synthèse vocale a échoué.",
                          "pico: engine error");
    return rc;
}

/* ------------------------------------------------------------------ */
/* The interface                                                       */
/* ------------------------------------------------------------------ */

/* AUTO (or the configured default) to a concrete engine; AUTO if none. */
static enum voice_engine
resolve(enum voice_engine e)
{
    if (e == VOICE_ENGINE_AUTO) {
        pthread_mutex_lock(&cfg_mu);
        e = default_engine;
        pthread_mutex_unlock(&cfg_mu);
    }
    if (e != VOICE_ENGINE_AUTO)
        return e;
    if (pico_available())
        return VOICE_ENGINE_PICO;
    if (esp_available())
        return VOICE_ENGINE_ESPEAK;
    return VOICE_ENGINE_AUTO;
}

int
voice_engine_available(enum voice_engine e)
{
    switch (e) {
    case VOICE_ENGINE_PICO:
        return pico_available();
    case VOICE_ENGINE_ESPEAK:
        return esp_available();
    case VOICE_ENGINE_AUTO:
        return pico_available() || esp_available();
    }
    return 0;
}

const char *
voice_engine_name(enum voice_engine e)
{
    switch (e) {
    case VOICE_ENGINE_PICO:
        return "pico";
    case VOICE_ENGINE_ESPEAK:
        return "espeak-ng";
    case VOICE_ENGINE_AUTO:
        e = resolve(VOICE_ENGINE_AUTO);
        return e == VOICE_ENGINE_AUTO ? NULL : voice_engine_name(e);
    }
    return NULL;
}

unsigned
voice_engine_rate(enum voice_engine e)
{
    switch (e) {
    case VOICE_ENGINE_PICO:
        return PICO_RATE;
    case VOICE_ENGINE_ESPEAK:
        return esp_available() ? esp_rate : 0;
    case VOICE_ENGINE_AUTO:
        e = resolve(VOICE_ENGINE_AUTO);
        return e == VOICE_ENGINE_AUTO ? 0 : voice_engine_rate(e);
    }
    return 0;
}

static int
check_opts(const struct voice_tts_opts *o, int *speed, struct gu_err *err)
{
    if (o && (o->engine < VOICE_ENGINE_AUTO || o->engine > VOICE_ENGINE_ESPEAK))
        return gu_err_set(err, GU_EINVAL, "moteur",
                          "Moteur inconnu (permis : auto, pico, espeak-ng).",
                          "tts: bad engine %d", (int)o->engine);
    *speed = o && o->speed ? o->speed : 100;
    if (*speed < 50 || *speed > 200)
        return gu_err_set(err, GU_EINVAL, "vitesse",
                          "La vitesse doit être comprise entre 50 et 200 "
                          "(pour cent).",
                          "tts: bad speed %d", *speed);
    if (o && o->rate && (o->rate < 4000 || o->rate > 48000))
        return gu_err_set(err, GU_EINVAL, "debit",
                          "La fréquence doit être comprise entre 4000 et "
                          "48000 Hz.",
                          "tts: bad rate %u", o->rate);
    return 0;
}

int
voice_tts_stream(struct gu_arena *a, const struct voice_tts_opts *o,
                 const char *text, voice_pcm_fn fn, void *user,
                 struct gu_err *err)
{
    struct sink s;
    enum voice_engine e;
    char *spoken = NULL;
    int speed = 100, rc; /* set by check_opts; gcc -O2 cannot tell */

    if ((rc = check_opts(o, &speed, err)) < 0)
        return rc;
    if (!text)
        return gu_err_set(err, GU_EINVAL, "texte", "Le texte est vide.",
                          "tts: no text");
    if ((rc = voice_normalize(a, text, &spoken, err)) < 0)
        return rc;
    e = resolve(o ? o->engine : VOICE_ENGINE_AUTO);
    if (e == VOICE_ENGINE_AUTO)
        return gu_err_set(err, GU_EBUSY, "moteur",
                          "Aucune voix de synthèse n'est installée sur ce "
                          "serveur (espeak-ng ou SVOX Pico).",
                          "tts: no engine available");
    memset(&s, 0, sizeof(s));
    s.fn = fn;
    s.user = user;
    if (e == VOICE_ENGINE_PICO)
        return pico_speak(a, spoken, speed, &s, err);
    return esp_speak(spoken, speed, &s, err);
}

/* voice_tts's sink: samples appended to a growing heap buffer. */
struct collect {
    int16_t *p;
    size_t n, cap;
    unsigned rate;
};

static int
collect_pcm(void *user, const int16_t *pcm, size_t n, unsigned rate)
{
    struct collect *c = user;

    if (c->n + n > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 65536;
        int16_t *p;

        while (cap < c->n + n)
            cap *= 2;
        p = gu_realloc(c->p, cap * sizeof(int16_t));
        if (!p)
            return GU_ENOMEM;
        c->p = p;
        c->cap = cap;
    }
    memcpy(c->p + c->n, pcm, n * sizeof(int16_t));
    c->n += n;
    c->rate = rate;
    return 0;
}

int
voice_tts(struct gu_arena *a, const struct voice_tts_opts *o,
          const char *text, struct voice_audio *out, struct gu_err *err)
{
    struct collect c;
    struct voice_audio raw;
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&c, 0, sizeof(c));
    rc = voice_tts_stream(a, o, text, collect_pcm, &c, err);
    if (rc == GU_ENOMEM)
        gu_err_set(err, rc, NULL, NULL, "tts: oom");
    if (rc < 0)
        goto out;
    raw.pcm = c.p;
    raw.n = c.n;
    raw.rate = c.rate;
    if (raw.rate == 0) {
        /* Nothing said (a text of punctuation only): empty audio at the
         * engine's rate. */
        raw.rate = voice_engine_rate(o ? o->engine : VOICE_ENGINE_AUTO);
        if (raw.rate == 0)
            raw.rate = PICO_RATE;
    }
    /* Copies into the arena, converting the rate when one was asked. */
    rc = voice_resample(a, &raw, o && o->rate ? o->rate : raw.rate, out,
                        err);
out:
    gu_free(c.p);
    return rc;
}
