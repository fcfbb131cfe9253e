/*
 * asst_pages.h - the assistant's public pages: /assistant (the chat in a
 * full page, the portal's « Poser une question ») and
 * /assistant/suivi/{token} (a resident's follow-up of a hand-off).
 *
 * The chat itself is web/js/widget.js talking to the API of asst_http.c;
 * these pages only frame it. Registered in src/app/app.c.
 */
#ifndef ASST_PAGES_H
#define ASST_PAGES_H

struct http_routes;
extern const struct http_routes asst_page_routes;

#endif
