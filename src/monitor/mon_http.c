/* mon_http.c - the monitor domain's JSON API (see mon.h). */
#include "monitor/mon_service.h"

const struct http_routes mon_routes = {"monitor", NULL, 0};
