/*
 * rdv_http.c - (being written; see rdv.h).
 */
#include "rdv/rdv.h"
#include "web/http.h"

const struct http_routes rdv_routes = {"rdv", NULL, 0};
