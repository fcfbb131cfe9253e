/*
 * asst_chat.c - conversations: one resident turn in, replies out.
 *
 * A turn reads the conversation (one SELECT), decides from the commune's
 * bundle (no SQL), then writes in one transaction: the rate-limit hit,
 * the conversation's new state, the reply rows and one "asst.answer"
 * audit entry. Only redacted text (pii_redact) is stored; the reply rows
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

static const struct store_migration migrations[] = {
    {"assistant", 1, v1_chat},
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

/* ,"key":"value" */
static void
member(struct gu_buf *o, const char *key, const char *v)
{
    gu_buf_printf(o, ",\"%s\":", key);
    asst_json_str(o, v ? v : "");
}

void
asst_reply_dump(struct gu_buf *o, const struct asst_reply *r, int64_t id,
                bool html)
{
    gu_buf_puts(o, "{");
    if (id > 0)
        gu_buf_printf(o, "\"id\":%lld,", (long long)id);
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
    gu_buf_printf(o, "],\"feedback\":%s", r->feedback ? "true" : "false");
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
    if (r->id > 0)
        gu_buf_printf(&o, "\"id\":%lld,", (long long)r->id);
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
    long turns;
    const char *topic_fiche;
    const char *topic_query;
    long clarified;
    const char *pending;
    const char *pending_query;
};

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
    return gu_err_set(err, GU_ENOTFOUND, "conversation",
                      "Cette conversation n’existe pas ou a expiré. "
                      "Commencez-en une nouvelle.",
                      "unknown conversation");
}

