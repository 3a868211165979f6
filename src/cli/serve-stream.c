/* The viewer's picture stream: a WebSocket on which the page asks for its window (a
 * JSON object with the /api/pixels parameters) and gets it back as one binary frame, a
 * header and then RGBA rows. The page asks again when it has drawn a frame and says how
 * many it has drawn: a server never has more than HW_SERVE_IN_FLIGHT frames out, so a
 * slow page gets fewer frames, never a growing queue. */
#include "cli/memory-view.h"
#include "cli/serve.h"

#include <string.h>

/* One open stream. */
typedef struct {
  HwServe *s;
  SoupWebsocketConnection *conn;
  guint64 sent;          /* binary frames sent */
} Stream;

static void
put_u32(guint8 *p, guint32 v)
{
  for (guint i = 0; i < 4; i++)
    p[i] = (guint8)(v >> (8 * i));
}

static void
put_u64(guint8 *p, guint64 v)
{
  for (guint i = 0; i < 8; i++)
    p[i] = (guint8)(v >> (8 * i));
}

/* Answer request SEQ with {"seq": SEQ, "error": the explained ERROR} as text. */
static void
send_error(Stream *st, guint64 seq, const GError *error)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "seq");
  json_builder_add_int_value(b, (gint64)seq);
  json_builder_set_member_name(b, "error");
  g_autofree char *text = hw_cli_explain(error);
  json_builder_add_string_value(b, text);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *json = json_to_string(root, FALSE);
  soup_websocket_connection_send_text(st->conn, json);
}

/* The window request Q asks for, as one frame (see serve.h for its header). */
static void
answer(Stream *st, GHashTable *q, guint64 seq)
{
  g_autoptr(GError) error = NULL;
  guint64 drawn = 0;
  HwMemoryView v;
  if (!hw_serve_param_u64(q, "drawn", 0, G_MAXUINT64, &drawn, &error) ||
      !hw_serve_view_from_query(q, &v, &error)) {
    send_error(st, seq, error);
    return;
  }
  if (drawn > st->sent || st->sent - drawn >= HW_SERVE_IN_FLIGHT) {
    g_set_error(&error, HW_ERROR, HW_ERROR_LIMIT, "drawn: %" G_GUINT64_FORMAT " of the %"
                G_GUINT64_FORMAT " frames sent; ask again when fewer than %u are on their way",
                drawn, st->sent, HW_SERVE_IN_FLIGHT);
    send_error(st, seq, error);
    return;
  }
  guint32 w = 0, h = 0;
  guint64 unreadable = 0;
  const char *state = NULL;
  g_autofree guint8 *rgba = hw_memory_view_draw(st->s->cli, &v, &w, &h, &unreadable, &state,
                                                &error);
  if (rgba == NULL) {
    send_error(st, seq, error);
    return;
  }
  gsize pixels = (gsize)w * h * 4;
  guint8 *frame = g_malloc(HW_SERVE_FRAME_HEADER + pixels);
  memset(frame, 0, HW_SERVE_FRAME_HEADER);
  memcpy(frame, "HWPX", 4);
  put_u32(frame + 4, (guint32)seq);
  put_u32(frame + 8, w);
  put_u32(frame + 12, h);
  put_u64(frame + 16, hw_guest_get_epoch(st->s->cli->guest));
  put_u64(frame + 24, unreadable);
  g_strlcpy((char *)frame + 32, state ? state : "", HW_SERVE_FRAME_HEADER - 32);
  memcpy(frame + HW_SERVE_FRAME_HEADER, rgba, pixels);
  g_autoptr(GBytes) bytes = g_bytes_new_take(frame, HW_SERVE_FRAME_HEADER + pixels);
  soup_websocket_connection_send_message(st->conn, SOUP_WEBSOCKET_DATA_BINARY, bytes);
  st->sent++;
}

static void
on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  Stream *st = data;
  (void)conn;
  g_autoptr(GError) error = NULL;
  gsize n = 0;
  const char *text = g_bytes_get_data(message, &n);
  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    g_set_error(&error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "requests are text frames");
    send_error(st, 0, error);
    return;
  }
  g_autoptr(GHashTable) q = hw_serve_stream_request(text, n, &error);
  guint64 seq = 0;
  if (q == NULL || !hw_serve_param_u64(q, "seq", 0, G_MAXUINT32, &seq, &error)) {
    send_error(st, seq, error);
    return;
  }
  answer(st, q, seq);
}

static void
stream_free(Stream *st)
{
  g_signal_handlers_disconnect_by_data(st->conn, st);
  g_object_unref(st->conn);
  g_free(st);
}

static void
on_closed(SoupWebsocketConnection *conn, gpointer data)
{
  Stream *st = data;
  (void)conn;
  st->s->streams = g_list_remove(st->s->streams, st);
  stream_free(st);
}

/* Before the handshake: the token, and the page's own origin (a page elsewhere that
 * got hold of the cookie must not open a stream); a failure status stops the handshake. */
static void
on_stream_request(SoupServer *server, SoupServerMessage *msg, const char *path,
                  GHashTable *query, gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query))
    return;
  SoupMessageHeaders *h = soup_server_message_get_request_headers(msg);
  const char *origin = soup_message_headers_get_one(h, "Origin");
  const char *host = soup_message_headers_get_one(h, "Host");
  if (origin && !(host && g_str_has_prefix(origin, "http://") && strcmp(origin + 7, host) == 0)) {
    hw_serve_reply_error(msg, SOUP_STATUS_FORBIDDEN, "a stream is for the viewer's own page");
    return;
  }
  if (g_list_length(s->streams) >= HW_SERVE_MAX_STREAMS)
    hw_serve_reply_error(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "at most %u streams at once",
                         HW_SERVE_MAX_STREAMS);
}

static void
on_stream(SoupServer *server, SoupServerMessage *msg, const char *path,
          SoupWebsocketConnection *conn, gpointer data)
{
  HwServe *s = data;
  (void)server, (void)msg, (void)path;
  Stream *st = g_new0(Stream, 1);
  st->s = s;
  st->conn = g_object_ref(conn);
  soup_websocket_connection_set_max_incoming_payload_size(conn, HW_SERVE_REQUEST_MAX);
  g_signal_connect(conn, "message", G_CALLBACK(on_message), st);
  g_signal_connect(conn, "closed", G_CALLBACK(on_closed), st);
  s->streams = g_list_prepend(s->streams, st);
}

void
hw_serve_add_stream(HwServe *s)
{
  soup_server_add_handler(s->server, "/api/stream", on_stream_request, s, NULL);
  soup_server_add_websocket_handler(s->server, "/api/stream", NULL, NULL, on_stream, s, NULL);
  /* Frames go over loopback (or a LAN): compressing 4 MiB of pixels each (libsoup's
   * permessage-deflate, which browsers ask for) costs more time than it saves. */
  soup_server_remove_websocket_extension(s->server, SOUP_TYPE_WEBSOCKET_EXTENSION_DEFLATE);
}

void
hw_serve_close_streams(HwServe *s)
{
  g_list_free_full(g_steal_pointer(&s->streams), (GDestroyNotify)stream_free);
}
