/*
 * tri_http.c - see tri.h (HTTP surface). Routes are filled by its owner.
 */
#include "triage/tri.h"

static const struct http_route routes[] = {
    {NULL, NULL, HTTP_PUBLIC, NULL, NULL, NULL, NULL, NULL},
};

const struct http_routes tri_routes = {"triage", routes, 0};
