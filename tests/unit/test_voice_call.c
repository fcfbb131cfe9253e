/*
 * test_voice_call.c - the phone bot's menu, driven frame by frame as a
 * transport would, on the demo commune (fiches, appointment model) in an
 * in-memory store: greeting (automated assistant, commune's name), keys
 * in-band (tones) and out-of-band, frequent questions answered by the
 * assistant, a booking by keypad with its confirmation code, the cancel
 * with that code, wrong keys and silence, the transfer during opening
 * hours, the voicemail landing in the request inbox otherwise.
 *
 * The synthesis hook is a fake that turns each text into a short tone
 * and remembers the text, so the tests read what the bot says; the real
 * engine is exercised by the AudioSocket test (tests/voice/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "app/app.h"
#include "kb/kb.h"
#include "rdv/rdv.h"
#include "triage/tri.h"
#include "voice/voice_phone.h"
#include "store_url.h"

struct fix {
    struct store *s;
    struct store_conn *c;
    struct gu_arena *a;
    struct gu_config *cfg;
    struct voice_phone *ph;
    unsigned tts_calls;    /* atomic: workers synthesise too */
    unsigned tts_delay_us; /* atomic: a slow engine */
};

static int
fake_tts(void *arg, struct gu_arena *a, const char *text, int16_t **pcm,
         size_t *n, struct gu_err *err)
{
    struct fix *f = arg;
    size_t k = strlen(text) * 80 + 160; /* 10 ms a byte, not zero */

    unsigned delay = __atomic_load_n(&f->tts_delay_us, __ATOMIC_SEQ_CST);

    (void)err;
    __atomic_add_fetch(&f->tts_calls, 1, __ATOMIC_SEQ_CST);
    if (delay)
        usleep(delay);
    *pcm = gu_arena_alloc(a, k * sizeof(**pcm));
    if (!*pcm)
        return GU_ENOMEM;
    *n = voice_tone(300, 8000, (unsigned)(k / 8), 3000, *pcm, k);
    return 0;
}

static int
fix_open(struct fix *f, const struct voice_phone_opts *o)
{
    struct gu_err err;
    struct store_commune m;
    size_t loaded = 0;

    memset(f, 0, sizeof(*f));
    gu_err_clear(&err);
    memset(&m, 0, sizeof(m));
    memcpy(m.insee, "99001", 6);
    m.name = "Saint-Exemple-sur-Loire";
    m.zone = "B";
    m.hours = "du lundi au vendredi de 8 h 30 à 12 h";
    m.address = m.phone = m.email = "";
    if (gu_crypto_init() < 0 ||
        store_open(th_store_url(), &f->s, &err) < 0 ||
        app_migrate(f->s, NULL, &err) < 0 ||
        store_acquire(f->s, &f->c, &err) < 0 ||
        gu_config_defaults(&f->cfg, &err) < 0 || !(f->a = gu_arena_new(0)) ||
        store_commune_create(f->c, &m, &err) < 0 ||
        kb_demo_load(f->c, "99001", "test", &loaded, &err) < 0 ||
        rdv_demo_seed(f->c, "99001", &err) < 0) {
        fprintf(stderr, "fixture: %s\n", err.msg);
        return -1;
    }
    struct voice_phone_opts po = *o;
    po.insee = "99001";
    po.tts = fake_tts;
    po.tts_arg = f;
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
    gu_arena_free(f->a);
    store_release(f->c);
    store_close(f->s);
    gu_config_free(f->cfg);
}

/* Play frames until the bot is silent (prompt done) or acts; at most
 * `max` frames. Returns the action; *frames gets how many were played. */
static enum voice_action
play(struct voice_call *c, unsigned max, unsigned *frames)
{
    int16_t out[VOICE_FRAME];
    unsigned i;
    enum voice_action act = VOICE_ACT_CONTINUE;

    for (i = 0; i < max; i++) {
        act = voice_call_audio_out(c, out);
        if (act != VOICE_ACT_CONTINUE)
            break;
        if (voice_rms(out, VOICE_FRAME) == 0)
            break; /* silence: waiting for the caller */
    }
    if (frames)
        *frames = i;
    return act;
}

/* Press a key in-band: the tone goes through the detector. */
static void
press_tone(struct voice_call *c, char key)
{
    int16_t pcm[1600], silence[VOICE_FRAME] = {0};
    size_t n = voice_dtmf_tone(key, 8000, 80, 80, 6000, pcm, 1600);

    for (size_t i = 0; i < n; i += VOICE_FRAME)
        voice_call_audio_in(c, pcm + i,
                            n - i < VOICE_FRAME ? n - i : VOICE_FRAME);
    voice_call_audio_in(c, silence, VOICE_FRAME);
}