int
asst_conv_lookup(struct store_conn *c, struct gu_arena *a, const char *token,
                 int64_t *id, char insee[6], struct gu_err *err)
{
    struct conv cv;
    int rc = conv_load(c, a, NULL, token, &cv, err);

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

static int
greeting(struct gu_arena *a, const char *name, struct asst_reply *r)
{
    const char *t = gu_arena_sprintf(
        a,
        "Bonjour, je suis l’assistant automatique de la mairie de %s. Je "
        "réponds à vos questions sur les démarches à partir des fiches de la "
        "mairie et de service-public.fr, en citant toujours la source. Je "
        "peux me tromper : à tout moment, vous pouvez demander à parler à un "
        "agent.",
        name);
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
    char token_hash[65];  /* of a new conversation's token */
};

/* ,"key":v with v to 4 decimals (integer formatting: %f is slow). */
static void
fix4(struct gu_buf *o, const char *key, double v)
{
    long long k = (long long)(v * 10000.0 + (v < 0 ? -0.5 : 0.5));
    const char *sign = k < 0 ? "-" : "";

    if (k < 0)
        k = -k;
    gu_buf_printf(o, ",\"%s\":%s%lld.%04lld", key, sign, k / 10000,
                  k % 10000);
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
    gu_buf_printf(&o, ",\"terms\":%zu,\"followup\":%s,\"section\":%d",
                  rk ? rk->nterms : 0, followup ? "true" : "false",
                  w ? w->section : -1);
    fix4(&o, "section_score", w ? (double)w->section_score : 0.0);
    gu_buf_printf(&o, ",\"generation\":%lld}", (long long)b->generation);
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

/*
 * Insert one reply row with its JSON text `payload` (made before the
 * write: no JSON work while other turns wait); sets r->id. The payload
 * has no "html" (rebuilt from the text when the history is read: half
 * the bytes written).
 */
static int
store_reply(const struct asst_ctx *x, struct store_conn *c, int64_t conv_id,
            const char *insee, const char *question, struct asst_reply *r,
            const char *payload, const struct turn *tu, bool decision,
            int64_t generation, struct gu_err *err)
{
    struct store_rows *rows = NULL;
    int rc;

    struct store_val p[] = {
        STORE_I(conv_id),
        STORE_T(insee),
        STORE_I(gu_now()),
        STORE_T(question ? question : ""),
        STORE_T(r->type),
        STORE_T(payload),
        STORE_T(decision && tu->decision_fiche ? tu->decision_fiche : ""),
        STORE_T(decision && tu->section ? tu->section : ""),
        STORE_D(decision ? (double)tu->why.score : 0.0),
        STORE_D(decision ? (double)tu->why.margin : 0.0),
        STORE_I(generation),
        STORE_T(decision && tu->why_text ? tu->why_text : ""),
    };
    rc = store_query(c, x->arena,
                     "INSERT INTO asst_messages (conversation_id, insee, at,"
                     " question, type, payload, fiche_id, section, score,"
                     " margin, generation, why) VALUES"
                     " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                     p, GU_ARRAY_LEN(p), &rows, err);
    if (rc < 0)
        return rc;
    r->id = store_int(rows, 0, 0);
    return 0;
}

/*
 * Group commit. Every turn writes a few rows; a commit costs far more
 * than the rows (WAL frames of every page touched, checkpoints). So the
 * turns waiting to be written are written together: the first thread to
 * find no writer at work becomes the leader, takes every queued turn
 * (its own first), writes them on its connection in one transaction (see
 * write_batch for a turn refused by the rate limit), and wakes their
 * threads. Writers thus also queue on a mutex rather than in
 * SQLite's busy handler, whose sleeps (up to 100 ms) would make the
 * latency tail of a busy counter.
 */
struct wjob {
    const struct asst_ctx *x; /* the turn's caller (its arena is used) */
    const char *insee;
    struct conv *cv;
    const char *token;
    struct turn *tu;
    int64_t generation;
    int64_t saved_id; /* cv->id before the batch (rollback) */
    int rc;
    struct gu_err err;
    bool done;
    struct wjob *next;
};

#define BATCH_MAX 64

static pthread_mutex_t wq_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wq_cv = PTHREAD_COND_INITIALIZER;
static struct wjob *wq_head, *wq_last;
static bool wq_busy;

/* The rows of one turn, on connection `c` inside a transaction. */
static int
write_turn(struct store_conn *c, struct wjob *j)
{
    const struct asst_ctx *x = j->x;
    struct turn *tu = j->tu;
    struct conv *cv = j->cv;
    struct gu_err *err = &j->err;
    struct store_rows *r = NULL;
    long limit =
        x->cfg ? gu_config_int(x->cfg, "assistant.rate_per_minute") : 0;
    int64_t now = gu_now();
    int rc;

    if (limit > 0 && x->client_ip && *x->client_ip) {
        char key[96];
        /* Per address and commune: one resident's traffic to one
         * commune (the other public routes count per address). */
        snprintf(key, sizeof(key), "asst:%s:%s", x->client_ip, j->insee);
        rc = store_rate_hit(c, key, (int)limit, 60, NULL, err);
        if (rc < 0)
            return rc;
    }
    if (tu->nostore)
        return 0;
    if (cv->id == 0) {
        struct store_val p[] = {
            STORE_T(j->insee),
            STORE_T(tu->token_hash),
            STORE_I(now),
            STORE_I(now),
            STORE_I(tu->counted),
            STORE_T(tu->topic_fiche),
            STORE_T(tu->topic_query),
            STORE_I(tu->clarified),
            STORE_T(tu->pending),
            STORE_T(tu->pending_query),
        };
        rc = store_query(c, x->arena,
                         "INSERT INTO asst_conversations (insee, token_hash,"
                         " created_at, updated_at, turns, topic_fiche,"
                         " topic_query, clarified, pending, pending_query)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                         p, GU_ARRAY_LEN(p), &r, err);
        if (rc < 0)
            return rc;
        cv->id = store_int(r, 0, 0);
    } else {
        struct store_val p[] = {
            STORE_I(now),
            STORE_I(tu->counted),
            STORE_T(tu->topic_fiche ? tu->topic_fiche : ""),
            STORE_T(tu->topic_query ? tu->topic_query : ""),
            STORE_I(tu->clarified),
            STORE_T(tu->pending ? tu->pending : ""),
            STORE_T(tu->pending_query ? tu->pending_query : ""),
            STORE_I(cv->id),
        };
        rc = store_exec(c,
                        "UPDATE asst_conversations SET updated_at = ?,"
                        " turns = turns + ?, topic_fiche = ?, topic_query = ?,"
                        " clarified = ?, pending = ?, pending_query = ?"
                        " WHERE id = ?",
                        p, GU_ARRAY_LEN(p), err);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < tu->n; i++) {
        /* The greeting is not stored: the history rebuilds it. */
        if (strcmp(tu->replies[i].type, "greeting") == 0)
            continue;
        rc = store_reply(x, c, cv->id, j->insee,
                         i == tu->n - 1 ? tu->question : "", &tu->replies[i],
                         tu->payload[i], tu, i == tu->n - 1, j->generation,
                         err);
        if (rc < 0)
            return rc;
    }
    const struct asst_reply *d = &tu->replies[tu->n - 1];
    char target[48];
    snprintf(target, sizeof(target), "asst_messages:%lld", (long long)d->id);
    return store_audit_add(c, j->insee, "ia", "asst.answer", target,
                           tu->audit ? tu->audit : "", x->request_id, err);
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
    gu_buf_printf(&o, ",\"section\":%d", tu->why.section);
    fix4(&o, "score", (double)tu->why.score);
    fix4(&o, "margin", (double)tu->why.margin);
    gu_buf_printf(&o, ",\"generation\":%lld,\"generated\":%s}",
                  (long long)generation, d->generated ? "true" : "false");
    s = o.oom || !o.p ? NULL : gu_arena_strndup(a, o.p, o.n);
    gu_buf_fini(&o);
    return s;
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
        for (struct wjob *j = batch; j; j = j->next)
            j->saved_id = j->cv->id;
        rc = store_begin(c, &err);
        for (struct wjob *j = batch; rc == 0 && j && !failed; j = j->next)
            failed = write_turn(c, j) < 0;
        if (rc == 0 && !failed && store_commit(c, &err) == 0)
            return;
        store_rollback(c);
        for (struct wjob *j = batch; j; j = j->next) {
            j->cv->id = j->saved_id;
            j->rc = 0;
            gu_err_clear(&j->err);
        }
    }
    for (struct wjob *j = batch; j; j = j->next) {
        int64_t saved = j->cv->id;
        gu_err_clear(&err);
        rc = store_begin(c, &err);
        if (rc == 0) {
            j->rc = write_turn(c, j);
            if (j->rc == 0)
                rc = store_commit(c, &err);
        }
        if (rc < 0 || j->rc < 0) {
            store_rollback(c);
            j->cv->id = saved;
            if (j->rc == 0) {
                j->rc = rc;
                j->err = err;
            }
        }
    }
}

/* Write the turn (rate limit, conversation, replies, audit), possibly
 * with other threads' turns in the same transaction. */
static int
persist(const struct asst_ctx *x, const char *insee, struct conv *cv,
        const char *token, struct turn *tu, int64_t generation,
        struct gu_err *err)
{
    struct wjob me, *batch;
    size_t n = 0;

    memset(&me, 0, sizeof(me));
    me.x = x;
    me.insee = insee;
    me.cv = cv;
    me.token = token;
    me.tu = tu;
    me.generation = generation;
    gu_err_clear(&me.err);
    pthread_mutex_lock(&wq_mu);
    if (wq_last)
        wq_last->next = &me;
    else
        wq_head = &me;
    wq_last = &me;
    while (!me.done) {
        if (wq_busy) {
            pthread_cond_wait(&wq_cv, &wq_mu);
            continue;
        }
        /* Leader: take up to BATCH_MAX queued turns from the head (ours
         * comes in this batch or a later one). */
        wq_busy = true;
        batch = wq_head;
        struct wjob *j = batch;
        for (n = 1; j->next && n < BATCH_MAX; n++)
            j = j->next;
        wq_head = j->next;
        if (!wq_head)
            wq_last = NULL;
        j->next = NULL;
        pthread_mutex_unlock(&wq_mu);

        write_batch(x->conn, batch);

        pthread_mutex_lock(&wq_mu);
        for (j = batch; j;) {
            struct wjob *next = j->next; /* j may go once done is seen */
            j->done = true;
            j = next;
        }
        wq_busy = false;
        pthread_cond_broadcast(&wq_cv);
    }
    pthread_mutex_unlock(&wq_mu);
    if (me.rc < 0 && err)
        *err = me.err;
    return me.rc;
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
        rc = conv_load(x->conn, x->arena, in->insee, token, &cv, err);
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
        gu_token_hash(token, tu.token_hash);
    rc = persist(x, in->insee, &cv, token, &tu, b->generation, err);
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
    rc = conv_load(x->conn, x->arena, NULL, conversation, &cv, err);
    if (rc < 0)
        return rc;
    struct store_val p[] = {STORE_I(cv.id)};
    rc = store_query(x->conn, x->arena,
                     "SELECT id, question, payload, at FROM asst_messages"
                     " WHERE conversation_id = ? ORDER BY id",
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
    int rc;

    rc = store_acquire(s, &c, err);
    if (rc < 0)
        return rc;
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
    else
        gu_log_info("asst.purge", "conversations=%lld handoffs=%lld days=%ld",
                    (long long)nconv, (long long)nho, days);
    store_release(c);
    return rc;
}
