/*
 * voice_call.c - the phone bot's menu: one state machine per call, fed
 * with 8 kHz frames and digits, producing frames and actions (see the
 * data flow in voice_phone.h).
 *
 * The flow is a table of states (`states[]`): each has a kind (a menu of
 * keys, a keypad entry ended by « # », something said then the next
 * state, a recording, the end), its parent for « # », and two hooks: one
 * that builds what is said on entering (and, for menus, the options), one
 * that acts on the choice. Menus are lists of options built at entry
 * (static ones from tables, dynamic ones from the commune's data), so the
 * text of a menu and the keys it accepts cannot disagree.
 *
 * Prompts are synthesised through the phone's hook (voice_tts at 8 kHz by
 * default) and cached per text in the struct voice_phone (bounded; the
 * states whose text changes with every call — slots, codes, references —
 * are not cached; a prompt that is not is owned by the call and freed
 * after playback). Store work (slots, booking, voicemail) runs in the calling
 * thread on a connection acquired for the step and released at once.
 */
#include <ctype.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "assistant/asst.h"
#include "kb/kb.h"
#include "text/text.h"
#include "privacy/privacy.h"
#include "rdv/rdv.h"
#include "triage/tri.h"
#include "voice/voice.h"
#include "voice/voice_phone.h"

#define CACHE_MAX_ENTRIES 256
#define CACHE_MAX_SAMPLES (8000u * 60 * 20) /* 20 minutes of prompts */
#define QUEUE_MAX 4
#define OPTIONS_MAX 9
#define SLOTS_OFFERED 3
#define ANSWER_MAX 700   /* bytes of an assistant answer read aloud */
#define HOURS_RANGES 4   /* per weekday */
#define CODE_CHECK 1000000 /* six check digits */
#define FAQ_DAYS 90          /* the chat's questions counted for « 1 » */
#define FAQ_MIN_ANSWERS 3    /* answers of one fiche to count as asked */
#define FAQ_REFRESH_S (6 * 3600)
#define WORKERS_MAX 8
#define WORKER_NICE 10
#define TTS_WAIT_FRAMES (15 * 50) /* 15 s for a prompt's synthesis */
#define JOBS_MAX 64      /* queued jobs per phone; beyond, a job is refused */
#define GRAM_MAX 40      /* phrases a menu accepts */
#define HEARD_MAX 128    /* bytes of a recognised phrase */
#define VAD_ON 600.0     /* RMS of a frame of speech (about -35 dBFS) */
#define VAD_END_MS 500   /* silence that ends an utterance */
#define VAD_MIN_MS 200   /* shorter is a noise, not an utterance */

/* ------------------------------------------------------------------ */
/* The phone (shared)                                                  */
/* ------------------------------------------------------------------ */

struct cached {
    char *text;
    int16_t *pcm;
    size_t n;
};

struct hours {
    int n[8];                   /* ranges per ISO weekday 1..7 */
    int from[8][HOURS_RANGES];  /* minutes */
    int to[8][HOURS_RANGES];
};

/*
 * Work done off the transport's thread: synthesising a prompt that is not
 * in the cache, recognising an utterance. The job's answer goes to a slot shared by the
 * call that asked and the worker that answers, reference counted under
 * the phone's jlock: whichever lets go last frees it, so a call may move
 * on or end while its job is queued or running (the worker then skips or
 * drops the work).
 */
enum job_kind { JOB_TTS, JOB_ASR };

struct job_slot {
    int refs;            /* under ph->jlock */
    bool done;           /* under ph->jlock; the fields below are then
                            the worker's answer, for the call alone */
    int rc;
    const int16_t *pcm;  /* TTS: the prompt (in the cache, or `owned`) */
    size_t n;
    int16_t *owned;      /* freed with the slot unless the call takes it */
    char heard[HEARD_MAX];
};

struct job {
    enum job_kind kind;
    struct job_slot *slot;
    char *text;    /* TTS: the prompt (heap, the job's) */
    bool cache;    /* TTS: keep it in the phone's cache */
    int16_t *pcm;  /* ASR: the utterance (heap, the job's) */
    size_t n;
    char *grammar; /* ASR: JSON array of phrases (heap, the job's) */
    char call_id[64];
};

struct voice_phone {
    struct store *st;
    const struct gu_config *cfg;
    char insee[6];
    char *name;         /* commune's name */
    char *hours_text;   /* commune's hours as text, may be "" */
    enum gu_tz tz;
    enum gu_holiday_rules rules;
    char *transfer_to;
    struct hours hours;
    unsigned voicemail_s, timeout_s, retries, faq_max;
    char **faq;         /* the fixed list (options, or built in) */
    size_t nfaq;
    bool faq_from_chat; /* no list in the options: the chat's top fiches */

    /* The most asked questions, from the assistant's log (faq_lock):
     * the titles of the fiches its answers came from most often over the
     * last FAQ_DAYS days; ntop 0 = the fixed list. */
    pthread_mutex_t faq_lock;
    char *top[OPTIONS_MAX];
    size_t ntop;
    int64_t top_at; /* when computed, 0 = never */
    bool can_transfer;
    voice_phone_tts_fn tts;
    void *tts_arg;
    int64_t now;

    pthread_mutex_t lock; /* the cache */
    struct cached cache[CACHE_MAX_ENTRIES];
    size_t ncache, cache_samples;

    /* Workers (none when opts.workers is 0 and there is no asr). */
    struct voice_asr *asr;
    pthread_t threads[WORKERS_MAX];
    unsigned nthreads;
    pthread_mutex_t jlock;
    pthread_cond_t jcond;
    struct job jobs[JOBS_MAX]; /* ring */
    size_t jhead, jn;
    bool jstop;
};

static int prompt_audio(struct voice_phone *ph, const char *text, bool cache,
                        const int16_t **pcm, size_t *n, int16_t **owned,
                        struct gu_err *err);

static void
job_fini(struct job *j)
{
    gu_free(j->text);
    j->text = NULL;
    gu_free(j->pcm);
    gu_free(j->grammar);
    j->pcm = NULL;
    j->grammar = NULL;
}

/* Let go of a slot (the call's or the worker's reference). NULL ok. */
static void
slot_release(struct voice_phone *ph, struct job_slot *sl)
{
    bool last;

    if (!sl)
        return;
    pthread_mutex_lock(&ph->jlock);
    last = --sl->refs == 0;
    pthread_mutex_unlock(&ph->jlock);
    if (last) {
        gu_free(sl->owned);
        gu_free(sl);
    }
}

static bool
slot_done(struct voice_phone *ph, struct job_slot *sl)
{
    bool d;

    pthread_mutex_lock(&ph->jlock);
    d = sl->done;
    pthread_mutex_unlock(&ph->jlock);
    return d;
}

/*
 * Queue a job (its data becomes the queue's). Its slot, with one
 * reference for the caller and one for the worker; NULL when the queue
 * is full, the phone stops or memory is short (the job's data is freed).
 */
static struct job_slot *
job_submit(struct voice_phone *ph, struct job *j)
{
    struct job_slot *sl = gu_calloc(1, sizeof(*sl));

    if (!sl) {
        job_fini(j);
        return NULL;
    }
    sl->refs = 2;
    j->slot = sl;
    pthread_mutex_lock(&ph->jlock);
    if (ph->jstop || !ph->nthreads || ph->jn >= JOBS_MAX) {
        pthread_mutex_unlock(&ph->jlock);
        job_fini(j);
        gu_free(sl);
        return NULL;
    }
    ph->jobs[(ph->jhead + ph->jn) % JOBS_MAX] = *j;
    ph->jn++;
    pthread_cond_signal(&ph->jcond);
    pthread_mutex_unlock(&ph->jlock);
    return sl;
}

static void
job_run(struct voice_phone *ph, struct job *j)
{
    struct job_slot *sl = j->slot;
    struct gu_err err;
    char heard[HEARD_MAX] = "", q[160];
    const int16_t *pcm = NULL;
    int16_t *owned = NULL;
    size_t n = 0;
    bool abandoned;
    int rc = 0;

    gu_err_clear(&err);
    pthread_mutex_lock(&ph->jlock);
    abandoned = sl->refs == 1; /* the call let go: nobody will listen */
    pthread_mutex_unlock(&ph->jlock);
    if (!abandoned && j->kind == JOB_TTS) {
        rc = prompt_audio(ph, j->text, j->cache, &pcm, &n, &owned, &err);
        if (rc < 0)
            gu_log_error("voice.tts", "call=%s err=%s", j->call_id,
                         gu_logq(q, sizeof(q), err.msg));
    }
    if (!abandoned && j->kind == JOB_ASR) {
        int64_t t0 = gu_now_ms();
        rc = voice_asr_recognize(ph->asr, j->pcm, j->n, j->grammar, heard,
                                 sizeof(heard), &err);
        if (rc < 0)
            gu_log_warn("voice.asr", "call=%s err=%s", j->call_id,
                        gu_logq(q, sizeof(q), err.msg));
        else
            gu_log_debug("voice.asr.done", "call=%s ms=%lld audio_ms=%zu",
                         j->call_id, (long long)(gu_now_ms() - t0),
                         j->n / (VOICE_PHONE_RATE / 1000));
    }
    pthread_mutex_lock(&ph->jlock);
    sl->rc = rc;
    sl->pcm = pcm;
    sl->n = n;
    sl->owned = owned;
    memcpy(sl->heard, heard, sizeof(heard));
    sl->done = true;
    pthread_mutex_unlock(&ph->jlock);
    slot_release(ph, sl);
}

static void *
worker_main(void *arg)
{
    struct voice_phone *ph = arg;
    struct job j;

    /* Below the transports' threads: when the CPU is short, the calls'
     * audio goes first and a prompt waits a little longer (Linux: a
     * thread has its own nice value). */
    if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), WORKER_NICE) !=
        0)
        gu_log_debug("voice.worker.nice", "failed=1");

    for (;;) {
        pthread_mutex_lock(&ph->jlock);
        while (!ph->jstop && ph->jn == 0)
            pthread_cond_wait(&ph->jcond, &ph->jlock);
        if (ph->jstop) {
            pthread_mutex_unlock(&ph->jlock);
            break;
        }
        j = ph->jobs[ph->jhead];
        ph->jhead = (ph->jhead + 1) % JOBS_MAX;
        ph->jn--;
        pthread_mutex_unlock(&ph->jlock);
        job_run(ph, &j);
        job_fini(&j);
    }
    return NULL;
}