static void
keys(struct voice_call *c, const char *s)
{
    for (; *s; s++)
        voice_call_digit(c, *s);
}

/* Unix time of the next `weekday` (1 = Monday) at hh:mm in Paris. */
static int64_t
next_weekday(int weekday, int minute)
{
    int64_t day;
    int m;

    gu_tz_from_utc(GU_TZ_PARIS, gu_now(), &day, &m);
    day += 1;
    /* Skip public holidays so the test does not depend on the date. */
    while (gu_day_weekday(day) != weekday ||
           gu_holiday(day, GU_HOL_METROPOLE))
        day++;
    return gu_tz_to_utc(GU_TZ_PARIS, day, minute);
}

static void
test_greeting_and_menu(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    unsigned frames;

    CHECK(fix_open(&f, &(struct voice_phone_opts){0}) == 0);
    CHECK_EQ(voice_call_new(f.ph, "", "t1", &c, &err), 0);
    if (!c)
        goto out;
    CHECK_STR(voice_call_state(c), "accueil");
    CHECK_CONTAINS(voice_call_last_prompt(c), "assistant automatique");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Saint-Exemple-sur-Loire");
    CHECK_CONTAINS(voice_call_last_prompt(c), "pas une personne");
    CHECK_EQ(play(c, 2000, &frames), VOICE_ACT_CONTINUE);
    CHECK(frames > 10); /* the greeting was heard */
    /* Greeting, then the menu. */
    CHECK_EQ(play(c, 2000, NULL), VOICE_ACT_CONTINUE);
    CHECK_STR(voice_call_state(c), "menu");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Pour les horaires et les "
                                              "questions fréquentes, tapez un");
    CHECK_CONTAINS(voice_call_last_prompt(c), "tapez zéro");
    /* « * » repeats the same prompt. */
    const char *before = voice_call_last_prompt(c);
    char copy[1024];
    snprintf(copy, sizeof(copy), "%s", before);
    keys(c, "*");
    CHECK_STR(voice_call_state(c), "menu");
    CHECK_STR(voice_call_last_prompt(c), copy);
    /* The same text is synthesised once (cache). */
    size_t entries, samples;
    voice_phone_cache_stats(f.ph, &entries, &samples);
    CHECK_EQ(entries, 2);
    CHECK_EQ(f.tts_calls, 2);
    CHECK(samples > 0);
    voice_call_free(c);
    /* A second call reuses the cached greeting and menu. */
    CHECK_EQ(voice_call_new(f.ph, NULL, NULL, &c, &err), 0);
    play(c, 2000, NULL);
    play(c, 2000, NULL);
    CHECK_EQ(f.tts_calls, 2);
out:
    voice_call_free(c);
    fix_close(&f);
}

static void
test_warm(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    size_t entries, samples;

    CHECK(fix_open(&f, &(struct voice_phone_opts){0}) == 0);
    CHECK_EQ(voice_phone_warm(f.ph, &err), 11);
    CHECK_EQ(f.tts_calls, 11);
    voice_phone_cache_stats(f.ph, &entries, &samples);
    CHECK_EQ(entries, 11);
    /* A call then synthesises nothing for the greeting, the menu, the
     * questions' menu and the voicemail prompt. */
    CHECK_EQ(voice_call_new(f.ph, NULL, "w1", &c, &err), 0);
    if (!c)
        goto out;
    play(c, 4000, NULL);
    keys(c, "1#0");
    CHECK_STR(voice_call_state(c), "messagerie");
    CHECK_EQ(f.tts_calls, 11);
    /* Warming again finds everything cached. */
    CHECK_EQ(voice_phone_warm(f.ph, &err), 11);
    CHECK_EQ(f.tts_calls, 11);
out:
    voice_call_free(c);
    fix_close(&f);
}

/*
 * With workers (as the transports run it), a new prompt is synthesised
 * off the caller's thread: the call's frames keep coming at once, silent,
 * the state waits for its prompt to be heard, a key during the synthesis
 * drops it, and a cached prompt plays at once.
 */
