/*
 * acad.h - agents' training (« Formation »): the training workspace.
 *
 * A sandbox commune per real commune where agents practise on the real
 * back-office pages without touching real data, a scenario bank with the
 * expected handling and feedback, short AI-literacy modules with quizzes
 * (EU AI Act art. 4), and each agent's progress.
 *
 * Layering: academy sits above the other domains (it reads their public
 * headers to seed the sandbox and check what an agent did) and below app.
 */
#ifndef GUICHET_ACAD_H
#define GUICHET_ACAD_H

#include "store/store.h"
#include "web/http.h"

const struct store_migration *acad_migrations(size_t *count);

extern const struct http_routes acad_routes; /* acad_http.c */

#endif
