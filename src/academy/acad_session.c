/*
 * acad_session.c - the caller's training context and its moves in and
 * out of the sandbox (see acad_priv.h).
 */
#include "academy/acad_priv.h"

#include <stdio.h>
#include <string.h>

int
acad_who_get(struct http_req *req, struct acad_who *w)
{
    int rc = http_need_commune(req);

    memset(w, 0, sizeof(*w));
    if (rc < 0)
        return rc;
    rc = acad_home(req->conn, req->who.insee, w->home, &req->err);
    if (rc < 0)
        return rc;
    w->role = req->who.is_token
                  ? req->who.role
                  : store_agent_role(req->conn, req->who.agent_id, w->home);
    rc = acad_sandbox_get(req->conn, req->arena, w->home, &w->sb, &req->err);
    if (rc == GU_ENOTFOUND) {
        gu_err_clear(&req->err);
        return 0;
    }
    if (rc < 0)
        return rc;
    w->has_sandbox = true;
    w->in_sandbox = strcmp(w->sb.insee, req->who.insee) == 0;
    /* not ready: make sure it is being prepared (after a restart, the
       preparer's queue is empty) */
    if (strcmp(w->sb.state, "pret") != 0)
        return acad_sandbox_prepare(store_conn_store(req->conn), w->sb.insee,
                                    &req->err);
    return 0;
}

static int
need_session(struct http_req *req)
{
    if (req->who.is_token || !req->who.session_token)
        return gu_err_set(&req->err, GU_EPERM, NULL,
                          "Le bac à sable s’utilise depuis l’espace agents "
                          "(session du navigateur), pas avec un jeton "
                          "d’API.",
                          "sandbox needs a session");
    return 0;
}

static int
switch_to(struct http_req *req, const char *insee)
{
    int rc = store_session_set_commune(req->conn, req->who.session_token,
                                       insee, &req->err);

    if (rc < 0)
        return rc;
    snprintf(req->who.insee, sizeof(req->who.insee), "%s", insee);
    req->who.role = store_agent_role(req->conn, req->who.agent_id, insee);
    return 0;
}

int
acad_enter(struct http_req *req, struct acad_who *w)
{
    int rc = need_session(req);

    if (rc < 0)
        return rc;
    if (w->role == STORE_ROLE_NONE)
        return gu_err_set(&req->err, GU_EPERM, NULL,
                          "Vous n’êtes pas membre de cette commune.",
                          "not a member");
    rc = acad_sandbox_ensure(store_conn_store(req->conn), req->conn, req->cfg,
                             req->arena, w->home, req->who.agent_id, w->role,
                             false, &w->sb, &req->err);
    if (rc < 0)
        return rc;
    w->has_sandbox = true;
    if (!w->in_sandbox) {
        rc = switch_to(req, w->sb.insee);
        if (rc < 0)
            return rc;
        w->in_sandbox = true;
        http_audit(req, "formation.entree", w->sb.insee, "commune=%s",
                   w->home);
    }
    return 0;
}

int
acad_leave(struct http_req *req, struct acad_who *w)
{
    int rc = need_session(req);

    if (rc < 0 || !w->in_sandbox)
        return rc;
    rc = switch_to(req, w->home);
    if (rc < 0)
        return rc;
    w->in_sandbox = false;
    /* The membership lasts while the agent practises: the sandbox does
       not stay in its commune switcher (nor in its login's audit). */
    rc = store_agent_set_role(req->conn, req->who.agent_id, w->sb.insee,
                              STORE_ROLE_NONE, &req->err);
    if (rc < 0)
        return rc;
    http_audit(req, "formation.sortie", w->sb.insee, "commune=%s", w->home);
    return 0;
}

int
acad_reset(struct http_req *req, struct acad_who *w)
{
    bool was_in = w->in_sandbox;
    int rc = need_session(req);

    if (rc < 0)
        return rc;
    if (w->role < STORE_ROLE_AGENT)
        return gu_err_set(&req->err, GU_EPERM, NULL,
                          "Réinitialiser le bac à sable demande le rôle "
                          "agent.",
                          "reset needs agent");
    if (!w->has_sandbox)
        return gu_err_set(&req->err, GU_ENOTFOUND, NULL,
                          "Cette commune n’a pas encore de bac à sable.",
                          "no sandbox");
    rc = acad_sandbox_reset(store_conn_store(req->conn), req->conn, req->cfg,
                            req->arena, w->home, req->who.agent_id, w->role,
                            false, &w->sb, &req->err);
    if (rc < 0)
        return rc;
    /* the reset moved every session on the sandbox home */
    snprintf(req->who.insee, sizeof(req->who.insee), "%s", w->home);
    req->who.role = w->role;
    w->in_sandbox = false;
    http_audit(req, "formation.reinitialisation", w->sb.insee, "commune=%s",
               w->home);
    if (was_in) {
        rc = switch_to(req, w->sb.insee);
        if (rc == 0)
            w->in_sandbox = true;
    }
    return rc;
}

int
acad_launch_req(struct http_req *req, struct acad_who *w, const char *code,
                int64_t *attempt_id)
{
    int rc;

    if (w->role < STORE_ROLE_AGENT)
        return gu_err_set(&req->err, GU_EPERM, NULL,
                          "Lancer un scénario demande le rôle agent.",
                          "launch needs agent");
    rc = acad_enter(req, w);
    if (rc < 0)
        return rc;
    if (strcmp(w->sb.state, "pret") != 0)
        return gu_err_set(&req->err, GU_ECONFLICT, NULL,
                          "Le bac à sable est en cours de préparation "
                          "(quelques secondes) : réessayez dans un instant.",
                          "sandbox being prepared");
    rc = acad_launch(store_conn_store(req->conn), req->conn, req->cfg,
                     req->arena, w->home, w->sb.insee, req->who.agent_id,
                     http_actor(req), code, attempt_id, &req->err);
    if (rc == 0)
        http_audit(req, "formation.lancement", code, "essai=%lld",
                   (long long)*attempt_id);
    return rc;
}