/* Stop and join the workers; the jobs still queued are dropped. */
static void
workers_stop(struct voice_phone *ph)
{
    pthread_mutex_lock(&ph->jlock);
    ph->jstop = true;
    pthread_cond_broadcast(&ph->jcond);
    pthread_mutex_unlock(&ph->jlock);
    for (unsigned i = 0; i < ph->nthreads; i++)
        pthread_join(ph->threads[i], NULL);
    ph->nthreads = 0;
    while (ph->jn) {
        struct job *j = &ph->jobs[ph->jhead];
        ph->jhead = (ph->jhead + 1) % JOBS_MAX;
        ph->jn--;
        slot_release(ph, j->slot);
        job_fini(j);
    }
}

static const char *const default_faq[] = {
    "Comment faire une carte d'identité ou un passeport ?",
    "Comment obtenir un acte de naissance ?",
    "Comment s'inscrire sur les listes électorales ?",
    "Comment inscrire mon enfant à la cantine ?",
};

static int
default_tts(void *arg, struct gu_arena *a, const char *text, int16_t **pcm,
            size_t *n, struct gu_err *err)
{
    struct voice_tts_opts o = {.engine = VOICE_ENGINE_AUTO,
                               .rate = VOICE_PHONE_RATE};
    struct voice_audio out;
    int rc;

    (void)arg;
    rc = voice_tts(a, &o, text, &out, err);
    if (rc < 0)
        return rc;
    *pcm = out.pcm;
    *n = out.n;
    return 0;
}

static const char *const day_names[] = {"", "lu", "ma", "me", "je",
                                        "ve", "sa", "di"};

static int
day_code(const char *s)
{
    for (int i = 1; i <= 7; i++)
        if (s[0] == day_names[i][0] && s[1] == day_names[i][1])
            return i;
    return 0;
}

static bool
parse_hm(const char *s, int *min)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        s[2] != ':' || !isdigit((unsigned char)s[3]) ||
        !isdigit((unsigned char)s[4]))
        return false;
    int h = (s[0] - '0') * 10 + (s[1] - '0');
    int m = (s[3] - '0') * 10 + (s[4] - '0');
    if (h > 24 || m > 59 || (h == 24 && m))
        return false;
    *min = h * 60 + m;
    return true;
}

/*
 * "lu-ve 08:30-12:00 13:30-17:00; sa 09:00-12:00": groups separated by
 * ';', each a day or day range then time ranges. "" = never open.
 */
static int
hours_parse(const char *s, struct hours *h, struct gu_err *err)
{
    const char *p = s;

    memset(h, 0, sizeof(*h));
    while (*p) {
        int d1, d2, from, to;
        bool days[8] = {false};
        while (*p == ' ' || *p == ';')
            p++;
        if (!*p)
            break;
        if (!(d1 = day_code(p)))
            goto bad;
        p += 2;
        d2 = d1;
        if (*p == '-') {
            if (!(d2 = day_code(p + 1)) || d2 < d1)
                goto bad;
            p += 3;
        }
        for (int d = d1; d <= d2; d++)
            days[d] = true;
        int ranges = 0;
        while (*p == ' ') {
            while (*p == ' ')
                p++;
            if (!*p || *p == ';')
                break;
            if (!parse_hm(p, &from) || p[5] != '-' || !parse_hm(p + 6, &to) ||
                to <= from)
                goto bad;
            p += 11;
            ranges++;
            for (int d = 1; d <= 7; d++) {
                if (!days[d])
                    continue;
                if (h->n[d] >= HOURS_RANGES)
                    goto bad;
                h->from[d][h->n[d]] = from;
                h->to[d][h->n[d]] = to;
                h->n[d]++;
            }
        }
        if ((*p && *p != ';') || ranges == 0)
            goto bad;
    }
    return 0;
bad:
    return gu_err_set(err, GU_EINVAL, "voice.phone_hours",
                      "Horaires de transfert illisibles : écrivez par "
                      "exemple « lu-ve 08:30-12:00 13:30-17:00; sa "
                      "09:00-12:00 ».",
                      "bad phone hours near '%.20s'", p);
}

static int64_t
phone_now(const struct voice_phone *ph)
{
    return ph->now ? ph->now : gu_now();
}

static bool
phone_open(const struct voice_phone *ph)
{
    int64_t day;
    int minute;

    gu_tz_from_utc(ph->tz, phone_now(ph), &day, &minute);
    if (gu_holiday(day, ph->rules))
        return false;
    int wd = gu_day_weekday(day);
    for (int i = 0; i < ph->hours.n[wd]; i++)
        if (minute >= ph->hours.from[wd][i] && minute < ph->hours.to[wd][i])
            return true;
    return false;
}

int
voice_phone_new(struct store *st, const struct gu_config *cfg,
                const struct voice_phone_opts *o, struct voice_phone **out,
                struct gu_err *err)
{
    struct voice_phone *ph = NULL;
    struct store_conn *c = NULL;
    struct gu_arena *a = NULL;
    struct store_commune m;
    const char *const *faq = o->faq ? o->faq : default_faq;
    size_t nfaq = o->faq ? o->nfaq : sizeof(default_faq) / sizeof(*faq);
    int rc;

    *out = NULL;
    if (!o->insee || !store_insee_valid(o->insee))
        return gu_err_set(err, GU_EINVAL, "voice.phone_commune",
                          "Code INSEE de la commune du téléphone invalide.",
                          "bad phone commune");
    if ((o->voicemail_s && (o->voicemail_s < 10 || o->voicemail_s > 600)) ||
        o->faq_max > 9 || o->timeout_s > 120 || o->retries > 10 ||
        o->workers > WORKERS_MAX)
        return gu_err_set(err, GU_EINVAL, "voice", "Réglage du téléphone "
                          "hors des bornes.", "phone option out of range");
    if (!(ph = gu_calloc(1, sizeof(*ph))) || !(a = gu_arena_new(0))) {
        rc = GU_ENOMEM;
        goto fail;
    }
    pthread_mutex_init(&ph->lock, NULL);
    pthread_mutex_init(&ph->faq_lock, NULL);
    pthread_mutex_init(&ph->jlock, NULL);
    pthread_cond_init(&ph->jcond, NULL);
    ph->st = st;
    ph->cfg = cfg;
    memcpy(ph->insee, o->insee, strlen(o->insee) + 1);
    if ((rc = hours_parse(o->hours ? o->hours
                                   : "lu-ve 08:30-12:00 13:30-17:00",
                          &ph->hours, err)) < 0)
        goto fail;
    if ((rc = store_acquire(st, &c, err)) < 0 ||
        (rc = store_commune_get(c, a, o->insee, &m, err)) < 0)
        goto fail;
    ph->name = gu_strdup(m.name);
    ph->hours_text = gu_strdup(m.hours ? m.hours : "");
    ph->tz = gu_tz_of_zone(m.zone);
    ph->rules = gu_holiday_rules_for(m.insee, m.zone);
    ph->transfer_to = gu_strdup(o->transfer_to ? o->transfer_to : "");
    ph->voicemail_s = o->voicemail_s ? o->voicemail_s : 120;
    ph->timeout_s = o->timeout_s ? o->timeout_s : 8;
    ph->retries = o->retries ? o->retries : 3;
    ph->faq_max = o->faq_max ? o->faq_max : 4;
    ph->can_transfer = o->can_transfer;
    ph->tts = o->tts ? o->tts : default_tts;
    ph->tts_arg = o->tts_arg;
    ph->now = o->now;
    if (nfaq > ph->faq_max)
        nfaq = ph->faq_max;
    if (!ph->name || !ph->hours_text || !ph->transfer_to ||
        (nfaq && !(ph->faq = gu_calloc(nfaq, sizeof(*ph->faq))))) {
        rc = GU_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < nfaq; i++) {
        if (!(ph->faq[i] = gu_strdup(faq[i]))) {
            rc = GU_ENOMEM;
            goto fail;
        }
        ph->nfaq++;
    }
    ph->faq_from_chat = o->faq == NULL;
    ph->asr = o->asr;
    unsigned nw = o->workers ? o->workers : (o->asr ? 1 : 0);
    for (unsigned i = 0; i < nw; i++) {
        if (pthread_create(&ph->threads[i], NULL, worker_main, ph) != 0) {
            rc = gu_err_set(err, GU_EIO, NULL, NULL, "worker thread");
            goto fail;
        }
        ph->nthreads++;
    }
    store_release(c);
    gu_arena_free(a);
    *out = ph;
    return 0;
fail:
    if (rc == GU_ENOMEM)
        gu_err_set(err, rc, NULL, NULL, "out of memory");
    store_release(c);
    gu_arena_free(a);
    voice_phone_free(ph);
    return rc;
}

void
voice_phone_free(struct voice_phone *ph)
{
    if (!ph)
        return;
    workers_stop(ph);
    for (size_t i = 0; i < ph->ncache; i++) {
        gu_free(ph->cache[i].text);
        gu_free(ph->cache[i].pcm);
    }
    for (size_t i = 0; i < ph->nfaq; i++)
        gu_free(ph->faq[i]);
    gu_free(ph->faq);
    for (size_t i = 0; i < ph->ntop; i++)
        gu_free(ph->top[i]);
    pthread_mutex_destroy(&ph->faq_lock);
    gu_free(ph->name);
    gu_free(ph->hours_text);
    gu_free(ph->transfer_to);
    pthread_cond_destroy(&ph->jcond);
    pthread_mutex_destroy(&ph->jlock);
    pthread_mutex_destroy(&ph->lock);
    gu_free(ph);
}

void
voice_phone_cache_stats(struct voice_phone *ph, size_t *entries,
                        size_t *samples)
{
    pthread_mutex_lock(&ph->lock);
    *entries = ph->ncache;
    *samples = ph->cache_samples;
    pthread_mutex_unlock(&ph->lock);
}

/* The cached audio of a text (valid while the phone lives: the cache only
 * grows), or false. */
static bool
cache_find(struct voice_phone *ph, const char *text, const int16_t **pcm,
           size_t *n)
{
    bool found = false;

    pthread_mutex_lock(&ph->lock);
    for (size_t i = 0; i < ph->ncache && !found; i++) {
        if (strcmp(ph->cache[i].text, text) == 0) {
            *pcm = ph->cache[i].pcm;
            *n = ph->cache[i].n;
            found = true;
        }
    }
    pthread_mutex_unlock(&ph->lock);
    return found;
}

