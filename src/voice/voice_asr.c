/*
 * voice_asr.c - speech recognition as a plug-in (voice_phone.h): the
 * engine's library is loaded with dlopen, never linked, so Guichet builds
 * and runs without it; its absence is a state to report, not an error.
 *
 * Engine: Vosk (Kaldi), through its C API (vosk_api.h): a model loaded
 * once from the directory voice.asr_model, then for each utterance a
 * recogniser restricted to a grammar (vosk_recognizer_new_grm: a JSON
 * array of the phrases the menu accepts, plus "[unk]"), the audio, and
 * the final result ({"text": "..."}). Only these symbols are used:
 *
 *   VoskModel *vosk_model_new(const char *model_path);
 *   void vosk_model_free(VoskModel *model);
 *   VoskRecognizer *vosk_recognizer_new_grm(VoskModel *model,
 *                                           float sample_rate,
 *                                           const char *grammar);
 *   int vosk_recognizer_accept_waveform(VoskRecognizer *r,
 *                                       const char *data, int length);
 *   const char *vosk_recognizer_final_result(VoskRecognizer *r);
 *   void vosk_recognizer_free(VoskRecognizer *r);
 *   void vosk_set_log_level(int level);           (optional)
 *
 * The model is shared by every recogniser (Vosk's model is reference
 * counted and read-only once loaded); a recogniser lives for one
 * utterance in one worker thread, so no lock is needed here. The
 * telephone's 8 kHz audio is resampled to 16 kHz, the rate of Vosk's
 * French models.
 */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "voice/voice.h"
#include "voice/voice_phone.h"

#define ASR_RATE 16000u
#define ASR_CHUNK 3200 /* bytes handed to the engine at a time (100 ms) */
#define VOSK_LIBRARY "libvosk.so"

typedef void *(*model_new_fn)(const char *path);
typedef void (*model_free_fn)(void *model);
typedef void *(*rec_new_grm_fn)(void *model, float rate, const char *grm);
typedef int (*rec_accept_fn)(void *rec, const char *data, int len);
typedef const char *(*rec_final_fn)(void *rec);
typedef void (*rec_free_fn)(void *rec);
typedef void (*log_level_fn)(int level);

struct voice_asr {
    void *lib;
    void *model;
    model_new_fn model_new;
    model_free_fn model_free;
    rec_new_grm_fn rec_new_grm;
    rec_accept_fn rec_accept;
    rec_final_fn rec_final;
    rec_free_fn rec_free;
};

int
voice_asr_engine_parse(const char *s, enum voice_asr_engine *out)
{
    if (!s || !*s || strcmp(s, "none") == 0)
        *out = VOICE_ASR_NONE;
    else if (strcmp(s, "vosk") == 0)
        *out = VOICE_ASR_VOSK;
    else
        return GU_EINVAL;
    return 0;
}

static void status_reason(struct voice_asr_status *st, const char *fmt, ...)
    GU_PRINTF(2, 3);

static void
status_reason(struct voice_asr_status *st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(st->reason, sizeof(st->reason), fmt, ap);
    va_end(ap);
}

/* dlerror() texts can be long and carry the whole path: keep them short
 * enough for a log line and a JSON field. */
static const char *
short_dlerror(void)
{
    const char *e = dlerror();
    return e ? e : "erreur inconnue";
}

static void
asr_close(struct voice_asr *r)
{
    if (!r)
        return;
    if (r->model && r->model_free)
        r->model_free(r->model);
    if (r->lib)
        dlclose(r->lib);
    gu_free(r);
}

/*
 * The work of voice_asr_open and voice_asr_probe: settings, library,
 * symbols, then the model (only when load_model; otherwise the directory
 * must exist). Fills st in every case.
 */
static int
asr_load(const struct gu_config *cfg, bool load_model, struct voice_asr **out,
         struct voice_asr_status *st, struct gu_err *err)
{
    struct voice_asr *r = NULL;
    enum voice_asr_engine eng;
    const char *lib = gu_config_str(cfg, "voice.asr_library");
    const char *model = gu_config_str(cfg, "voice.asr_model");
    struct stat sb;

    *out = NULL;
    memset(st, 0, sizeof(*st));
    st->engine = "none";
    if (voice_asr_engine_parse(gu_config_str(cfg, "voice.asr_engine"),
                               &eng) < 0) {
        snprintf(st->reason, sizeof(st->reason),
                 "Moteur de reconnaissance inconnu (voice.asr_engine : none "
                 "ou vosk).");
        return gu_err_set(err, GU_ECONFIG, "voice.asr_engine", st->reason,
                          "unknown asr engine");
    }
    if (eng == VOICE_ASR_NONE) {
        snprintf(st->reason, sizeof(st->reason),
                 "Reconnaissance de la parole désactivée (voice.asr_engine = "
                 "none) : les menus se pilotent au clavier.");
        return 0;
    }
    st->engine = "vosk";
    snprintf(st->library, sizeof(st->library), "%s",
             lib && *lib ? lib : VOSK_LIBRARY);
    snprintf(st->model, sizeof(st->model), "%s", model ? model : "");
    if (!(r = gu_calloc(1, sizeof(*r))))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");

