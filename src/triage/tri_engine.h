/*
 * tri_engine.h - private helpers shared by the engine's files of the
 * request inbox (tri_services.c, tri_request.c, tri_intake.c,
 * tri_model.c, tri_demo.c). Not a contract: other modules use tri.h.
 */
#ifndef TRIAGE_TRI_ENGINE_H
#define TRIAGE_TRI_ENGINE_H

#include "privacy/privacy.h"
#include "triage/tri.h"

/* The seed corpus (data/triage/seed.tsv) embedded at build time by
 * tools/embed.c (CMakeLists.txt: --name tri_seed). */
const struct gu_asset *tri_seed_find(const char *path);
const struct gu_asset *tri_seed_all(size_t *count);

/* Columns `text`, `label`, `urgence` of the embedded seed. Strings point
 * into `a`. GU_EINTERNAL when the embedded file is malformed. */
struct tri_seed_row {
    const char *text;
    size_t len;
    const char *label;
    int urgency;
};
int tri_seed_rows(struct gu_arena *a, struct tri_seed_row **out, size_t *n,
                  struct gu_err *err);

/* How the urgency model trains: the plain one-vs-rest SVM, C = 4, not
 * the services' NB-SVM, which on the three unbalanced urgency levels
 * lost 1.3 points of accuracy and 4 of macro-F1 (seed corpus, 5 folds,
 * 5 shuffles; bench/triage/README.md, eighth series). */
#define TRI_URGENCY_TRAIN_OPTS                                                 \
    {                                                                          \
        .solver = TRIAGE_SOLVER_SVM, .c = 4                                    \
    }

/* Checks with French messages naming the field. */
int tri_check_insee(const char *insee, struct gu_err *err);
/* UTF-8, no control character (newlines and tabs allowed when
 * multiline), required (not only blanks), at most `max` bytes. */
int tri_check_text(const char *s, const char *field, const char *label,
                   bool required, size_t max, bool multiline,
                   struct gu_err *err);
int tri_check_email(const char *s, const char *field, struct gu_err *err);
void tri_insee_copy(char dst[6], const char *insee);

/* Record a status-link token (its SHA-256 hex) of a request: every link
   sent stays valid until the request is anonymised (tri_tokens). */
int tri_token_add(struct store_conn *c, const char *insee, int64_t request_id,
                  const char *hash, struct gu_err *err);

/* Redact with the commune's key (linkable placeholders). In `a`. */
int tri_redact(struct store_conn *c, struct gu_arena *a, const char *insee,
               const char *s, const char **out, struct gu_err *err);

/* The active service whose code is `code` (0 when none). */
int tri_service_by_code(struct store_conn *c, struct gu_arena *a,
                        const char *insee, const char *code,
                        struct tri_service *out, struct gu_err *err);

/* Store attachments of a request (message_id 0) or of a message: images
 * through tri_image_clean(), PDF and WAV by their magic bytes, bounded.
 * Inside the caller's transaction. */
int tri_attach_store(struct store_conn *c, struct gu_arena *a,
                     const char *insee, int64_t request_id, int64_t message_id,
                     const struct tri_attach_in *att, size_t n,
                     struct gu_err *err);

/* One decision row (tri_decisions). */
int tri_decision_add(struct store_conn *c, const char *insee,
                     int64_t request_id, const char *kind, const char *value,
                     const char *previous, double confidence,
                     const char *model_version, const char *source,
                     const char *actor, struct gu_err *err);

/*
 * Urgency by rules over a text (original or redacted; folded here):
 * 0..2 and the reasons as a JSON array appended to `reasons`
 * (["danger:fuite de gaz", "echeance:demain"]). Pure, no store.
 */
int tri_urgency_rules(const char *text, size_t n, json_t *reasons);

/* Service model and urgency model of the commune, classified together.
 * `text` is the redacted text. */
struct tri_classified {
    const char *service;   /* code (in `a`), "" when no active class */
    double p;
    const char *why;       /* JSON array text, in `a` */
    const char *version;   /* model version, in `a` */
    double hint_p;         /* probability of `hint` (0 when unknown) */
    int urgency;           /* urgency model's guess 0..2, -1 = none */
    double urgency_p;
};
int tri_classify(struct store *st, struct store_conn *c, struct gu_arena *a,
                 const char *insee, const char *text, const char *hint,
                 struct tri_classified *out, struct gu_err *err);
/* The urgency of a request from the rules' level and the urgency
   model's guess with its probability (what tri_intake records). */
int tri_urgency_combine(int rules, int model, double p);
/* Urgency rules with `today` (day number, commune's civil day) given. */
int tri_urgency_rules_at(const char *text, size_t n, int64_t today,
                         json_t *reasons);

/* The default text pipeline of the store's triage (duplicates' features),
   made at first use, shared, read-only; NULL on failure. */
const struct text_pipeline *tri_pipeline(struct store *st,
                                         struct gu_err *err);

/* The nightly retrain (tri_jobs.c's row; tri_model.c). */
int tri_job_retrain(struct store *st, const struct gu_config *cfg,
                    struct gu_err *err);

#endif