/*
 * The audio of a text: from the cache, or synthesised (outside the lock:
 * two calls may synthesise the same new prompt once each; the second
 * insert is dropped). *owned is set when the caller must free the PCM.
 */
static int
prompt_audio(struct voice_phone *ph, const char *text, bool cache,
             const int16_t **pcm, size_t *n, int16_t **owned,
             struct gu_err *err)
{
    struct gu_arena *a;
    int16_t *p = NULL, *copy;
    size_t k = 0;
    int rc;

    *owned = NULL;
    if (cache_find(ph, text, pcm, n))
        return 0;
    if (!(a = gu_arena_new(0)))
        return GU_ENOMEM;
    rc = ph->tts(ph->tts_arg, a, text, &p, &k, err);
    if (rc < 0 || !(copy = gu_malloc((k ? k : 1) * sizeof(*copy)))) {
        gu_arena_free(a);
        return rc < 0 ? rc : GU_ENOMEM;
    }
    memcpy(copy, p, k * sizeof(*copy));
    gu_arena_free(a);

    pthread_mutex_lock(&ph->lock);
    for (size_t i = 0; i < ph->ncache; i++) {
        if (strcmp(ph->cache[i].text, text) == 0) {
            *pcm = ph->cache[i].pcm;
            *n = ph->cache[i].n;
            pthread_mutex_unlock(&ph->lock);
            gu_free(copy);
            return 0;
        }
    }
    char *t = NULL;
    if (cache && ph->ncache < CACHE_MAX_ENTRIES &&
        ph->cache_samples + k <= CACHE_MAX_SAMPLES && (t = gu_strdup(text))) {
        ph->cache[ph->ncache].text = t;
        ph->cache[ph->ncache].pcm = copy;
        ph->cache[ph->ncache].n = k;
        ph->ncache++;
        ph->cache_samples += k;
    } else {
        *owned = copy;
    }
    pthread_mutex_unlock(&ph->lock);
    *pcm = copy;
    *n = k;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Confirmation codes                                                  */
/* ------------------------------------------------------------------ */

static int
code_check_digits(struct store_conn *c, const char *insee, int64_t id,
                  unsigned *out, struct gu_err *err)
{
    unsigned char key[PII_KEY_BYTES], h[8];
    char msg[64];
    int rc;

    if ((rc = pii_commune_key(c, insee, key, err)) < 0)
        return rc;
    int len = snprintf(msg, sizeof(msg), "voice.code:%s:%lld", insee,
                       (long long)id);
    crypto_generichash(h, sizeof(h), (const unsigned char *)msg,
                       (unsigned long long)len, key, sizeof(key));
    sodium_memzero(key, sizeof(key));
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof(h); i++)
        v = v << 8 | h[i];
    *out = (unsigned)(v % CODE_CHECK);
    return 0;
}

int
voice_code_make(struct store_conn *c, const char *insee, int64_t id,
                char *out, size_t cap, struct gu_err *err)
{
    unsigned check;
    int rc;

    if (id <= 0)
        return gu_err_set(err, GU_EINVAL, NULL, NULL, "bad booking id");
    if ((rc = code_check_digits(c, insee, id, &check, err)) < 0)
        return rc;
    int k = snprintf(out, cap, "%lld%06u", (long long)id, check);
    if (k < 0 || (size_t)k >= cap)
        return gu_err_set(err, GU_ETOOBIG, NULL, NULL, "code buffer");
    return 0;
}

int
voice_code_check(struct store_conn *c, const char *insee, const char *code,
                 int64_t *id, struct gu_err *err)
{
    size_t n = strlen(code);
    char head[24], want[8];
    unsigned check;
    long v;
    int rc;

    if (n < 7 || n > 6 + 18)
        goto bad;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)code[i]))
            goto bad;
    memcpy(head, code, n - 6);
    head[n - 6] = '\0';
    if (head[0] == '0' || gu_parse_long(head, 1, 999999999999L, &v) < 0)
        goto bad;
    if ((rc = code_check_digits(c, insee, v, &check, err)) < 0)
        return rc;
    snprintf(want, sizeof(want), "%06u", check);
    if (!gu_const_eq(want, code + n - 6))
        goto bad;
    *id = v;
    return 0;
bad:
    return gu_err_set(err, GU_ENOTFOUND, "code",
                      "Ce code ne correspond à aucun rendez-vous.",
                      "bad phone code");
}

/* ------------------------------------------------------------------ */
/* The call                                                            */
/* ------------------------------------------------------------------ */

enum kind {
    K_MENU,   /* options by key; « * » repeats, « # » parent */
    K_DIGITS, /* keypad entry ended by « # »; « * » starts again */
    K_SAY,    /* said, then `next` (a key skips to it and is replayed) */
    K_RECORD, /* voicemail: audio kept until « # », limit or hangup */
    K_END,    /* said, then the action */
};

enum st {
    S_GREET,
    S_MAIN,
    S_FAQ,
    S_FAQ_ANSWER,
    S_MOTIF,
    S_SLOTS,
    S_PHONE,
    S_CONFIRM,
    S_BOOKED,
    S_CANCEL_CODE,
    S_CANCEL_CONFIRM,
    S_CANCELLED,
    S_AGENT,
    S_TRANSFER,
    S_TRANSFER_FAILED,
    S_RECORD,
    S_VM_DONE,
    S_BYE,
    S_NOINPUT,
    S_COUNT
};

struct option {
    char key;
    const char *label; /* « les horaires » in « Pour les horaires, tapez 1 » */
    int arg;
};

/* A phrase a menu accepts by voice, and the key it stands for. */
struct phrase {
    char key;
    const char *text; /* static, or in the state's arena */
};

struct seg {
    const int16_t *pcm;
    size_t n;
    int16_t *owned;
};

struct voice_call {
    struct voice_phone *ph;
    char caller[32];     /* as given, "" when unknown */
    char caller_tag[64]; /* for logs: keyed tag, never the number */
    char call_id[64];
    struct voice_dtmf *dtmf;
    enum st st;
    struct gu_arena *a;  /* the current state's texts and options */
    char *last_prompt;   /* heap */

    struct seg q[QUEUE_MAX];
    size_t qn, qpos;
    struct job_slot *tts_slot; /* the prompt a worker synthesises */
    unsigned tts_wait;         /* frames of silence waiting for it */
    unsigned idle;       /* frames since the prompt ended */
    unsigned tries;
    enum voice_action end_action;
    bool replay;         /* K_SAY: a key pressed during it, replayed */
    char replay_key;

    struct option opt[OPTIONS_MAX];
    size_t nopt;
    char digits[VOICE_DIGITS_MAX + 1];
    size_t ndigits;

    /* The booking or cancel being made. */
    int64_t motif_id;
    char *motif_name; /* heap */
    struct rdv_slot slots[SLOTS_OFFERED];
    char slot_text[SLOTS_OFFERED][160];
    size_t nslots;
    int chosen;
    char phone[16];
    int64_t booking_id;
    char code[32];
    int64_t cancel_id;
    char *error_text; /* heap: said before the next prompt */
    int faq_index;
    char *faq[OPTIONS_MAX]; /* heap: the questions « 1 » offers this call */
    size_t nfaq;
    bool faq_fiches;        /* they are fiche titles (from the chat) */

    /* Voicemail. */
    int16_t *rec;
    size_t nrec, caprec;
    bool recording;
    char vm_number[32];

    /* Speech recognition (ph->asr): the menu's phrases, the utterance
     * being heard, the one being recognised. */
    struct phrase gram[GRAM_MAX];
    size_t ngram;
    char *grammar;       /* JSON for the engine, in the state's arena */
    int16_t *utt;        /* heap, VOICE_ASR_MAX_MS of audio */
    size_t nutt;
    size_t voiced, quiet; /* samples */
    struct job_slot *asr_slot;
    unsigned nasr;       /* utterances sent during the call */
    char heard[HEARD_MAX]; /* the last phrase recognised (tests, logs) */
};

struct state {
    const char *name;
    enum kind kind;
    bool dynamic;   /* its text changes from call to call (slots, codes,
                       references): not cached, so the cache keeps the
                       prompts that repeat */
    enum st parent; /* « # » */
    enum st next;   /* K_SAY */
    /* Appends what is said to b (and fills the options); returns 0, or a
     * state to go to instead (>= 0 + 1 encoded as -(state + 1)). */
    int (*enter)(struct voice_call *c, struct gu_buf *b);
    /* A menu's option arg or a complete entry: the next state, or -1 to
     * stay (after setting error_text). */
    int (*choose)(struct voice_call *c, int arg);
};

static const struct state states[S_COUNT];

#define REDIRECT(s) (-(int)(s)-1)

static void
say_digit_words(struct gu_buf *b, const char *digits)
{
    static const char *const w[] = {"zéro", "un",  "deux", "trois", "quatre",
                                    "cinq", "six", "sept", "huit",  "neuf"};
    for (const char *p = digits; *p; p++) {
        if (isdigit((unsigned char)*p))
            gu_buf_printf(b, "%s%s", p == digits ? "" : ", ", w[*p - '0']);
    }
}

static const char *
key_word(char k)
{
    switch (k) {
    case '*':
        return "étoile";
    case '#':
        return "dièse";
    case '0':
        return "zéro";
    case '1':
        return "un";
    case '2':
        return "deux";
    case '3':
        return "trois";
    case '4':
        return "quatre";
    case '5':
        return "cinq";
    case '6':
        return "six";
    case '7':
        return "sept";
    case '8':
        return "huit";
    case '9':
        return "neuf";
    default:
        return "";
    }
}

static void
add_option(struct voice_call *c, char key, const char *label, int arg)
{
    if (c->nopt >= OPTIONS_MAX)
        return;
    c->opt[c->nopt].key = key;
    c->opt[c->nopt].label = label;
    c->opt[c->nopt].arg = arg;
    c->nopt++;
}

static void
say_options(struct voice_call *c, struct gu_buf *b)
{
    for (size_t i = 0; i < c->nopt; i++)
        gu_buf_printf(b, " Pour %s, tapez %s.", c->opt[i].label,
                      key_word(c->opt[i].key));
}

