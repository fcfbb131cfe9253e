/*
 * test_voice_asr.c - speech recognition as a plug-in (voice_asr.c and the
 * menus' grammars in voice_call.c).
 *
 * The engine's absence is reported with its reason: engine "none", a
 * library that does not exist, a library that is not Vosk's (libm: the
 * symbols are missing), no model set, a model directory that does not
 * exist, a model the engine cannot load.
 *
 * Vosk and its French models cannot be installed on the test machines,
 * so the engine is tests/voice/asr_standin.c: a small library built here
 * with the system's cc, implementing the part of Vosk's C ABI the loader
 * uses (see that file); it "recognises" a phrase from the pitch of the
 * utterance and only if the grammar lists it. Through it the real dlopen
 * path runs, and in a call driven frame by frame with a worker thread:
 * the grammar the menu hands to the engine (checked in the file the
 * stand-in writes), an utterance cut by the energy detector, the phrase
 * recognised and mapped to the menu's key (« rendez-vous » -> 2, « deux »
 * -> 2, « retour » -> #), a phrase outside the menu's grammar ignored.
 *
 * When GUICHET_TEST_LIBVOSK names the real libvosk.so (e.g. from the npm
 * package vosk), the loader is also checked against it: the symbols are
 * found, a directory that is not a model is reported.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "app/app.h"
#include "kb/kb.h"
#include "rdv/rdv.h"
#include "voice/voice_phone.h"
#include "store_url.h"

static char tmpdir[256];
static char standin[300];
static char model[300];

/* Pitches of the stand-in model (tests/voice/asr_standin.c). */
#define HZ_RENDEZ_VOUS 500
#define HZ_AGENT 650
#define HZ_RETOUR 800
#define HZ_DEUX 950

