/*
 * rdv_ants.c - (being written; see rdv.h).
 */
#include "rdv/rdv.h"
#include "web/http.h"

const struct http_routes rdv_ants_routes = {"rdv-ants", NULL, 0};