    dlerror();
    r->lib = dlopen(st->library, RTLD_NOW | RTLD_LOCAL);
    if (!r->lib) {
        status_reason(st,
                      "Bibliothèque de reconnaissance introuvable ou "
                      "illisible (%s) : installez Vosk (libvosk.so) ou "
                      "réglez voice.asr_library. Détail : %s",
                      st->library, short_dlerror());
        goto missing;
    }
#define SYM(field, type, name)                                                \
    do {                                                                      \
        r->field = (type)dlsym(r->lib, name);                                 \
        if (!r->field) {                                                      \
            status_reason(st,                                                 \
                          "La bibliothèque %s n'est pas celle de Vosk : le "  \
                          "symbole %s manque.",                               \
                          st->library, name);                                 \
            goto missing;                                                     \
        }                                                                     \
    } while (0)
    SYM(model_new, model_new_fn, "vosk_model_new");
    SYM(model_free, model_free_fn, "vosk_model_free");
    SYM(rec_new_grm, rec_new_grm_fn, "vosk_recognizer_new_grm");
    SYM(rec_accept, rec_accept_fn, "vosk_recognizer_accept_waveform");
    SYM(rec_final, rec_final_fn, "vosk_recognizer_final_result");
    SYM(rec_free, rec_free_fn, "vosk_recognizer_free");
#undef SYM
    st->library_found = true;
    if (!model || !*model) {
        snprintf(st->reason, sizeof(st->reason),
                 "Aucun modèle de reconnaissance : réglez voice.asr_model "
                 "(dossier d'un modèle Vosk français, par exemple "
                 "vosk-model-small-fr-0.22).");
        goto missing;
    }
    if (stat(model, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        status_reason(st,
                      "Modèle de reconnaissance introuvable : %s n'est pas "
                      "un dossier.",
                      model);
        goto missing;
    }
    if (load_model) {
        log_level_fn lvl = (log_level_fn)dlsym(r->lib, "vosk_set_log_level");
        if (lvl)
            lvl(-1); /* Kaldi's own log lines stay out of ours */
        if (!(r->model = r->model_new(model))) {
            status_reason(st,
                          "Le modèle %s n'a pas pu être chargé par Vosk "
                          "(dossier incomplet ou d'une autre version ?).",
                          model);
            goto missing;
        }
    }
    st->model_found = true;
    st->ready = true;
    if (load_model)
        *out = r;
    else
        asr_close(r);
    return 0;
missing:
    asr_close(r);
    return gu_err_set(err, GU_EBUSY, "voice.asr_engine", st->reason,
                      "speech recognition unavailable");
}

int
voice_asr_open(const struct gu_config *cfg, struct voice_asr **out,
               struct voice_asr_status *st, struct gu_err *err)
{
    return asr_load(cfg, true, out, st, err);
}

int
voice_asr_probe(const struct gu_config *cfg, bool load_model,
                struct voice_asr_status *st)
{
    struct voice_asr *r = NULL;
    struct gu_err err;
    int rc;

    gu_err_clear(&err);
    rc = asr_load(cfg, load_model, &r, st, &err);
    asr_close(r);
    return rc;
}

void
voice_asr_free(struct voice_asr *r)
{
    asr_close(r);
}

int
voice_asr_recognize(struct voice_asr *r, const int16_t *pcm, size_t n,
                    const char *grammar, char *text, size_t cap,
                    struct gu_err *err)
{
    struct gu_arena *a = NULL;
    struct voice_audio in = {.pcm = (int16_t *)pcm, .n = n,
                             .rate = VOICE_PHONE_RATE};
    struct voice_audio up;
    void *rec = NULL;
    json_t *j = NULL;
    const char *res, *t;
    int rc = 0;

    *text = '\0';
    if (n > (size_t)VOICE_ASR_MAX_MS * (VOICE_PHONE_RATE / 1000))
        return gu_err_set(err, GU_ETOOBIG, NULL, NULL, "utterance too long");
    if (!(a = gu_arena_new(0)))
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    if ((rc = voice_resample(a, &in, ASR_RATE, &up, err)) < 0)
        goto out;
    if (!(rec = r->rec_new_grm(r->model, (float)ASR_RATE, grammar))) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL,
                        "vosk_recognizer_new_grm failed");
        goto out;
    }
    const char *bytes = (const char *)up.pcm;
    size_t len = up.n * sizeof(*up.pcm);
    for (size_t off = 0; off < len; off += ASR_CHUNK) {
        int k = (int)(len - off < ASR_CHUNK ? len - off : ASR_CHUNK);
        if (r->rec_accept(rec, bytes + off, k) < 0) {
            rc = gu_err_set(err, GU_EIO, NULL, NULL,
                            "vosk_recognizer_accept_waveform failed");
            goto out;
        }
    }
    res = r->rec_final(rec);
    if (!res || !(j = json_loads(res, 0, NULL)) ||
        !(t = json_string_value(json_object_get(j, "text")))) {
        rc = gu_err_set(err, GU_EIO, NULL, NULL, "bad recogniser result");
        goto out;
    }
    snprintf(text, cap, "%s", t);
out:
    json_decref(j);
    if (rec)
        r->rec_free(rec);
    gu_arena_free(a);
    return rc;
}

int
voice_asr_report(const struct gu_config *cfg, FILE *out)
{
    struct voice_asr_status st;
    int rc = voice_asr_probe(cfg, true, &st);

    fprintf(out, "Reconnaissance de la parole : %s\n", st.engine);
    if (strcmp(st.engine, "none") != 0) {
        fprintf(out, "Bibliothèque : %s (%s)\n", st.library,
                st.library_found ? "trouvée" : "absente ou invalide");
        fprintf(out, "Modèle : %s (%s)\n", *st.model ? st.model : "non réglé",
                st.model_found ? "trouvé et chargé" : "non chargé");
    }
    if (rc == 0 && st.ready) {
        fprintf(out, "État : disponible, les menus acceptent la parole.\n");
        return 0;
    }
    fprintf(out, "État : indisponible, les menus se pilotent au clavier.\n");
    fprintf(out, "Raison : %s\n", st.reason);
    return 1;
}
