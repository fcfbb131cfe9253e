/*
 * acad.h - agents' training (« Formation »): the training workspace.
 *
 * A sandbox commune per real commune where agents practise on the real
 * back-office pages without touching real data, a scenario bank with the
 * expected handling and feedback, short AI-literacy modules with quizzes
 * (EU AI Act art. 4), and each agent's progress.
 *
 * The sandbox. A real commune P gets at most one sandbox S: a commune row
 * whose INSEE code is allocated in 99900..99999 (department 99 does not
 * exist; the demo commune is 99001), named « <P> — bac à sable de
 * formation », recorded in acad_sandboxes (S, P, state, dates). It is
 * seeded with the demo seeders of `guichet init --demo` (fiches,
 * appointments, inbox, forecasts, monitoring); of P it copies only the
 * public settings (name, zone, hours), never a row of P's data. An agent
 * who enters gets in S the role it has in P, and its session's active
 * commune becomes S, so every back-office page works on S. Resetting
 * deletes S's commune row (every domain row references communes(insee)
 * ON DELETE CASCADE) and seeds it again under the same code.
 *
 * Scenarios. The shipped bank is data/demo/formation/scenarios/NN-code.json
 * (embedded, gu_demo_all()); a commune's admins override a shipped
 * scenario, disable it, or add their own (acad_scenarios). « Lancer »
 * injects the scenario's situation into the caller's sandbox through the
 * domains' own functions (tri_intake, asst_handoff_create, rdv_book...),
 * recorded as an attempt; « Vérifier » reads the sandbox's state and
 * returns feedback item by item. Attempts and quiz results belong to the
 * real commune P and the agent, and survive a reset of S.
 *
 * Ownership: every struct returned lives in the arena of the call.
 * Errors: negative GU_E* codes with a French err->user (and err->field
 * for a bad input).
 *
 * Layering: academy sits above the other domains (it reads their public
 * headers to seed the sandbox and check what an agent did) and below app.
 */
#ifndef GUICHET_ACAD_H
#define GUICHET_ACAD_H

#include "core/core.h"
#include "store/store.h"
#include "web/http.h"

const struct store_migration *acad_migrations(size_t *count);

extern const struct http_routes acad_routes;      /* acad_http.c */
extern const struct http_routes acad_page_routes; /* acad_pages.c */

/* The sandboxes' codes as numbers (store.h's STORE_SANDBOX_FIRST/LAST,
 * the one definition of the range). */
#define ACAD_SANDBOX_FIRST 99900
#define ACAD_SANDBOX_LAST 99999

/* Bounds on what enters. */
#define ACAD_SCENARIO_BYTES 20000 /* one scenario's JSON */
#define ACAD_SCENARIOS_MAX 200    /* a commune's own and overridden ones */
#define ACAD_CODE_MAX 64          /* [a-z0-9-] */
#define ACAD_TEXT_MAX 4000        /* title, context, instructions */
#define ACAD_ANSWER_MAX 200       /* a typed answer (forecast scenarios) */
#define ACAD_POINTS_MAX 12        /* key points of a scenario */
#define ACAD_QUESTIONS_MAX 20     /* questions of a quiz */
#define ACAD_DAILY_MAX 200        /* launches, and quiz answers, of one
                                     agent in 24 hours */

/* ------------------------------------------------------------------ */
/* Sandbox (acad_sandbox.c)                                            */
/* ------------------------------------------------------------------ */

/* True when `insee` lies in the sandbox range (shape only, no lookup). */
bool acad_insee_is_sandbox(const char *insee);

struct acad_sandbox {
    char insee[6];  /* the sandbox commune */
    char parent[6]; /* the real commune */
    const char *state; /* "creation" while seeding, "pret" */
    int64_t created_at, reset_at;
};

/* The sandbox of real commune `parent`; GU_ENOTFOUND when none yet. */
int acad_sandbox_get(struct store_conn *c, struct gu_arena *a,
                     const char *parent, struct acad_sandbox *out,
                     struct gu_err *err);
/* The real commune of sandbox `insee` into parent; GU_ENOTFOUND when
   `insee` is not a sandbox. */
int acad_sandbox_parent(struct store_conn *c, const char *insee,
                        char parent[6], struct gu_err *err);
/* The real commune a caller works for: its parent when `insee` is a
   sandbox, else `insee` itself. */
int acad_home(struct store_conn *c, const char *insee, char home[6],
              struct gu_err *err);

