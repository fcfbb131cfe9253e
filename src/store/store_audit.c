/*
 * store_audit.c - the append-only audit log.
 *
 * Entries are only ever inserted; the schema's triggers refuse UPDATE and
 * DELETE, so even a bug elsewhere cannot rewrite history. Listing is
 * newest first with keyset paging (before_id), which stays fast however
 * long the log grows, unlike OFFSET.
 */
#include <string.h>

#include "store/store_internal.h"

#define AUDIT_LIMIT_DEFAULT 100
#define AUDIT_LIMIT_MAX 1000

static const char *
or_empty(const char *s)
{
    return s ? s : "";
}

int
store_audit_add(struct store_conn *c, const char *insee, const char *actor,
                const char *action, const char *target, const char *detail,
                const char *request_id, struct gu_err *err)
{
    if (!actor || !*actor || !action || !*action)
        return gu_err_set(err, GU_EINTERNAL, NULL, NULL,
                          "store: audit entry without actor or action");
    struct store_val p[] = {
        STORE_I(gu_now()),
        STORE_T(or_empty(insee)),
        STORE_T(actor),
        STORE_T(action),
        STORE_T(or_empty(target)),
        STORE_T(or_empty(detail)),
        STORE_T(or_empty(request_id)),
    };
    return store_exec(c,
                      "INSERT INTO audit (at, insee, actor, action, target,"
                      " detail, request_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      p, GU_ARRAY_LEN(p), err);
}

/* Append a WHERE condition and its parameter. */
static void
add_cond(struct gu_buf *sql, struct store_val *p, size_t *n, const char *cond,
         struct store_val v)
{
    gu_buf_puts(sql, *n ? " AND " : " WHERE ");
    gu_buf_puts(sql, cond);
    p[(*n)++] = v;
}

int
store_audit_list(struct store_conn *c, struct gu_arena *a,
                 const struct store_audit_filter *f, struct store_audit **out,
                 size_t *count, struct gu_err *err)
{
    struct store_val p[8];
    struct store_audit *v;
    struct store_rows *r;
    struct gu_buf sql;
    size_t n = 0;
    int limit;
    int rc;

    *out = NULL;
    *count = 0;
    limit = f && f->limit > 0 ? f->limit : AUDIT_LIMIT_DEFAULT;
    if (limit > AUDIT_LIMIT_MAX)
        limit = AUDIT_LIMIT_MAX;
    gu_buf_init(&sql);
    gu_buf_puts(&sql, "SELECT id, at, insee, actor, action, target, detail,"
                      " request_id FROM audit");
    if (f && f->insee)
        add_cond(&sql, p, &n, "insee = ?", STORE_T(f->insee));
    if (f && f->actor)
        add_cond(&sql, p, &n, "actor = ?", STORE_T(f->actor));
    /* substr rather than LIKE: no wildcard escaping, same on every SQL. */
    if (f && f->action_prefix && *f->action_prefix) {
        add_cond(&sql, p, &n, "substr(action, 1, ?) = ?",
                 STORE_I((int64_t)strlen(f->action_prefix)));
        p[n++] = STORE_T(f->action_prefix);
    }
    if (f && f->since)
        add_cond(&sql, p, &n, "at >= ?", STORE_I(f->since));
    if (f && f->until)
        add_cond(&sql, p, &n, "at < ?", STORE_I(f->until));
    if (f && f->before_id)
        add_cond(&sql, p, &n, "id < ?", STORE_I(f->before_id));
    gu_buf_puts(&sql, " ORDER BY id DESC LIMIT ?");
    p[n++] = STORE_I(limit);
    if (sql.oom || !sql.p) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
        goto out;
    }
    rc = store_query(c, a, sql.p, p, n, &r, err);
    if (rc < 0)
        goto out;
    v = gu_arena_zalloc(a, (r->nrows ? r->nrows : 1) * sizeof(*v));
    if (!v) {
        rc = gu_err_set(err, GU_ENOMEM, NULL, NULL, "store: out of memory");
        goto out;
    }
    for (size_t i = 0; i < r->nrows; i++) {
        v[i].id = store_int(r, i, 0);
        v[i].at = store_int(r, i, 1);
        v[i].insee = or_empty(store_text(r, i, 2));
        v[i].actor = or_empty(store_text(r, i, 3));
        v[i].action = or_empty(store_text(r, i, 4));
        v[i].target = or_empty(store_text(r, i, 5));
        v[i].detail = or_empty(store_text(r, i, 6));
        v[i].request_id = or_empty(store_text(r, i, 7));
    }
    *out = v;
    *count = r->nrows;
out:
    gu_buf_fini(&sql);
    return rc;
}
