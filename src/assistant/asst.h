/*
 * asst.h - the citizen assistant: the conversation engine behind
 * POST /api/v1/chat (contract: docs/assistant-api.md) and the agents'
 * hand-off inbox.
 *
 * Pieces:
 *   - the engine (asst_engine.c): one retrieval index per commune, built
 *     from kb_view_load() with the commune's synonyms, cached, rebuilt when
 *     kb_generation() moves, swapped atomically (refcounted bundles:
 *     requests in flight keep the bundle they started with);
 *   - answers (asst_answer.c): ranking with local and topic boosts, the
 *     abstention decision, the relevant section of the best fiche, links,
 *     related questions, the commune's contacts;
 *   - conversations (asst_chat.c): turns, topic, clarification, hand-off
 *     offers, feedback, storage of redacted text only, audit, purge;
 *   - hand-offs (asst_handoff.c): the resident's question to the agents'
 *     inbox, the agent's answer by e-mail, « créer une fiche »;
 *   - optional generation (asst_llm.c): an OpenAI-compatible endpoint the
 *     commune runs, used only to rephrase retrieved passages with
 *     citations;
 *   - HTTP (asst_http.c): the public chat routes and the inbox API.
 *
 * Layering: assistant -> kb, privacy, notify, text, store, core.
 */
#ifndef ASST_ASST_H
#define ASST_ASST_H

#include "assistant/asst_index.h"
#include "core/core.h"
#include "store/store.h"

/* Bounds on what residents send. */
#define ASST_MESSAGE_MAX 1000     /* characters (code points) */
#define ASST_BODY_MAX (16 * 1024) /* bytes of a request body */
#define ASST_TURNS_MAX 50         /* resident messages per conversation */
#define ASST_ANSWER_MAX 1200      /* characters of an answer's passage */
#define ASST_COMMENT_MAX 1000     /* characters of a feedback comment */
#define ASST_EMAIL_MAX 254
#define ASST_HANDOFF_ANSWER_MAX 20000
#define ASST_HANDOFFS_MAX 3 /* hand-offs (and their e-mails) a conversation */

/* ------------------------------------------------------------------ */
/* Policy: boosts, follow-ups, abstention                              */
/* ------------------------------------------------------------------ */

/*
 * How the engine uses the index's results. The abstention thresholds are
 * the index's (struct asst_abstain in asst_index.h: confidence and
 * margin, calibrated on the evaluation set, asst_abstain_default()); the
 * margin is recomputed after the boosts below.
 */
struct asst_policy {
    struct asst_abstain abstain;
    float local_boost;       /* local fiches' scores times (1 + this) */
    float topic_boost;       /* follow-ups: previous fiche times (1 + this) */
    float min_ngram;         /* best hit's trigram cosine below: not sure */
    float min_coverage;      /* best fiche's asst_coverage() below: not
                                sure (off-topic questions) */
    float local_wins;        /* a local fiche scoring >= this * best goes
                                first; national ones that close are the
                                same topic, not rivals (0 = off) */
    unsigned followup_terms; /* a message of at most this many index terms,
                                in a conversation with a topic, may be a
                                follow-up */
    unsigned clarify_max;    /* candidates offered in a clarification */
    float clarify_ratio;     /* further candidates score >= ratio * best */
};

void asst_policy_default(struct asst_policy *p);

enum asst_decision {
    ASST_DECIDE_ANSWER = 0,  /* the best hit is clearly ahead */
    ASST_DECIDE_CLARIFY = 1, /* something matches, not clearly */
    ASST_DECIDE_NOTHING = 2  /* nothing matches */
};

/*
 * The decision for `n` hits (boosted, best first) with their margin, the
 * index's confidence and the first hit's trigram cosine. Pure function.
 */
enum asst_decision asst_decide(const struct asst_policy *p, size_t n,
                               float confidence, float margin, float ngram);

/* ------------------------------------------------------------------ */
/* Engine: per-commune indexes                                         */
/* ------------------------------------------------------------------ */

struct asst_engine_opts {
    struct asst_params params; /* ranking (asst_params_default) */
    struct asst_policy policy; /* asst_policy_default */
    int check_ms;              /* look at kb_generation() at most this often */
};

void asst_engine_opts_default(struct asst_engine_opts *o);

/*
 * Long-lived, thread-safe. Owns the per-commune bundles (pipeline, index,
 * fiches). `o` NULL = defaults. Free with asst_engine_free() once no
 * request uses it.
 */