/*
 * Create the sandbox of `parent` when it does not exist, and give agent
 * `agent_id` (0 = nobody) role `role` there. A sandbox not yet seeded
 * (state "creation") is seeded now when `wait` (the caller must hold no
 * transaction; seconds), else queued for the store's preparer thread
 * (out->state stays "creation"; acad_sandbox_wait() or a later
 * acad_sandbox_get() sees "pret"). GU_ETOOBIG when the 100 sandbox codes
 * are all taken; GU_EINVAL when `parent` is itself a sandbox.
 */
int acad_sandbox_ensure(struct store *st, struct store_conn *c,
                        const struct gu_config *cfg, struct gu_arena *a,
                        const char *parent, int64_t agent_id,
                        enum store_role role, bool wait,
                        struct acad_sandbox *out, struct gu_err *err);
/*
 * Wipe the sandbox of `parent` and create it again under the same code,
 * seeded as acad_sandbox_ensure() does. Sessions whose active commune was
 * the sandbox are moved to `parent` first (the cascade would delete
 * them); memberships of the sandbox are lost except agent_id's.
 * GU_ENOTFOUND when there is no sandbox, GU_ECONFLICT while it is being
 * prepared.
 */
int acad_sandbox_reset(struct store *st, struct store_conn *c,
                       const struct gu_config *cfg, struct gu_arena *a,
                       const char *parent, int64_t agent_id,
                       enum store_role role, bool wait,
                       struct acad_sandbox *out, struct gu_err *err);
/* Run every demo seeder on sandbox `insee` now (idempotent) and mark it
   "pret": what the preparer thread does. */
int acad_sandbox_seed(struct store *st, struct store_conn *c,
                      const struct gu_config *cfg, const char *insee,
                      struct gu_err *err);
/* Queue sandbox `insee` for the preparer thread (nothing when it is
   queued or being seeded already): a sandbox left in "creation" by a
   restart is picked up again by the next look at it. */
int acad_sandbox_prepare(struct store *st, const char *insee,
                         struct gu_err *err);
/* What the preparer is doing for sandbox `insee`, in French (« séries de
   prévision (calcul des modèles) », « en attente (1 avant) »), into out;
   "" when nothing. */
void acad_sandbox_progress(struct store *st, const char *insee, char *out,
                           size_t cap);
/* Wait up to timeout_ms (polling) for the sandbox of `parent` to be
   "pret"; *out gets its last state ("pret" or "creation"). */