static void
queue_clear(struct voice_call *c)
{
    for (size_t i = 0; i < c->qn; i++)
        gu_free(c->q[i].owned);
    c->qn = 0;
    c->qpos = 0;
    /* A prompt still being synthesised is not wanted any more. */
    slot_release(c->ph, c->tts_slot);
    c->tts_slot = NULL;
}

static void
queue_pcm(struct voice_call *c, const int16_t *pcm, size_t n, int16_t *owned)
{
    if (c->qn >= QUEUE_MAX) {
        gu_free(owned);
        return;
    }
    c->q[c->qn].pcm = pcm;
    c->q[c->qn].n = n;
    c->q[c->qn].owned = owned;
    c->qn++;
}

static void
say(struct voice_call *c, const char *text, bool cache)
{
    const int16_t *pcm = NULL;
    int16_t *owned = NULL;
    size_t n = 0;
    struct gu_err err;
    char q[128];

    gu_err_clear(&err);
    gu_free(c->last_prompt);
    c->last_prompt = gu_strdup(text);
    if (cache_find(c->ph, text, &pcm, &n)) {
        queue_pcm(c, pcm, n, NULL);
        return;
    }
    if (c->ph->nthreads) {
        /* A new prompt: synthesised by a worker, so that the transport's
         * thread (over SIP, every call's audio) never waits for it; the
         * call plays silence meanwhile (voice_call_audio_out). */
        struct job j;
        memset(&j, 0, sizeof(j));
        j.kind = JOB_TTS;
        j.cache = cache;
        snprintf(j.call_id, sizeof(j.call_id), "%s", c->call_id);
        if ((j.text = gu_strdup(text)) != NULL)
            c->tts_slot = job_submit(c->ph, &j);
        if (!c->tts_slot)
            gu_log_error("voice.tts.busy", "call=%s", c->call_id);
        c->tts_wait = 0;
        return;
    }
    if (prompt_audio(c->ph, text, cache, &pcm, &n, &owned, &err) < 0) {
        gu_log_error("voice.tts", "call=%s err=%s", c->call_id,
                     gu_logq(q, sizeof(q), err.msg));
        return; /* silence: the caller still gets the menu by keys */
    }
    queue_pcm(c, pcm, n, owned);
}

static void
log_state(struct voice_call *c)
{
    gu_log_info("voice.call.state", "call=%s caller=%s state=%s",
                c->call_id, c->caller_tag, states[c->st].name);
}

/*
 * Phrases accepted by voice besides a key's own number (« un », « deux »
 * ... « zéro » come from the options): said in the menu of `st`, they
 * press `key` when the menu offers it (« * » and « # » always).
 */
static const struct {
    enum st st;
    char key;
    const char *text;
} synonyms[] = {
    {S_MAIN, '1', "horaires"},       {S_MAIN, '1', "question"},
    {S_MAIN, '1', "questions"},      {S_MAIN, '2', "rendez-vous"},
    {S_MAIN, '2', "réserver"},       {S_MAIN, '2', "réservation"},
    {S_MAIN, '3', "annuler"},        {S_MAIN, '3', "annulation"},
    {S_MAIN, '0', "agent"},          {S_MAIN, '0', "conseiller"},
    {S_MAIN, '0', "message"},        {S_CONFIRM, '1', "oui"},
    {S_CONFIRM, '1', "confirmer"},   {S_CONFIRM, '#', "non"},
    {S_CANCEL_CONFIRM, '1', "oui"},  {S_CANCEL_CONFIRM, '#', "non"},
    {S_COUNT, '*', "répéter"},       {S_COUNT, '#', "retour"},
    {S_COUNT, '#', "menu"},
};

static void
gram_add(struct voice_call *c, char key, const char *text)
{
    for (size_t i = 0; i < c->ngram; i++)
        if (strcmp(c->gram[i].text, text) == 0)
            return;
    if (c->ngram < GRAM_MAX) {
        c->gram[c->ngram].key = key;
        c->gram[c->ngram].text = text;
        c->ngram++;
    }
}

static bool
has_option(const struct voice_call *c, char key)
{
    if (key == '*' || key == '#')
        return true;
    for (size_t i = 0; i < c->nopt; i++)
        if (c->opt[i].key == key)
            return true;
    return false;
}

static const char *key_word(char k);

/*
 * The phrases of the state just entered (menus only, and only with an
 * engine): each option's number, the synonyms the menu offers, then the
 * grammar as Vosk takes it: a JSON array of the phrases and "[unk]"
 * (anything else), so the engine cannot answer outside the menu.
 */
static void
build_grammar(struct voice_call *c)
{
    json_t *arr;
    char *js;

    c->ngram = 0;
    c->grammar = NULL;
    c->nutt = c->voiced = c->quiet = 0;
    if (!c->ph->asr || states[c->st].kind != K_MENU || !c->a)
        return;
    for (size_t i = 0; i < c->nopt; i++)
        gram_add(c, c->opt[i].key, key_word(c->opt[i].key));
    for (size_t i = 0; i < sizeof(synonyms) / sizeof(*synonyms); i++)
        if ((synonyms[i].st == c->st || synonyms[i].st == S_COUNT) &&
            has_option(c, synonyms[i].key))
            gram_add(c, synonyms[i].key, synonyms[i].text);
    if (!(arr = json_array()))
        goto fail;
    for (size_t i = 0; i < c->ngram; i++)
        json_array_append_new(arr, json_string(c->gram[i].text));
    json_array_append_new(arr, json_string("[unk]"));
    js = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!js)
        goto fail;
    c->grammar = gu_arena_strdup(c->a, js);
    free(js);
    if (c->grammar)
        return;
fail:
    c->ngram = 0;
}

/*
 * The key a recognised phrase stands for, after case and accent folding
 * of both sides: the phrase itself, else the first accepted phrase found
 * as whole words in it (« oui merci »); 0 when none.
 */
static char
heard_key(struct voice_call *c, const char *heard)
{
    struct gu_arena *a = gu_arena_new(0);
    size_t hn = 0, pn;
    char *h, *f, key = 0;

    if (!a)
        return 0;
    h = text_fold(a, heard, strlen(heard), &hn);
    for (size_t i = 0; h && hn && i < c->ngram && !key; i++) {
        f = text_fold(a, c->gram[i].text, strlen(c->gram[i].text), &pn);
        if (f && strcmp(f, h) == 0)
            key = c->gram[i].key;
    }
    for (size_t pos = 0; h && pos < hn && !key; pos++) {
        if (pos && h[pos - 1] != ' ')
            continue;
        for (size_t i = 0; i < c->ngram && !key; i++) {
            f = text_fold(a, c->gram[i].text, strlen(c->gram[i].text), &pn);
            if (f && pn && strncmp(h + pos, f, pn) == 0 &&
                (h[pos + pn] == ' ' || h[pos + pn] == '\0'))
                key = c->gram[i].key;
        }
    }
    gu_arena_free(a);
    return key;
}

static void
utterance_reset(struct voice_call *c)
{
    c->nutt = c->voiced = c->quiet = 0;
}

/* Hand the utterance heard to a worker (one at a time per call). */
static void
utterance_send(struct voice_call *c)
{
    struct job j;

    memset(&j, 0, sizeof(j));
    j.kind = JOB_ASR;
    j.pcm = gu_malloc(c->nutt * sizeof(*j.pcm));
    j.grammar = gu_strdup(c->grammar);
    snprintf(j.call_id, sizeof(j.call_id), "%s", c->call_id);
    if (!j.pcm || !j.grammar) {
        job_fini(&j);
        utterance_reset(c);
        return;
    }
    memcpy(j.pcm, c->utt, c->nutt * sizeof(*j.pcm));
    j.n = c->nutt;
    c->nasr++;
    if (!(c->asr_slot = job_submit(c->ph, &j)))
        gu_log_warn("voice.asr.busy", "call=%s", c->call_id);
    utterance_reset(c);
}

/*
 * The energy detector: an utterance starts with a loud frame, ends after
 * VAD_END_MS of quiet or at VOICE_ASR_MAX_MS, and is sent when it held
 * VAD_MIN_MS of speech. Nothing is kept while one is being recognised or
 * once the call used its VOICE_ASR_PER_CALL.
 */
static void
listen_speech(struct voice_call *c, const int16_t *pcm, size_t n)
{
    size_t max = (size_t)VOICE_ASR_MAX_MS * (VOICE_PHONE_RATE / 1000);
    bool loud;

    if (!c->ngram || !c->grammar || c->asr_slot ||
        c->nasr >= VOICE_ASR_PER_CALL)
        return;
    loud = voice_rms(pcm, n) >= VAD_ON;
    if (!c->nutt && !loud)
        return;
    if (!c->utt && !(c->utt = gu_malloc(max * sizeof(*c->utt))))
        return;
    if (n > max - c->nutt)
        n = max - c->nutt;
    memcpy(c->utt + c->nutt, pcm, n * sizeof(*pcm));
    c->nutt += n;
    if (loud) {
        c->voiced += n;
        c->quiet = 0;
    } else {
        c->quiet += n;
    }
    if (c->nutt >= max ||
        c->quiet >= (size_t)VAD_END_MS * (VOICE_PHONE_RATE / 1000)) {
        if (c->voiced >= (size_t)VAD_MIN_MS * (VOICE_PHONE_RATE / 1000))
            utterance_send(c);
        else
            utterance_reset(c);
    }
}

/* A prompt came back from its worker: play it. */
static void
poll_tts(struct voice_call *c)
{
    struct job_slot *sl = c->tts_slot;

    if (!sl || !slot_done(c->ph, sl))
        return;
    c->tts_slot = NULL;
    if (sl->rc == 0) {
        queue_pcm(c, sl->pcm, sl->n, sl->owned);
        sl->owned = NULL; /* the queue's now */
    }
    slot_release(c->ph, sl);
}

/* A recognition came back: act on it as on its key. */
static void
poll_asr(struct voice_call *c)
{
    struct job_slot *sl = c->asr_slot;
    char key;

    if (!sl || !slot_done(c->ph, sl))
        return;
    c->asr_slot = NULL;
    snprintf(c->heard, sizeof(c->heard), "%s", sl->rc == 0 ? sl->heard : "");
    slot_release(c->ph, sl);
    key = *c->heard ? heard_key(c, c->heard) : 0;
    gu_log_info("voice.asr", "call=%s state=%s key=%c", c->call_id,
                states[c->st].name, key ? key : '-');
    if (key)
        voice_call_digit(c, key);
}