struct asst_engine;
int asst_engine_new(const struct asst_engine_opts *o, struct asst_engine **out,
                    struct gu_err *err);
void asst_engine_free(struct asst_engine *e);
const struct asst_engine_opts *asst_engine_options(const struct asst_engine *e);

/*
 * Chat turns are written behind the answer: ids
 * allocated in memory, the conversation's state kept in memory for its
 * next turn, the rows written in batches by one thread per engine
 * (asst_chat.c says what a crash may lose). asst_engine_free() writes
 * what is queued before it returns.
 *
 * asst_engine_sync() waits until every turn queued before the call is in
 * the database; with `forget`, it also drops the conversations held in
 * memory and the id counters, so that the database is the truth again:
 * for tests and tools that read or edit the chat's tables directly. The
 * module's own readers (feedback, history, hand-offs, figures, purge)
 * need no call. Returns 0.
 */
int asst_engine_sync(struct asst_engine *e, bool forget);

/*
 * Rebuild now, with connection `c`, the index of `insee` (NULL = every
 * commune already cached), and swap it in. The reload hook (SIGHUP, kb
 * import, tests). GU_ENOTFOUND for an unknown commune.
 */
int asst_engine_reload(struct asst_engine *e, struct store_conn *c,
                       const char *insee, struct gu_err *err);

/*
 * Rebuild the cached indexes whose kb_generation() moved, off the request
 * path. *rebuilt (may be NULL) gets how many.
 */
int asst_engine_refresh(struct asst_engine *e, struct store_conn *c,
                        int *rebuilt, struct gu_err *err);

/* Index generation (kb_generation at build) of a cached commune, or -1. */
int64_t asst_engine_generation(struct asst_engine *e, const char *insee);

/*
 * The engine of a database, the one the HTTP routes and the jobs use
 * (handlers get no domain state from web/): attached to the store with
 * store_ext(), made on first use with the defaults, freed by
 * store_close(). NULL only when out of memory.
 */
struct asst_engine *asst_engine_of(struct store *s);

/* Job runner entries (notify_job_fn signature). */
/* Rebuild stale indexes of the default engine (every few seconds). */
int asst_reindex_job(struct store *s, const struct gu_config *cfg,
                     struct gu_err *err);
/*
 * Delete conversations (and their messages) idle for more than
 * assistant.retention_days, and hand-offs untouched for as long, answered
 * or not (their e-mail with them). Logs counts.
 */
