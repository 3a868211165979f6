/* Fuzz the viewer's request parameters: a stream request is whatever the page (or
 * anyone with the token) sends on the WebSocket, and query values are whatever is in
 * the URL. The bytes are tried as a stream request and, split at '&' and '=', as a
 * query; every parameter getter then runs over the result. */
#include "cli/serve-params.h"

#include <haywire/haywire.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, size_t size);

static const char *const names[] = { "addr", "len", "width", "height", "stride", "pid",
                                     "seq", "drawn", "phys", "live", "owners" };

/* Run every getter on QUERY; the numbers must respect their bounds. */
static void
read_all(GHashTable *query)
{
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    guint64 v = 0, max = i % 2 ? 4096 : G_MAXUINT64;
    gboolean flag = FALSE;
    GError *error = NULL;
    if (hw_serve_param_u64(query, names[i], 7, max, &v, &error) ? v > max : error == NULL)
      __builtin_trap();
    g_clear_error(&error);
    if (!hw_serve_param_flag(query, names[i], &flag, &error) && error == NULL)
      __builtin_trap();
    g_clear_error(&error);
  }
}

int
LLVMFuzzerTestOneInput(const guint8 *data, size_t size)
{
  GError *error = NULL;
  GHashTable *req = hw_serve_stream_request((const char *)data, size, &error);
  if ((req == NULL) == (error == NULL))
    __builtin_trap();
  g_clear_error(&error);
  if (req) {
    if (g_hash_table_size(req) > HW_SERVE_REQUEST_MEMBERS)
      __builtin_trap();
    read_all(req);
    g_hash_table_unref(req);
  }
  /* As a query string (names and values as bytes, NULs cut them short). */
  g_autofree char *text = g_strndup((const char *)data, size);
  g_autoptr(GHashTable) query = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_auto(GStrv) pairs = g_strsplit(text, "&", 64);
  for (guint i = 0; pairs[i]; i++) {
    char *eq = strchr(pairs[i], '=');
    g_hash_table_replace(query, g_strndup(pairs[i], eq ? (gsize)(eq - pairs[i]) : strlen(pairs[i])),
                         g_strdup(eq ? eq + 1 : ""));
  }
  read_all(query);
  return 0;
}