static void
enter(struct voice_call *c, enum st s)
{
    struct gu_buf b;
    int r;

    /* A phrase still being recognised was meant for the state we leave. */
    slot_release(c->ph, c->asr_slot);
    c->asr_slot = NULL;
    for (int hops = 0; hops < 4; hops++) {
        if (c->st != s)
            c->tries = 0;
        c->st = s;
        c->nopt = 0;
        c->ndigits = 0;
        c->digits[0] = '\0';
        c->idle = 0;
        gu_arena_free(c->a);
        c->a = gu_arena_new(0);
        c->ngram = 0;
        c->grammar = NULL; /* it lived in the old arena */
        gu_buf_init(&b);
        if (c->error_text) {
            gu_buf_printf(&b, "%s ", c->error_text);
            gu_free(c->error_text);
            c->error_text = NULL;
        }
        r = c->a ? states[s].enter(c, &b) : 0;
        if (r < 0) {
            /* Redirected: keep what was said so far (an error) for the
             * next state. */
            if (b.n && !b.oom) {
                while (b.n && b.p[b.n - 1] == ' ')
                    b.p[--b.n] = '\0';
                c->error_text = gu_strdup(b.p);
            }
            gu_buf_fini(&b);
            s = (enum st)(-r - 1);
            continue;
        }
        queue_clear(c);
        if (b.p && b.n && !b.oom)
            say(c, b.p, !states[s].dynamic);
        gu_buf_fini(&b);
        build_grammar(c);
        log_state(c);
        return;
    }
    /* A loop of redirects is a bug; end the call politely. */
    c->st = S_BYE;
    c->end_action = VOICE_ACT_HANGUP;
}

/* ----- the states' hooks ----- */

static int
greet_enter(struct voice_call *c, struct gu_buf *b)
{
    gu_buf_printf(b,
                  "Bonjour, vous êtes à la mairie de %s. Je suis l'assistant "
                  "automatique de la commune : un programme informatique, "
                  "pas une personne.",
                  c->ph->name);
    return 0;
}

static const struct option main_options[] = {
    {'1', "les horaires et les questions fréquentes", S_FAQ},
    {'2', "connaître les prochains créneaux de rendez-vous et en réserver un",
     S_MOTIF},
    {'3', "annuler un rendez-vous avec votre code", S_CANCEL_CODE},
    {'0', "parler à un agent ou laisser un message", S_AGENT},
};

static int
main_enter(struct voice_call *c, struct gu_buf *b)
{
    gu_buf_puts(b, "Menu principal.");
    for (size_t i = 0; i < sizeof(main_options) / sizeof(*main_options); i++)
        add_option(c, main_options[i].key, main_options[i].label,
                   main_options[i].arg);
    say_options(c, b);
    gu_buf_puts(b, " Pour réécouter, tapez étoile.");
    return 0;
}

static int
goto_arg(struct voice_call *c, int arg)
{
    (void)c;
    return arg;
}

/*
 * The commune's most asked questions, from the assistant's own log: the
 * fiches its answers (type "answer") came from over the last FAQ_DAYS
 * days, counted, the top faq_max that were answered at least
 * FAQ_MIN_ANSWERS times, offered by their titles. Only fiche ids are
 * read, never what residents typed, so no personal data is involved.
 * Fewer than faq_max such fiches: *n = 0 (the caller keeps the fixed
 * list). Titles are heap strings in out[].
 */
static int
faq_top_load(struct voice_phone *ph, struct store_conn *conn, char **out,
             size_t *n, struct gu_err *err)
{
    struct gu_arena *a = gu_arena_new(0);
    const char **ids = NULL;
    size_t nids = 0;
    int rc;

    *n = 0;
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    /* a few more than needed: a fiche since deleted or hidden is skipped */
    rc = asst_top_fiches(conn, a, ph->insee,
                         phone_now(ph) - (int64_t)FAQ_DAYS * 86400,
                         FAQ_MIN_ANSWERS, ph->faq_max + 4, &ids, &nids, err);
    for (size_t i = 0; rc == 0 && i < nids && *n < ph->faq_max; i++) {
        struct kb_fiche f;
        struct gu_err e2;
        gu_err_clear(&e2);
        if (kb_fiche_get(conn, a, ph->insee, ids[i], &f, &e2) < 0 ||
            f.hidden || !f.title || !*f.title)
            continue;
        if (!(out[*n] = gu_strdup(f.title))) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
            break;
        }
        (*n)++;
    }
    if (rc < 0 || *n < ph->faq_max) {
        for (size_t i = 0; i < *n; i++)
            gu_free(out[i]);
        *n = 0;
    }
    gu_arena_free(a);
    return rc;
}

/* The list of « 1 » for a new call: recomputed from the chat's log when
 * older than FAQ_REFRESH_S, then copied into the call. */
static void
faq_snapshot(struct voice_call *c)
{
    struct voice_phone *ph = c->ph;
    struct store_conn *conn = NULL;
    struct gu_err err;
    char q[160];

    gu_err_clear(&err);
    pthread_mutex_lock(&ph->faq_lock);
    if (ph->faq_from_chat &&
        (!ph->top_at || phone_now(ph) - ph->top_at >= FAQ_REFRESH_S)) {
        char *top[OPTIONS_MAX];
        size_t n = 0;
        int rc = store_acquire(ph->st, &conn, &err);
        if (rc == 0)
            rc = faq_top_load(ph, conn, top, &n, &err);
        store_release(conn);
        if (rc < 0) {
            gu_log_warn("voice.phone.faq", "err=%s",
                        gu_logq(q, sizeof(q), err.msg));
        } else {
            for (size_t i = 0; i < ph->ntop; i++)
                gu_free(ph->top[i]);
            memcpy(ph->top, top, n * sizeof(*top));
            ph->ntop = n;
            gu_log_info("voice.phone.faq", "source=%s questions=%zu",
                        n ? "chat" : "liste_fixe", n ? n : ph->nfaq);
        }
        ph->top_at = phone_now(ph);
    }
    c->faq_fiches = ph->ntop > 0;
    char *const *src = ph->ntop ? ph->top : ph->faq;
    size_t n = ph->ntop ? ph->ntop : ph->nfaq;
    for (size_t i = 0; i < n && c->nfaq < OPTIONS_MAX; i++)
        if ((c->faq[c->nfaq] = gu_strdup(src[i])) != NULL)
            c->nfaq++;
    pthread_mutex_unlock(&ph->faq_lock);
}

static void
faq_release(struct voice_call *c)
{
    for (size_t i = 0; i < c->nfaq; i++)
        gu_free(c->faq[i]);
    c->nfaq = 0;
}

static int
faq_enter(struct voice_call *c, struct gu_buf *b)
{
    if (*c->ph->hours_text)
        gu_buf_printf(b, "Horaires de la mairie : %s.", c->ph->hours_text);
    if (c->nfaq)
        gu_buf_puts(b, c->faq_fiches ? " Les questions les plus posées."
                                     : " Questions fréquentes.");
    for (size_t i = 0; i < c->nfaq && i < OPTIONS_MAX; i++) {
        const char *label =
            c->faq_fiches
                ? gu_arena_sprintf(c->a, "« %s »", c->faq[i])
                : gu_arena_sprintf(c->a, "la question « %s »", c->faq[i]);
        add_option(c, (char)('1' + i), label ? label : "", (int)i);
    }
    say_options(c, b);
    gu_buf_puts(b, " Pour revenir au menu principal, tapez dièse.");
    return 0;
}

static int
faq_choose(struct voice_call *c, int arg)
{
    c->faq_index = arg;
    return S_FAQ_ANSWER;
}

/* Plain sentences from an answer: no Markdown marks, at most
 * ANSWER_MAX bytes, cut after a sentence. */
static void
plain_answer(struct gu_buf *b, const char *text)
{
    size_t start = b->n, cut = 0;

    for (const char *p = text; *p && b->n - start < ANSWER_MAX; p++) {
        char ch = *p;
        if (ch == '*' || ch == '_' || ch == '#' || ch == '`' || ch == '>' ||
            ch == '[' || ch == ']')
            continue;
        if (ch == '(' && strncmp(p, "(http", 5) == 0) {
            const char *e = strchr(p, ')');
            if (e) {
                p = e;
                continue;
            }
        }
        if (ch == '\n' || ch == '\t')
            ch = ' ';
        if (ch == ' ' && b->n > start && b->p[b->n - 1] == ' ')
            continue;
        gu_buf_append(b, &ch, 1);
        if ((ch == '.' || ch == '!' || ch == '?') && (p[1] == ' ' ||
                                                      p[1] == '\n' || !p[1]))
            cut = b->n;
    }
    if (b->n - start >= ANSWER_MAX && cut > start && !b->oom) {
        b->n = cut;
        b->p[cut] = '\0';
    }
}

static int
faq_answer_enter(struct voice_call *c, struct gu_buf *b)
{
    struct store_conn *conn = NULL;
    struct asst_chat_out out;
    struct gu_err err;
    bool said = false;

    gu_err_clear(&err);
    memset(&out, 0, sizeof(out));
    if (store_acquire(c->ph->st, &conn, &err) == 0) {
        struct asst_ctx x = {.eng = asst_engine_of(c->ph->st),
                             .conn = conn,
                             .arena = c->a,
                             .cfg = c->ph->cfg,
                             .request_id = c->call_id};
        struct asst_chat_in in = {.insee = c->ph->insee,
                                  .message = c->faq[c->faq_index]};
        if (x.eng && asst_chat(&x, &in, &out, &err) == 0) {
            for (size_t i = 0; i < out.n; i++) {
                if (strcmp(out.replies[i].type, "answer") == 0 &&
                    out.replies[i].text) {
                    plain_answer(b, out.replies[i].text);
                    said = true;
                    break;
                }
            }
        }
        store_release(conn);
    }
    if (!said)
        gu_buf_puts(b, "Je n'ai pas de réponse sûre à cette question. Un "
                       "agent de la mairie peut vous répondre : tapez zéro "
                       "au menu principal.");
    gu_buf_puts(b, " Pour réécouter, tapez étoile. Pour une autre question, "
                   "tapez dièse.");
    return 0;
}

