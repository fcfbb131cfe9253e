/*
 * rdv_agent_pages.c - (being written; see rdv.h).
 */
#include "rdv/rdv.h"
#include "web/http.h"

const struct http_routes rdv_agent_routes = {"rdv-agent", NULL, 0};