static void
test_async_synthesis(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    int16_t out[VOICE_FRAME];
    bool heard = false;
    int64_t t0;

    CHECK(fix_open(&f, &(struct voice_phone_opts){.workers = 1}) == 0);
    __atomic_store_n(&f.tts_delay_us, 300000, __ATOMIC_SEQ_CST);
    CHECK_EQ(voice_call_new(f.ph, "", "a1", &c, &err), 0);
    if (!c)
        goto out;
    t0 = gu_now_ms();
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(voice_call_audio_out(c, out), VOICE_ACT_CONTINUE);
        CHECK(voice_rms(out, VOICE_FRAME) == 0);
    }
    CHECK(gu_now_ms() - t0 < 100); /* not the 300 ms of the synthesis */
    CHECK_STR(voice_call_state(c), "accueil");
    for (int i = 0; i < 300 && !heard; i++) {
        usleep(10000);
        voice_call_audio_out(c, out);
        heard = voice_rms(out, VOICE_FRAME) > 0;
    }
    CHECK(heard);
    /* The greeting plays out, then the menu's prompt is asked for. */
    for (int i = 0; i < 3000 && strcmp(voice_call_state(c), "menu"); i++)
        voice_call_audio_out(c, out);
    CHECK_STR(voice_call_state(c), "menu");
    /* A key before it is ready: the key acts, the menu's prompt is
     * dropped (its worker's answer is freed with its slot). */
    keys(c, "3");
    CHECK_STR(voice_call_state(c), "code");
    voice_call_free(c);
    c = NULL;
    /* Later calls find the greeting in the cache: it plays at once. */
    usleep(700000); /* the workers finish what was asked */
    __atomic_store_n(&f.tts_delay_us, 0, __ATOMIC_SEQ_CST);
    CHECK_EQ(voice_call_new(f.ph, "", "a2", &c, &err), 0);
    if (!c)
        goto out;
    voice_call_audio_out(c, out);
    CHECK(voice_rms(out, VOICE_FRAME) > 0);
out:
    voice_call_free(c);
    fix_close(&f);
}

/*
 * The chat's log as the assistant keeps it: one conversation, `n`
 * answers from fiche `fiche` at time `at`, their question text holding a
 * name and a phone number (which the phone must never read).
 */
static void
log_answers(struct fix *f, const char *type, const char *fiche, int n,
            int64_t at)
{
    struct gu_err err;
    struct store_rows *r = NULL;
    static int conv;
    char token[32];

    snprintf(token, sizeof(token), "h%d", ++conv);
    struct store_val cp[3] = {STORE_T(token), STORE_I(at), STORE_I(at)};
    CHECK_EQ(store_query(f->c, f->a,
                         "INSERT INTO asst_conversations (insee, token_hash, "
                         "created_at, updated_at) VALUES ('99001', ?, ?, ?) "
                         "RETURNING id",
                         cp, 3, &r, &err),
             0);
    int64_t id = r ? store_int(r, 0, 0) : 0;
    for (int i = 0; i < n; i++) {
        struct store_val p[4] = {STORE_I(id), STORE_I(at), STORE_T(type),
                                 STORE_T(fiche)};
        CHECK_EQ(store_exec(f->c,
                            "INSERT INTO asst_messages (conversation_id, "
                            "insee, at, question, type, payload, fiche_id) "
                            "VALUES (?, '99001', ?, 'Je suis Jean Dupont, "
                            "0611223344', ?, '{}', ?)",
                            p, 4, &err),
                 0);
    }
}

/*
 * « 1 » offers the commune's most asked questions from the assistant's
 * own log: the fiches its answers came from most over the last 90 days
 * (at least 3 answers each), top 4 by count, by their titles; older
 * answers and other reply types do not count, residents' texts are never
 * read; too few such fiches and the fixed list is offered.
 */
