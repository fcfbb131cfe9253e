/*
 * acad_http.c - the training workspace's routes (/agent/formation...).
 */
#include "academy/acad.h"

#include "core/core.h"

static const struct http_route routes[] = {
    {NULL, NULL, HTTP_PUBLIC, NULL, NULL, NULL, NULL, NULL},
};

const struct http_routes acad_routes = {"academy", routes, 0};

const struct store_migration *
acad_migrations(size_t *count)
{
    *count = 0;
    return NULL;
}
