/* mon_pages.c - the agents' pages /agent/surveillance (see mon.h). */
#include "monitor/mon_service.h"

const struct http_routes mon_page_routes = {"monitor-pages", NULL, 0};