static void
test_faq_from_chat(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    struct kb_fiche *all = NULL;
    size_t nall = 0;
    const char *ids[6], *titles[6];
    static char idbuf[6][128], titlebuf[6][256];
    size_t k = 0;
    int64_t now = gu_now();

    CHECK(fix_open(&f, &(struct voice_phone_opts){0}) == 0);
    CHECK_EQ(kb_view_load(f.c, f.a, "99001", &all, &nall, &err), 0);
    for (size_t i = 0; i < nall && k < 6; i++) {
        if (!all[i].title || !*all[i].title)
            continue;
        /* copied: the fixture's arena goes with it */
        snprintf(idbuf[k], sizeof(idbuf[k]), "%s", all[i].id);
        snprintf(titlebuf[k], sizeof(titlebuf[k]), "%s", all[i].title);
        ids[k] = idbuf[k];
        titles[k] = titlebuf[k];
        k++;
    }
    CHECK_EQ(k, 6);
    if (k < 6)
        goto out;
    log_answers(&f, "answer", ids[3], 3, now - 3600);
    log_answers(&f, "answer", ids[1], 5, now - 86400 * 10);
    log_answers(&f, "answer", ids[0], 6, now - 86400 * 89);
    log_answers(&f, "answer", ids[2], 4, now - 60);
    log_answers(&f, "answer", ids[4], 2, now - 60);      /* too few */
    log_answers(&f, "clarify", ids[4], 9, now - 60);     /* not answers */
    log_answers(&f, "answer", ids[5], 20, now - 86400 * 91); /* too old */
    CHECK_EQ(voice_call_new(f.ph, "", "q1", &c, &err), 0);
    if (!c)
        goto out;
    keys(c, "1");
    CHECK_STR(voice_call_state(c), "questions");
    const char *p = voice_call_last_prompt(c);
    CHECK_CONTAINS(p, "Les questions les plus posées.");
    const char *at[4];
    for (int i = 0; i < 4; i++) {
        at[i] = strstr(p, titles[i]);
        CHECK(at[i] != NULL);
        if (!at[i])
            fprintf(stderr, "missing: %s\n", titles[i]);
    }
    /* by count: ids[0] (6), [1] (5), [2] (4), [3] (3) */
    CHECK(at[0] && at[1] && at[0] < at[1]);
    CHECK(at[1] && at[2] && at[1] < at[2]);
    CHECK(at[2] && at[3] && at[2] < at[3]);
    CHECK(strstr(p, titles[4]) == NULL);
    CHECK(strstr(p, titles[5]) == NULL);
    CHECK(strstr(p, "Dupont") == NULL);
    CHECK(strstr(p, "carte d'identité ou un passeport ?") == NULL);
    /* The first one is answered by the assistant. */
    keys(c, "1");
    CHECK_STR(voice_call_state(c), "reponse");
    CHECK(strlen(voice_call_last_prompt(c)) > 120);
    voice_call_free(c);
    c = NULL;
    fix_close(&f);

    /* Too few questions in the log: the fixed list. */
    CHECK(fix_open(&f, &(struct voice_phone_opts){0}) == 0);
    log_answers(&f, "answer", ids[0], 6, now - 3600);
    log_answers(&f, "answer", ids[1], 6, now - 3600);
    CHECK_EQ(voice_call_new(f.ph, "", "q2", &c, &err), 0);
    if (!c)
        goto out;
    keys(c, "1");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Questions fréquentes.");
    CHECK_CONTAINS(voice_call_last_prompt(c), "carte d'identité");
out:
    voice_call_free(c);
    fix_close(&f);
}

static void
test_faq_in_band_keys(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;

    CHECK(fix_open(&f, &(struct voice_phone_opts){0}) == 0);
    CHECK_EQ(voice_call_new(f.ph, "", "t2", &c, &err), 0);
    if (!c)
        goto out;
    /* A key during the greeting skips it and works in the menu. */
    press_tone(c, '1');
    CHECK_STR(voice_call_state(c), "questions");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Horaires de la mairie : du "
                                              "lundi au vendredi");
    CHECK_CONTAINS(voice_call_last_prompt(c), "carte d'identité");
    play(c, 4000, NULL);
    press_tone(c, '1');
    CHECK_STR(voice_call_state(c), "reponse");
    /* The assistant's answer from the demo fiches, without Markdown. */
    const char *p = voice_call_last_prompt(c);
    CHECK(strlen(p) > 120);
    CHECK(!strstr(p, "**"));
    CHECK(!strstr(p, "pas de réponse sûre"));
    CHECK_CONTAINS(p, "tapez dièse");
    press_tone(c, '#');
    CHECK_STR(voice_call_state(c), "questions");
    press_tone(c, '#');
    CHECK_STR(voice_call_state(c), "menu");
out:
    voice_call_free(c);
    fix_close(&f);
}