static int
motif_enter(struct voice_call *c, struct gu_buf *b)
{
    struct store_conn *conn = NULL;
    struct rdv_motif *m = NULL;
    size_t n = 0, k = 0;
    struct gu_err err;

    gu_err_clear(&err);
    if (store_acquire(c->ph->st, &conn, &err) == 0) {
        if (rdv_motif_list(conn, c->a, c->ph->insee, true, &m, &n, &err) < 0)
            n = 0;
        store_release(conn);
    }
    for (size_t i = 0; i < n && k < OPTIONS_MAX; i++) {
        if (!m[i].active || m[i].audience != RDV_PUBLIC)
            continue;
        /* A motif that asks for pré-demande numbers is booked on the web
         * or at the counter: they cannot be typed on a keypad. */
        if (m[i].ants != RDV_ANTS_NONE)
            continue;
        const char *label = gu_arena_sprintf(c->a, "%s", m[i].name);
        add_option(c, (char)('1' + k), label ? label : "", (int)m[i].id);
        k++;
    }
    if (k == 0) {
        gu_buf_puts(b, "La prise de rendez-vous par téléphone n'est pas "
                       "disponible pour le moment.");
        return REDIRECT(S_MAIN);
    }
    gu_buf_puts(b, "Rendez-vous. Choisissez le motif.");
    say_options(c, b);
    gu_buf_puts(b, " Pour revenir au menu principal, tapez dièse.");
    return 0;
}

static int
motif_choose(struct voice_call *c, int arg)
{
    for (size_t i = 0; i < c->nopt; i++) {
        if (c->opt[i].arg == arg) {
            gu_free(c->motif_name);
            c->motif_name = gu_strdup(c->opt[i].label);
        }
    }
    c->motif_id = arg;
    return S_SLOTS;
}

static int
slots_enter(struct voice_call *c, struct gu_buf *b)
{
    struct store_conn *conn = NULL;
    struct rdv_slot *s = NULL;
    size_t n = 0;
    struct gu_err err;
    int64_t today;
    int minute;

    gu_err_clear(&err);
    gu_tz_from_utc(c->ph->tz, phone_now(c->ph), &today, &minute);
    c->nslots = 0;
    if (store_acquire(c->ph->st, &conn, &err) == 0) {
        struct rdv_slot_query q = {.insee = c->ph->insee,
                                   .motif_id = c->motif_id,
                                   .from_day = today,
                                   .to_day = today + 92,
                                   .people = 1,
                                   .limit = SLOTS_OFFERED,
                                   .one_per_time = true,
                                   .now = c->ph->now};
        if (rdv_slots(conn, c->a, &q, &s, &n, &err) < 0)
            n = 0;
        for (size_t i = 0; i < n && i < SLOTS_OFFERED; i++) {
            struct rdv_place p;
            char when[64];
            c->slots[i] = s[i];
            gu_when_fr(s[i].day, s[i].start_min, when, sizeof(when));
            if (rdv_place_get(conn, c->a, c->ph->insee, s[i].place_id, &p,
                              &err) == 0)
                snprintf(c->slot_text[i], sizeof(c->slot_text[i]),
                         "le %s, %s", when, p.name);
            else
                snprintf(c->slot_text[i], sizeof(c->slot_text[i]), "le %s",
                         when);
            c->nslots++;
        }
        store_release(conn);
    }
    if (c->nslots == 0) {
        gu_buf_puts(b, "Il n'y a pas de créneau libre pour ce motif dans les "
                       "trois prochains mois. Vous pouvez laisser un message "
                       "à la mairie en tapant zéro au menu principal.");
        return REDIRECT(S_MAIN);
    }
    gu_buf_printf(b, "Prochains créneaux pour %s.",
                  c->motif_name ? c->motif_name : "ce motif");
    for (size_t i = 0; i < c->nslots; i++)
        add_option(c, (char)('1' + i), c->slot_text[i], (int)i);
    say_options(c, b);
    gu_buf_puts(b, " Pour choisir un autre motif, tapez dièse.");
    return 0;
}

static bool
phone_ok(const char *digits, char out[16])
{
    struct gu_arena *a = gu_arena_new(0);
    const char *norm = a ? pii_norm_phone(a, digits) : NULL;
    bool ok = norm && strlen(norm) < 16;

    if (ok)
        memcpy(out, norm, strlen(norm) + 1);
    gu_arena_free(a);
    return ok;
}

static int
slots_choose(struct voice_call *c, int arg)
{
    c->chosen = arg;
    if (*c->caller && phone_ok(c->caller, c->phone))
        return S_CONFIRM;
    return S_PHONE;
}

static int
phone_enter(struct voice_call *c, struct gu_buf *b)
{
    (void)c;
    gu_buf_puts(b, "Pour recevoir le rappel du rendez-vous, tapez votre "
                   "numéro de téléphone, puis dièse.");
    return 0;
}

static int
phone_choose(struct voice_call *c, int arg)
{
    (void)arg;
    if (!phone_ok(c->digits, c->phone)) {
        c->error_text = gu_strdup("Ce numéro n'est pas valide.");
        return -1;
    }
    return S_CONFIRM;
}

static int
confirm_enter(struct voice_call *c, struct gu_buf *b)
{
    gu_buf_printf(b,
                  "Vous avez choisi %s, pour %s. Votre numéro de téléphone "
                  "sera enregistré avec le rendez-vous pour vous envoyer un "
                  "rappel.",
                  c->slot_text[c->chosen],
                  c->motif_name ? c->motif_name : "ce motif");
    add_option(c, '1', "confirmer la réservation", 1);
    say_options(c, b);
    gu_buf_puts(b, " Pour choisir un autre créneau, tapez dièse.");
    return 0;
}

static int
confirm_choose(struct voice_call *c, int arg)
{
    struct store_conn *conn = NULL;
    struct rdv_booked bk;
    struct gu_err err;
    const struct rdv_slot *s = &c->slots[c->chosen];
    char q[160];
    int rc;

    (void)arg;
    gu_err_clear(&err);
    if ((rc = store_acquire(c->ph->st, &conn, &err)) == 0) {
        struct rdv_book_req r = {
            .insee = c->ph->insee,
            .motif_id = c->motif_id,
            .place_id = s->place_id,
            .counter_id = 0,
            .day = s->day,
            .start_min = s->start_min,
            .people = 1,
            .name = "Réservation par téléphone",
            .email = "",
            .phone = c->phone,
            .consent = true, /* heard the sentence, pressed 1 */
            .channel = RDV_VOICE,
            .actor = "telephone",
            .public_url = gu_config_str(c->ph->cfg, "server.public_url"),
            .now = c->ph->now,
        };
        rc = rdv_book(conn, c->ph->cfg, &r, &bk, &err);
        if (rc == 0)
            rc = voice_code_make(conn, c->ph->insee, bk.id, c->code,
                                 sizeof(c->code), &err);
        if (rc == 0) {
            /* The code also goes by SMS (the rdv.sms_* hook): a caller
             * who did not note it can still cancel. */
            struct gu_err e2;
            char t[400];
            snprintf(t, sizeof(t),
                     "Mairie : votre rendez-vous %s est réservé. Code "
                     "d'annulation par téléphone : %s.",
                     c->slot_text[c->chosen], c->code);
            gu_err_clear(&e2);
            if (rdv_sms_queue_text(conn, c->ph->insee, bk.id, t, &e2) < 0)
                gu_log_warn("voice.book.sms", "call=%s err=%s", c->call_id,
                            gu_logq(q, sizeof(q), e2.msg));
        }
        store_release(conn);
    }
    if (rc < 0) {
        gu_log_warn("voice.book", "call=%s err=%s", c->call_id,
                    gu_logq(q, sizeof(q), err.msg));
        c->error_text = gu_strdup(*err.user ? err.user
                                            : "La réservation a échoué.");
        return rc == GU_ECONFLICT ? S_SLOTS : S_MAIN;
    }
    c->booking_id = bk.id;
    gu_log_info("voice.book", "call=%s caller=%s booking=%lld", c->call_id,
                c->caller_tag, (long long)bk.id);
    return S_BOOKED;
}

static int
booked_enter(struct voice_call *c, struct gu_buf *b)
{
    gu_buf_printf(b, "Votre rendez-vous est réservé %s. Votre code de "
                     "confirmation est : ",
                  c->slot_text[c->chosen]);
    say_digit_words(b, c->code);
    gu_buf_puts(b, ". Je répète : ");
    say_digit_words(b, c->code);
    gu_buf_puts(b, ". Gardez ce code : il permet d'annuler le rendez-vous. "
                   "Pour réécouter, tapez étoile. Pour revenir au menu "
                   "principal, tapez dièse.");
    return 0;
}

static int
cancel_code_enter(struct voice_call *c, struct gu_buf *b)
{
    (void)c;
    gu_buf_puts(b, "Tapez votre code de confirmation, puis dièse.");
    return 0;
}

static int
cancel_code_choose(struct voice_call *c, int arg)
{
    struct store_conn *conn = NULL;
    struct gu_err err;
    struct rdv_booking bk;
    int rc;

    (void)arg;
    memset(&bk, 0, sizeof(bk));
    gu_err_clear(&err);
    if ((rc = store_acquire(c->ph->st, &conn, &err)) == 0) {
        rc = voice_code_check(conn, c->ph->insee, c->digits, &c->cancel_id,
                              &err);
        if (rc == 0)
            rc = rdv_get(conn, c->a, c->ph->insee, c->cancel_id, &bk, &err);
        if (rc == 0 && bk.status != RDV_CONFIRMED)
            rc = gu_err_set(&err, GU_ENOTFOUND, NULL,
                            "Ce rendez-vous est déjà annulé ou passé.",
                            "booking not confirmed");
        store_release(conn);
    }
    if (rc < 0) {
        c->error_text = gu_strdup(
            rc == GU_ENOTFOUND && *err.user
                ? err.user
                : "Ce code ne correspond à aucun rendez-vous.");
        return -1;
    }
    char when[64];
    gu_when_fr(bk.day, bk.start_min, when, sizeof(when));
    snprintf(c->slot_text[0], sizeof(c->slot_text[0]), "le %s, pour %s", when,
             bk.motif_name ? bk.motif_name : "");
    return S_CANCEL_CONFIRM;
}

static int
cancel_confirm_enter(struct voice_call *c, struct gu_buf *b)
{
    gu_buf_printf(b, "Le rendez-vous %s.", c->slot_text[0]);
    add_option(c, '1', "l'annuler", 1);
    say_options(c, b);
    gu_buf_puts(b, " Pour le garder, tapez dièse.");
    return 0;
}

