/*
 * asst_chat.c - conversations: one resident turn in, replies out.
 *
 * A turn reads the conversation (from memory, else one SELECT), decides
 * from the commune's bundle (no SQL), counts its rate-limit hit (in
 * memory), then queues its rows for the engine's writer thread, which
 * writes them behind the answer, many turns per transaction: the
 * rate-limit hit, the conversation's new state, the reply rows and one
 * "asst.answer" audit entry (see "Write-behind" below for what a crash
 * may lose). Only redacted text (pii_redact) is stored; the reply rows
 * record why (fiche, section, scores, margin, index generation).
 *
 * State kept per conversation: the topic (last answered fiche and the
 * query that led to it) for follow-ups, how many clarifications were
 * asked since the last answer, and the candidates of the last
 * clarification (choices c1..c3).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assistant/asst_internal.h"
#include "privacy/privacy.h"

/* ------------------------------------------------------------------ */
/* Schema                                                              */
/* ------------------------------------------------------------------ */

static const char v1_chat[] =
    "CREATE TABLE asst_conversations (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  token_hash TEXT NOT NULL UNIQUE,\n"
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL,\n"
    "  turns INTEGER NOT NULL DEFAULT 0,\n"
    "  topic_fiche TEXT NOT NULL DEFAULT '',\n"
    "  topic_query TEXT NOT NULL DEFAULT '',\n"
    "  clarified INTEGER NOT NULL DEFAULT 0,\n"
    "  pending TEXT NOT NULL DEFAULT '',\n"
    "  pending_query TEXT NOT NULL DEFAULT ''\n"
    ");\n"
    "CREATE INDEX asst_conversations_updated ON asst_conversations "
    "(updated_at);\n"
    "CREATE TABLE asst_messages (\n"
    "  id $PK,\n"
    "  conversation_id BIGINT NOT NULL REFERENCES asst_conversations(id)"
    " ON DELETE CASCADE,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  at BIGINT NOT NULL,\n"
    "  question TEXT NOT NULL DEFAULT '',\n"
    "  type TEXT NOT NULL,\n"
    "  payload TEXT NOT NULL,\n"
    "  fiche_id TEXT NOT NULL DEFAULT '',\n"
    "  section TEXT NOT NULL DEFAULT '',\n"
    "  score REAL NOT NULL DEFAULT 0,\n"
    "  margin REAL NOT NULL DEFAULT 0,\n"
    "  generation BIGINT NOT NULL DEFAULT 0,\n"
    "  why TEXT NOT NULL DEFAULT '',\n"
    "  useful INTEGER,\n"
    "  comment TEXT NOT NULL DEFAULT '',\n"
    "  rated_at BIGINT NOT NULL DEFAULT 0\n"
    ");\n"
    "CREATE INDEX asst_messages_conv ON asst_messages (conversation_id, id);\n"
    "CREATE INDEX asst_messages_insee ON asst_messages (insee, at);\n"
    "CREATE TABLE asst_handoffs (\n"
    "  id $PK,\n"
    "  insee TEXT NOT NULL REFERENCES communes(insee) ON DELETE CASCADE,\n"
    "  conversation_id BIGINT REFERENCES asst_conversations(id)"
    " ON DELETE SET NULL,\n"
    "  follow_hash TEXT NOT NULL UNIQUE,\n"
    "  email TEXT NOT NULL,\n"
    "  question TEXT NOT NULL,\n"
    "  transcript TEXT NOT NULL DEFAULT '',\n"
    "  status TEXT NOT NULL DEFAULT 'nouveau'"
    " CHECK (status IN ('nouveau', 'en cours', 'répondu')),\n"
    "  answer TEXT NOT NULL DEFAULT '',\n"
    "  answered_by TEXT NOT NULL DEFAULT '',\n"
    "  answered_at BIGINT NOT NULL DEFAULT 0,\n"
    "  fiche_id TEXT NOT NULL DEFAULT '',\n"
    "  created_at BIGINT NOT NULL,\n"
    "  updated_at BIGINT NOT NULL\n"
    ");\n"
    "CREATE INDEX asst_handoffs_insee ON asst_handoffs (insee, id);\n"
    "CREATE INDEX asst_handoffs_conv ON asst_handoffs (conversation_id);\n";

/*
 * Several nodes on one database: message and conversation ids come in
 * blocks reserved in asst_ids (see ids_take), and a node claims a
 * hand-off before it files it in the request inbox (inbox_claimed_at,
 * asst_handoff_inbox_job).
 */
static const char v2_nodes[] =
    "CREATE TABLE asst_ids (\n"
    "  name TEXT PRIMARY KEY,\n"
    "  next_id BIGINT NOT NULL\n"
    ");\n"
    "INSERT INTO asst_ids (name, next_id) VALUES ('message', 1);\n"
    "INSERT INTO asst_ids (name, next_id) VALUES ('conversation', 1);\n"
    "ALTER TABLE asst_handoffs ADD COLUMN inbox_claimed_at BIGINT NOT NULL"
    " DEFAULT 0;\n";

static const struct store_migration migrations[] = {
    {"assistant", 1, v1_chat},
    {"assistant", 2, v2_nodes},
};

const struct store_migration *
asst_migrations(size_t *count)
{
    *count = GU_ARRAY_LEN(migrations);
    return migrations;
}

/* ------------------------------------------------------------------ */
/* Replies as JSON                                                     */
/* ------------------------------------------------------------------ */

json_t *
asst_reply_json(const struct asst_reply *r)
{
    json_t *j = json_object(), *arr;

    if (!j)
        return NULL;
    if (r->id > 0)
        json_object_set_new(j, "id", json_integer((json_int_t)r->id));
    json_object_set_new(j, "type", json_string(r->type));
    json_object_set_new(j, "text", json_string(r->text ? r->text : ""));
    if (r->html)
        json_object_set_new(j, "html", json_string(r->html));
    if (r->has_fiche)
        json_object_set_new(
            j, "fiche",
            json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", r->fiche.id,
                      "title", r->fiche.title ? r->fiche.title : "", "section",
                      r->fiche.section ? r->fiche.section : "", "origin",
                      r->fiche.origin, "source_url",
                      r->fiche.source_url ? r->fiche.source_url : "",
                      "source_date",
                      r->fiche.source_date ? r->fiche.source_date : ""));
    arr = json_array();
    for (size_t i = 0; arr && i < r->nlinks; i++)
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s}", "label", r->links[i].label, "url",
                           r->links[i].url, "kind", r->links[i].kind));
    json_object_set_new(j, "links", arr ? arr : json_array());
    arr = json_array();
    for (size_t i = 0; arr && i < r->nrelated; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s}", "label",
                                             r->related[i].label, "message",
                                             r->related[i].message));
    json_object_set_new(j, "related", arr ? arr : json_array());
    arr = json_array();
    for (size_t i = 0; arr && i < r->nchoices; i++)
        json_array_append_new(arr,
                              json_pack("{s:s, s:s}", "id", r->choices[i].id,
                                        "label", r->choices[i].label));
    json_object_set_new(j, "choices", arr ? arr : json_array());
    json_object_set_new(j, "feedback", json_boolean(r->feedback));
    if (r->generated)
        json_object_set_new(j, "generated", json_true());
    /* A JSON object missing a member after OOM is refused here. */
    if (!json_object_get(j, "type") || !json_object_get(j, "choices")) {
        json_decref(j);
        return NULL;
    }
    return j;
}

void
asst_json_str(struct gu_buf *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;

    gu_buf_append(o, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        gu_buf_append(o, run, (size_t)(s - run));
        run = s + 1;
        switch (c) {
        case '"':
            gu_buf_append(o, "\\\"", 2);
            break;
        case '\\':
            gu_buf_append(o, "\\\\", 2);
            break;
        case '\n':
            gu_buf_append(o, "\\n", 2);
            break;
        case '\r':
            gu_buf_append(o, "\\r", 2);
            break;
        case '\t':
            gu_buf_append(o, "\\t", 2);
            break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            gu_buf_append(o, u, 6);
        }
        }
    }
    if (s)
        gu_buf_append(o, run, (size_t)(s - run));
    gu_buf_append(o, "\"", 1);
}

/* Decimal digits of v appended (printf costs more than the rest of a
 * reply's JSON). */
