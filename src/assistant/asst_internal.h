/*
 * asst_internal.h - private to the conversation engine's files
 * (asst_engine.c, asst_answer.c, asst_chat.c, asst_handoff.c,
 * asst_http.c): the per-commune bundle and the answer builder.
 */
#ifndef ASST_INTERNAL_H
#define ASST_INTERNAL_H

#include <stdatomic.h>

#include "assistant/asst.h"
#include "kb/kb.h"
#include "text/text.h"

/* Terms of one section, for picking the relevant section of a fiche. */
struct asst_secterms {
    uint32_t *text; /* sorted hashes of the section text's stems */
    uint16_t *tf;   /* their counts */
    uint32_t ntext;
    uint32_t *path; /* sorted hashes of the title path's stems */
    uint32_t npath;
};

/* Section terms of a whole fiche, computed on first use, then shared. */
struct asst_ficheterms {
    struct asst_secterms *sec; /* nsections */
    size_t n;
    uint32_t *all; /* sorted hashes of every stem of the fiche (title,
                      questions, description, tags, themes, sections) */
    uint32_t nall;
};

/*
 * Everything one commune's assistant answers from, read-only once built.
 * Refcounted: the engine holds one reference while it is current, each
 * request one while it uses it; the last release frees it.
 */
struct asst_bundle {
    atomic_int refs;
    char insee[6];
    int64_t generation; /* kb_generation() when built */
    struct text_pipeline *tp;
    struct asst_index *ix;
    struct gu_arena *arena;  /* kb_view_load() strings */
    struct kb_fiche *fiches; /* index document i = fiches[i] */
    size_t n;
    _Atomic(struct asst_ficheterms *) *terms; /* n, lazily filled */
    int64_t built_ms;
};

/* A reference to the current bundle of `insee` (built when missing or
 * stale). Release with asst_bundle_release(). */
int asst_engine_acquire(struct asst_engine *e, struct store_conn *c,
                        const char *insee, struct asst_bundle **out,
                        struct gu_err *err);
void asst_bundle_release(struct asst_bundle *b);

/* The section terms of fiche `i` (computed once). NULL on OOM. */
const struct asst_ficheterms *asst_bundle_terms(struct asst_bundle *b,
                                                size_t i);

/*
 * How much of query `q` fiche `fi` covers, in [0, 1]: the share of the
 * query's content words (not synonym concepts nor numbers) found among
 * the fiche's stems, a word counting less the commoner it is in the
 * corpus; a word unknown to the whole index counts fully and is never
 * found; a word found only after a spelling repair counts half. 1 when
 * the query has no content word.
 */
float asst_coverage(struct asst_bundle *b, struct gu_arena *a, size_t fi,
                    const char *q, size_t qn);

/*
 * The record of commune `insee` copied into `a`: read from the store at
 * most once per engine check_ms (a change shows within that delay), so
 * that a chat turn does not open a read transaction for it.
 * GU_ENOTFOUND for an unknown commune.
 */
int asst_engine_commune(struct asst_engine *e, struct store_conn *c,
                        struct gu_arena *a, const char *insee,
                        struct store_commune *out, struct gu_err *err);

/* How long what the engine reads from the store may be trusted, in ms
 * (its options' check_ms; 0 = read every time, and for a NULL engine). */
int asst_engine_check_ms(const struct asst_engine *e);

/* Index of fiche `id` in the bundle, or -1. */
long asst_bundle_find(const struct asst_bundle *b, const char *id);

/* Ranked hits after boosts; arena-allocated. */
struct asst_ranked {
    struct asst_hit *hits;
    size_t n;
    float margin;
    float confidence; /* of the index's first hit */
    size_t nterms;
};

/*
 * Search `q` in the bundle, boost local fiches and `prev` (fiche index
 * or -1), re-sort, recompute the margin.
 */
int asst_rank(const struct asst_bundle *b, const struct asst_policy *t,
              struct gu_arena *a, const char *q, size_t qn, long prev,
              struct asst_ranked *out);