static int
cancel_confirm_choose(struct voice_call *c, int arg)
{
    struct store_conn *conn = NULL;
    struct gu_err err;
    int rc;

    (void)arg;
    gu_err_clear(&err);
    if ((rc = store_acquire(c->ph->st, &conn, &err)) == 0) {
        rc = rdv_cancel(conn, c->ph->cfg, c->ph->insee, c->cancel_id, false,
                        "telephone", &err);
        store_release(conn);
    }
    if (rc < 0) {
        c->error_text = gu_strdup(*err.user ? err.user
                                            : "L'annulation a échoué.");
        return S_MAIN;
    }
    gu_log_info("voice.cancel", "call=%s caller=%s booking=%lld", c->call_id,
                c->caller_tag, (long long)c->cancel_id);
    return S_CANCELLED;
}

static int
cancelled_enter(struct voice_call *c, struct gu_buf *b)
{
    (void)c;
    gu_buf_puts(b, "Votre rendez-vous est annulé.");
    return 0;
}

static int
agent_enter(struct voice_call *c, struct gu_buf *b)
{
    (void)b;
    if (c->ph->can_transfer && *c->ph->transfer_to && phone_open(c->ph))
        return REDIRECT(S_TRANSFER);
    return REDIRECT(S_RECORD);
}

static int
transfer_enter(struct voice_call *c, struct gu_buf *b)
{
    gu_buf_puts(b, "Je vous mets en relation avec un agent de la mairie. "
                   "Veuillez patienter.");
    c->end_action = VOICE_ACT_TRANSFER;
    return 0;
}

static int
transfer_failed_enter(struct voice_call *c, struct gu_buf *b)
{
    (void)c;
    gu_buf_puts(b, "Le transfert vers un agent n'a pas abouti : la ligne est "
                   "occupée ou personne ne répond.");
    return 0;
}

static int
record_enter(struct voice_call *c, struct gu_buf *b)
{
    gu_buf_puts(b, "Aucun agent ne peut vous répondre pour le moment.");
    if (*c->ph->hours_text)
        gu_buf_printf(b, " La mairie est ouverte : %s.", c->ph->hours_text);
    gu_buf_printf(b,
                  " Laissez votre message après le bip, avec votre nom et "
                  "votre numéro de téléphone. Il durera au plus %u secondes. "
                  "Tapez dièse quand vous avez terminé.",
                  c->ph->voicemail_s);
    return 0;
}

static int
vm_done_enter(struct voice_call *c, struct gu_buf *b)
{
    if (*c->vm_number) {
        gu_buf_puts(b, "Votre message est enregistré sous la référence ");
        say_digit_words(b, c->vm_number);
        gu_buf_puts(b, ". Les services de la mairie vous répondront.");
    } else {
        gu_buf_puts(b, "Je n'ai pas pu enregistrer votre message. Merci de "
                       "rappeler aux heures d'ouverture.");
    }
    return 0;
}

static int
bye_enter(struct voice_call *c, struct gu_buf *b)
{
    gu_buf_puts(b, "Merci de votre appel. Au revoir.");
    c->end_action = VOICE_ACT_HANGUP;
    return 0;
}

static int
noinput_enter(struct voice_call *c, struct gu_buf *b)
{
    gu_buf_puts(b, "Je n'ai pas reçu de réponse. Merci de votre appel. Au "
                   "revoir.");
    c->end_action = VOICE_ACT_HANGUP;
    return 0;
}

/* name, kind, dynamic, parent (« # »), next (K_SAY, K_RECORD), hooks */
static const struct state states[S_COUNT] = {
    [S_GREET] = {"accueil", K_SAY, false, S_MAIN, S_MAIN,
        greet_enter, NULL},
    [S_MAIN] = {"menu", K_MENU, false, S_MAIN, S_MAIN,
        main_enter, goto_arg},
    [S_FAQ] = {"questions", K_MENU, false, S_MAIN, S_MAIN,
        faq_enter, faq_choose},
    [S_FAQ_ANSWER] = {"reponse", K_MENU, false, S_FAQ, S_FAQ,
        faq_answer_enter, goto_arg},
    [S_MOTIF] = {"motifs", K_MENU, false, S_MAIN, S_MAIN,
        motif_enter, motif_choose},
    [S_SLOTS] = {"creneaux", K_MENU, true, S_MOTIF, S_MOTIF,
        slots_enter, slots_choose},
    [S_PHONE] = {"numero", K_DIGITS, false, S_SLOTS, S_SLOTS,
        phone_enter, phone_choose},
    [S_CONFIRM] = {"confirmation", K_MENU, true, S_SLOTS, S_SLOTS,
        confirm_enter, confirm_choose},
    [S_BOOKED] = {"reserve", K_MENU, true, S_MAIN, S_MAIN,
        booked_enter, goto_arg},
    [S_CANCEL_CODE] = {"code", K_DIGITS, false, S_MAIN, S_MAIN,
        cancel_code_enter, cancel_code_choose},
    [S_CANCEL_CONFIRM] = {"annulation", K_MENU, true, S_MAIN, S_MAIN,
        cancel_confirm_enter, cancel_confirm_choose},
    [S_CANCELLED] = {"annule", K_SAY, false, S_MAIN, S_MAIN,
        cancelled_enter, NULL},
    [S_AGENT] = {"agent", K_SAY, false, S_MAIN, S_MAIN,
        agent_enter, NULL},
    [S_TRANSFER] = {"transfert", K_END, false, S_TRANSFER, S_TRANSFER,
        transfer_enter, NULL},
    [S_TRANSFER_FAILED] = {"transfert_echoue", K_SAY, false, S_RECORD,
        S_RECORD, transfer_failed_enter, NULL},
    [S_RECORD] = {"messagerie", K_RECORD, false, S_RECORD, S_VM_DONE,
        record_enter, NULL},
    [S_VM_DONE] = {"message_enregistre", K_SAY, true, S_BYE, S_BYE,
        vm_done_enter, NULL},
    [S_BYE] = {"au_revoir", K_END, false, S_BYE, S_BYE,
        bye_enter, NULL},
    [S_NOINPUT] = {"sans_reponse", K_END, false, S_NOINPUT, S_NOINPUT,
        noinput_enter, NULL},
};

/* ----- voicemail ----- */

static void
file_voicemail(struct voice_call *c)
{
    struct store_conn *conn = NULL;
    struct gu_arena *a = gu_arena_new(0);
    struct gu_err err;
    struct tri_intake_res res;
    unsigned char *wav = NULL;
    size_t wlen = 0;
    char when[32], q[160];
    int rc;

    c->recording = false;
    gu_err_clear(&err);
    /* Under one second is a hang-up, not a message. */
    if (!a || c->nrec < VOICE_PHONE_RATE) {
        gu_arena_free(a);
        return;
    }
    struct voice_audio au = {.pcm = c->rec, .n = c->nrec,
                             .rate = VOICE_PHONE_RATE};
    gu_time_fr(phone_now(c->ph), when, sizeof(when));
    rc = voice_wav(a, &au, &wav, &wlen, &err);
    if (rc == 0 && (rc = store_acquire(c->ph->st, &conn, &err)) == 0) {
        struct tri_attach_in att = {.filename = "message-vocal.wav",
                                    .ctype = "audio/wav",
                                    .data = wav,
                                    .size = wlen};
        const char *body = gu_arena_sprintf(
            a,
            "Message vocal de %zu secondes laissé le %s sur le répondeur de "
            "l'assistant téléphonique. Numéro de l'appelant : %s. Écoutez la "
            "pièce jointe.",
            c->nrec / VOICE_PHONE_RATE, when,
            *c->caller ? c->caller : "inconnu");
        struct tri_intake_req r = {
            .insee = c->ph->insee,
            .channel = TRI_TELEPHONE,
            .subject = "Message vocal",
            .body = body ? body : "Message vocal.",
            .contact_phone = *c->caller && phone_ok(c->caller, c->phone)
                                 ? c->phone
                                 : NULL,
            .origin = gu_arena_sprintf(a, "voice:%s", c->call_id),
            .attach = &att,
            .nattach = 1,
            .actor = "telephone",
        };
        rc = tri_intake(c->ph->st, conn, c->ph->cfg, &r, a, &res, &err);
        store_release(conn);
    }
    if (rc < 0) {
        gu_log_error("voice.voicemail", "call=%s caller=%s err=%s",
                     c->call_id, c->caller_tag,
                     gu_logq(q, sizeof(q), err.msg));
    } else {
        snprintf(c->vm_number, sizeof(c->vm_number), "%s", res.number);
        gu_log_info("voice.voicemail",
                    "call=%s caller=%s request=%lld seconds=%zu", c->call_id,
                    c->caller_tag, (long long)res.id,
                    c->nrec / VOICE_PHONE_RATE);
    }
    gu_arena_free(a);
}

static void
stop_recording(struct voice_call *c)
{
    if (!c->recording)
        return;
    file_voicemail(c);
    enter(c, S_VM_DONE);
}

/* ----- warming the cache ----- */

/*
 * The states whose prompt depends only on the commune and the settings:
 * synthesised once at start, so that no call waits for them (over SIP, a
 * synthesis in the loop thread delays every call's packets).
 */
static const enum st warm_states[] = {
    S_GREET,    S_MAIN,     S_FAQ,    S_PHONE,         S_CANCEL_CODE,
    S_CANCELLED, S_TRANSFER, S_RECORD, S_TRANSFER_FAILED, S_BYE,
    S_NOINPUT};

int
voice_phone_warm(struct voice_phone *ph, struct gu_err *err)
{
    int warmed = 0;

    for (size_t i = 0; i < sizeof(warm_states) / sizeof(*warm_states); i++) {
        struct voice_call dummy;
        const int16_t *pcm;
        int16_t *owned = NULL;
        size_t n;
        struct gu_buf b;

        memset(&dummy, 0, sizeof(dummy));
        dummy.ph = ph;
        if (!(dummy.a = gu_arena_new(0)))
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
        faq_snapshot(&dummy); /* the questions' menu as calls will hear it */
        gu_buf_init(&b);
        int r = states[warm_states[i]].enter(&dummy, &b), rc = 0;
        if (r == 0 && b.p && b.n && !b.oom &&
            (rc = prompt_audio(ph, b.p, true, &pcm, &n, &owned, err)) == 0)
            warmed++;
        gu_free(owned);
        gu_buf_fini(&b);
        faq_release(&dummy);
        gu_arena_free(dummy.a);
        if (rc < 0)
            return rc;
    }
    return warmed;
}

