/*
 * rdv_pages.c - (being written; see rdv.h).
 */
#include "rdv/rdv.h"
#include "web/http.h"

const struct http_routes rdv_page_routes = {"rdv-pages", NULL, 0};