static void
test_book_and_cancel_by_keypad(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    struct rdv_booking b;
    char code[32] = "";

    CHECK(fix_open(&f, &(struct voice_phone_opts){0}) == 0);
    CHECK_EQ(voice_call_new(f.ph, NULL, "t3", &c, &err), 0);
    if (!c)
        goto out;
    play(c, 4000, NULL);
    keys(c, "2");
    CHECK_STR(voice_call_state(c), "motifs");
    CHECK_CONTAINS(voice_call_last_prompt(c), "tapez un");
    keys(c, "1");
    CHECK_STR(voice_call_state(c), "creneaux");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Prochains créneaux");
    CHECK_CONTAINS(voice_call_last_prompt(c), " à ");
    keys(c, "1");
    /* AudioSocket gives no number: the caller types one. */
    CHECK_STR(voice_call_state(c), "numero");
    keys(c, "0612#");
    CHECK_STR(voice_call_state(c), "numero");
    CHECK_CONTAINS(voice_call_last_prompt(c), "n'est pas valide");
    keys(c, "0612345678#");
    CHECK_STR(voice_call_state(c), "confirmation");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Vous avez choisi le ");
    keys(c, "1");
    CHECK_STR(voice_call_state(c), "reserve");
    CHECK(voice_call_booking(c) > 0);
    CHECK_CONTAINS(voice_call_last_prompt(c), "code de confirmation est");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Je répète");
    if (voice_call_booking(c) > 0) {
        CHECK_EQ(rdv_get(f.c, f.a, "99001", voice_call_booking(c), &b, &err),
                 0);
        CHECK_EQ(b.status, RDV_CONFIRMED);
        CHECK_EQ(b.channel, RDV_VOICE);
        CHECK_STR(b.phone, "0612345678");
        CHECK_EQ(voice_code_make(f.c, "99001", b.id, code, sizeof(code),
                                 &err),
                 0);
        /* the code also leaves by SMS, to the booking's number */
        {
            struct store_rows *r = NULL;
            struct store_val p[] = {STORE_I(b.id)};
            CHECK_EQ(store_query(f.c, f.a,
                                 "SELECT phone, text FROM rdv_sms_queue"
                                 " WHERE booking_id = ?",
                                 p, 1, &r, &err),
                     0);
            CHECK_EQ(r ? r->nrows : 0, 1);
            if (r && r->nrows == 1) {
                CHECK_STR(store_text(r, 0, 0), "0612345678");
                CHECK_CONTAINS(store_text(r, 0, 1), code);
                CHECK_CONTAINS(store_text(r, 0, 1), "Code d'annulation");
            }
        }
    }
    /* What changes from call to call (slots, the confirmation, the code)
     * is synthesised but not cached: greeting, menu, motifs and the
     * number prompt (plain and after the error) are. */
    size_t entries, samples;
    voice_phone_cache_stats(f.ph, &entries, &samples);
    CHECK_EQ(entries, 5);
    CHECK_EQ(f.tts_calls, 8);
    voice_call_free(c);
    c = NULL;

    /* Another call cancels with the code; a wrong code first. */
    CHECK_EQ(voice_call_new(f.ph, "+33 6 12 34 56 78", "t4", &c, &err), 0);
    if (!c || !*code)
        goto out;
    keys(c, "3");
    CHECK_STR(voice_call_state(c), "code");
    char wrong[32];
    snprintf(wrong, sizeof(wrong), "%s", code);
    wrong[strlen(wrong) - 1] = wrong[strlen(wrong) - 1] == '9' ? '0' : '9';
    keys(c, wrong);
    keys(c, "#");
    CHECK_STR(voice_call_state(c), "code");
    CHECK_CONTAINS(voice_call_last_prompt(c), "ne correspond à aucun");
    keys(c, code);
    keys(c, "#");
    CHECK_STR(voice_call_state(c), "annulation");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Pour l'annuler, tapez un");
    keys(c, "1");
    CHECK_STR(voice_call_state(c), "annule");
    CHECK_EQ(rdv_get(f.c, f.a, "99001", b.id, &b, &err), 0);
    CHECK_EQ(b.status, RDV_CANCELLED);
    /* The same code again: already cancelled. */
    play(c, 4000, NULL);
    play(c, 4000, NULL);
    CHECK_STR(voice_call_state(c), "menu");
    keys(c, "3");
    keys(c, code);
    keys(c, "#");
    CHECK_STR(voice_call_state(c), "code");
    CHECK_CONTAINS(voice_call_last_prompt(c), "déjà annulé");
out:
    voice_call_free(c);
    fix_close(&f);
}

static void
test_known_caller_skips_number(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    struct rdv_booking b;

    CHECK(fix_open(&f, &(struct voice_phone_opts){0}) == 0);
    CHECK_EQ(voice_call_new(f.ph, "+33 7 98 76 54 32", "t5", &c, &err), 0);
    if (!c)
        goto out;
    keys(c, "211");
    CHECK_STR(voice_call_state(c), "confirmation");
    keys(c, "1");
    CHECK_STR(voice_call_state(c), "reserve");
    CHECK(voice_call_booking(c) > 0);
    if (voice_call_booking(c) > 0) {
        CHECK_EQ(rdv_get(f.c, f.a, "99001", voice_call_booking(c), &b, &err),
                 0);
        CHECK_STR(b.phone, "0798765432");
    }
out:
    voice_call_free(c);
    fix_close(&f);
}