int acad_sandbox_wait(struct store_conn *c, const char *parent,
                      int timeout_ms, struct acad_sandbox *out,
                      struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Scenarios (acad_bank.c)                                             */
/* ------------------------------------------------------------------ */

/* Kinds: "demande", "question", "rdv", "prevision", "alerte". */
bool acad_kind_valid(const char *kind);
const char *acad_kind_label(const char *kind); /* « Demande à orienter » */

struct acad_scenario {
    const char *code, *kind, *title, *context, *instructions;
    json_t *spec; /* the whole JSON object (borrowed from the arena) */
    bool active;
    bool shipped; /* the shipped bank has this code */
    bool edited;  /* the commune overrides or added it */
    int64_t updated_at;
};

/*
 * Validate a scenario object (French message and field on failure):
 * code, type, titre, contexte, consignes, situation and attendu with the
 * members its type needs.
 */
int acad_scenario_check(json_t *obj, struct gu_err *err);
/* The commune's bank: shipped ones merged with its overrides, then its
   own, ordered by code. Disabled ones only when `all`. */
int acad_scenario_list(struct store_conn *c, struct gu_arena *a,
                       const char *insee, bool all,
                       struct acad_scenario **out, size_t *n,
                       struct gu_err *err);
int acad_scenario_get(struct store_conn *c, struct gu_arena *a,
                      const char *insee, const char *code,
                      struct acad_scenario *out, struct gu_err *err);
/* Create (`create`: GU_ECONFLICT when the code exists) or replace. */
int acad_scenario_save(struct store_conn *c, const char *insee, json_t *obj,
                       bool create, const char *actor, struct gu_err *err);
int acad_scenario_set_active(struct store_conn *c, struct gu_arena *a,
                             const char *insee, const char *code,
                             bool active, const char *actor,
                             struct gu_err *err);
/* Drop the commune's version: a shipped scenario gets its default back,
   an own one is deleted. GU_ENOTFOUND when there is nothing to drop. */
int acad_scenario_restore(struct store_conn *c, const char *insee,
                          const char *code, struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Attempts (acad_attempt.c)                                           */
/* ------------------------------------------------------------------ */

struct acad_attempt {
    int64_t id;
    int64_t agent_id;
    const char *scenario, *kind, *title;
    char sandbox[6];
    int64_t target_id;  /* what was injected: request, hand-off, booking,
                           alert id; 0 for forecasts */
    json_t *launch;     /* what Lancer recorded (AI proposal, options...) */
    const char *status; /* "lance", "verifie" */
    int score, total;
    bool passed;
    json_t *feedback;   /* [{libelle, ok, attendu, constate, conseil}] */
    const char *answer;
    int64_t created_at, checked_at;
};

/*
 * Launch scenario `code` for agent `agent_id` of real commune `home` in
 * its sandbox `sandbox`: inject the situation and record an attempt.
 * GU_ECONFLICT (French) when the sandbox cannot host it (an alert
 * already handled: reset the sandbox).
 */
int acad_launch(struct store *st, struct store_conn *c,
                const struct gu_config *cfg, struct gu_arena *a,
                const char *home, const char *sandbox, int64_t agent_id,
                const char *actor, const char *code, int64_t *attempt_id,
                struct gu_err *err);
/*
 * Check attempt `id` of agent `agent_id` against the sandbox's state;
 * `answer` is the typed answer of a forecast scenario (else NULL). Fills
 * *out with the verified attempt. A second check replaces the first.
 */
int acad_verify(struct store_conn *c, struct gu_arena *a, const char *home,
                int64_t agent_id, int64_t id, const char *answer,
                struct acad_attempt *out, struct gu_err *err);
int acad_attempt_get(struct store_conn *c, struct gu_arena *a,
                     const char *home, int64_t agent_id, int64_t id,
                     struct acad_attempt *out, struct gu_err *err);
/* Newest first; scenario NULL = all; at most `limit` (1..200). */
int acad_attempt_list(struct store_conn *c, struct gu_arena *a,
                      const char *home, int64_t agent_id,
                      const char *scenario, size_t limit,
                      struct acad_attempt **out, size_t *n,
                      struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Modules and quizzes (acad_modules.c)                                */
/* ------------------------------------------------------------------ */

struct acad_choice {
    const char *text, *feedback;
    bool right;
};
struct acad_question {
    const char *text;
    struct acad_choice *choices;
    size_t nchoices;
};
struct acad_module {
    const char *code, *title, *duration;
    const char **paragraphs;
    size_t nparagraphs;
    struct acad_question *questions;
    size_t nquestions;
    int pass; /* right answers needed */
};

/* The shipped modules (data/demo/formation/modules/NN-code.json), in order. */
int acad_module_list(struct gu_arena *a, struct acad_module **out, size_t *n,
                     struct gu_err *err);
int acad_module_get(struct gu_arena *a, const char *code,
                    struct acad_module *out, struct gu_err *err);

struct acad_quiz_result {
    int score, total;
    bool passed;
    const int *answers; /* the agent's choice per question, -1 = none */
};
/* Grade and record. answers[i] = chosen index (-1 = none). */
int acad_quiz_submit(struct store_conn *c, struct gu_arena *a,
                     const char *home, int64_t agent_id,
                     const struct acad_module *m, const int *answers,
                     size_t n, struct acad_quiz_result *out,
                     struct gu_err *err);
/* The agent's best result on a module; GU_ENOTFOUND when never taken. */
int acad_quiz_best(struct store_conn *c, const char *home, int64_t agent_id,
                   const char *module, struct acad_quiz_result *out,
                   struct gu_err *err);

/* ------------------------------------------------------------------ */
/* Progress (acad_modules.c)                                           */
/* ------------------------------------------------------------------ */

struct acad_progress {
    int64_t agent_id;
    const char *login, *name;
    enum store_role role;
    int modules_passed, modules_total;
    int scenarios_passed, scenarios_total, attempts;
    bool complete;        /* every module passed */
    int64_t completed_at; /* when the last module was first passed */
    int64_t last_at;      /* last activity, 0 = none */
};
/* Every agent of `home`, by name. */
int acad_progress_list(struct store_conn *c, struct gu_arena *a,
                       const char *home, struct acad_progress **out,
                       size_t *n, struct gu_err *err);
/* The same as CSV (« ; » separator, French headers, dd/mm/yyyy). */
int acad_progress_csv(struct store_conn *c, struct gu_arena *a,
                      const char *home, struct gu_buf *out,
                      struct gu_err *err);

#endif
