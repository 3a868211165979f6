/* The viewer page and its script and style, compiled into the program (GResource): no
 * file is read and nothing fetched from elsewhere at run time. */
#include "cli/serve.h"

#include <string.h>

#define PREFIX "/org/haywire/viewer/"

static const struct {
  const char *path, *resource, *type;
} assets[] = {
  { "/", "index.html", "text/html; charset=utf-8" },
  { "/viewer.js", "viewer.js", "text/javascript; charset=utf-8" },
  { "/viewer.css", "viewer.css", "text/css; charset=utf-8" },
};

static void
on_asset(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer data)
{
  HwServe *s = data;
  (void)server;
  guint i = 0;
  while (i < G_N_ELEMENTS(assets) && strcmp(assets[i].path, path) != 0)
    i++;
  if (i == G_N_ELEMENTS(assets)) {
    /* Unknown paths: 404 only to someone who has the token. */
    if (hw_serve_authorized(s, msg, query))
      hw_serve_reply_error(msg, SOUP_STATUS_NOT_FOUND, "no such page: %.200s", path);
    return;
  }
  if (!hw_serve_authorized(s, msg, query))
    return;
  const char *method = soup_server_message_get_method(msg);
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    hw_serve_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use GET here");
    return;
  }
  g_autofree char *name = g_strconcat(PREFIX, assets[i].resource, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_resources_lookup_data(name, G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
  if (bytes == NULL) {
    hw_serve_reply_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "%s", error->message);
    return;
  }
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  /* The page's own requests then carry the token without it in every URL; strict
   * same-site, and out of the script's reach. */
  g_autofree char *cookie = g_strdup_printf(HW_SERVE_COOKIE "=%s; Path=/; HttpOnly; "
                                            "SameSite=Strict", s->token);
  soup_message_headers_replace(h, "Set-Cookie", cookie);
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(h, "Content-Security-Policy",
                               "default-src 'self'; img-src 'self' blob: data:; "
                               "connect-src 'self'; frame-ancestors 'none'");
  soup_server_message_set_response(msg, assets[i].type, SOUP_MEMORY_COPY,
                                   g_bytes_get_data(bytes, NULL), g_bytes_get_size(bytes));
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

void
hw_serve_add_assets(HwServe *s)
{
  soup_server_add_handler(s->server, NULL, on_asset, s, NULL);
}