static void
test_wrong_keys_and_silence(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    unsigned frames = 0;
    enum voice_action act = VOICE_ACT_CONTINUE;
    int16_t out[VOICE_FRAME];

    CHECK(fix_open(&f, &(struct voice_phone_opts){.timeout_s = 2}) == 0);
    CHECK_EQ(voice_call_new(f.ph, NULL, "t6", &c, &err), 0);
    if (!c)
        goto out;
    play(c, 4000, NULL);
    play(c, 4000, NULL);
    keys(c, "7");
    CHECK_STR(voice_call_state(c), "menu");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Ce choix n'est pas valide");
    keys(c, "8");
    CHECK_CONTAINS(voice_call_last_prompt(c), "Ce choix n'est pas valide");
    keys(c, "9"); /* third wrong key: goodbye */
    CHECK_STR(voice_call_state(c), "sans_reponse");
    CHECK_EQ(play(c, 4000, NULL), VOICE_ACT_HANGUP);
    voice_call_free(c);
    c = NULL;

    /* Silence: asked again after 2 s each time, then goodbye. */
    CHECK_EQ(voice_call_new(f.ph, NULL, "t7", &c, &err), 0);
    if (!c)
        goto out;
    for (frames = 0; frames < 20000; frames++) {
        act = voice_call_audio_out(c, out);
        if (act != VOICE_ACT_CONTINUE)
            break;
    }
    CHECK_EQ(act, VOICE_ACT_HANGUP);
    CHECK_CONTAINS(voice_call_last_prompt(c), "Je n'ai pas reçu de réponse");
    /* Keys after the end do nothing. */
    keys(c, "1");
    CHECK_STR(voice_call_state(c), "sans_reponse");
out:
    voice_call_free(c);
    fix_close(&f);
}

static void
test_transfer_when_open(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;

    CHECK(fix_open(&f, &(struct voice_phone_opts){
                           .transfer_to = "sip:accueil@127.0.0.1",
                           .can_transfer = true,
                           .now = next_weekday(2, 10 * 60)}) == 0);
    CHECK_EQ(voice_call_new(f.ph, NULL, "t8", &c, &err), 0);
    if (!c)
        goto out;
    keys(c, "0");
    CHECK_STR(voice_call_state(c), "transfert");
    CHECK_CONTAINS(voice_call_last_prompt(c), "mets en relation");
    CHECK_EQ(play(c, 4000, NULL), VOICE_ACT_TRANSFER);
    CHECK_STR(voice_call_transfer_to(c), "sip:accueil@127.0.0.1");
    /* The transport could not transfer: said, then the voicemail. */
    voice_call_transfer_failed(c);
    CHECK_STR(voice_call_state(c), "transfert_echoue");
    CHECK_CONTAINS(voice_call_last_prompt(c), "n'a pas abouti");
    CHECK_EQ(play(c, 4000, NULL), VOICE_ACT_CONTINUE);
    play(c, 4000, NULL);
    CHECK_STR(voice_call_state(c), "messagerie");
    /* Outside a transfer it changes nothing. */
    voice_call_transfer_failed(c);
    CHECK_STR(voice_call_state(c), "messagerie");
out:
    voice_call_free(c);
    fix_close(&f);
}

/* Log lines written while capturing go to a temporary file. */
static int saved_stderr = -1;
static FILE *capture;

static void
capture_start(void)
{
    fflush(stderr);
    capture = tmpfile();
    saved_stderr = dup(2);
    if (capture)
        dup2(fileno(capture), 2);
}

/* Stop capturing; the captured text (heap) or NULL. */
static char *
capture_end(void)
{
    char *text = NULL;
    long n;

    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    if (!capture)
        return NULL;
    n = ftell(capture);
    if (n >= 0 && (text = calloc(1, (size_t)n + 1))) {
        rewind(capture);
        if (fread(text, 1, (size_t)n, capture) != (size_t)n)
            text[0] = '\0';
    }
    fclose(capture);
    return text;
}

