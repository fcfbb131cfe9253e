/*
 * fc_http.c - the forecast domain's JSON API (see fc.h). Filled by its
 * owner.
 */
#include "forecast/fc.h"

static const struct http_route routes[] = {
    {NULL, NULL, HTTP_PUBLIC, NULL, NULL, NULL, NULL, NULL},
};

const struct http_routes fc_routes = {"forecast", routes, 0};
