/*
 * admin.h - administration of a commune: its agents and their roles,
 * passwords, the commune's public information, API tokens, and the audit
 * log export.
 *
 * Rules live here, not in the HTTP layer (admin_http.c only turns JSON
 * into these calls and their results into JSON):
 *  - every change is audited in the same transaction as the change, so a
 *    change is never made without its audit entry (and vice versa);
 *  - a commune never loses its last active administrator: nobody can
 *    disable or demote the last admin, in practice themself;
 *  - new agents and password resets get a one-time password
 *    (gu_password_generate) that must be changed at first login;
 *  - a password has at least ADMIN_PASSWORD_MIN characters.
 *
 * Every call acts in the commune and on behalf of the actor described by a
 * struct admin_ctx. Results live in ctx->arena.
 */
#ifndef GU_ADMIN_H
#define GU_ADMIN_H

#include "core/core.h"
#include "store/store.h"

#define ADMIN_PASSWORD_MIN 12  /* characters (code points) */
#define ADMIN_PASSWORD_MAX 128 /* characters */
#define ADMIN_OTP_CAP 64       /* buffer size for one-time passwords */

/*
 * Who acts, and where. Caller-owned, usually on the stack of a handler;
 * every pointer must outlive the call.
 */
struct admin_ctx {
    struct store_conn *conn;
    struct gu_arena *arena;
    const char *insee;         /* the active commune */
    int64_t actor_id;          /* acting agent, 0 for an API token */
    const char *actor;         /* audit actor: login or "token:<name>" */
    const char *request_id;    /* may be NULL */
    const char *session_token; /* caller's session, kept when its own
                                  password changes; NULL otherwise */
};

/* An agent as seen from one commune: the agent plus their role there. */
struct admin_agent {
    struct store_agent agent;
    enum store_role role;
};

/* Agents having a role in ctx->insee, ordered as the store returns them. */
int admin_agent_list(const struct admin_ctx *x, struct admin_agent **out,
                     size_t *count, struct gu_err *err);

/* One agent of ctx->insee; GU_ENOTFOUND if not a member. */
int admin_agent_get(const struct admin_ctx *x, int64_t id,
                    struct admin_agent *out, struct gu_err *err);

/*
 * Create an agent in ctx->insee with `role` (lecteur, agent or admin) and
 * a one-time password written to pw_out (>= ADMIN_OTP_CAP bytes), to be
 * shown once. `email` may be NULL or "". GU_EINVAL on bad input (err
 * names the field), GU_ECONFLICT if the login is taken. Audit: user.create.
 */
int admin_agent_create(const struct admin_ctx *x, const char *login,
                       const char *name, const char *email,
                       enum store_role role, char *pw_out, size_t cap,
                       int64_t *id_out, struct gu_err *err);

/* A partial change of an agent: NULL / false members are left alone. */
struct admin_agent_change {
    const char *name;
    const char *email;
    bool set_role;
    enum store_role role;
    bool set_disabled;
    bool disabled;
};

/*
 * Apply a change to agent `id` of ctx->insee, all or nothing. Disabling
 * also ends the agent's sessions. GU_ENOTFOUND if not a member, GU_EPERM
 * when the commune would be left without an active admin. Audit:
 * user.update, user.role, user.disable, user.enable.
 */
int admin_agent_update(const struct admin_ctx *x, int64_t id,
                       const struct admin_agent_change *ch, struct gu_err *err);

/*
 * Give agent `id` of ctx->insee a new one-time password (pw_out, >=
 * ADMIN_OTP_CAP bytes), to be changed at next login; ends their sessions.
 * Audit: user.password_reset.
 */
int admin_agent_reset_password(const struct admin_ctx *x, int64_t id,
                               char *pw_out, size_t cap, struct gu_err *err);

/* Check a new password against the policy; GU_EINVAL + French message. */
int admin_password_policy(const char *login, const char *pw,
                          struct gu_err *err);

/*
 * The actor (ctx->actor_id, whose login is ctx->actor) changes their own
 * password: `current` is checked with the store's lockout policy
 * (max_failures, lockout_s), `next` against the policy; clears
 * must_change_password. GU_EINVAL with err->field "current" on a wrong
 * current password, "new" on a weak one; GU_ERATE while locked out.
 * Audit: password.change.
 */
int admin_password_change(const struct admin_ctx *x, const char *current,
                          const char *next, int max_failures, int lockout_s,
                          struct gu_err *err);

/*
 * Update ctx->insee's public information from `m` (insee ignored; NULL
 * members keep their value). Validates lengths, e-mail and phone.
 * Audit: commune.update.
 */
int admin_commune_update(const struct admin_ctx *x,
                         const struct store_commune *m, struct gu_err *err);

/*
 * Create an API token of ctx->insee; the secret goes to secret_out (>= 64
 * bytes) and is never stored in clear. Audit: token.create.
 */
int admin_token_create(const struct admin_ctx *x, const char *name,
                       enum store_role role, char *secret_out, size_t cap,
                       int64_t *id_out, struct gu_err *err);

/* Revoke a token of ctx->insee. Audit: token.revoke. */
int admin_token_revoke(const struct admin_ctx *x, int64_t id,
                       struct gu_err *err);

/*
 * Append audit entries as CSV for spreadsheets: `;` separator, CRLF,
 * French headers (date;commune;acteur;action;cible;détail;requête),
 * dates as dd/mm/yyyy hh:mm (Europe/Paris), cells quoted when needed and
 * prefixed with ' when they could be read as a formula. With `header`,
 * writes the UTF-8 BOM and the header line first. GU_ENOMEM on failure.
 */
int admin_audit_csv(struct gu_buf *b, const struct store_audit *e, size_t n,
                    bool header);

/*
 * Parse an audit filter bound: unix seconds, or a date "yyyy-mm-dd"
 * (Europe/Paris) taken at 00:00 or, with end_of_day, at 23:59:59.
 * GU_EINVAL with err->field = `field` otherwise.
 */
int admin_parse_time(const char *s, bool end_of_day, const char *field,
                     int64_t *out, struct gu_err *err);

/* The admin route table (admin_http.c), registered by main.c. */
struct http_routes;
extern const struct http_routes admin_routes;

#endif