static void
test_voicemail_when_closed(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    struct tri_request r;
    struct tri_attachment *at = NULL;
    size_t nat = 0;
    int16_t speech[8000];

    CHECK(fix_open(&f, &(struct voice_phone_opts){
                           .transfer_to = "sip:accueil@127.0.0.1",
                           .can_transfer = true,
                           .voicemail_s = 10,
                           .now = next_weekday(7, 10 * 60)}) == 0);
    capture_start();
    CHECK_EQ(voice_call_new(f.ph, "06 11 22 33 44", "t9", &c, &err), 0);
    if (!c)
        goto out;
    keys(c, "0");
    CHECK_STR(voice_call_state(c), "messagerie");
    CHECK_CONTAINS(voice_call_last_prompt(c), "après le bip");
    CHECK_CONTAINS(voice_call_last_prompt(c), "au plus 10 secondes");
    play(c, 4000, NULL); /* the prompt */
    play(c, 100, NULL);  /* the beep */
    /* Three seconds of "speech", then « # ». */
    voice_tone(220, 8000, 1000, 4000, speech, 8000);
    for (int s = 0; s < 3; s++)
        for (size_t i = 0; i < 8000; i += VOICE_FRAME)
            voice_call_audio_in(c, speech + i, VOICE_FRAME);
    press_tone(c, '#');
    CHECK_STR(voice_call_state(c), "message_enregistre");
    CHECK(*voice_call_voicemail_number(c));
    CHECK_CONTAINS(voice_call_last_prompt(c), "Votre message est enregistré");
    CHECK(tri_get_by_number(f.c, f.a, "99001", voice_call_voicemail_number(c),
                            &r, &err) == 0);
    CHECK_EQ(r.channel, TRI_TELEPHONE);
    CHECK_CONTAINS(r.body, "Message vocal de 3 secondes");
    CHECK_STR(r.contact_phone, "0611223344");
    /* The redacted copy has no number. */
    CHECK(!strstr(r.body_redacted, "06 11 22 33 44"));
    CHECK(!strstr(r.body_redacted, "0611223344"));
    CHECK_EQ(tri_attachments(f.c, f.a, "99001", r.id, &at, &nat, &err), 0);
    CHECK_EQ(nat, 1);
    if (nat == 1) {
        CHECK_STR(at[0].ctype, "audio/wav");
        /* 44-byte header + 16-bit samples, a bit over 3 s. */
        CHECK(at[0].size > 44 + 3 * 16000);
        CHECK(at[0].size < 44 + 4 * 16000);
    }
    /* Then goodbye and hang up. */
    play(c, 4000, NULL);
    CHECK_EQ(play(c, 4000, NULL), VOICE_ACT_HANGUP);
out:
    voice_call_free(c);
    {
        /* The caller's number is in no log line, its keyed tag is. */
        char *logs = capture_end();
        CHECK(logs != NULL);
        if (logs) {
            CHECK_CONTAINS(logs, "msg=voice.voicemail");
            CHECK_CONTAINS(logs, "caller=[téléphone·");
            CHECK(!strstr(logs, "0611223344"));
            CHECK(!strstr(logs, "06 11 22 33 44"));
            CHECK(!strstr(logs, "611223344"));
        }
        free(logs);
    }
    fix_close(&f);
}

static void
test_voicemail_hangup_and_limit(void)
{
    struct fix f;
    struct voice_call *c = NULL;
    struct gu_err err;
    struct tri_request *list = NULL;
    size_t n = 0;
    int16_t speech[VOICE_FRAME];

    /* AudioSocket cannot transfer: « 0 » always leaves a message. */
    CHECK(fix_open(&f, &(struct voice_phone_opts){
                           .transfer_to = "sip:accueil@127.0.0.1",
                           .voicemail_s = 10,
                           .now = next_weekday(2, 10 * 60)}) == 0);
    CHECK_EQ(voice_call_new(f.ph, NULL, "t10", &c, &err), 0);
    if (!c)
        goto out;
    keys(c, "0");
    CHECK_STR(voice_call_state(c), "messagerie");
    play(c, 4000, NULL);
    play(c, 100, NULL);
    voice_tone(220, 8000, 20, 4000, speech, VOICE_FRAME);
    /* 2 s then the caller hangs up: the message is filed anyway. */
    for (int i = 0; i < 100; i++)
        voice_call_audio_in(c, speech, VOICE_FRAME);
    voice_call_free(c);
    c = NULL;
    struct tri_filter flt = {.limit = 10};
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &list, &n, &err), 0);
    CHECK_EQ(n, 1);
    if (n == 1)
        CHECK_CONTAINS(list[0].body, "Numéro de l'appelant : inconnu");

    /* Longer than the limit: stopped at 10 s and filed. */
    CHECK_EQ(voice_call_new(f.ph, NULL, "t11", &c, &err), 0);
    if (!c)
        goto out;
    keys(c, "0");
    play(c, 4000, NULL);
    play(c, 100, NULL);
    for (int i = 0; i < 700 && strcmp(voice_call_state(c), "messagerie") == 0;
         i++)
        voice_call_audio_in(c, speech, VOICE_FRAME);
    CHECK_STR(voice_call_state(c), "message_enregistre");
    CHECK(*voice_call_voicemail_number(c));
    voice_call_free(c);
    c = NULL;

    /* A hang-up right after the beep is not a message. */
    CHECK_EQ(voice_call_new(f.ph, NULL, "t12", &c, &err), 0);
    if (!c)
        goto out;
    keys(c, "0");
    play(c, 4000, NULL);
    play(c, 100, NULL);
    voice_call_audio_in(c, speech, VOICE_FRAME);
    voice_call_free(c);
    c = NULL;
    CHECK_EQ(tri_list(f.c, f.a, "99001", &flt, &list, &n, &err), 0);
    CHECK_EQ(n, 2);