int asst_purge(struct store *s, const struct gu_config *cfg,
               struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Generation (optional, asst_llm.c)                                   */
/* ------------------------------------------------------------------ */

/* A retrieved passage given to the model, numbered [1]..[n]. */
struct asst_passage {
    const char *title; /* title path */
    const char *text;
};

/*
 * Ask the endpoint of cfg's llm.* settings to rephrase `passages` as an
 * answer to `question` (redacted), in French, citing [k]. *out gets the
 * generated text (arena) when it cites at least one passage, else NULL.
 * Returns 0 (also when generation is off: *out NULL), GU_EIO on a failed
 * or timed-out call, GU_EINVAL when the reply cites nothing retrieved.
 * Callers keep the extractive answer on any non-zero return.
 */
int asst_llm_rephrase(const struct gu_config *cfg, struct gu_arena *a,
                      const char *question, const struct asst_passage *p,
                      size_t n, const char **out, struct gu_err *err);

/* Is generation configured (llm.url non-empty)? */
bool asst_llm_enabled(const struct gu_config *cfg);

/*
 * The citations [k] (1 <= k <= n) found in `text`: a bit set (bit k-1).
 * 0 = none.
 */
uint64_t asst_llm_citations(const char *text, size_t n);

/* ------------------------------------------------------------------ */
/* Conversations                                                       */
/* ------------------------------------------------------------------ */

/* Who calls and with what. Caller-owned; pointers outlive the call. */
struct asst_ctx {
    struct asst_engine *eng;
    struct store_conn *conn;
    struct gu_arena *arena;
    const struct gu_config *cfg;
    const char *request_id; /* may be NULL */
    const char *client_ip;  /* for the rate limit; NULL = none */
};

struct asst_link {
    const char *label;
    const char *url;
    const char *kind; /* "service", "reference", "booking", "creneau" (a
                         free slot: the booking page with it chosen) */
};

struct asst_related {
    const char *label;
    const char *message;
};

struct asst_choice {
    const char *id; /* "c1".., "agent" */
    const char *label;
};

struct asst_fiche_ref {
    const char *id;
    const char *title;
    const char *section; /* title path of the section, "" for the intro */
    const char *origin;  /* "local" or "national" */
    const char *source_url;
    const char *source_date;
};

/* One reply of the assistant; arena-allocated. */
struct asst_reply {
    int64_t id;       /* message id (feedback), 0 when not stored */
    const char *type; /* greeting answer clarify handoff_offer
                         handoff_done info agent */
    const char *text;
    const char *html; /* may be NULL */
    bool has_fiche;
    struct asst_fiche_ref fiche;
    struct asst_link *links;
    size_t nlinks;
    struct asst_related *related;
    size_t nrelated;
    struct asst_choice *choices;
    size_t nchoices;
    bool feedback;
    bool generated; /* text rephrased by the model */
};

struct asst_chat_in {
    const char *insee;
    const char *conversation; /* NULL: start one */
    const char *message;      /* may be NULL when choice is set */
    const char *choice;       /* may be NULL */
};

struct asst_chat_out {
    const char *conversation;
    struct asst_reply *replies;
    const char **raw; /* the same n replies as JSON text (asst_reply_json's
                         members), with their ids (arena) */
    size_t n;
    const char *disclosure;
};

/*
 * One turn. Validates (GU_EINVAL, GU_ETOOBIG for a long message),
 * GU_ENOTFOUND for an unknown commune or conversation, GU_ERATE when the
 * client is over assistant.rate_per_minute. Stores only redacted text;
 * records why in each reply's row and one "asst.answer" audit entry.
 */
int asst_chat(const struct asst_ctx *x, const struct asst_chat_in *in,
              struct asst_chat_out *out, struct gu_err *err);

/* The JSON of a reply (contract shape). New reference; NULL on OOM. */
json_t *asst_reply_json(const struct asst_reply *r);

/*
 * The same JSON as text, appended to `o` without jansson (the chat's hot
 * path): "id" when id > 0, "html" only when `html`. JSON string escaping
 * of `s[0..n)` is asst_json_str.
 */
void asst_reply_dump(struct gu_buf *o, const struct asst_reply *r, int64_t id,
                     bool html);
void asst_json_str(struct gu_buf *o, const char *s);

/* Rate a reply; a second rating replaces the first. */
int asst_feedback(const struct asst_ctx *x, const char *conversation,
                  int64_t message_id, bool useful, const char *comment,
                  struct gu_err *err);

/*
 * The conversation's history as JSON {conversation, commune, replies:[...],
 * handoff: {...}|null}; messages of the resident appear as type "user".
 */
int asst_history(const struct asst_ctx *x, const char *conversation,
                 json_t **out, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Hand-offs                                                           */
/* ------------------------------------------------------------------ */

/*
 * The resident leaves the question (redacted) and an e-mail (kept only
 * to answer; `consent` must be true) for the agents. *reference gets
 * « Q-2026-000123 », *follow_token the token of /assistant/suivi/{token}.
 */
int asst_handoff_create(const struct asst_ctx *x, const char *conversation,
                        const char *email, const char *question, bool consent,
                        const char **reference, const char **follow_token,
                        struct gu_err *err);

/* The follow-up view of a hand-off (no e-mail): JSON. */
int asst_handoff_follow(const struct asst_ctx *x, const char *token,
                        json_t **out, struct gu_err *err);

struct asst_handoff {
    int64_t id;
    const char *reference;
    const char *status; /* "nouveau", "en cours", "répondu" */
    const char *question;
    const char *transcript; /* redacted conversation, one line a message */
    const char *email;
    const char *answer;      /* "" until answered */
    const char *answered_by; /* login */
    const char *fiche_id;    /* fiche made from the answer, "" if none */
    int64_t created_at, updated_at, answered_at;
};

struct asst_handoff_filter {
    const char *status; /* NULL = any */
    const char *q;      /* substring of question, NULL = any */
    int64_t before_id;  /* paging */
    int limit;          /* 1..200, default 50 */
};

/* Agents' side; always scoped to `insee`. Audited with `actor`. */
int asst_handoff_list(struct store_conn *c, struct gu_arena *a,
                      const char *insee, const struct asst_handoff_filter *f,
                      struct asst_handoff **out, size_t *count,
                      struct gu_err *err);
int asst_handoff_get(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t id, struct asst_handoff *out,
                     struct gu_err *err);
int asst_handoff_set_status(struct store_conn *c, const char *insee, int64_t id,
                            const char *status, const char *actor,
                            const char *request_id, struct gu_err *err);
/*
 * Answer: stored, visible on the follow-up page, e-mailed to the resident
 * (notify_mail_queue; `public_url` prefixes the follow link), status
 * « répondu ».
 */
int asst_handoff_answer(struct store_conn *c, struct gu_arena *a,
                        const char *insee, int64_t id, const char *answer,
                        const char *actor, const char *request_id,
                        const char *public_url, struct gu_err *err);
/* « Créer une fiche » from the answer: kb_local_save(question, answer). */
int asst_handoff_to_fiche(struct store_conn *c, struct gu_arena *a,
                          const char *insee, int64_t id, const char *actor,
                          const char *request_id, const char **fiche_id,
                          struct gu_err *err);

struct asst_stats {
    int64_t handoffs_new, handoffs_open, handoffs_done;
    int64_t useful, not_useful;
    int64_t conversations, answers, clarifications, handoff_offers;
};
int asst_stats_get(struct store_conn *c, const char *insee, int64_t since,
                   struct asst_stats *out, struct gu_err *err);

/*
 * The chat's first message, its AI disclosure (EU AI Act art. 50), for
 * the commune named `commune_name`: the transparency page shows the same
 * text. In the arena; NULL on OOM.
 */
const char *asst_disclosure(struct gu_arena *a, const char *commune_name);

/*
 * A reply of the assistant as logged (asst_messages), for the
 * back-office's « Pourquoi ? ». Greetings are not listed (fixed text, no
 * decision). Strings live in the caller's arena.
 */
struct asst_logged {
    int64_t id;
    int64_t at;
    const char *question; /* redacted, "" for a choice without text */
    const char *type;     /* "answer", "clarify", "handoff_offer" */
    const char *fiche_id; /* the answer's fiche, "" otherwise */
    const char *section;
    const char *why; /* the JSON text stored with the reply, may be "" */
    double score, margin;
    int useful; /* 1, 0, or -1 when not rated */
    const char *comment;
};

#define ASST_LOGGED_MAX 200 /* rows a list call returns at most */

/*
 * The fiches the commune's assistant answered from most since `since`
 * (unix seconds), each at least `min_answers` times, most answered first
 * (ties by id), at most `limit` (<= ASST_LOGGED_MAX): the most asked
 * questions, e.g. for the phone's menu. Only fiche ids are read, never
 * what residents typed. *ids is an arena array of arena strings.
 */
int asst_top_fiches(struct store_conn *c, struct gu_arena *a,
                    const char *insee, int64_t since, int min_answers,
                    size_t limit, const char ***ids, size_t *count,
                    struct gu_err *err);

/*
 * The commune's latest replies, newest first: those of the conversation
 * of hand-off `handoff_id` (> 0; GU_ENOTFOUND if it is not the commune's)
 * or all of them (0), older than the reply `before_id` (0 = from the
 * newest), of `type` (NULL or "" = any), at most `limit` (capped at
 * ASST_LOGGED_MAX). Flushes the pending writes first.
 */
int asst_logged_list(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t handoff_id,
                     int64_t before_id, const char *type, size_t limit,
                     struct asst_logged **out, size_t *count,
                     struct gu_err *err);

/*
 * The module's background jobs for the runner: "asst.purge" (hourly,
 * asst_purge) and "asst.reindex" (every 5 s, asst_reindex_job).
 */
struct notify_job;
const struct notify_job *asst_jobs(size_t *count);

/* The schema of the assistant module (store_migrate list). */
const struct store_migration *asst_migrations(size_t *count);

/* The HTTP route table (asst_http.c). */
struct http_routes;
extern const struct http_routes asst_routes;

/*
 * Residents' rights (asst_pdata.c, called by app_rights.c): the
 * hand-offs of `insee` from `email` (normalised: pii_norm_email; NULL =
 * none) and the conversations they came from. Export adds the member
 * "assistant" to `out`; erase deletes them inside the caller's
 * transaction, adding to *rows.
 */
int asst_pdata_export(struct store_conn *c, struct gu_arena *a,
                      const char *insee, const char *email, json_t *out,
                      struct gu_err *err);
int asst_pdata_erase(struct store_conn *c, const char *insee,
                     const char *email, int64_t *rows, struct gu_err *err);

#endif
