/* The viewer's request parameters, from a query string or a stream request, checked
 * with the command line's limits. No libsoup here: the fuzz target takes this file as
 * it is. Requests are hostile input: every parameter is bounded before use. */
#pragma once

#include <glib.h>

/* The longest stream request (a JSON object of parameters), its most members, and the
 * longest value of one. */
#define HW_SERVE_REQUEST_MAX 4096u
#define HW_SERVE_REQUEST_MEMBERS 32u
#define HW_SERVE_VALUE_MAX 64u

/* Query parameter NAME of QUERY (may be NULL) as a number of at most MAX (0x hex, hex
 * with a-f digits, or decimal); DEF when absent. FALSE with a message in *ERROR when
 * malformed or too large. */
gboolean hw_serve_param_u64(GHashTable *query, const char *name, guint64 def, guint64 max,
                            guint64 *out, GError **error);
/* Query parameter NAME as a flag: absent, "0" or "false" is FALSE, "1" or "true" TRUE,
 * anything else an error. */
gboolean hw_serve_param_flag(GHashTable *query, const char *name, gboolean *out,
                             GError **error);

/* A stream request: LEN bytes of TEXT holding one JSON object whose members are
 * strings, whole numbers or booleans, as a table of name to text (caller owns; numbers
 * in decimal, booleans as 1 and 0) that the hw_serve_param_* functions read like a
 * query. NULL with *ERROR when it is not such an object or is over the limits above. */
GHashTable *hw_serve_stream_request(const char *text, gsize len, GError **error);
