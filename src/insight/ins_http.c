/*
 * ins_http.c - the impact report's and transparency page's routes.
 */
#include "insight/ins.h"

#include "core/core.h"

static const struct http_route routes[] = {
    {NULL, NULL, HTTP_PUBLIC, NULL, NULL, NULL, NULL, NULL},
};

const struct http_routes ins_routes = {"insight", routes, 0};