out:
    voice_call_free(c);
    fix_close(&f);
}

static void
test_codes(void)
{
    struct fix f;
    struct gu_err err;
    char code[32];
    int64_t id = 0;

    CHECK(fix_open(&f, &(struct voice_phone_opts){0}) == 0);
    CHECK_EQ(voice_code_make(f.c, "99001", 42, code, sizeof(code), &err), 0);
    CHECK_EQ(strlen(code), 8);
    CHECK(strncmp(code, "42", 2) == 0);
    CHECK_EQ(voice_code_check(f.c, "99001", code, &id, &err), 0);
    CHECK_EQ(id, 42);
    /* Another booking's id with these check digits does not pass. */
    code[1] = '3';
    CHECK_EQ(voice_code_check(f.c, "99001", code, &id, &err), GU_ENOTFOUND);
    CHECK_CONTAINS(err.user, "ne correspond");
    CHECK_EQ(voice_code_check(f.c, "99001", "123", &id, &err), GU_ENOTFOUND);
    CHECK_EQ(voice_code_check(f.c, "99001", "0123456789", &id, &err),
             GU_ENOTFOUND);
    CHECK_EQ(voice_code_check(f.c, "99001", "12a4567890", &id, &err),
             GU_ENOTFOUND);
    CHECK_EQ(voice_code_make(f.c, "99001", 0, code, sizeof(code), &err),
             GU_EINVAL);
    CHECK_EQ(voice_code_make(f.c, "99001", 42, code, 5, &err), GU_ETOOBIG);
    fix_close(&f);
}

static void
test_bad_options(void)
{
    struct fix f;
    struct voice_phone *ph = NULL;
    struct gu_err err;

    CHECK(fix_open(&f, &(struct voice_phone_opts){0}) == 0);
    static const char *const bad[] = {
        "lu-ve", "lu-ve 08:30", "lu-ve 8:30-12:00", "xx 08:00-12:00",
        "ve-lu 08:00-12:00", "lu 12:00-08:00", "lu 08:00-25:00",
        "lu 08:00-12:00,14:00-17:00"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct voice_phone_opts o = {.insee = "99001", .hours = bad[i]};
        CHECK_EQ(voice_phone_new(f.s, f.cfg, &o, &ph, &err), GU_EINVAL);
        if (ph)
            fprintf(stderr, "accepted: %s\n", bad[i]);
        voice_phone_free(ph);
        CHECK(ph == NULL);
        CHECK_STR(err.field, "voice.phone_hours");
    }
    struct voice_phone_opts ok = {
        .insee = "99001", .hours = "lu-ve 08:30-12:00 13:30-17:00; sa "
                                   "09:00-12:00;"};
    CHECK_EQ(voice_phone_new(f.s, f.cfg, &ok, &ph, &err), 0);
    voice_phone_free(ph);
    ph = NULL;
    struct voice_phone_opts o2 = {.insee = "99999"};
    CHECK_EQ(voice_phone_new(f.s, f.cfg, &o2, &ph, &err), GU_ENOTFOUND);
    struct voice_phone_opts o3 = {.insee = "abc"};
    CHECK_EQ(voice_phone_new(f.s, f.cfg, &o3, &ph, &err), GU_EINVAL);
    struct voice_phone_opts o4 = {.insee = "99001", .voicemail_s = 5};
    CHECK_EQ(voice_phone_new(f.s, f.cfg, &o4, &ph, &err), GU_EINVAL);
    voice_phone_free(NULL);
    voice_call_free(NULL);
    fix_close(&f);
}

TESTS(T(test_greeting_and_menu), T(test_warm), T(test_async_synthesis),
      T(test_faq_in_band_keys), T(test_faq_from_chat),
      T(test_book_and_cancel_by_keypad), T(test_known_caller_skips_number),
      T(test_wrong_keys_and_silence), T(test_transfer_when_open),
      T(test_voicemail_when_closed), T(test_voicemail_hangup_and_limit),
      T(test_codes), T(test_bad_options))