/*
 * A follow-up's fiche: among the topic's fiches (the first hits of `rk`,
 * ranked on the follow-up plus the topic's query, scoring at least
 * `ratio` times the first, and `prev`, the previous answer's), the one
 * with the section that best matches the follow-up's own words `sq`;
 * the first hit when no section matches them better.
 */
long asst_followup_fiche(struct asst_bundle *b, struct gu_arena *a,
                         const struct asst_ranked *rk, long prev,
                         const char *sq, float ratio);

/* What the answer builder chose, recorded with the reply. */
struct asst_why {
    long fiche;  /* index in the bundle */
    int section; /* ord of the section shown, -1 = intro only */
    float score; /* fused score after boosts */
    float bm25;
    float margin;
    float section_score;
};

/*
 * When the reply's fiche links to the booking page for a motif, insert
 * after that link up to three "creneau" links: the motif's next free
 * slots, each opening the booking page with the slot chosen
 * (asst_rdv.c). Adds nothing when there is none; GU_ENOMEM only.
 */
int asst_slot_links(const struct asst_ctx *x, const struct store_commune *m,
                    struct asst_reply *r);

/*
 * Build an answer reply from fiche `fi` for query `q`: the section that
 * best matches `sq` (the resident's own words; `q` when no section
 * matches them), links, related questions, contacts. `commune` may be
 * NULL (then contact markers are removed). Generation is tried when
 * cfg's llm.url is set.
 */
int asst_answer_build(struct asst_bundle *b, struct gu_arena *a,
                      const struct gu_config *cfg,
                      const struct store_commune *commune, long fi,
                      const char *q, const char *sq,
                      const struct asst_ranked *rk, struct asst_reply *out,
                      struct asst_why *why);

/*
 * The conversation of `token`: its id and commune, once every turn queued
 * on `e`'s writer is written. GU_ENOTFOUND (French message) when unknown
 * or purged.
 */
int asst_conv_lookup(struct asst_engine *e, struct store_conn *c,
                     struct gu_arena *a, const char *token, int64_t *id,
                     char insee[6], struct gu_err *err);

/*
 * The chat's writer (asst_chat.c): turns queued and written in batches by
 * a thread, message ids allocated in memory, conversations' state cached.
 * One per engine, made with it; asst_writer_free() writes what is queued,
 * stops the thread and releases its connection.
 */
struct asst_writer;
struct asst_writer *asst_writer_new(void);
void asst_writer_free(struct asst_writer *w);
/* The engine's writer (never NULL for an engine made by asst_engine_new). */
struct asst_writer *asst_engine_writer(struct asst_engine *e);
/*
 * Wait until every turn queued before the call is written (or failed).
 * `c`, the caller's connection (may be NULL), writes the queue while the
 * writer thread does not. `w` NULL ok.
 */
void asst_writer_flush(struct asst_writer *w, struct store_conn *c);
/* A new asst_messages id (every insert into asst_messages takes its id
 * here: the writer's rows are written after their ids are given). */
int asst_message_id(struct asst_writer *w, struct store_conn *c, int64_t *id,
                    struct gu_err *err);

/* Reference « Q-2026-000123 » of hand-off `id` made at `created_at`. */
const char *asst_handoff_reference(struct gu_arena *a, int64_t id,
                                   int64_t created_at);

/*
 * Job "asst.inbox" (every 5 s): hand-offs of the last two days not yet in
 * the request inbox become requests there (asst_handoff.c). Returns how
 * many were moved.
 */
int asst_handoff_inbox_job(struct store *s, const struct gu_config *cfg,
                           struct gu_err *err);

/* Plain text -> safe HTML paragraphs and lists into the arena. */
char *asst_text_html(struct gu_arena *a, const char *s);

/* Number of UTF-8 code points of s[0..n). */
size_t asst_utf8_len(const char *s, size_t n);

#endif