/* ----- the public face ----- */

int
voice_call_new(struct voice_phone *ph, const char *caller,
               const char *call_id, struct voice_call **out,
               struct gu_err *err)
{
    struct voice_call *c = gu_calloc(1, sizeof(*c));
    struct store_conn *conn = NULL;
    unsigned char key[PII_KEY_BYTES];
    int rc;

    *out = NULL;
    if (!c)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "out of memory");
    c->ph = ph;
    snprintf(c->call_id, sizeof(c->call_id), "%s",
             call_id && *call_id ? call_id : "-");
    for (char *p = c->call_id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' &&
            *p != '@' && *p != '_')
            *p = '_';
    if (caller && strlen(caller) < sizeof(c->caller)) {
        size_t k = 0;
        for (const char *p = caller; *p; p++)
            if (isdigit((unsigned char)*p) || (*p == '+' && k == 0))
                c->caller[k++] = *p;
        c->caller[k] = '\0';
    }
    snprintf(c->caller_tag, sizeof(c->caller_tag), "inconnu");
    if (*c->caller && (rc = store_acquire(ph->st, &conn, err)) == 0) {
        if (pii_commune_key(conn, ph->insee, key, err) == 0) {
            struct gu_arena *a = gu_arena_new(0);
            char *t = a ? pii_redact_keyed(a, c->caller, strlen(c->caller),
                                           key, NULL)
                        : NULL;
            /* An odd number the scanner does not see is still kept out. */
            snprintf(c->caller_tag, sizeof(c->caller_tag), "%s",
                     t && strcmp(t, c->caller) != 0 ? t : "[numéro]");
            for (char *p = c->caller_tag; *p; p++)
                if (*p == ' ')
                    *p = '_';
            gu_arena_free(a);
            sodium_memzero(key, sizeof(key));
        }
        store_release(conn);
    }
    if ((rc = voice_dtmf_new(VOICE_PHONE_RATE, &c->dtmf)) < 0) {
        gu_free(c);
        return gu_err_set(err, rc, NULL, NULL, "dtmf detector");
    }
    c->st = S_COUNT;
    faq_snapshot(c);
    gu_log_info("voice.call.start", "call=%s caller=%s", c->call_id,
                c->caller_tag);
    enter(c, S_GREET);
    *out = c;
    return 0;
}

void
voice_call_free(struct voice_call *c)
{
    if (!c)
        return;
    if (c->recording)
        file_voicemail(c);
    gu_log_info("voice.call.end", "call=%s caller=%s state=%s", c->call_id,
                c->caller_tag, c->st < S_COUNT ? states[c->st].name : "-");
    queue_clear(c);
    slot_release(c->ph, c->asr_slot);
    gu_free(c->utt);
    faq_release(c);
    voice_dtmf_free(c->dtmf);
    gu_arena_free(c->a);
    gu_free(c->last_prompt);
    gu_free(c->motif_name);
    gu_free(c->error_text);
    gu_free(c->rec);
    gu_free(c);
}

static void
record_audio(struct voice_call *c, const int16_t *pcm, size_t n)
{
    size_t limit = (size_t)c->ph->voicemail_s * VOICE_PHONE_RATE;

    if (c->nrec + n > limit)
        n = limit - c->nrec;
    if (c->nrec + n > c->caprec) {
        size_t cap = c->caprec ? c->caprec * 2 : VOICE_PHONE_RATE * 10;
        while (cap < c->nrec + n)
            cap *= 2;
        if (cap > limit)
            cap = limit;
        int16_t *p = gu_malloc(cap * sizeof(*p));
        if (!p)
            return;
        if (c->nrec)
            memcpy(p, c->rec, c->nrec * sizeof(*p));
        gu_free(c->rec);
        c->rec = p;
        c->caprec = cap;
    }
    memcpy(c->rec + c->nrec, pcm, n * sizeof(*pcm));
    c->nrec += n;
    if (c->nrec >= limit)
        stop_recording(c);
}

void
voice_call_audio_in(struct voice_call *c, const int16_t *pcm, size_t n)
{
    char d[8];
    size_t k = voice_dtmf_feed(c->dtmf, pcm, n, d, sizeof(d));

    if (c->recording)
        record_audio(c, pcm, n);
    if (k)
        utterance_reset(c); /* a key's tones are not speech */
    else
        listen_speech(c, pcm, n);
    for (size_t i = 0; i < k; i++)
        voice_call_digit(c, d[i]);
}

static void
wrong_key(struct voice_call *c)
{
    enum st s = c->st;
    if (++c->tries >= c->ph->retries) {
        enter(c, S_NOINPUT);
        return;
    }
    unsigned tries = c->tries;
    c->error_text = gu_strdup("Ce choix n'est pas valide.");
    enter(c, s);
    c->tries = tries;
}

static void
go(struct voice_call *c, int next)
{
    unsigned tries = c->tries;
    enum st s = c->st;

    if (next >= 0) {
        enter(c, (enum st)next);
        return;
    }
    /* Stay (an entry or choice refused with a message). */
    if (++tries >= c->ph->retries) {
        gu_free(c->error_text);
        c->error_text = NULL;
        enter(c, S_NOINPUT);
        return;
    }
    enter(c, s);
    c->tries = tries;
}

void
voice_call_digit(struct voice_call *c, char digit)
{
    const struct state *s = &states[c->st];

    if (!voice_dtmf_valid(digit))
        return;
    c->idle = 0;
    switch (s->kind) {
    case K_END:
        return;
    case K_RECORD:
        if (digit == '#' && c->recording)
            stop_recording(c);
        return;
    case K_SAY:
        /* Skip what is said; the key goes to the next state. */
        enter(c, s->next);
        voice_call_digit(c, digit);
        return;
    case K_DIGITS:
        if (digit == '*') {
            enter(c, c->st);
        } else if (digit == '#') {
            if (c->ndigits == 0) {
                enter(c, s->parent);
                return;
            }
            go(c, s->choose(c, 0));
        } else if (c->ndigits < VOICE_DIGITS_MAX &&
                   isdigit((unsigned char)digit)) {
            queue_clear(c); /* barge-in */
            c->digits[c->ndigits++] = digit;
            c->digits[c->ndigits] = '\0';
        }
        return;
    case K_MENU:
        if (digit == '*') {
            unsigned tries = c->tries;
            enter(c, c->st);
            c->tries = tries;
            return;
        }
        if (digit == '#') {
            enter(c, s->parent);
            return;
        }
        for (size_t i = 0; i < c->nopt; i++) {
            if (c->opt[i].key == digit) {
                go(c, s->choose(c, c->opt[i].arg));
                return;
            }
        }
        wrong_key(c);
        return;
    }
}

enum voice_action
voice_call_audio_out(struct voice_call *c, int16_t out[VOICE_FRAME])
{
    size_t k = 0;

    poll_tts(c);
    poll_asr(c);
    while (k < VOICE_FRAME && c->qn) {
        struct seg *g = &c->q[0];
        size_t take = g->n - c->qpos;
        if (take > VOICE_FRAME - k)
            take = VOICE_FRAME - k;
        memcpy(out + k, g->pcm + c->qpos, take * sizeof(*out));
        k += take;
        c->qpos += take;
        if (c->qpos >= g->n) {
            gu_free(g->owned);
            memmove(c->q, c->q + 1, (c->qn - 1) * sizeof(*c->q));
            c->qn--;
            c->qpos = 0;
        }
    }
    memset(out + k, 0, (VOICE_FRAME - k) * sizeof(*out));
    if (c->qn || k)
        return VOICE_ACT_CONTINUE;
    if (c->tts_slot) {
        /* Silence while the prompt is synthesised: the state goes on (and
         * its silence timer starts) only once it has been heard. */
        if (++c->tts_wait >= TTS_WAIT_FRAMES) {
            gu_log_error("voice.tts.timeout", "call=%s", c->call_id);
            slot_release(c->ph, c->tts_slot);
            c->tts_slot = NULL;
        }
        return VOICE_ACT_CONTINUE;
    }

    /* The prompt has been played. */
    const struct state *s = &states[c->st];
    switch (s->kind) {
    case K_END:
        return c->end_action ? c->end_action : VOICE_ACT_HANGUP;
    case K_SAY:
        enter(c, s->next);
        return VOICE_ACT_CONTINUE;
    case K_RECORD:
        if (!c->recording) {
            /* The beep, then record. */
            int16_t *beep = gu_malloc(VOICE_PHONE_RATE / 2 * sizeof(*beep));
            if (beep) {
                size_t n = voice_tone(1000, VOICE_PHONE_RATE, 400, 8000, beep,
                                      VOICE_PHONE_RATE / 2);
                queue_pcm(c, beep, n, beep);
            }
            c->recording = true;
            c->nrec = 0;
        }
        return VOICE_ACT_CONTINUE;
    case K_MENU:
    case K_DIGITS:
        if (++c->idle >= c->ph->timeout_s * (VOICE_PHONE_RATE / VOICE_FRAME)) {
            c->idle = 0;
            if (++c->tries >= c->ph->retries) {
                enter(c, S_NOINPUT);
            } else {
                unsigned tries = c->tries;
                enter(c, c->st);
                c->tries = tries;
            }
        }
        return VOICE_ACT_CONTINUE;
    }
    return VOICE_ACT_CONTINUE;
}

void
voice_call_transfer_failed(struct voice_call *c)
{
    if (c->st != S_TRANSFER)
        return;
    c->end_action = VOICE_ACT_CONTINUE;
    enter(c, S_TRANSFER_FAILED);
}

const char *
voice_call_transfer_to(const struct voice_call *c)
{
    return c->ph->transfer_to;
}

const char *
voice_call_state(const struct voice_call *c)
{
    return c->st < S_COUNT ? states[c->st].name : "";
}

const char *
voice_call_last_prompt(const struct voice_call *c)
{
    return c->last_prompt ? c->last_prompt : "";
}

const char *
voice_call_voicemail_number(const struct voice_call *c)
{
    return c->vm_number;
}

int64_t
voice_call_booking(const struct voice_call *c)
{
    return c->booking_id;
}

const char *
voice_call_heard(const struct voice_call *c)
{
    return c->heard;
}

const char *
voice_call_grammar(const struct voice_call *c)
{
    return c->grammar ? c->grammar : "";
}
