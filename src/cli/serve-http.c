/* The viewer server's plumbing: the access token, JSON and error replies. (Request
 * parameters: serve-params.c.) */
#include "cli/serve.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>

char *
hw_serve_new_token(GError **error)
{
  guint8 raw[16];
  gsize got = 0;
  while (got < sizeof raw) {
    ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "no random bytes for the access token: %s",
                  g_strerror(errno));
      return NULL;
    }
    got += (gsize)n;
  }
  GString *s = g_string_sized_new(2 * sizeof raw);
  for (guint i = 0; i < sizeof raw; i++)
    g_string_append_printf(s, "%02x", raw[i]);
  return g_string_free(s, FALSE);
}

gboolean
hw_serve_token_matches(const char *token, const char *given)
{
  if (token == NULL || given == NULL)
    return FALSE;
  gsize n = strlen(token), m = strlen(given);
  /* Every byte of the token is compared whatever GIVEN holds: no early exit. */
  guint diff = n != m;
  for (gsize i = 0; i < n; i++)
    diff |= (guint)(guint8)token[i] ^ (guint)(guint8)(i < m ? given[i] : 0);
  return diff == 0;
}

/* The token cookie the page got with its first load (NULL: none); caller frees. */
static char *
token_cookie(SoupMessageHeaders *h)
{
  const char *cookies = soup_message_headers_get_list(h, "Cookie");
  if (cookies == NULL || strlen(cookies) > 8192)
    return NULL;
  GHashTable *all = soup_header_parse_semi_param_list(cookies);
  char *value = g_strdup(g_hash_table_lookup(all, HW_SERVE_COOKIE));
  soup_header_free_param_list(all);
  return value;
}

gboolean
hw_serve_authorized(HwServe *s, SoupServerMessage *msg, GHashTable *query)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  const char *given = query ? g_hash_table_lookup(query, "token") : NULL;
  if (given == NULL)
    given = soup_message_headers_get_one(h, "X-Haywire-Token");
  g_autofree char *cookie = given ? NULL : token_cookie(h);
  if (hw_serve_token_matches(s->token, given ? given : cookie))
    return TRUE;
  hw_serve_reply_error(msg, SOUP_STATUS_FORBIDDEN, "this needs the access token that "
                       "haywire serve printed (?token=...)");
  return FALSE;
}

void
hw_serve_reply_json(SoupServerMessage *msg, JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, node);
  gsize len = 0;
  char *text = json_generator_to_data(gen, &len);
  json_node_unref(node);
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_replace(h, "Cache-Control", "no-store");
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_TAKE, text, len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}

void
hw_serve_reply_error(SoupServerMessage *msg, guint status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "error");
  json_builder_add_string_value(b, text);
  json_builder_end_object(b);
  hw_serve_reply_json(msg, json_builder_get_root(b));
  soup_server_message_set_status(msg, status, NULL);
}

void
hw_serve_reply_gerror(SoupServerMessage *msg, const GError *error)
{
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  if (error->domain == HW_ERROR && (error->code == HW_ERROR_INVALID_ARGUMENT ||
                                    error->code == HW_ERROR_LIMIT ||
                                    error->code == HW_ERROR_OUT_OF_RANGE ||
                                    error->code == HW_ERROR_NOT_FOUND))
    status = SOUP_STATUS_BAD_REQUEST;
  else if (error->domain == HW_ERROR && (error->code == HW_ERROR_GONE ||
                                         error->code == HW_ERROR_UNSUPPORTED))
    status = SOUP_STATUS_CONFLICT;
  g_autofree char *text = hw_cli_explain(error);
  hw_serve_reply_error(msg, status, "%s", text);
}

gboolean
hw_serve_method_is(SoupServerMessage *msg, const char *method)
{
  if (strcmp(soup_server_message_get_method(msg), method) == 0)
    return TRUE;
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow", method);
  hw_serve_reply_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "use %s here", method);
  return FALSE;
}

JsonBuilder *
hw_serve_begin_answer(HwServe *s)
{
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  hw_cli_json_moment(b, s->cli);
  return b;
}

void
hw_serve_end_answer(SoupServerMessage *msg, JsonBuilder *b)
{
  json_builder_end_object(b);
  hw_serve_reply_json(msg, json_builder_get_root(b));
  g_object_unref(b);
}

void
hw_serve_json_page_bytes(JsonBuilder *b, const HwRamRange *r, guint n, GPtrArray *bytes,
                         const char *name)
{
  json_builder_set_member_name(b, "ranges");
  json_builder_begin_array(b);
  for (guint i = 0; i < n && i < bytes->len; i++) {
    gsize pages = (gsize)(r[i].size / HW_PAGE_SIZE);
    g_autofree char *b64 = g_base64_encode(g_ptr_array_index(bytes, i), pages);
    json_builder_begin_object(b);
    hw_cli_json_hex(b, "gpa", r[i].gpa);
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, (gint64)pages);
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, b64);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

char *
hw_serve_written_bytes(HwServeWriteFunc write, gpointer data, gsize *len, GError **error)
{
  g_autofree char *tmp = NULL;
  char *bytes = NULL;
  int fd = g_file_open_tmp("haywire-serve-XXXXXX", &tmp, error);
  if (fd < 0)
    return NULL;
  close(fd);
  if (write(tmp, data, error))
    g_file_get_contents(tmp, &bytes, len, error);
  g_unlink(tmp);
  return bytes;
}

void
hw_serve_reply_download(SoupServerMessage *msg, const char *type, const char *filename,
                        char *bytes, gsize len)
{
  SoupMessageHeaders *hd = soup_server_message_get_response_headers(msg);
  g_autofree char *disposition = g_strdup_printf("attachment; filename=\"%s\"", filename);
  soup_message_headers_replace(hd, "Content-Disposition", disposition);
  soup_message_headers_replace(hd, "Cache-Control", "no-store");
  soup_server_message_set_response(msg, type, SOUP_MEMORY_TAKE, bytes, len);
  soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
}