static struct gu_config *
config(const char *ini)
{
    struct gu_config *cfg = NULL;
    struct gu_err err;

    gu_err_clear(&err);
    if (gu_config_defaults(&cfg, &err) < 0 ||
        gu_config_parse_string(cfg, ini, &err) < 0) {
        fprintf(stderr, "config: %s\n", err.msg);
        gu_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static int
build_standin(void)
{
    char cmd[1024];
    FILE *f;

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/guichet-asr.XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    snprintf(standin, sizeof(standin), "%s/libvosk-standin.so", tmpdir);
    snprintf(model, sizeof(model), "%s/modele", tmpdir);
    snprintf(cmd, sizeof(cmd),
             "cc -shared -fPIC -O1 -o %s %s/tests/voice/asr_standin.c -lm",
             standin, GU_SOURCE_DIR);
    if (system(cmd) != 0 || mkdir(model, 0700) != 0)
        return -1;
    snprintf(cmd, sizeof(cmd), "%s/phrases.txt", model);
    if (!(f = fopen(cmd, "w")))
        return -1;
    fprintf(f, "%d rendez-vous\n%d agent\n%d retour\n%d deux\n",
            HZ_RENDEZ_VOUS, HZ_AGENT, HZ_RETOUR, HZ_DEUX);
    fclose(f);
    return 0;
}

static void
cleanup(void)
{
    char cmd[400];

    if (*tmpdir) {
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", tmpdir);
    }
}

static void
test_absent(void)
{
    struct voice_asr *r = (struct voice_asr *)1;
    struct voice_asr_status st;
    struct gu_err err;
    struct gu_config *cfg;
    enum voice_asr_engine e;

    gu_err_clear(&err);
    /* Default: none, keypad only, not an error. */
    CHECK((cfg = config("")) != NULL);
    CHECK_EQ(voice_asr_open(cfg, &r, &st, &err), 0);
    CHECK(r == NULL);
    CHECK_STR(st.engine, "none");
    CHECK(!st.ready);
    CHECK_CONTAINS(st.reason, "désactivée");
    gu_config_free(cfg);

    /* A library that is not there. */
    CHECK((cfg = config("[voice]\nasr_engine = vosk\nasr_library = "
                        "/nonexistent/libvosk.so\nasr_model = /tmp\n")));
    CHECK_EQ(voice_asr_open(cfg, &r, &st, &err), GU_EBUSY);
    CHECK(r == NULL);
    CHECK_STR(st.engine, "vosk");
    CHECK(!st.library_found && !st.ready);
    CHECK_CONTAINS(st.reason, "introuvable");
    CHECK_CONTAINS(st.reason, "/nonexistent/libvosk.so");
    CHECK_CONTAINS(err.user, "introuvable");
    CHECK_EQ(voice_asr_probe(cfg, false, &st), GU_EBUSY);
    gu_config_free(cfg);

    /* A library without Vosk's symbols. */
    CHECK((cfg = config("[voice]\nasr_engine = vosk\nasr_library = "
                        "libm.so.6\nasr_model = /tmp\n")));
    CHECK_EQ(voice_asr_open(cfg, &r, &st, &err), GU_EBUSY);
    CHECK(!st.library_found);
    CHECK_CONTAINS(st.reason, "vosk_model_new");
    CHECK_CONTAINS(st.reason, "n'est pas celle de Vosk");
    gu_config_free(cfg);

    /* An unknown engine does not pass the settings' validation. */
    struct gu_config *c2 = NULL;
    CHECK_EQ(gu_config_defaults(&c2, &err), 0);
    CHECK(gu_config_parse_string(c2, "[voice]\nasr_engine = whisper\n",
                                 &err) < 0);
    gu_config_free(c2);
    CHECK_EQ(voice_asr_engine_parse("vosk", &e), 0);
    CHECK_EQ(e, VOICE_ASR_VOSK);
    CHECK_EQ(voice_asr_engine_parse("", &e), 0);
    CHECK_EQ(e, VOICE_ASR_NONE);
    CHECK_EQ(voice_asr_engine_parse("sphinx", &e), GU_EINVAL);
    voice_asr_free(NULL);
}

static void
test_model_missing(void)
{
    struct voice_asr *r = NULL;
    struct voice_asr_status st;
    struct gu_err err;
    struct gu_config *cfg;
    char ini[1024], empty[320];

    gu_err_clear(&err);
    /* No model set. */
    snprintf(ini, sizeof(ini), "[voice]\nasr_engine = vosk\nasr_library = "
                               "%s\n",
             standin);
    CHECK((cfg = config(ini)) != NULL);
    CHECK_EQ(voice_asr_open(cfg, &r, &st, &err), GU_EBUSY);
    CHECK(st.library_found && !st.model_found);
    CHECK_CONTAINS(st.reason, "Aucun modèle");
    gu_config_free(cfg);
    /* A model path that does not exist. */
    snprintf(ini, sizeof(ini), "[voice]\nasr_engine = vosk\nasr_library = "
                               "%s\nasr_model = %s/absent\n",
             standin, tmpdir);
    CHECK((cfg = config(ini)) != NULL);
    CHECK_EQ(voice_asr_open(cfg, &r, &st, &err), GU_EBUSY);
    CHECK(st.library_found && !st.model_found);
    CHECK_CONTAINS(st.reason, "introuvable");
    CHECK_CONTAINS(st.reason, "/absent");
    gu_config_free(cfg);
    /* A directory the engine cannot load as a model. */
    snprintf(empty, sizeof(empty), "%s/vide", tmpdir);
    CHECK_EQ(mkdir(empty, 0700), 0);
    snprintf(ini, sizeof(ini), "[voice]\nasr_engine = vosk\nasr_library = "
                               "%s\nasr_model = %s\n",
             standin, empty);
    CHECK((cfg = config(ini)) != NULL);
    CHECK_EQ(voice_asr_open(cfg, &r, &st, &err), GU_EBUSY);
    CHECK(r == NULL);
    CHECK_CONTAINS(st.reason, "n'a pas pu être chargé");
    /* The cheap probe only checks that the directory exists. */
    CHECK_EQ(voice_asr_probe(cfg, false, &st), 0);
    CHECK(st.ready);
    gu_config_free(cfg);
}

/* n samples of a tone at hz then `quiet_ms` of silence. */
static size_t
utterance(unsigned hz, unsigned ms, unsigned quiet_ms, int16_t *out,
          size_t cap)
{
    size_t n = voice_tone(hz, 8000, ms, 6000, out, cap);
    size_t q = (size_t)quiet_ms * 8;

    if (n + q > cap)
        q = cap - n;
    memset(out + n, 0, q * sizeof(*out));
    return n + q;
}

static void
test_recognize(void)
{
    struct voice_asr *r = NULL;
    struct voice_asr_status st;
    struct gu_err err;
    struct gu_config *cfg;
    char ini[1024], text[128];
    static int16_t pcm[8000 * 5];
    size_t n;

    gu_err_clear(&err);
    snprintf(ini, sizeof(ini), "[voice]\nasr_engine = vosk\nasr_library = "
                               "%s\nasr_model = %s\n",
             standin, model);
    CHECK((cfg = config(ini)) != NULL);
    CHECK_EQ(voice_asr_open(cfg, &r, &st, &err), 0);
    CHECK(r != NULL);
    CHECK(st.ready && st.library_found && st.model_found);
    CHECK_STR(st.reason, "");
    if (!r)
        goto out;
    n = utterance(HZ_RENDEZ_VOUS, 800, 0, pcm, 8000 * 5);
    CHECK_EQ(voice_asr_recognize(r, pcm, n, "[\"rendez-vous\",\"[unk]\"]",
                                 text, sizeof(text), &err),
             0);
    CHECK_STR(text, "rendez-vous");
    /* Outside the grammar: nothing. */
    CHECK_EQ(voice_asr_recognize(r, pcm, n, "[\"agent\",\"[unk]\"]", text,
                                 sizeof(text), &err),
             0);
    CHECK_STR(text, "");
    /* Bounded: longer than VOICE_ASR_MAX_MS is refused. */
    CHECK_EQ(voice_asr_recognize(r, pcm, 8000 * 5, "[\"agent\"]", text,
                                 sizeof(text), &err),
             GU_ETOOBIG);
out:
    voice_asr_free(r);
    gu_config_free(cfg);
}

/* ----- in a call ----- */

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_config *cfg;
    struct voice_asr *asr;
    struct voice_phone *ph;
};

static int
fake_tts(void *arg, struct gu_arena *a, const char *text, int16_t **pcm,
         size_t *n, struct gu_err *err)
{
    size_t k = 800; /* 100 ms: the prompt's words do not matter here */

    (void)arg;
    (void)text;
    (void)err;
    if (!(*pcm = gu_arena_alloc(a, k * sizeof(**pcm))))
        return GU_ENOMEM;
    *n = voice_tone(300, 8000, 100, 3000, *pcm, k);
    return 0;
}

static int
fix_open(struct fix *f)
{
    struct gu_err err;
    struct store_commune m;
    struct voice_asr_status st;
    size_t loaded = 0;
    char ini[1024];

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    memset(&m, 0, sizeof(m));
    memcpy(m.insee, "99001", 6);
    m.name = "Saint-Exemple-sur-Loire";
    m.zone = "B";
    m.hours = "";
    m.address = m.phone = m.email = "";
    snprintf(ini, sizeof(ini), "[voice]\nasr_engine = vosk\nasr_library = "
                               "%s\nasr_model = %s\n",
             standin, model);
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, NULL, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 || !(f->cfg = config(ini)) ||
        store_commune_create(f->c, &m, &err) < 0 ||
        kb_demo_load(f->c, "99001", "test", &loaded, &err) < 0 ||
        rdv_demo_seed(f->c, "99001", &err) < 0 ||
        voice_asr_open(f->cfg, &f->asr, &st, &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    struct voice_phone_opts po = {.insee = "99001",
                                  .tts = fake_tts,
                                  .asr = f->asr};
    if (voice_phone_new(f->s, f->cfg, &po, &f->ph, &err) < 0) {
        fprintf(stderr, "phone: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static void
fix_close(struct fix *f)
{
    voice_phone_free(f->ph);
    voice_asr_free(f->asr);
    store_release(f->c);
    store_close(f->s);
    gu_config_free(f->cfg);
}

/*
 * The caller says something (a tone for the stand-in), in 20 ms frames
 * as a transport feeds them, the bot's frames played in between; then
 * frames until the state changes from `from`, the phrase heard changes,
 * or 5 s pass (the worker answers on its own thread).
 */
static void
say_to(struct voice_call *c, unsigned hz, const char *from)
{
    static int16_t pcm[8000 * 2];
    int16_t out[VOICE_FRAME];
    size_t n = utterance(hz, 700, 700, pcm, 8000 * 2);
    char before[128];

    snprintf(before, sizeof(before), "%s", voice_call_heard(c));
    for (size_t i = 0; i < n; i += VOICE_FRAME) {
        voice_call_audio_in(c, pcm + i, VOICE_FRAME);
        voice_call_audio_out(c, out);
    }
    for (int i = 0; i < 500 && strcmp(voice_call_state(c), from) == 0 &&
                    strcmp(voice_call_heard(c), before) == 0;
         i++) {
        usleep(10000);
        voice_call_audio_out(c, out);
    }
}

/* Frames until the main menu (the greeting is synthesised by a worker:
 * a little time is given to it), at most 5 s. */
static void
to_menu(struct voice_call *c)
{
    int16_t out[VOICE_FRAME];

    for (int i = 0; i < 2500 && strcmp(voice_call_state(c), "menu"); i++) {
        voice_call_audio_out(c, out);
        usleep(2000);
    }
}

static bool
file_contains(const char *path, const char *needle)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    size_t n;

    if (!f)
        return false;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, needle) != NULL;
}

static void
test_call_by_voice(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    char log[400];

    gu_err_clear(&err);
    if (fix_open(&f) < 0) {
        CHECK(0);
        fix_close(&f);
        return;
    }
    CHECK_EQ(voice_call_new(f.ph, "", "asr1", &c, &err), 0);
    if (!c)
        goto out;
    /* The greeting is not a menu: nothing to hear. */
    CHECK_STR(voice_call_grammar(c), "");
    to_menu(c);
    CHECK_STR(voice_call_state(c), "menu");
    /* The main menu's grammar: each option's number, its words, the
     * global ones, and "[unk]". */
    CHECK_CONTAINS(voice_call_grammar(c), "\"un\"");
    CHECK_CONTAINS(voice_call_grammar(c), "\"zéro\"");
    CHECK_CONTAINS(voice_call_grammar(c), "\"rendez-vous\"");
    CHECK_CONTAINS(voice_call_grammar(c), "\"annuler\"");
    CHECK_CONTAINS(voice_call_grammar(c), "\"agent\"");
    CHECK_CONTAINS(voice_call_grammar(c), "\"répéter\"");
    CHECK_CONTAINS(voice_call_grammar(c), "\"[unk]\"");
    CHECK(strstr(voice_call_grammar(c), "\"oui\"") == NULL);

    /* « rendez-vous » -> key 2: the motifs. */
    say_to(c, HZ_RENDEZ_VOUS, "menu");
    CHECK_STR(voice_call_heard(c), "rendez-vous");
    CHECK_STR(voice_call_state(c), "motifs");
    /* What the engine got: the menu's grammar, at 16 kHz. */
    snprintf(log, sizeof(log), "%s/grammars.log", model);
    CHECK(file_contains(log, "16000 [\"un\",\"deux\",\"trois\",\"zéro\","));
    CHECK(file_contains(log, "\"rendez-vous\""));

    /* « agent » is not a phrase of the motifs menu: ignored. */
    CHECK(strstr(voice_call_grammar(c), "\"agent\"") == NULL);
    say_to(c, HZ_AGENT, "motifs");
    CHECK_STR(voice_call_heard(c), "");
    CHECK_STR(voice_call_state(c), "motifs");
    /* « retour » is « # »: back to the main menu. */
    say_to(c, HZ_RETOUR, "motifs");
    CHECK_STR(voice_call_heard(c), "retour");
    CHECK_STR(voice_call_state(c), "menu");
    /* « deux », a key's number said. */
    say_to(c, HZ_DEUX, "menu");
    CHECK_STR(voice_call_heard(c), "deux");
    CHECK_STR(voice_call_state(c), "motifs");
    /* Keys still work beside speech. */
    voice_call_digit(c, '#');
    CHECK_STR(voice_call_state(c), "menu");
out:
    voice_call_free(c);
    fix_close(&f);
}

/* A call that hangs up while its utterance is being recognised: the
 * worker's answer is dropped, nothing leaks (ASan). */
static void
test_hangup_during_recognition(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    static int16_t pcm[8000 * 2];

    gu_err_clear(&err);
    if (fix_open(&f) < 0) {
        CHECK(0);
        fix_close(&f);
        return;
    }
    for (int k = 0; k < 5; k++) {
        CHECK_EQ(voice_call_new(f.ph, "", "asr2", &c, &err), 0);
        if (!c)
            break;
        to_menu(c);
        size_t n = utterance(HZ_AGENT, 700, 600, pcm, 8000 * 2);
        voice_call_audio_in(c, pcm, n);
        voice_call_free(c);
        c = NULL;
    }
    fix_close(&f);
}

/* What `guichet voice asr` prints, ready and not. */
static void
test_report(void)
{
    struct gu_config *cfg;
    char ini[1024], buf[4096];
    FILE *f;
    size_t n;

    snprintf(ini, sizeof(ini), "[voice]\nasr_engine = vosk\nasr_library = "
                               "%s\nasr_model = %s\n",
             standin, model);
    CHECK((cfg = config(ini)) != NULL);
    CHECK((f = tmpfile()) != NULL);
    if (!f || !cfg)
        goto out;
    CHECK_EQ(voice_asr_report(cfg, f), 0);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    CHECK_CONTAINS(buf, "Reconnaissance de la parole : vosk");
    CHECK_CONTAINS(buf, "(trouvée)");
    CHECK_CONTAINS(buf, "trouvé et chargé");
    CHECK_CONTAINS(buf, "État : disponible");
    gu_config_free(cfg);
    snprintf(ini, sizeof(ini), "[voice]\nasr_engine = vosk\nasr_library = "
                               "%s\nasr_model = %s/absent\n",
             standin, tmpdir);
    CHECK((cfg = config(ini)) != NULL);
    CHECK((f = tmpfile()) != NULL);
    if (!f || !cfg)
        goto out;
    CHECK_EQ(voice_asr_report(cfg, f), 1);
    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    CHECK_CONTAINS(buf, "État : indisponible");
    CHECK_CONTAINS(buf, "Raison : Modèle de reconnaissance introuvable");
out:
    gu_config_free(cfg);
}

/* The real Vosk library, when the test is told where it is. */
static void
test_real_vosk(void)
{
    const char *lib = getenv("GUICHET_TEST_LIBVOSK");
    struct voice_asr *r = NULL;
    struct voice_asr_status st;
    struct gu_err err;
    struct gu_config *cfg;
    char ini[1024];

    if (!lib || !*lib)
        return;
    gu_err_clear(&err);
    snprintf(ini, sizeof(ini), "[voice]\nasr_engine = vosk\nasr_library = "
                               "%s\nasr_model = %s/vide\n",
             lib, tmpdir);
    CHECK((cfg = config(ini)) != NULL);
    CHECK_EQ(voice_asr_open(cfg, &r, &st, &err), GU_EBUSY);
    CHECK(st.library_found);
    CHECK(!st.model_found);
    CHECK_CONTAINS(st.reason, "n'a pas pu être chargé");
    fprintf(stderr, "real libvosk: %s\n", st.reason);
    gu_config_free(cfg);
}

static void
test_all(void)
{
    if (build_standin() < 0) {
        fprintf(stderr, "cannot build the stand-in engine with cc\n");
        CHECK(0);
        cleanup();
        return;
    }
    test_model_missing();
    test_recognize();
    test_call_by_voice();
    test_hangup_during_recognition();
    test_report();
    test_real_vosk();
    cleanup();
}

TESTS(T(test_absent), T(test_all))
