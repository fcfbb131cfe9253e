/*
 * acad_priv.h - what the academy's JSON API (acad_http.c) and pages
 * (acad_pages.c) share: the caller's training context and the session
 * moves in and out of the sandbox (acad_session.c). Private to academy.
 */
#ifndef GUICHET_ACAD_PRIV_H
#define GUICHET_ACAD_PRIV_H

#include "academy/acad.h"

/* The caller as training sees it. */
struct acad_who {
    char home[6];       /* the real commune (the active one's parent when
                           the active one is a sandbox) */
    enum store_role role; /* its role in home */
    bool in_sandbox;    /* the session's active commune is home's sandbox */
    bool has_sandbox;
    struct acad_sandbox sb; /* when has_sandbox */
};

/* Fill *w for the request's caller. GU_EPERM without a commune. */
int acad_who_get(struct http_req *req, struct acad_who *w);

/* The AI-literacy record as a CSV download (the API's progression.csv
 * and the page's suivi.csv are the same answer). acad_http.c. */
int acad_progress_csv_reply(struct http_req *req, struct http_resp *resp);

/*
 * « Entrer » : create/seed the sandbox if needed, give the caller its
 * role there, make it the session's active commune. Sessions only
 * (GU_EPERM for a token). Audited.
 */
int acad_enter(struct http_req *req, struct acad_who *w);
/* « Revenir à ma commune » : the session goes back to the real commune
   and the caller's membership of the sandbox ends. */
int acad_leave(struct http_req *req, struct acad_who *w);
/* « Réinitialiser » (role >= agent in home); the caller stays where it
   was (in the new sandbox when it was in the old one). */
int acad_reset(struct http_req *req, struct acad_who *w);
/* « Lancer » : enters first when needed. */
int acad_launch_req(struct http_req *req, struct acad_who *w,
                    const char *code, int64_t *attempt_id);

#endif
