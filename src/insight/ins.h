/*
 * ins.h - impact and transparency (« Rapport », /transparence).
 *
 * The impact dashboard and monthly report (what Guichet really saved,
 * converted into hours and euros with the commune's own costs, with the
 * method stated) and the public transparency page generated from the
 * running configuration (CRPA L312-1-3).
 *
 * Layering: insight reads the other domains' tables through store (and
 * their public headers); nothing depends on it but app.
 */
#ifndef GUICHET_INS_H
#define GUICHET_INS_H

#include "store/store.h"
#include "web/http.h"

extern const struct http_routes ins_routes; /* ins_http.c */

#endif
