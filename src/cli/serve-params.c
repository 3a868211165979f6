/* The viewer's request parameters (see serve-params.h). */
#include "cli/serve-params.h"
#include "cli/parse-number.h"

#include <json-glib/json-glib.h>
#include <string.h>

gboolean
hw_serve_param_u64(GHashTable *query, const char *name, guint64 def, guint64 max,
                   guint64 *out, GError **error)
{
  const char *text = query ? g_hash_table_lookup(query, name) : NULL;
  if (text == NULL || text[0] == '\0') {
    *out = def;
    return TRUE;
  }
  g_autoptr(GError) e = NULL;
  if (strlen(text) > 24 || !hw_cli_parse_u64(text, FALSE, out, &e)) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%s: not a number: '%.24s'",
                name, text);
    return FALSE;
  }
  if (*out > max) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%s: at most %" G_GUINT64_FORMAT,
                name, max);
    return FALSE;
  }
  return TRUE;
}

gboolean
hw_serve_param_flag(GHashTable *query, const char *name, gboolean *out, GError **error)
{
  const char *text = query ? g_hash_table_lookup(query, name) : NULL;
  if (text == NULL || strcmp(text, "0") == 0 || strcmp(text, "false") == 0) {
    *out = FALSE;
    return TRUE;
  }
  if (strcmp(text, "1") == 0 || strcmp(text, "true") == 0 || text[0] == '\0') {
    *out = TRUE;
    return TRUE;
  }
  g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%s: 0 or 1, not '%.24s'", name, text);
  return FALSE;
}

/* The text of member NODE of a stream request, or NULL when it is not a plain value. */
static char *
member_text(JsonNode *node)
{
  if (!JSON_NODE_HOLDS_VALUE(node))
    return NULL;
  switch (json_node_get_value_type(node)) {
  case G_TYPE_STRING: {
    const char *s = json_node_get_string(node);
    return s && strlen(s) <= HW_SERVE_VALUE_MAX ? g_strdup(s) : NULL;
  }
  case G_TYPE_INT64: {
    gint64 v = json_node_get_int(node);
    return v >= 0 ? g_strdup_printf("%" G_GINT64_FORMAT, v) : NULL;
  }
  case G_TYPE_BOOLEAN:
    return g_strdup(json_node_get_boolean(node) ? "1" : "0");
  default:
    return NULL;   /* doubles and anything else: no parameter is one */
  }
}

GHashTable *
hw_serve_stream_request(const char *text, gsize len, GError **error)
{
  if (len == 0 || len > HW_SERVE_REQUEST_MAX || memchr(text, 0, len) != NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "a request is a JSON object of at most %u bytes", HW_SERVE_REQUEST_MAX);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autoptr(GError) e = NULL;
  if (!json_parser_load_from_data(parser, text, (gssize)len, &e) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "a request is a JSON object%s%s",
                e ? ": " : "", e ? e->message : "");
    return NULL;
  }
  JsonObject *o = json_node_get_object(json_parser_get_root(parser));
  if (json_object_get_size(o) > HW_SERVE_REQUEST_MEMBERS) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "a request has at most %u members",
                HW_SERVE_REQUEST_MEMBERS);
    return NULL;
  }
  GHashTable *params = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  JsonObjectIter it;
  const char *name;
  JsonNode *node;
  json_object_iter_init(&it, o);
  while (json_object_iter_next(&it, &name, &node)) {
    char *value = member_text(node);
    if (value == NULL || strlen(name) > HW_SERVE_VALUE_MAX) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "%.64s: a string of at most %u "
                  "bytes, a whole number or a boolean", name, HW_SERVE_VALUE_MAX);
      g_free(value);
      g_hash_table_unref(params);
      return NULL;
    }
    g_hash_table_replace(params, g_strdup(name), value);
  }
  return params;
}