static void
put_int(struct gu_buf *o, long long v)
{
    char d[24];
    size_t i = sizeof(d);
    unsigned long long u =
        v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    do {
        d[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        d[--i] = '-';
    gu_buf_append(o, d + i, sizeof(d) - i);
}

/* ,"key": */
static void
key_of(struct gu_buf *o, const char *key)
{
    gu_buf_append(o, ",\"", 2);
    gu_buf_puts(o, key);
    gu_buf_append(o, "\":", 2);
}

/* ,"key":"value" */
static void
member(struct gu_buf *o, const char *key, const char *v)
{
    key_of(o, key);
    asst_json_str(o, v ? v : "");
}

void
asst_reply_dump(struct gu_buf *o, const struct asst_reply *r, int64_t id,
                bool html)
{
    gu_buf_puts(o, "{");
    if (id > 0) {
        gu_buf_puts(o, "\"id\":");
        put_int(o, id);
        gu_buf_puts(o, ",");
    }
    gu_buf_puts(o, "\"type\":");
    asst_json_str(o, r->type);
    member(o, "text", r->text);
    if (html && r->html)
        member(o, "html", r->html);
    if (r->has_fiche) {
        gu_buf_puts(o, ",\"fiche\":{\"id\":");
        asst_json_str(o, r->fiche.id);
        member(o, "title", r->fiche.title);
        member(o, "section", r->fiche.section);
        member(o, "origin", r->fiche.origin);
        member(o, "source_url", r->fiche.source_url);
        member(o, "source_date", r->fiche.source_date);
        gu_buf_puts(o, "}");
    }
    gu_buf_puts(o, ",\"links\":[");
    for (size_t i = 0; i < r->nlinks; i++) {
        gu_buf_puts(o, i ? ",{\"label\":" : "{\"label\":");
        asst_json_str(o, r->links[i].label);
        member(o, "url", r->links[i].url);
        member(o, "kind", r->links[i].kind);
        gu_buf_puts(o, "}");
    }
    gu_buf_puts(o, "],\"related\":[");
    for (size_t i = 0; i < r->nrelated; i++) {
        gu_buf_puts(o, i ? ",{\"label\":" : "{\"label\":");
        asst_json_str(o, r->related[i].label);
        member(o, "message", r->related[i].message);
        gu_buf_puts(o, "}");
    }
    gu_buf_puts(o, "],\"choices\":[");
    for (size_t i = 0; i < r->nchoices; i++) {
        gu_buf_puts(o, i ? ",{\"id\":" : "{\"id\":");
        asst_json_str(o, r->choices[i].id);
        member(o, "label", r->choices[i].label);
        gu_buf_puts(o, "}");
    }
    gu_buf_puts(o,
                r->feedback ? "],\"feedback\":true" : "],\"feedback\":false");
    if (r->generated)
        gu_buf_puts(o, ",\"generated\":true");
    gu_buf_puts(o, "}");
}

/* The response's reply from its stored payload (reply_text without id
 * nor html): the id first, the html last. */
static const char *
with_id_html(struct gu_arena *a, const char *payload,
             const struct asst_reply *r)
{
    struct gu_buf o;
    size_t n = strlen(payload);
    const char *s;

    if (n < 2)
        return NULL;
    gu_buf_init(&o);
    gu_buf_puts(&o, "{");
    if (r->id > 0) {
        gu_buf_puts(&o, "\"id\":");
        put_int(&o, r->id);
        gu_buf_puts(&o, ",");
    }
    gu_buf_append(&o, payload + 1, n - 2);
    if (r->html) {
        gu_buf_puts(&o, ",\"html\":");
        asst_json_str(&o, r->html);
    }
    gu_buf_puts(&o, "}");
    s = o.oom || !o.p ? NULL : gu_arena_strndup(a, o.p, o.n);
    gu_buf_fini(&o);
    return s;
}

/* A reply's JSON text into the arena; NULL on OOM. */
static const char *
reply_text(struct gu_arena *a, const struct asst_reply *r, int64_t id,
           bool html)
{
    struct gu_buf o;
    const char *s;

    gu_buf_init(&o);
    asst_reply_dump(&o, r, id, html);
    s = o.oom || !o.p ? NULL : gu_arena_strndup(a, o.p, o.n);
    gu_buf_fini(&o);
    return s;
}

/* ------------------------------------------------------------------ */
/* Conversations in the store                                          */
/* ------------------------------------------------------------------ */

struct conv {
    int64_t id; /* 0 = new */
    char insee[6];
    char hash[65]; /* of its token */
    long turns;
    const char *topic_fiche;
    const char *topic_query;
    long clarified;
    const char *pending;
    const char *pending_query;
};

static int
conv_notfound(struct gu_err *err)
{
    return gu_err_set(err, GU_ENOTFOUND, "conversation",
                      "Cette conversation n’existe pas ou a expiré. "
                      "Commencez-en une nouvelle.",
                      "unknown conversation");
}

/* Load a conversation of `insee` by token. GU_ENOTFOUND when unknown. */
static int
conv_load(struct store_conn *c, struct gu_arena *a, const char *insee,
          const char *token, struct conv *out, struct gu_err *err)
{
    struct store_rows *r = NULL;
    char h[65];
    int rc;

    memset(out, 0, sizeof(*out));
    if (!token || strlen(token) < 20 || strlen(token) > 128)
        goto notfound;
    gu_token_hash(token, h);
    memcpy(out->hash, h, sizeof(out->hash));
    struct store_val p[] = {STORE_T(h)};
    rc = store_query(c, a,
                     "SELECT id, insee, turns, topic_fiche, topic_query,"
                     " clarified, pending, pending_query"
                     " FROM asst_conversations WHERE token_hash = ?",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    if (r->nrows == 0 || (insee && strcmp(store_text(r, 0, 1), insee) != 0))
        goto notfound;
    out->id = store_int(r, 0, 0);
    snprintf(out->insee, sizeof(out->insee), "%s", store_text(r, 0, 1));
    out->turns = (long)store_int(r, 0, 2);
    out->topic_fiche = store_text(r, 0, 3);
    out->topic_query = store_text(r, 0, 4);
    out->clarified = (long)store_int(r, 0, 5);
    out->pending = store_text(r, 0, 6);
    out->pending_query = store_text(r, 0, 7);
    return 0;
notfound:
    return conv_notfound(err);
}

int
asst_conv_lookup(struct asst_engine *e, struct store_conn *c,
                 struct gu_arena *a, const char *token, int64_t *id,
                 char insee[6], struct gu_err *err)
{
    struct conv cv;
    int rc;

    /* Every turn answered so far is in the database. */
    asst_writer_flush(asst_engine_writer(e), c);
    rc = conv_load(c, a, NULL, token, &cv, err);
    if (rc < 0)
        return rc;
    *id = cv.id;
    memcpy(insee, cv.insee, 6);
    return 0;
}

/* ------------------------------------------------------------------ */
/* Fixed replies                                                       */
/* ------------------------------------------------------------------ */

static struct asst_choice agent_choice = {"agent", "Parler à un agent"};

static void
fixed(struct asst_reply *r, const char *type, const char *text)
{
    memset(r, 0, sizeof(*r));
    r->type = type;
    r->text = text;
    r->choices = &agent_choice;
    r->nchoices = 1;
}

static const char *
disclosure_of(struct gu_arena *a, const char *name)
{
    return gu_arena_sprintf(a,
                            "Vous échangez avec un assistant automatique de "
                            "la mairie de %s. Ses réponses s’appuient sur les "
                            "fiches de la mairie et de service-public.fr et "
                            "peuvent comporter des erreurs ; un agent peut "
                            "prendre le relais à tout moment.",
                            name);
}

const char *
asst_disclosure(struct gu_arena *a, const char *commune_name)
{
    return gu_arena_sprintf(
        a,
        "Bonjour, je suis l’assistant automatique de la mairie de %s. Je "
        "réponds à vos questions sur les démarches à partir des fiches de la "
        "mairie et de service-public.fr, en citant toujours la source. Je "
        "peux me tromper : à tout moment, vous pouvez demander à parler à un "
        "agent.",
        commune_name ? commune_name : "");
}

static int
greeting(struct gu_arena *a, const char *name, struct asst_reply *r)
{
    const char *t = asst_disclosure(a, name);
    if (!t)
        return GU_ENOMEM;
    fixed(r, "greeting", t);
    r->html = asst_text_html(a, t);
    return r->html ? 0 : GU_ENOMEM;
}

static int
handoff_offer(struct gu_arena *a, struct asst_reply *r, bool unsure)
{
    fixed(r, "handoff_offer",
          unsure ? "Je n’ai pas trouvé de réponse sûre à votre question. Un "
                   "agent de la mairie peut vous répondre par courriel : "
                   "laissez-nous votre adresse et votre question lui sera "
                   "transmise."
                 : "Un agent de la mairie peut vous répondre par courriel : "
                   "laissez-nous votre adresse et votre question lui sera "
                   "transmise.");
    r->html = asst_text_html(a, r->text);
    return r->html ? 0 : GU_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* A turn                                                              */
/* ------------------------------------------------------------------ */

/*
 * Does the (folded) message open like a follow-up (« et pour un mineur ? »,
 * « et si… », « pareil pour… »)?
 */
static bool
followup_cue(struct gu_arena *a, const char *m)
{
    static const char *const cues[] = {
        "et ",       "et,",        "et?",         "pour un ",  "pour une ",
        "pour les ", "pour mon ",  "pour ma ",    "pour mes ", "aussi",
        "pareil",    "meme chose", "dans ce cas", "sinon",     "mais si ",
    };
    size_t n;
    char *f = text_fold(a, m, strlen(m), &n);

    if (!f)
        return false;
    while (*f == ' ')
        f++;
    for (size_t i = 0; i < GU_ARRAY_LEN(cues); i++) {
        if (strncmp(f, cues[i], strlen(cues[i])) == 0)
            return true;
    }
    return false;
}

/* What one turn decided, for storage and the audit entry. */
struct turn {
    struct asst_reply *replies;
    const char *payload[2]; /* replies as stored: JSON, no id nor html */
    size_t n;
    const char *question; /* redacted, "" for a choice without text */
    /* new conversation state */
    const char *topic_fiche, *topic_query;
    long clarified;
    const char *pending, *pending_query;
    bool counted; /* counts as a turn */
    bool nostore; /* over the turn limit: nothing more is stored */
    /* why */
    float coverage; /* asst_coverage of the first hit */
    struct asst_why why;
    const char *decision_fiche;
    const char *section;
    const char *why_text; /* JSON text (arena) */
    const char *audit;    /* detail of the "asst.answer" audit entry */
};

/* ,"key":v with v to 4 decimals (integer formatting: %f is slow). */
static void
fix4(struct gu_buf *o, const char *key, double v)
{
    long long k = (long long)(v * 10000.0 + (v < 0 ? -0.5 : 0.5));
    char frac[5] = {'.', '0', '0', '0', '0'};

    key_of(o, key);
    if (k < 0) {
        gu_buf_append(o, "-", 1);
        k = -k;
    }
    put_int(o, k / 10000);
    for (int i = 4; i >= 1; i--, k /= 10)
        frac[i] = (char)('0' + k % 10);
    gu_buf_append(o, frac, 5);
}

/* Why a reply was chosen, as JSON text (arena): candidates, margin,
 * confidence, coverage, section. Written directly: it is stored with
 * every reply. */
static const char *
why_text(struct gu_arena *a, const struct asst_bundle *b,
         const struct asst_ranked *rk, bool followup, const struct asst_why *w,
         float coverage)
{
    struct gu_buf o;
    const char *s;

    gu_buf_init(&o);
    gu_buf_puts(&o, "{\"candidates\":[");
    for (size_t i = 0; rk && i < rk->n && i < 5; i++) {
        gu_buf_puts(&o, i ? ",{\"id\":" : "{\"id\":");
        asst_json_str(&o, b->fiches[rk->hits[i].doc].id);
        fix4(&o, "score", (double)rk->hits[i].score);
        fix4(&o, "bm25", (double)rk->hits[i].bm25);
        fix4(&o, "ngram", (double)rk->hits[i].ngram);
        gu_buf_puts(&o, "}");
    }
    gu_buf_puts(&o, "]");
    fix4(&o, "margin", rk ? (double)rk->margin : 0.0);
    fix4(&o, "confidence", rk ? (double)rk->confidence : 0.0);
    fix4(&o, "coverage", (double)coverage);
    gu_buf_puts(&o, ",\"terms\":");
    put_int(&o, rk ? (long long)rk->nterms : 0);
    gu_buf_puts(&o, followup ? ",\"followup\":true,\"section\":"
                             : ",\"followup\":false,\"section\":");
    put_int(&o, w ? w->section : -1);
    fix4(&o, "section_score", w ? (double)w->section_score : 0.0);
    gu_buf_puts(&o, ",\"generation\":");
    put_int(&o, b->generation);
    gu_buf_puts(&o, "}");
    s = o.oom || !o.p ? NULL : gu_arena_strndup(a, o.p, o.n);
    gu_buf_fini(&o);
    return s;
}

/* A clarification: 2-3 candidates whose score is near the best. */
static int
clarify(struct asst_bundle *b, const struct asst_policy *t, struct gu_arena *a,
        const struct asst_ranked *rk, const char *query, struct turn *tu,
        struct asst_reply *r)
{
    struct gu_buf ids;
    size_t k = 0, max = t->clarify_max ? t->clarify_max : 3;

    memset(r, 0, sizeof(*r));
    r->type = "clarify";
    r->text = "Je ne suis pas sûr d’avoir bien compris. Votre question "
              "porte-t-elle sur l’un de ces sujets ?";
    r->html = asst_text_html(a, r->text);
    r->choices = gu_arena_zalloc(a, (max + 1) * sizeof(*r->choices));
    if (!r->html || !r->choices)
        return GU_ENOMEM;
    gu_buf_init(&ids);
    for (size_t i = 0; i < rk->n && k < max; i++) {
        if (k >= 2 && rk->hits[i].score < t->clarify_ratio * rk->hits[0].score)
            break;
        const struct kb_fiche *f = &b->fiches[rk->hits[i].doc];
        r->choices[k].id = gu_arena_sprintf(a, "c%zu", k + 1);
        r->choices[k].label = f->title;
        if (k)
            gu_buf_puts(&ids, "\n");
        gu_buf_puts(&ids, f->id);
        k++;
    }
    r->choices[k++] = agent_choice;
    r->nchoices = k;
    tu->pending = gu_arena_strdup(a, ids.p ? ids.p : "");
    gu_buf_fini(&ids);
    tu->pending_query = query;
    return tu->pending ? 0 : GU_ENOMEM;
}

/* The `k`-th (1-based) id of a '\n'-separated list, or NULL. */
static const char *
nth_id(struct gu_arena *a, const char *list, long k)
{
    const char *p = list;

    for (long i = 1; p && *p; i++) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (i == k)
            return gu_arena_strndup(a, p, n);
        p = e ? e + 1 : NULL;
    }
    return NULL;
}

static int
answer_with(const struct asst_ctx *x, struct asst_bundle *b,
            const struct store_commune *m, long fi, const char *q,
            const char *sq, const struct asst_ranked *rk, struct turn *tu,
            struct asst_reply *r)
{
    int rc =
        asst_answer_build(b, x->arena, x->cfg, m, fi, q, sq, rk, r, &tu->why);
    if (rc == 0)
        rc = asst_slot_links(x, m, r);
    if (rc < 0)
        return rc;
    tu->topic_fiche = b->fiches[fi].id;
    tu->topic_query = q;
    tu->clarified = 0;
    tu->pending = "";
    tu->pending_query = "";
    tu->decision_fiche = b->fiches[fi].id;
    tu->section = r->fiche.section;
    return 0;
}

/* Decide the reply to a resident's message. */
static int
on_message(const struct asst_ctx *x, struct asst_bundle *b,
           const struct store_commune *m, const struct conv *cv,
           const char *msg, struct turn *tu, struct asst_reply *r)
{
    const struct asst_policy *t = &asst_engine_options(x->eng)->policy;
    struct asst_ranked ra, rb, *rk = &ra;
    long prev = asst_bundle_find(b, cv->topic_fiche);
    const char *q = msg, *topic_query = cv->topic_query;
    bool followup = false, after_clarify = false;
    int rc;

    /* Right after a clarification, its candidates are the topic: « et
     * pour un mineur ? » refines the question that was not clear. */
    if (cv->pending && *cv->pending && cv->pending_query &&
        *cv->pending_query) {
        const char *id = nth_id(x->arena, cv->pending, 1);
        long p = id ? asst_bundle_find(b, id) : -1;
        if (p >= 0) {
            prev = p;
            topic_query = cv->pending_query;
            after_clarify = true;
        }
    }
    rc = asst_rank(b, t, x->arena, msg, strlen(msg), -1, &ra);
    if (rc < 0)
        return rc;
    if (prev >= 0 && topic_query && *topic_query) {
        /*
         * A follow-up keeps the topic: a message that opens like one and
         * stays short, or a very short message that does not stand on its
         * own (no confident answer, or the same fiche again).
         */
        enum asst_decision da = asst_decide(t, ra.n, ra.confidence, ra.margin,
                                            ra.n ? ra.hits[0].ngram : 0);
        bool cue = followup_cue(x->arena, msg) &&
                   ra.nterms <= 3 * (size_t)t->followup_terms;
        /* After a clarification only a cue makes a follow-up: a short
         * rephrasing is a new question. */
        bool shortq =
            !after_clarify && ra.nterms <= t->followup_terms &&
            (da != ASST_DECIDE_ANSWER || ra.hits[0].doc == (uint32_t)prev);
        if (cue || shortq) {
            const char *q2 =
                gu_arena_sprintf(x->arena, "%s %s", msg, topic_query);
            if (!q2)
                return GU_ENOMEM;
            rc = asst_rank(b, t, x->arena, q2, strlen(q2), prev, &rb);
            if (rc < 0)
                return rc;
            if (rb.n > 0) {
                rk = &rb;
                q = q2;
                followup = true;
            }
        }
    }
    enum asst_decision d = asst_decide(t, rk->n, rk->confidence, rk->margin,
                                       rk->n ? rk->hits[0].ngram : 0);
    /* Off-topic questions often share a word or two with a fiche (a
     * common word, a spelling repair): the fiche must cover enough of
     * what the resident wrote. */
    float cov = d == ASST_DECIDE_ANSWER
                    ? asst_coverage(b, x->arena, rk->hits[0].doc, q, strlen(q))
                    : 0;
    if (d == ASST_DECIDE_ANSWER && cov < t->min_coverage)
        d = ASST_DECIDE_CLARIFY;
    tu->coverage = cov;
    tu->topic_fiche = cv->topic_fiche;
    tu->topic_query = cv->topic_query;
    tu->clarified = cv->clarified;
    tu->pending = "";
    tu->pending_query = "";
    if (d == ASST_DECIDE_ANSWER) {
        long fi = followup ? asst_followup_fiche(b, x->arena, rk, prev, msg,
                                                 t->clarify_ratio)
                           : (long)rk->hits[0].doc;
        rc = answer_with(x, b, m, fi, q, msg, rk, tu, r);
    } else if (d == ASST_DECIDE_CLARIFY && cv->clarified < 1) {
        rc = clarify(b, t, x->arena, rk, q, tu, r);
        tu->clarified = cv->clarified + 1;
        tu->why.fiche = -1;
        tu->why.score = rk->hits[0].score;
        tu->why.bm25 = rk->hits[0].bm25;
        tu->why.margin = rk->margin;
    } else {
        rc = handoff_offer(x->arena, r, true);
        tu->clarified = 0;
        tu->why.fiche = -1;
        tu->why.score = rk->n ? rk->hits[0].score : 0;
        tu->why.margin = rk->margin;
    }
    if (rc < 0)
        return rc;
    tu->why_text = why_text(x->arena, b, rk, followup,
                            d == ASST_DECIDE_ANSWER ? &tu->why : NULL, cov);
    return 0;
}

/* A quick reply clicked. */
static int
on_choice(const struct asst_ctx *x, struct asst_bundle *b,
          const struct store_commune *m, const struct conv *cv,
          const char *choice, struct turn *tu, struct asst_reply *r,
          struct gu_err *err)
{
    long k;

    tu->topic_fiche = cv->topic_fiche;
    tu->topic_query = cv->topic_query;
    tu->clarified = cv->clarified;
    tu->pending = cv->pending;
    tu->pending_query = cv->pending_query;
    tu->why.fiche = -1;
    if (strcmp(choice, "agent") == 0)
        return handoff_offer(x->arena, r, false);
    if (choice[0] == 'c' && gu_parse_long(choice + 1, 1, 9, &k) == 0) {
        const char *id = nth_id(x->arena, cv->pending, k);
        long fi = id ? asst_bundle_find(b, id) : -1;
        if (fi >= 0) {
            const char *q = cv->pending_query && *cv->pending_query
                                ? cv->pending_query
                                : b->fiches[fi].title;
            struct asst_ranked rk;
            int rc = asst_rank(b, &asst_engine_options(x->eng)->policy,
                               x->arena, q, strlen(q), fi, &rk);
            if (rc < 0)
                return rc;
            rc = answer_with(x, b, m, fi, q, q, &rk, tu, r);
            if (rc < 0)
                return rc;
            tu->why_text = why_text(x->arena, b, &rk, false, &tu->why, 1);
            return 0;
        }
    }
    return gu_err_set(err, GU_EINVAL, "choice",
                      "Ce choix n’est plus disponible : posez votre question "
                      "à nouveau.",
                      "unknown choice %s", choice);
}

/* ------------------------------------------------------------------ */
/* Write-behind: the writer, message ids, conversations in memory      */
/* ------------------------------------------------------------------ */

/*
 * A turn does not wait for the database. Its ids are allocated in memory
 * (from the largest ids in the tables, read once), its conversation's new
 * state goes to a cache in memory that the next turn reads, and its rows
 * go to a bounded queue that one writer thread per engine writes in
 * batches: one transaction for whatever is queued, so under load a
 * commit (WAL frames of every page touched) serves tens of turns.
 *
 * Durability: a turn is answered once queued. A crash (not a clean
 * stop: store_close / asst_engine_free drain the queue) loses the turns
 * queued and not yet committed: at most QUEUE_MAX turns, in practice the
 * last few milliseconds. A resident then finds the reply's id unknown to
 * the feedback route and, for a conversation whose first turn was lost,
 * « Cette conversation n’existe pas ou a expiré ». synchronous=NORMAL
 * already allowed the last commits to be lost on a power cut. A storage
 * error on the writer is logged (asst.write) and its turn is dropped.
 *
 * The rate limit (assistant.rate_per_minute, per address and commune,
 * fixed windows of 60 s) is decided in memory: a key's count is read from
 * the database the first time the key is seen in a window, then counted
 * here, and each hit is also written with the turn (rate_limits stays
 * the record). With one process per database this is exactly the
 * database's count. Several nodes: a key hit again more than
 * RATE_SYNC_MS after its last read is read again (the larger count
 * wins), so the other nodes' hits count too, but for those of the last
 * second. When the table of keys is full
 * (RATE_KEYS of the current window), a turn is decided in the database
 * and waits for its write (the behaviour before the write-behind); then
 * whoever waits writes the queue when the writer thread is not writing.
 *
 * Every reader of the chat's rows (feedback, history, hand-offs, the
 * agents' inbox and figures, the purge) first waits for the queue
 * (asst_writer_flush): they see every turn answered before they started.
 *
 * Several nodes on one database (nginx sends each turn anywhere): ids
 * are handed out from blocks that each process reserves in table
 * asst_ids (one UPDATE per ID_BLOCK ids), so two nodes never give the
 * same id; and a conversation's state in memory is trusted only while
 * the write of its last turn here is still queued (centry.seq above
 * done_seq). Once written, the next turn reads the row again: the turn
 * before may have been answered by another node. Two turns of one
 * conversation sent to two nodes within the same few milliseconds may
 * still see the same state; a person typing never does.
 */
#define BATCH_MAX 256          /* turns per transaction */
#define WRITE_EVERY_MS 10      /* the writer thread commits at most so often */
#define CHECKPOINT_MS 500      /* ... and checkpoints the log so often */
#define QUEUE_MAX 4096         /* queued turns; a turn beyond waits */
#define CACHE_MAX 16384        /* conversations kept in memory */
#define CACHE_BYTES (16 << 20) /* ... and their state's bytes */
#define CACHE_BUCKETS 16384    /* power of two */
#define CACHE_TTL_MS (3600 * 1000)
#define RATE_KEYS 65536 /* rate-limit keys counted in memory */
#define RATE_BUCKETS 16384
#define RATE_WINDOW 60
#define RATE_SYNC_MS 1000 /* a key's count is read again so often */
/* Ids reserved in asst_ids at once, per kind. Each reservation is a
   write transaction of the request thread, beside the writer's: at 128,
   some 100 a second under wrk, and SQLite never found the moment to
   start its log over (0.5 GB in 10 s; 70 MB at 4096). A process
   stopping loses the rest of its block: gaps in ids, nothing else. */
#define ID_BLOCK 4096
/* A turn's rows live in an arena of this size (a longer turn adds
   chunks of its own), and the writer hands written turns' arenas back
   for the next turns instead of freeing them: the request thread that
   made a turn is not the writer, and glibc's free of another thread's
   memory takes that thread's heap lock, which the request threads then
   waited for (three futex calls in four requests under wrk). */
#define JOB_ARENA 16384
#define SPARE_MAX 512    /* arenas kept for reuse (8 MiB) */
#define CONV_RETRY_N 40  /* an unknown conversation is read again ... */
#define CONV_RETRY_MS 50 /* ... so often (another node's write pending) */

/* One message row of a turn. */
struct wmsg {
    int64_t id;
    const char *question, *type, *payload, *fiche_id, *section, *why;
    double score, margin;
};

/* A request waiting for its write (a rate-limited turn). */
struct wwait {
    bool done;
    int rc;
    struct gu_err err;
};

/* One turn's rows; owns its arena (every string below). */
struct wjob {
    struct wjob *next;
    uint64_t seq;
    struct gu_arena *a;
    char insee[6];
    char token_hash[65];
    int64_t conv_id;
    bool is_new; /* insert the conversation */
    bool nostore;
    int64_t now;
    long counted, clarified;
    const char *topic_fiche, *topic_query, *pending, *pending_query;
    struct wmsg msg[2];
    size_t nmsg;
    int64_t generation;
    const char *audit, *request_id;
    const char *rate_key; /* NULL = no rate-limit hit */
    long rate_limit;
    bool rate_decided;  /* allowed in memory: only count the hit */
    struct wwait *wait; /* NULL = nobody waits */
    int rc;
    struct gu_err err;
};

/* A rate-limit key's count in the current window. */
struct rentry {
    struct rentry *next;
    int64_t window; /* start, unix seconds */
    long hits;
    int64_t synced_ms; /* when the database's count was last read */
    char key[];
};

/* A conversation's state in memory, keyed by its token's hash. */
struct centry {
    struct centry *hnext;       /* bucket chain */
    struct centry *prev, *next; /* most recently used first */
    char hash[65];
    char insee[6];
    int64_t id;
    long turns, clarified;
    char *topic_fiche, *topic_query, *pending, *pending_query; /* in blk */
    char *blk;
    size_t bytes;
    int64_t used_ms;
    uint64_t seq; /* trusted while done_seq < seq (its write queued) */
};

struct asst_writer {
    pthread_mutex_t mu;
    pthread_cond_t work;     /* the writer thread waits for jobs */
    pthread_cond_t progress; /* others wait for a batch to be written */
    struct wjob *head, *tail;
    size_t queued;
    uint64_t enq_seq, done_seq; /* last queued, last written (or failed) */
    int waiters;                /* on `progress` */
    bool busy;                  /* a batch is being written */
    bool idle, gathering, stop, running;
    pthread_t th;
    struct store *st;
    /* ids: [next, end) of the blocks reserved in asst_ids */
    pthread_mutex_t idmu;
    int64_t next_msg, end_msg, next_conv, end_conv;
    /* conversations */
    pthread_mutex_t cmu;
    struct centry **bucket;
    struct centry *mru, *lru;
    size_t ncache, cbytes;
    uint64_t dropped_seq; /* largest seq of an entry dropped (cmu) */
    /* rate-limit counts */
    pthread_mutex_t rmu;
    struct rentry **rbucket;
    size_t nrate;
    /* written turns' arenas, reset, for the next turns */
    pthread_mutex_t smu;
    struct gu_arena *spare[SPARE_MAX];
    size_t nspare;
};

struct asst_writer *
asst_writer_new(void)
{
    struct asst_writer *w = gu_calloc(1, sizeof(*w));

    if (!w)
        return NULL;
    w->bucket = gu_calloc(CACHE_BUCKETS, sizeof(*w->bucket));
    w->rbucket = gu_calloc(RATE_BUCKETS, sizeof(*w->rbucket));
    if (!w->bucket || !w->rbucket) {
        gu_free(w->bucket);
        gu_free(w->rbucket);
        gu_free(w);
        return NULL;
    }
    pthread_mutex_init(&w->rmu, NULL);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->work, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&w->progress, NULL);
    pthread_mutex_init(&w->idmu, NULL);
    pthread_mutex_init(&w->cmu, NULL);
    pthread_mutex_init(&w->smu, NULL);
    return w;
}

/* ----- the turns' arenas ----- */

/* An arena for a new turn: a written turn's, else a new one. */
static struct gu_arena *
job_arena(struct asst_writer *w)
{
    struct gu_arena *a = NULL;

    pthread_mutex_lock(&w->smu);
    if (w->nspare)
        a = w->spare[--w->nspare];
    pthread_mutex_unlock(&w->smu);
    return a ? a : gu_arena_new(JOB_ARENA);
}

/* A turn's arena is no longer needed: kept for another turn. */
static void
job_arena_done(struct asst_writer *w, struct gu_arena *a)
{
    if (!a)
        return;
    gu_arena_reset(a);
    pthread_mutex_lock(&w->smu);
    if (w->nspare < SPARE_MAX) {
        w->spare[w->nspare++] = a;
        a = NULL;
    }
    pthread_mutex_unlock(&w->smu);
    gu_arena_free(a);
}

/* ----- the cache ----- */

static size_t
bucket_of(const char *hash)
{
    size_t h = 0;

    for (int i = 0; i < 8 && hash[i]; i++)
        h = h * 16 +
            (size_t)(hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
    return h & (CACHE_BUCKETS - 1);
}

static struct centry *
cache_find(struct asst_writer *w, const char *hash, struct centry ***link)
{
    struct centry **p = &w->bucket[bucket_of(hash)];

    for (; *p; p = &(*p)->hnext) {
        if (memcmp((*p)->hash, hash, 64) == 0)
            break;
    }
    if (link)
        *link = p;
    return *p;
}

static void
lru_unlink(struct asst_writer *w, struct centry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        w->mru = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        w->lru = e->prev;
    e->prev = e->next = NULL;
}

static void
lru_front(struct asst_writer *w, struct centry *e)
{
    e->prev = NULL;
    e->next = w->mru;
    if (w->mru)
        w->mru->prev = e;
    w->mru = e;
    if (!w->lru)
        w->lru = e;
}

/* Unlink and free `e` (cmu held). */
static void
cache_drop(struct asst_writer *w, struct centry *e)
{
    struct centry **p = &w->bucket[bucket_of(e->hash)];

    while (*p && *p != e)
        p = &(*p)->hnext;
    if (*p)
        *p = e->hnext;
    lru_unlink(w, e);
    if (e->seq > w->dropped_seq)
        w->dropped_seq = e->seq;
    w->ncache--;
    w->cbytes -= e->bytes;
    gu_free(e->blk);
    gu_free(e);
}

static void
cache_forget(struct asst_writer *w, const char *hash)
{
    pthread_mutex_lock(&w->cmu);
    struct centry *e = cache_find(w, hash, NULL);
    if (e)
        cache_drop(w, e);
    pthread_mutex_unlock(&w->cmu);
}

static void
cache_clear(struct asst_writer *w)
{
    pthread_mutex_lock(&w->cmu);
    while (w->mru)
        cache_drop(w, w->mru);
    pthread_mutex_unlock(&w->cmu);
}

/* The writer's last queued and last written turns. */
static void
writer_seqs(struct asst_writer *w, uint64_t *enq, uint64_t *done)
{
    pthread_mutex_lock(&w->mu);
    if (enq)
        *enq = w->enq_seq;
    if (done)
        *done = w->done_seq;
    pthread_mutex_unlock(&w->mu);
}

enum cache_hit { CACHE_MISS, CACHE_WRITTEN, CACHE_HIT };

/*
 * The state of conversation `hash` copied into `a` (CACHE_HIT) while the
 * write of its last turn here is queued; CACHE_WRITTEN when that write is
 * done (the database is the truth: another node may have answered a turn
 * since), or when absent and no entry dropped meanwhile had a write
 * queued; CACHE_MISS otherwise (flush the queue before reading).
 */
static enum cache_hit
cache_get(struct asst_writer *w, struct gu_arena *a, const char *hash,
          struct conv *out)
{
    bool ok = false;
    uint64_t done = 0;

    writer_seqs(w, NULL, &done);
    pthread_mutex_lock(&w->cmu);
    struct centry *e = cache_find(w, hash, NULL);
    if (e && gu_now_ms() - e->used_ms > CACHE_TTL_MS) {
        cache_drop(w, e);
        e = NULL;
    }
    if (e && e->seq <= done) {
        cache_drop(w, e);
        pthread_mutex_unlock(&w->cmu);
        return CACHE_WRITTEN;
    }
    if (e) {
        out->id = e->id;
        memcpy(out->insee, e->insee, sizeof(out->insee));
        out->turns = e->turns;
        out->clarified = e->clarified;
        out->topic_fiche = gu_arena_strdup(a, e->topic_fiche);
        out->topic_query = gu_arena_strdup(a, e->topic_query);
        out->pending = gu_arena_strdup(a, e->pending);
        out->pending_query = gu_arena_strdup(a, e->pending_query);
        ok = out->topic_fiche && out->topic_query && out->pending &&
             out->pending_query;
        e->used_ms = gu_now_ms();
        lru_unlink(w, e);
        lru_front(w, e);
    }
    bool dropped = w->dropped_seq > done;
    pthread_mutex_unlock(&w->cmu);
    return ok ? CACHE_HIT : e || dropped ? CACHE_MISS : CACHE_WRITTEN;
}

/* Remember conversation `hash`'s state (replacing it unless `if_absent`).
 * Out of memory only loses the cached copy. */
static void
cache_put(struct asst_writer *w, const char *hash, const struct conv *cv,
          bool if_absent)
{
    const char *s[4] = {cv->topic_fiche, cv->topic_query, cv->pending,
                        cv->pending_query};
    size_t len[4], total = 0;
    struct centry *e, **link;
    char *blk, *p;
    uint64_t seq = 0;

    /* After its turn was queued: trusted until that turn is written. */
    if (!if_absent)
        writer_seqs(w, &seq, NULL);

    for (int i = 0; i < 4; i++) {
        len[i] = s[i] ? strlen(s[i]) : 0;
        total += len[i] + 1;
    }
    pthread_mutex_lock(&w->cmu);
    e = cache_find(w, hash, &link);
    if (e && if_absent)
        goto out;
    blk = gu_malloc(total);
    if (!blk) {
        if (e)
            cache_drop(w, e);
        goto out;
    }
    if (!e) {
        e = gu_calloc(1, sizeof(*e));
        if (!e) {
            gu_free(blk);
            goto out;
        }
        memcpy(e->hash, hash, 64);
        e->hnext = NULL;
        *link = e;
        w->ncache++;
    } else {
        lru_unlink(w, e);
        w->cbytes -= e->bytes;
        gu_free(e->blk);
    }
    p = e->blk = blk;
    char **dst[4] = {&e->topic_fiche, &e->topic_query, &e->pending,
                     &e->pending_query};
    for (int i = 0; i < 4; i++) {
        *dst[i] = p;
        if (len[i])
            memcpy(p, s[i], len[i]);
        p[len[i]] = '\0';
        p += len[i] + 1;
    }
    e->bytes = total + sizeof(*e);
    w->cbytes += e->bytes;
    e->id = cv->id;
    memcpy(e->insee, cv->insee, sizeof(e->insee));
    e->turns = cv->turns;
    e->clarified = cv->clarified;
    e->used_ms = gu_now_ms();
    e->seq = seq;
    lru_front(w, e);
    while (w->lru && w->lru != e &&
           (w->ncache > CACHE_MAX || w->cbytes > CACHE_BYTES))
        cache_drop(w, w->lru);
out:
    pthread_mutex_unlock(&w->cmu);
}

/* ----- ids ----- */

/*
 * Reserve `k` ids of `kind` ("message" or "conversation") in asst_ids,
 * shared by every process on the database; *first gets the first one.
 * Never above an id already in the table (rows written by a tool, or
 * before the table existed). Outside any transaction: a rolled-back
 * reservation would let another process take the same block.
 */
static int
ids_reserve(struct store_conn *c, const char *kind, int64_t k,
            int64_t *first, struct gu_err *err)
{
    bool msg = strcmp(kind, "message") == 0;
    struct gu_arena *a;
    struct store_rows *r = NULL;
    int rc;

    if (store_in_tx(c))
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "asst: ids reserved inside a transaction");
    a = gu_arena_new(512);
    if (!a)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    struct store_val p[] = {STORE_I(k), STORE_T(kind)};
    rc = store_query(c, a,
                     msg ? "UPDATE asst_ids SET next_id = ? + CASE WHEN"
                           " next_id > (SELECT COALESCE(MAX(id), 0) FROM"
                           " asst_messages) THEN next_id ELSE (SELECT"
                           " COALESCE(MAX(id), 0) + 1 FROM asst_messages)"
                           " END WHERE name = ? RETURNING next_id"
                         : "UPDATE asst_ids SET next_id = ? + CASE WHEN"
                           " next_id > (SELECT COALESCE(MAX(id), 0) FROM"
                           " asst_conversations) THEN next_id ELSE (SELECT"
                           " COALESCE(MAX(id), 0) + 1 FROM"
                           " asst_conversations) END WHERE name = ?"
                           " RETURNING next_id",
                     p, 2, &r, err);
    if (rc == 0 && r->nrows != 1)
        rc = gu_err_set(err, GU_EDB, NULL, NULL, "asst: no asst_ids row %s",
                        kind);
    if (rc == 0)
        *first = store_int(r, 0, 0) - k;
    gu_arena_free(a);
    return rc;
}

/* `nmsg` new message ids from *msg on, and a conversation id when conv
 * is non-NULL. */
static int
ids_take(struct asst_writer *w, struct store_conn *c, size_t nmsg, int64_t *msg,
         int64_t *conv, struct gu_err *err)
{
    int rc = 0;

    pthread_mutex_lock(&w->idmu);
    if (w->next_msg + (int64_t)nmsg > w->end_msg) {
        int64_t k = (int64_t)nmsg > ID_BLOCK ? (int64_t)nmsg : ID_BLOCK;
        rc = ids_reserve(c, "message", k, &w->next_msg, err);
        w->end_msg = rc == 0 ? w->next_msg + k : 0;
    }
    if (rc == 0 && conv && w->next_conv >= w->end_conv) {
        rc = ids_reserve(c, "conversation", ID_BLOCK, &w->next_conv, err);
        w->end_conv = rc == 0 ? w->next_conv + ID_BLOCK : 0;
    }
    if (rc == 0) {
        *msg = w->next_msg;
        w->next_msg += (int64_t)nmsg;
        if (conv)
            *conv = w->next_conv++;
    } else {
        w->next_msg = w->end_msg = w->next_conv = w->end_conv = 0;
    }
    pthread_mutex_unlock(&w->idmu);
    return rc;
}

int
asst_message_id(struct asst_writer *w, struct store_conn *c, int64_t *id,
                struct gu_err *err)
{
    return ids_take(w, c, 1, id, NULL, err);
}

/* ----- rate limit ----- */

static size_t
rate_bucket(const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a */

    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 16777619u;
    return h & (RATE_BUCKETS - 1);
}

static void
rate_clear(struct asst_writer *w)
{
    pthread_mutex_lock(&w->rmu);
    for (size_t i = 0; i < RATE_BUCKETS; i++) {
        while (w->rbucket[i]) {
            struct rentry *e = w->rbucket[i];
            w->rbucket[i] = e->next;
            gu_free(e);
        }
    }
    w->nrate = 0;
    pthread_mutex_unlock(&w->rmu);
}

/* Drop the keys of past windows (rmu held). */
static void
rate_sweep(struct asst_writer *w, int64_t start)
{
    for (size_t i = 0; i < RATE_BUCKETS; i++) {
        for (struct rentry **p = &w->rbucket[i]; *p;) {
            struct rentry *e = *p;
            if (e->window < start) {
                *p = e->next;
                gu_free(e);
                w->nrate--;
            } else {
                p = &e->next;
            }
        }
    }
}

/*
 * One hit on `key` (limit per RATE_WINDOW), decided in memory: 0 when
 * allowed (counted), GU_ERATE (store_rate_hit's message) beyond the
 * limit, 1 when the key cannot be counted here (table full): the caller
 * then decides in the database.
 */
static struct rentry *
rate_find(struct asst_writer *w, size_t b, const char *key)
{
    struct rentry *e = w->rbucket[b];

    while (e && strcmp(e->key, key) != 0)
        e = e->next;
    return e;
}

static int
rate_hit(struct asst_writer *w, struct store_conn *c, const char *key,
         long limit, struct gu_err *err)
{
    int64_t now = gu_now(), start = now - now % RATE_WINDOW;
    int64_t now_ms = gu_now_ms();
    size_t b = rate_bucket(key);
    struct rentry *e;

    pthread_mutex_lock(&w->rmu);
    e = rate_find(w, b, key);
    if (!e || (e->window == start && now_ms - e->synced_ms >= RATE_SYNC_MS)) {
        /* First sight of the key, or not read for a while: its count in
         * the database (a restart, other nodes, within this window). */
        struct gu_arena *a = gu_arena_new(512);
        struct store_rows *r = NULL;
        struct store_val p[] = {STORE_T(key)};
        int64_t hits = 0;
        int rc;

        pthread_mutex_unlock(&w->rmu);
        if (!a)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
        rc = store_query(c, a,
                         "SELECT window_start, hits FROM rate_limits"
                         " WHERE key = ?",
                         p, 1, &r, err);
        if (rc == 0 && r->nrows && store_int(r, 0, 0) == start)
            hits = store_int(r, 0, 1);
        gu_arena_free(a);
        if (rc < 0)
            return rc;
        pthread_mutex_lock(&w->rmu);
        e = rate_find(w, b, key); /* another turn may have made it */
        if (e && e->window == start) {
            if (hits > e->hits)
                e->hits = (long)hits;
            e->synced_ms = now_ms;
        }
        if (!e) {
            size_t n = strlen(key) + 1;
            if (w->nrate >= RATE_KEYS)
                rate_sweep(w, start);
            e = w->nrate < RATE_KEYS ? gu_malloc(sizeof(*e) + n) : NULL;
            if (!e) {
                pthread_mutex_unlock(&w->rmu);
                return 1;
            }
            memcpy(e->key, key, n);
            e->window = start;
            e->hits = (long)hits;
            e->synced_ms = now_ms;
            e->next = w->rbucket[b];
            w->rbucket[b] = e;
            w->nrate++;
        }
    }
    if (e->window != start) {
        e->window = start;
        e->hits = 0;
    }
    if (e->hits + 1 > limit) {
        int64_t retry = start + RATE_WINDOW - now;
        char user[128];
        pthread_mutex_unlock(&w->rmu);
        snprintf(user, sizeof(user),
                 "Trop de demandes. Réessayez dans %lld seconde%s.",
                 (long long)retry, retry > 1 ? "s" : "");
        return gu_err_set(err, GU_ERATE, NULL, user,
                          "asst: rate limit %ld/%ds exceeded", limit,
                          RATE_WINDOW);
    }
    e->hits++;
    pthread_mutex_unlock(&w->rmu);
    return 0;
}

/* ----- the writer ----- */

/* The rows of one turn, on connection `c` inside a transaction. */
static int
write_turn(struct store_conn *c, struct wjob *j)
{
    struct gu_err *err = &j->err;
    int rc;

    if (j->rate_key) {
        rc = store_rate_hit(c, j->rate_key, (int)j->rate_limit, RATE_WINDOW,
                            NULL, err);
        if (rc == GU_ERATE && j->rate_decided) {
            /* Counted; the turn was allowed in memory (other processes'
             * hits may have filled the window meanwhile). */
            rc = 0;
            gu_err_clear(err);
        }
        if (rc < 0)
            return rc;
    }
    if (j->nostore)
        return 0;
    if (j->is_new) {
        struct store_val p[] = {
            STORE_I(j->conv_id),       STORE_T(j->insee),
            STORE_T(j->token_hash),    STORE_I(j->now),
            STORE_I(j->now),           STORE_I(j->counted),
            STORE_T(j->topic_fiche),   STORE_T(j->topic_query),
            STORE_I(j->clarified),     STORE_T(j->pending),
            STORE_T(j->pending_query),
        };
        rc = store_exec(c,
                        "INSERT INTO asst_conversations (id, insee, token_hash,"
                        " created_at, updated_at, turns, topic_fiche,"
                        " topic_query, clarified, pending, pending_query)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        p, GU_ARRAY_LEN(p), err);
    } else {
        struct store_val p[] = {
            STORE_I(j->now),           STORE_I(j->counted),
            STORE_T(j->topic_fiche),   STORE_T(j->topic_query),
            STORE_I(j->clarified),     STORE_T(j->pending),
            STORE_T(j->pending_query), STORE_I(j->conv_id),
        };
        rc = store_exec(c,
                        "UPDATE asst_conversations SET updated_at = ?,"
                        " turns = turns + ?, topic_fiche = ?, topic_query = ?,"
                        " clarified = ?, pending = ?, pending_query = ?"
                        " WHERE id = ?",
                        p, GU_ARRAY_LEN(p), err);
    }
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < j->nmsg; i++) {
        const struct wmsg *m = &j->msg[i];
        struct store_val p[] = {
            STORE_I(m->id),      STORE_I(j->conv_id),  STORE_T(j->insee),
            STORE_I(j->now),     STORE_T(m->question), STORE_T(m->type),
            STORE_T(m->payload), STORE_T(m->fiche_id), STORE_T(m->section),
            STORE_D(m->score),   STORE_D(m->margin),   STORE_I(j->generation),
            STORE_T(m->why),
        };
        rc = store_exec(c,
                        "INSERT INTO asst_messages (id, conversation_id, insee,"
                        " at, question, type, payload, fiche_id, section,"
                        " score, margin, generation, why) VALUES"
                        " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        p, GU_ARRAY_LEN(p), err);
        if (rc < 0)
            return rc;
    }
    if (j->nmsg == 0)
        return 0;
    char target[48];
    snprintf(target, sizeof(target), "asst_messages:%lld",
             (long long)j->msg[j->nmsg - 1].id);
    return store_audit_add(c, j->insee, "ia", "asst.answer", target,
                           j->audit ? j->audit : "", j->request_id, err);
}

/*
 * Write a batch; sets each job's rc. First all turns in one transaction
 * (no savepoint: statements are most of the writer's time). When a turn
 * fails (a resident over the rate limit, storage errors) that
 * transaction is rolled back and each turn is written in its own, so a
 * refused turn is undone alone.
 */
static void
write_batch(struct store_conn *c, struct wjob *batch)
{
    struct gu_err err;
    int rc;

    gu_err_clear(&err);
    if (batch->next) {
        bool failed = false;
        rc = store_begin(c, &err);
        for (struct wjob *j = batch; rc == 0 && j && !failed; j = j->next)
            failed = write_turn(c, j) < 0;
        if (rc == 0 && !failed && store_commit(c, &err) == 0)
            return;
        store_rollback(c);
        for (struct wjob *j = batch; j; j = j->next) {
            j->rc = 0;
            gu_err_clear(&j->err);
        }
    }
    for (struct wjob *j = batch; j; j = j->next) {
        gu_err_clear(&err);
        rc = store_begin(c, &err);
        if (rc == 0) {
            j->rc = write_turn(c, j);
            if (j->rc == 0)
                rc = store_commit(c, &err);
        }
        if (rc < 0 || j->rc < 0) {
            store_rollback(c);
            if (j->rc == 0) {
                j->rc = rc;
                j->err = err;
            }
        }
    }
}

/*
 * Take a batch from the head of the queue and write it on `c` (w->mu
 * held on entry and on return; nobody else is writing). One leader at a
 * time keeps the queue's order: done_seq only grows.
 */
static void
lead(struct asst_writer *w, struct store_conn *c)
{
    struct wjob *batch = w->head, *j = batch;
    struct gu_arena *done[BATCH_MAX];
    size_t n = 1, ndone = 0;

    w->busy = true;
    for (; j->next && n < BATCH_MAX; n++)
        j = j->next;
    w->head = j->next;
    if (!w->head)
        w->tail = NULL;
    j->next = NULL;
    w->queued -= n;
    pthread_mutex_unlock(&w->mu);

    write_batch(c, batch);
    /* Failed turns nobody waits for: logged, and their conversation read
     * from the database next time (a lost first turn makes it unknown). */
    for (j = batch; j; j = j->next) {
        if (j->rc < 0 && !j->wait) {
            gu_log_error("asst.write", "err=%s conversation=%lld msg=\"%s\"",
                         gu_status_name(j->rc), (long long)j->conv_id,
                         j->err.msg);
            cache_forget(w, j->token_hash);
        }
    }

    pthread_mutex_lock(&w->mu);
    for (j = batch; j;) {
        struct wjob *next = j->next;
        w->done_seq = j->seq;
        if (j->wait) {
            /* Its waiter owns the job from here. */
            j->wait->rc = j->rc;
            j->wait->err = j->err;
            j->wait->done = true;
        } else {
            done[ndone++] = j->a; /* j lives in it */
        }
        j = next;
    }
    w->busy = false;
    if (w->waiters)
        pthread_cond_broadcast(&w->progress);
    if (w->idle && (w->head || w->stop))
        pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    for (size_t i = 0; i < ndone; i++)
        job_arena_done(w, done[i]);
    pthread_mutex_lock(&w->mu);
}

/*
 * Wait, w->mu held, until `done()` is true; a thread that waits holds a
 * connection (`c`, may be NULL) and writes the queue itself while the
 * writer thread is not writing: waiters never wait for a connection the
 * writer would need.
 */
static void
wait_progress(struct asst_writer *w, struct store_conn *c)
{
    if (c && !w->busy && w->head) {
        lead(w, c);
        return;
    }
    w->waiters++;
    pthread_cond_wait(&w->progress, &w->mu);
    w->waiters--;
}

static void *
writer_run(void *p)
{
    struct asst_writer *w = p;
    struct store_conn *c = NULL;
    struct gu_err err;
    int64_t last_ms = 0, ckpt_ms = gu_now_ms();

    /* Named for top -H, perf and gdb (it inherits its creator's name,
     * "MHD-worker", otherwise). */
    (void)pthread_setname_np(pthread_self(), "asst-writer");
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while ((!w->head || w->busy) && !(w->stop && !w->busy)) {
            w->idle = true;
            pthread_cond_wait(&w->work, &w->mu);
            w->idle = false;
        }
        if (!w->head)
            break; /* stopping, and everything is written */
        /* Gather: a commit writes every page its turns touched (table
         * and index tails, WAL frames of 4 KiB), so fewer, larger
         * batches cost far less per turn. Nobody waits for these turns
         * (those who do write the queue themselves). */
        int64_t until = last_ms + WRITE_EVERY_MS;
        while (w->head && !w->busy && !w->stop && w->queued < BATCH_MAX &&
               gu_now_ms() < until) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t left = until - gu_now_ms();
            if (left <= 0)
                break;
            ts.tv_sec += left / 1000;
            ts.tv_nsec += (left % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            w->gathering = true;
            pthread_cond_timedwait(&w->work, &w->mu, &ts);
            w->gathering = false;
        }
        if (!w->head || w->busy)
            continue;
        if (!c) {
            /* Its own connection, taken once (without the lock: the
             * pool may be empty for a while). */
            pthread_mutex_unlock(&w->mu);
            gu_err_clear(&err);
            if (store_acquire(w->st, &c, &err) < 0) {
                struct timespec ts = {0, 100 * 1000 * 1000};
                gu_log_warn("asst.write", "err=%s msg=\"%s\"",
                            gu_status_name(err.code), err.msg);
                c = NULL;
                nanosleep(&ts, NULL); /* waiters write meanwhile */
            }
            pthread_mutex_lock(&w->mu);
            continue;
        }
        lead(w, c);
        last_ms = gu_now_ms();
        if (last_ms - ckpt_ms >= CHECKPOINT_MS) {
            /* Checkpointed between two batches, with no write running,
             * the log is copied whole and SQLite starts it over: it no
             * longer grows (the server's job checkpoints while turns are
             * written, so the log never ends up empty). */
            pthread_mutex_unlock(&w->mu);
            gu_err_clear(&err);
            if (store_checkpoint(w->st, &err) < 0)
                gu_log_warn("asst.checkpoint", "err=%s msg=\"%s\"",
                            gu_status_name(err.code), err.msg);
            ckpt_ms = last_ms = gu_now_ms();
            pthread_mutex_lock(&w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    store_release(c);
    return NULL;
}

/* Queue `j` (its seq is set) from a thread holding connection `c`;
 * starts the writer on first use; returns once it is written when
 * someone waits for it. */
static int
writer_push(struct asst_writer *w, struct store_conn *c, struct wjob *j,
            struct gu_err *err)
{
    pthread_mutex_lock(&w->mu);
    if (!w->running) {
        w->st = store_conn_store(c);
        w->stop = false;
        if (pthread_create(&w->th, NULL, writer_run, w) != 0) {
            pthread_mutex_unlock(&w->mu);
            return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                              "asst: no writer thread");
        }
        w->running = true;
    }
    while (w->queued >= QUEUE_MAX)
        wait_progress(w, c);
    j->seq = ++w->enq_seq;
    j->next = NULL;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->queued++;
    if (w->idle || (w->gathering && w->queued >= BATCH_MAX))
        pthread_cond_signal(&w->work);
    if (j->wait) {
        while (!j->wait->done)
            wait_progress(w, c);
    }
    pthread_mutex_unlock(&w->mu);
    return 0;
}

void
asst_writer_flush(struct asst_writer *w, struct store_conn *c)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    uint64_t target = w->enq_seq;
    while (w->done_seq < target)
        wait_progress(w, c);
    pthread_mutex_unlock(&w->mu);
}

int
asst_engine_sync(struct asst_engine *e, bool forget)
{
    struct asst_writer *w = e ? asst_engine_writer(e) : NULL;

    if (!w)
        return 0;
    asst_writer_flush(w, NULL);
    if (forget) {
        cache_clear(w);
        rate_clear(w);
        pthread_mutex_lock(&w->idmu);
        w->next_msg = w->end_msg = w->next_conv = w->end_conv = 0;
        pthread_mutex_unlock(&w->idmu);
    }
    return 0;
}

void
asst_writer_free(struct asst_writer *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    bool running = w->running;
    w->stop = true;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->mu);
    if (running)
        pthread_join(w->th, NULL); /* writes the queue first */
    cache_clear(w);
    rate_clear(w);
    for (size_t i = 0; i < w->nspare; i++)
        gu_arena_free(w->spare[i]);
    gu_free(w->bucket);
    gu_free(w->rbucket);
    pthread_mutex_destroy(&w->smu);
    pthread_mutex_destroy(&w->rmu);
    pthread_cond_destroy(&w->work);
    pthread_cond_destroy(&w->progress);
    pthread_mutex_destroy(&w->mu);
    pthread_mutex_destroy(&w->idmu);
    pthread_mutex_destroy(&w->cmu);
    gu_free(w);
}

/* The audit entry's detail, made before the write (arena). */
static const char *
audit_detail(struct gu_arena *a, const struct turn *tu, int64_t generation)
{
    const struct asst_reply *d = &tu->replies[tu->n - 1];
    struct gu_buf o;
    const char *s;

    gu_buf_init(&o);
    gu_buf_puts(&o, "{\"type\":");
    asst_json_str(&o, d->type);
    member(&o, "fiche", tu->decision_fiche);
    gu_buf_puts(&o, ",\"section\":");
    put_int(&o, tu->why.section);
    fix4(&o, "score", (double)tu->why.score);
    fix4(&o, "margin", (double)tu->why.margin);
    gu_buf_puts(&o, ",\"generation\":");
    put_int(&o, generation);
    gu_buf_puts(&o, d->generated ? ",\"generated\":true}"
                                 : ",\"generated\":false}");
    s = o.oom || !o.p ? NULL : gu_arena_strndup(a, o.p, o.n);
    gu_buf_fini(&o);
    return s;
}

/* A copy of s (NULL = "") in the job's arena. */
static const char *
jdup(struct wjob *j, const char *s, bool *oom)
{
    char *d = gu_arena_strdup(j->a, s ? s : "");

    if (!d)
        *oom = true;
    return d ? d : "";
}

/*
 * Write the turn (rate limit, conversation, replies, audit): ids
 * allocated here, rows queued for the writer; waits for them only when
 * the rate limit counts the turn. On success the
 * conversation's new state is in the cache and cv->id is set.
 */
static int
persist(const struct asst_ctx *x, struct asst_writer *w, const char *insee,
        struct conv *cv, struct turn *tu, int64_t generation,
        struct gu_err *err)
{
    long limit =
        x->cfg ? gu_config_int(x->cfg, "assistant.rate_per_minute") : 0;
    bool rated = limit > 0 && x->client_ip && *x->client_ip;
    struct wwait wait;
    struct wjob *j;
    struct gu_arena *a;
    bool oom = false, is_new = cv->id == 0;
    size_t nmsg = 0;
    int64_t first = 0, first_id, conv_id = cv->id;
    int rc;

    /* Decided before anything of the turn is kept. */
    bool decided = false;
    if (rated) {
        char key[96];
        snprintf(key, sizeof(key), "asst:%s:%s", x->client_ip, insee);
        rc = rate_hit(w, x->conn, key, limit, err);
        if (rc < 0)
            return rc;
        decided = rc == 0;
    }
    if (tu->nostore && !rated)
        return 0; /* over the turn limit: nothing to write */
    if (!tu->nostore) {
        for (size_t i = 0; i < tu->n; i++) {
            /* The greeting is not stored: the history rebuilds it. */
            if (strcmp(tu->replies[i].type, "greeting") != 0)
                nmsg++;
        }
        rc = ids_take(w, x->conn, nmsg, &first, is_new ? &conv_id : NULL, err);
        if (rc < 0)
            return rc;
    }
    first_id = first;
    a = job_arena(w);
    j = a ? gu_arena_zalloc(a, sizeof(*j)) : NULL;
    if (!j) {
        job_arena_done(w, a);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    j->a = a;
    memcpy(j->insee, insee, sizeof(j->insee));
    memcpy(j->token_hash, cv->hash, sizeof(j->token_hash));
    j->conv_id = conv_id;
    j->is_new = is_new;
    j->nostore = tu->nostore;
    j->now = gu_now();
    j->counted = tu->counted;
    j->clarified = tu->clarified;
    j->topic_fiche = jdup(j, tu->topic_fiche, &oom);
    j->topic_query = jdup(j, tu->topic_query, &oom);
    j->pending = jdup(j, tu->pending, &oom);
    j->pending_query = jdup(j, tu->pending_query, &oom);
    j->generation = generation;
    j->audit = jdup(j, tu->audit, &oom);
    j->request_id = x->request_id ? jdup(j, x->request_id, &oom) : NULL;
    if (rated) {
        j->rate_key = gu_arena_sprintf(a, "asst:%s:%s", x->client_ip, insee);
        j->rate_limit = limit;
        j->rate_decided = decided;
        oom = oom || !j->rate_key;
    }
    for (size_t i = 0; !tu->nostore && i < tu->n; i++) {
        struct asst_reply *r = &tu->replies[i];
        bool decision = i == tu->n - 1;
        if (strcmp(r->type, "greeting") == 0)
            continue;
        struct wmsg *m = &j->msg[j->nmsg++];
        m->id = first++;
        m->question = jdup(j, decision ? tu->question : "", &oom);
        m->type = jdup(j, r->type, &oom);
        m->payload = jdup(j, tu->payload[i], &oom);
        m->fiche_id = jdup(j, decision ? tu->decision_fiche : "", &oom);
        m->section = jdup(j, decision ? tu->section : "", &oom);
        m->why = jdup(j, decision ? tu->why_text : "", &oom);
        m->score = decision ? (double)tu->why.score : 0.0;
        m->margin = decision ? (double)tu->why.margin : 0.0;
    }
    if (oom) {
        job_arena_done(w, a);
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    bool waits = rated && !decided;
    if (waits) {
        memset(&wait, 0, sizeof(wait));
        j->wait = &wait;
    }
    /* From here a job nobody waits for belongs to the writer. */
    rc = writer_push(w, x->conn, j, err);
    if (rc == 0 && waits) {
        rc = wait.rc;
        if (rc < 0 && err)
            *err = wait.err;
    }
    if (rc < 0 || waits)
        job_arena_done(w, a);
    if (rc < 0)
        return rc;
    if (tu->nostore)
        return 0;
    for (size_t i = 0, k = 0; i < tu->n; i++) {
        if (strcmp(tu->replies[i].type, "greeting") != 0)
            tu->replies[i].id = first_id + (int64_t)k++;
    }
    struct conv now = *cv;
    now.id = conv_id;
    memcpy(now.insee, insee, sizeof(now.insee));
    now.turns = cv->turns + (tu->counted ? 1 : 0);
    now.topic_fiche = tu->topic_fiche;
    now.topic_query = tu->topic_query;
    now.clarified = tu->clarified;
    now.pending = tu->pending;
    now.pending_query = tu->pending_query;
    cache_put(w, cv->hash, &now, false);
    cv->id = conv_id;
    return 0;
}

/*
 * The conversation of `token` in commune `insee`: from memory when a
 * turn of this process left it there, else from the database once the
 * queued turns are written (then remembered).
 */
static int
conv_get(const struct asst_ctx *x, struct asst_writer *w, const char *insee,
         const char *token, struct conv *cv, struct gu_err *err)
{
    size_t n = strlen(token);
    int rc;

    memset(cv, 0, sizeof(*cv));
    if (n >= 20 && n <= 128) {
        gu_token_hash(token, cv->hash);
        enum cache_hit hit = cache_get(w, x->arena, cv->hash, cv);
        if (hit == CACHE_HIT) {
            if (strcmp(cv->insee, insee) == 0)
                return 0;
            return conv_notfound(err);
        }
        /* CACHE_WRITTEN: this process's turns of it are in the database */
        if (hit == CACHE_MISS)
            asst_writer_flush(w, x->conn);
    } else {
        asst_writer_flush(w, x->conn);
    }
    rc = conv_load(x->conn, x->arena, insee, token, cv, err);
    /*
     * Unknown here may be only "not written yet": the turn before was
     * answered by another node whose writer commits behind its answers
     * (milliseconds, more under load). A well-formed token is looked up
     * again for a short while before the resident is told it expired.
     */
    for (int k = 0; rc == GU_ENOTFOUND && n >= 20 && n <= 128 &&
                    k < CONV_RETRY_N;
         k++) {
        struct timespec ts = {0, CONV_RETRY_MS * 1000000L};
        nanosleep(&ts, NULL);
        gu_err_clear(err);
        rc = conv_load(x->conn, x->arena, insee, token, cv, err);
    }
    if (rc == 0)
        cache_put(w, cv->hash, cv, true);
    return rc;
}

int
asst_chat(const struct asst_ctx *x, const struct asst_chat_in *in,
          struct asst_chat_out *out, struct gu_err *err)
{
    struct asst_bundle *b = NULL;
    struct store_commune m;
    bool have_commune = false;
    struct conv cv;
    struct turn tu;
    struct asst_reply *rs;
    struct asst_writer *w = asst_engine_writer(x->eng);
    const char *msg = NULL, *token = in->conversation;
    char tokbuf[64];
    int rc;

    memset(out, 0, sizeof(*out));
    memset(&tu, 0, sizeof(tu));
    memset(&cv, 0, sizeof(cv));
    tu.why.fiche = -1;
    tu.why.section = -1;
    if (!in->insee || !store_insee_valid(in->insee))
        return gu_err_set(err, GU_ENOTFOUND, "commune", "Commune inconnue.",
                          "bad insee");
    if (in->message) {
        struct gu_str s = gu_str_trim(gu_str_c(in->message));
        if (asst_utf8_len(s.p, s.n) > ASST_MESSAGE_MAX)
            return gu_err_set(err, GU_ETOOBIG, "message",
                              "Votre message est trop long (1 000 "
                              "caractères au plus).",
                              "message too long");
        if (!gu_utf8_valid(s.p, s.n))
            return gu_err_set(err, GU_EINVAL, "message",
                              "Le message contient des caractères invalides.",
                              "bad utf-8");
        if (s.n) {
            msg = pii_redact(x->arena, s.p, s.n, NULL);
            if (!msg)
                return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
        }
    }
    if (in->choice && (!*in->choice || strlen(in->choice) > 16))
        return gu_err_set(err, GU_EINVAL, "choice", "Choix invalide.",
                          "bad choice");
    if (!msg && !in->choice)
        return gu_err_set(err, GU_EINVAL, "message",
                          "Écrivez votre question (champ « message »).",
                          "no message nor choice");
    rc = asst_engine_acquire(x->eng, x->conn, in->insee, &b, err);
    if (rc < 0) {
        if (rc == GU_ENOTFOUND)
            gu_err_set(err, GU_ENOTFOUND, "commune", "Commune inconnue.",
                       "unknown commune %s", in->insee);
        return rc;
    }
    if (token) {
        rc = conv_get(x, w, in->insee, token, &cv, err);
        if (rc < 0)
            goto out;
    } else {
        if (gu_random_token(tokbuf, sizeof(tokbuf), 32) < 0) {
            rc = gu_err_set(err, GU_EINTERNAL, NULL, NULL, "asst: random");
            goto out;
        }
        token = tokbuf;
    }
    /* The commune's name for the greeting; contacts for answers. */
    rc = asst_engine_commune(x->eng, x->conn, x->arena, in->insee, &m, err);
    if (rc < 0)
        goto out;
    have_commune = true;

    rs = gu_arena_zalloc(x->arena, 2 * sizeof(*rs));
    if (!rs) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
        goto out;
    }
    tu.replies = rs;
    if (cv.id == 0) {
        rc = greeting(x->arena, m.name, &rs[tu.n++]);
        if (rc < 0)
            goto out;
    }
    tu.question = msg ? msg : "";
    struct asst_reply *r = &rs[tu.n++];
    bool agent = in->choice && strcmp(in->choice, "agent") == 0;
    tu.nostore = cv.turns >= ASST_TURNS_MAX;
    if (cv.turns >= ASST_TURNS_MAX && !agent) {
        fixed(r, "info",
              "Cette conversation a atteint sa longueur maximale. Rechargez "
              "la page pour en commencer une nouvelle, ou laissez votre "
              "question à un agent.");
        r->html = asst_text_html(x->arena, r->text);
        tu.topic_fiche = cv.topic_fiche;
        tu.topic_query = cv.topic_query;
        tu.clarified = cv.clarified;
        tu.pending = cv.pending;
        tu.pending_query = cv.pending_query;
        tu.why.fiche = -1;
    } else if (in->choice) {
        rc = on_choice(x, b, have_commune ? &m : NULL, &cv, in->choice, &tu, r,
                       err);
        tu.counted = true;
    } else {
        rc = on_message(x, b, have_commune ? &m : NULL, &cv, msg, &tu, r);
        tu.counted = true;
    }
    if (rc < 0)
        goto out;
    if (!tu.topic_fiche)
        tu.topic_fiche = "";
    if (!tu.topic_query)
        tu.topic_query = "";
    if (!tu.pending)
        tu.pending = "";
    if (!tu.pending_query)
        tu.pending_query = "";
    for (size_t i = 0; i < tu.n; i++) {
        tu.payload[i] = reply_text(x->arena, &tu.replies[i], 0, false);
        if (!tu.payload[i]) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
            goto out;
        }
    }
    /* Everything the write needs is made here, not while other turns
     * wait for the writer. */
    tu.audit = audit_detail(x->arena, &tu, b->generation);
    if (!tu.audit) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
        goto out;
    }
    if (cv.id == 0)
        gu_token_hash(token, cv.hash);
    rc = persist(x, w, in->insee, &cv, &tu, b->generation, err);
    if (rc < 0)
        goto out;
    out->raw = gu_arena_alloc(x->arena, tu.n * sizeof(*out->raw));
    if (!out->raw) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
        goto out;
    }
    for (size_t i = 0; i < tu.n; i++) {
        out->raw[i] = with_id_html(x->arena, tu.payload[i], &tu.replies[i]);
        if (!out->raw[i]) {
            rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
            goto out;
        }
    }
    out->conversation = gu_arena_strdup(x->arena, token);
    out->replies = tu.replies;
    out->n = tu.n;
    out->disclosure = disclosure_of(x->arena, m.name);
    if (!out->conversation || !out->disclosure)
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
out:
    asst_bundle_release(b);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Feedback and history                                                */
/* ------------------------------------------------------------------ */

int
asst_feedback(const struct asst_ctx *x, const char *conversation,
              int64_t message_id, bool useful, const char *comment,
              struct gu_err *err)
{
    struct conv cv;
    const char *red = "";
    int64_t changes = 0;
    int rc;

    asst_writer_flush(asst_engine_writer(x->eng), x->conn);
    rc = conv_load(x->conn, x->arena, NULL, conversation, &cv, err);
    if (rc < 0)
        return rc;
    if (comment && *comment) {
        struct gu_str s = gu_str_trim(gu_str_c(comment));
        if (asst_utf8_len(s.p, s.n) > ASST_COMMENT_MAX)
            return gu_err_set(err, GU_ETOOBIG, "comment",
                              "Le commentaire est trop long (1 000 "
                              "caractères au plus).",
                              "comment too long");
        red = pii_redact(x->arena, s.p, s.n, NULL);
        if (!red)
            return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    }
    struct store_val p[] = {STORE_I(useful ? 1 : 0), STORE_T(red),
                            STORE_I(gu_now()), STORE_I(message_id),
                            STORE_I(cv.id)};
    rc = store_exec_changes(x->conn,
                            "UPDATE asst_messages SET useful = ?, comment = ?,"
                            " rated_at = ? WHERE id = ? AND conversation_id = ?"
                            " AND type NOT IN ('greeting')",
                            p, GU_ARRAY_LEN(p), &changes, err);
    if (rc < 0)
        return rc;
    if (changes == 0)
        return gu_err_set(err, GU_ENOTFOUND, "message_id",
                          "Ce message n’existe pas dans cette conversation.",
                          "no such message");
    return 0;
}

/* Time as ISO or null. */
static json_t *
time_json(int64_t t)
{
    char iso[32];

    if (t <= 0)
        return json_null();
    gu_time_iso(t, iso, sizeof(iso));
    return json_string(iso);
}

int
asst_history(const struct asst_ctx *x, const char *conversation, json_t **out,
             struct gu_err *err)
{
    struct store_rows *r = NULL, *h = NULL;
    struct conv cv;
    json_t *j, *arr;
    int rc;

    *out = NULL;
    asst_writer_flush(asst_engine_writer(x->eng), x->conn);
    rc = conv_load(x->conn, x->arena, NULL, conversation, &cv, err);
    if (rc < 0)
        return rc;
    struct store_val p[] = {STORE_I(cv.id)};
    rc = store_query(x->conn, x->arena,
                     "SELECT id, question, payload, at FROM asst_messages"
                     " WHERE conversation_id = ? ORDER BY at, id",
                     p, 1, &r, err);
    if (rc < 0)
        return rc;
    rc = store_query(x->conn, x->arena,
                     "SELECT id, status, answer, answered_at, created_at"
                     " FROM asst_handoffs WHERE conversation_id = ?"
                     " ORDER BY id DESC LIMIT 1",
                     p, 1, &h, err);
    if (rc < 0)
        return rc;
    struct store_commune m;
    struct asst_reply g;
    rc = store_commune_get(x->conn, x->arena, cv.insee, &m, err);
    if (rc < 0)
        return rc;
    rc = greeting(x->arena, m.name, &g);
    if (rc < 0)
        return gu_err_set(err, rc, NULL, NULL, "asst: oom");
    arr = json_array();
    if (arr)
        json_array_append_new(arr, asst_reply_json(&g));
    for (size_t i = 0; arr && i < r->nrows; i++) {
        const char *q = store_text(r, i, 1);
        json_t *one;
        if (q && *q)
            json_array_append_new(
                arr, json_pack("{s:s, s:s, s:o}", "type", "user", "text", q,
                               "at", time_json(store_int(r, i, 3))));
        one = json_loads(store_text(r, i, 2), 0, NULL);
        if (!one)
            continue;
        json_object_set_new(one, "id", json_integer(store_int(r, i, 0)));
        const char *t = json_string_value(json_object_get(one, "text"));
        if (t && !json_object_get(one, "html"))
            json_object_set_new(one, "html",
                                json_string(asst_text_html(x->arena, t)));
        json_object_set_new(one, "at", time_json(store_int(r, i, 3)));
        json_array_append_new(arr, one);
    }
    if (!arr)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    json_t *ho = json_null();
    if (h->nrows) {
        const char *ans = store_text(h, 0, 2);
        ho = json_pack("{s:s, s:s, s:o}", "reference",
                       asst_handoff_reference(x->arena, store_int(h, 0, 0),
                                              store_int(h, 0, 4)),
                       "status", store_text(h, 0, 1), "answered_at",
                       time_json(store_int(h, 0, 3)));
        if (ans && *ans) {
            json_array_append_new(
                arr,
                json_pack("{s:s, s:s, s:s, s:o, s:b}", "type", "agent", "text",
                          ans, "html", asst_text_html(x->arena, ans), "at",
                          time_json(store_int(h, 0, 3)), "feedback", 0));
        }
    }
    j = json_pack("{s:s, s:s, s:o, s:o}", "conversation", conversation,
                  "commune", cv.insee, "replies", arr, "handoff",
                  ho ? ho : json_null());
    if (!j)
        return gu_err_set(err, GU_ENOMEM, NULL, NULL, "asst: oom");
    *out = j;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Retention                                                           */
/* ------------------------------------------------------------------ */

int
asst_purge(struct store *s, const struct gu_config *cfg, struct gu_err *err)
{
    struct store_conn *c = NULL;
    long days = cfg ? gu_config_int(cfg, "assistant.retention_days") : 90;
    int64_t cutoff = gu_now() - (int64_t)days * 86400, nconv = 0, nho = 0;
    struct asst_writer *w = asst_engine_writer(asst_engine_of(s));
    int rc;

    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
    asst_writer_flush(w, c);
    struct store_val p[] = {STORE_I(cutoff)};
    rc = store_begin(c, err);
    if (rc == 0)
        rc = store_exec_changes(c,
                                "DELETE FROM asst_handoffs WHERE"
                                " updated_at < ?",
                                p, 1, &nho, err);
    if (rc == 0)
        rc = store_exec(c,
                        "DELETE FROM asst_messages WHERE conversation_id IN"
                        " (SELECT id FROM asst_conversations WHERE"
                        " updated_at < ?)",
                        p, 1, err);
    if (rc == 0)
        rc = store_exec_changes(c,
                                "DELETE FROM asst_conversations WHERE"
                                " updated_at < ?",
                                p, 1, &nconv, err);
    if (rc == 0)
        rc = store_commit(c, err);
    if (rc < 0)
        store_rollback(c);
    else if (nconv > 0 && w)
        cache_clear(w); /* the deleted ones must not answer from memory */
    if (rc == 0)
        gu_log_info("asst.purge", "conversations=%lld handoffs=%lld days=%ld",
                    (long long)nconv, (long long)nho, days);
    store_release(c);
    return rc;
}
