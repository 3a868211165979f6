/* QMP client: one JSON object per line each way, replies matched to commands by id,
 * events queued with QEMU's timestamps. Synchronous, with a deadline on every wait. */
#include <haywire/qmp.h>
#include "transport/socket.h"
#include "transport/qmp-link.h"
#include <haywire/error.h>

#include <gio/gio.h>
#include <signal.h>
#include <string.h>

#define MAX_MESSAGE_BYTES (512u << 20) /* a reply larger than this is an attack or a bug */
#define MAX_QUEUED_EVENTS 4096
#define READ_CHUNK 65536

struct _HwQmp {
  GSocketConnection *conn;
  GSocket *sock;
  GString *in;          /* bytes received, not yet parsed */
  gsize scanned;        /* bytes of IN known to hold no newline */
  GQueue events;        /* HwQmpEvent* */
  guint timeout_ms;
  guint64 next_id;
  char *version;
  char *addr;
  int peer_pid;         /* QEMU's pid from the unix socket's credentials, or 0 */
  const HwQmpLink *link;   /* set: messages go through it, not a socket */
  gpointer link_data;
};

void
hw_qmp_event_free(HwQmpEvent *event)
{
  if (event == NULL)
    return;
  g_free(event->name);
  if (event->data)
    json_object_unref(event->data);
  g_free(event);
}

void
hw_qmp_free(HwQmp *qmp)
{
  if (qmp == NULL)
    return;
  if (qmp->conn) {
    g_io_stream_close(G_IO_STREAM(qmp->conn), NULL, NULL);
    g_object_unref(qmp->conn);
  }
  if (qmp->link)
    qmp->link->free(qmp->link_data);
  g_string_free(qmp->in, TRUE);
  g_queue_clear_full(&qmp->events, (GDestroyNotify)hw_qmp_event_free);
  g_free(qmp->version);
  g_free(qmp->addr);
  g_free(qmp);
}

void
hw_qmp_set_timeout(HwQmp *qmp, guint timeout_ms)
{
  qmp->timeout_ms = timeout_ms ? timeout_ms : HW_QMP_DEFAULT_TIMEOUT_MS;
  /* GSocketClient leaves its connect time-out on the socket and GLib caps every wait by
   * it: keep it no shorter than ours, or a longer time-out set later would not apply. */
  if (qmp->sock != NULL)
    g_socket_set_timeout(qmp->sock, (qmp->timeout_ms + 999) / 1000);
}

const char *
hw_qmp_get_version(HwQmp *qmp)
{
  return qmp->version;
}

int
hw_qmp_get_fd(HwQmp *qmp)
{
  return qmp->sock ? g_socket_get_fd(qmp->sock) : -1;
}

int
hw_qmp_get_peer_pid(HwQmp *qmp)
{
  if (qmp->link)
    return qmp->link->peer_pid(qmp->link_data);
  return qmp->peer_pid;
}

gboolean
hw_qmp_can_cont_from_thread(HwQmp *qmp)
{
  return qmp->link != NULL;
}

void
hw_qmp_cont_from_thread(HwQmp *qmp)
{
  if (qmp->link)
    qmp->link->cont(qmp->link_data);
}

const char *
hw_qmp_get_address(HwQmp *qmp)
{
  return qmp->addr;
}

/* ---- typed getters ---------------------------------------------------------------- */

static JsonNode *
get_member(JsonObject *obj, const char *member, GError **error)
{
  JsonNode *n = obj ? json_object_get_member(obj, member) : NULL;
  if (n == NULL)
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "reply has no member \"%s\"", member);
  return n;
}

gboolean
hw_json_get_string(JsonObject *obj, const char *member, const char **out, GError **error)
{
  JsonNode *n = get_member(obj, member, error);
  if (n == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "member \"%s\" is not a string", member);
    return FALSE;
  }
  *out = json_node_get_string(n);
  return TRUE;
}

gboolean
hw_json_get_int(JsonObject *obj, const char *member, gint64 *out, GError **error)
{
  JsonNode *n = get_member(obj, member, error);
  if (n == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "member \"%s\" is not an integer", member);
    return FALSE;
  }
  *out = json_node_get_int(n);
  return TRUE;
}

gboolean
hw_json_get_bool(JsonObject *obj, const char *member, gboolean *out, GError **error)
{
  JsonNode *n = get_member(obj, member, error);
  if (n == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "member \"%s\" is not a boolean", member);
    return FALSE;
  }
  *out = json_node_get_boolean(n);
  return TRUE;
}

gboolean
hw_json_get_array(JsonObject *obj, const char *member, JsonArray **out, GError **error)
{
  JsonNode *n = get_member(obj, member, error);
  if (n == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY(n)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "member \"%s\" is not an array", member);
    return FALSE;
  }
  *out = json_node_get_array(n);
  return TRUE;
}

/* ---- wire ------------------------------------------------------------------------- */

/* Wait for input until DEADLINE (monotonic us) and append it to qmp->in. */
static gboolean
receive_some(HwQmp *qmp, gint64 deadline, GError **error)
{
  gint64 left = deadline - g_get_monotonic_time();
  g_autoptr(GError) local = NULL;

  if (qmp->sock == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "not connected to QEMU");
    return FALSE;
  }
  if (left <= 0 ||
      !g_socket_condition_timed_wait(qmp->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, left, NULL,
                                     &local)) {
    g_set_error(error, HW_ERROR, HW_ERROR_TIMEOUT, "no answer from QEMU within %u ms",
                qmp->timeout_ms);
    return FALSE;
  }
  gsize old = qmp->in->len;
  g_string_set_size(qmp->in, old + READ_CHUNK);
  gssize n = g_socket_receive(qmp->sock, qmp->in->str + old, READ_CHUNK, NULL, &local);
  g_string_set_size(qmp->in, n > 0 ? old + (gsize)n : old);
  if (n < 0 && !g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)) {
    g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "QMP connection failed: %s",
                local->message);
    return FALSE;
  }
  if (n <= 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "QEMU closed the QMP connection");
    return FALSE;
  }
  return TRUE;
}

/* Read one message (a JSON object on its own line) before DEADLINE. */
static JsonObject *
read_message(HwQmp *qmp, gint64 deadline, GError **error)
{
  for (;;) {
    /* Only the bytes that came since the last look: a reply of many MiB in small
     * pieces would otherwise be searched again from its start for every piece. */
    char *nl = memchr(qmp->in->str + qmp->scanned, '\n', qmp->in->len - qmp->scanned);
    qmp->scanned = nl ? 0 : qmp->in->len;
    if (nl != NULL) {
      gsize line_len = (gsize)(nl - qmp->in->str);
      g_autofree char *line = g_strndup(qmp->in->str, line_len);
      g_string_erase(qmp->in, 0, (gssize)line_len + 1);
      g_strstrip(line);
      if (line[0] == '\0')
        continue;
      g_autoptr(JsonParser) parser = json_parser_new_immutable();
      g_autoptr(GError) perr = NULL;
      if (!json_parser_load_from_data(parser, line, -1, &perr)) {
        g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL,
                    "QMP peer sent something that is not JSON (is this a QMP socket?)");
        /* Escaped: the bytes are untrusted (control characters, invalid UTF-8). */
        g_autofree char *head = g_strndup(line, 200);
        g_autofree char *shown = g_strescape(head, "\"");
        g_debug("bad QMP line (%s): %s", perr->message, shown);
        return NULL;
      }
      JsonNode *root = json_parser_get_root(parser);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "QMP message is not a JSON object");
        return NULL;
      }
      return json_object_ref(json_node_get_object(root));
    }
    if (qmp->in->len > MAX_MESSAGE_BYTES) {
      g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "QMP message larger than %u bytes",
                  MAX_MESSAGE_BYTES);
      return NULL;
    }
    if (!receive_some(qmp, deadline, error))
      return NULL;
  }
}

/* Queue an event message; FALSE if MSG is not an event. */
static gboolean
queue_if_event(HwQmp *qmp, JsonObject *msg)
{
  JsonNode *ev = json_object_get_member(msg, "event");
  if (ev == NULL)
    return FALSE;
  HwQmpEvent *event = g_new0(HwQmpEvent, 1);
  event->name = g_strdup(JSON_NODE_HOLDS_VALUE(ev) && json_node_get_value_type(ev) == G_TYPE_STRING
                           ? json_node_get_string(ev) : "?");
  JsonNode *ts = json_object_get_member(msg, "timestamp");
  if (ts && JSON_NODE_HOLDS_OBJECT(ts)) {
    JsonObject *t = json_node_get_object(ts);
    hw_json_get_int(t, "seconds", &event->seconds, NULL);
    hw_json_get_int(t, "microseconds", &event->microseconds, NULL);
  }
  JsonNode *data = json_object_get_member(msg, "data");
  if (data && JSON_NODE_HOLDS_OBJECT(data))
    event->data = json_object_ref(json_node_get_object(data));
  if (g_queue_get_length(&qmp->events) >= MAX_QUEUED_EVENTS)
    hw_qmp_event_free(g_queue_pop_head(&qmp->events));
  g_queue_push_tail(&qmp->events, event);
  return TRUE;
}

void
hw_qmp_queue_event_text(HwQmp *qmp, const char *name, gint64 seconds, gint64 microseconds,
                        const char *details)
{
  HwQmpEvent *event = g_new0(HwQmpEvent, 1);
  event->name = g_strdup(name && *name ? name : "?");
  event->seconds = seconds;
  event->microseconds = microseconds;
  if (details && strlen(details) <= MAX_MESSAGE_BYTES) {
    g_autoptr(JsonParser) parser = json_parser_new_immutable();
    if (json_parser_load_from_data(parser, details, -1, NULL) &&
        json_parser_get_root(parser) && JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
      event->data = json_object_ref(json_node_get_object(json_parser_get_root(parser)));
  }
  if (g_queue_get_length(&qmp->events) >= MAX_QUEUED_EVENTS)
    hw_qmp_event_free(g_queue_pop_head(&qmp->events));
  g_queue_push_tail(&qmp->events, event);
}

/* Send TEXT whole; the signals whose handler may send a "cont" (SIGINT, SIGTERM,
 * SIGHUP) are held off, so that "cont" never lands in the middle of another command on
 * the wire. */
static gboolean
send_all(HwQmp *qmp, const char *text, gsize len, GError **error)
{
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  if (qmp->sock == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "not connected to QEMU");
    return FALSE;
  }
  pthread_sigmask(SIG_BLOCK, &block, &old);
  gboolean ok = TRUE;
  while (len > 0) {
    g_autoptr(GError) local = NULL;
    gssize n = g_socket_send(qmp->sock, text, len, NULL, &local);
    if (n <= 0) {
      /* The peer closing is the usual cause: say so, not the errno. */
      if (local == NULL || g_error_matches(local, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
          g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "QEMU closed the QMP connection");
      else
        g_set_error(error, HW_ERROR, HW_ERROR_DISCONNECTED, "cannot send to QEMU: %s",
                    local->message);
      ok = FALSE;
      break;
    }
    text += n;
    len -= (gsize)n;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return ok;
}

/* The "return" member of reply MSG to COMMAND (a copy), or its error as a GError. */
static JsonNode *
take_reply(JsonObject *msg, const char *command, GError **error)
{
  JsonNode *ret = json_object_get_member(msg, "return");
  JsonNode *err = json_object_get_member(msg, "error");
  if ((ret == NULL) == (err == NULL)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL,
                "%s: reply has neither or both of return and error", command);
    return NULL;
  }
  if (err != NULL) {
    const char *cls = "?", *desc = "unknown error";
    if (JSON_NODE_HOLDS_OBJECT(err)) {
      hw_json_get_string(json_node_get_object(err), "class", &cls, NULL);
      hw_json_get_string(json_node_get_object(err), "desc", &desc, NULL);
    }
    g_set_error(error, HW_ERROR, HW_ERROR_QMP_COMMAND, "%s: %s (%s)", command, desc, cls);
    return NULL;
  }
  return json_node_copy(ret);
}

/* Over a link: one exchange, the reply parsed like one from the socket. */
static JsonNode *
execute_linked(HwQmp *qmp, const char *command, const char *request, GError **error)
{
  g_autofree char *reply = qmp->link->exchange(qmp->link_data, request, qmp->timeout_ms,
                                               error);
  if (reply == NULL) {
    g_prefix_error(error, "%s: ", command);
    return NULL;
  }
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  if (strlen(reply) > MAX_MESSAGE_BYTES || !json_parser_load_from_data(parser, reply, -1, NULL) ||
      json_parser_get_root(parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "%s: the reply is not a JSON object",
                command);
    return NULL;
  }
  return take_reply(json_node_get_object(json_parser_get_root(parser)), command, error);
}

JsonNode *
hw_qmp_execute(HwQmp *qmp, const char *command, JsonObject *args, GError **error)
{
  g_autofree char *id = g_strdup_printf("hw-%" G_GUINT64_FORMAT, ++qmp->next_id);
  g_autoptr(JsonBuilder) b = json_builder_new_immutable();
  gboolean linked = qmp->link != NULL;   /* the link numbers its commands itself */
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "execute");
  json_builder_add_string_value(b, command);
  if (args != NULL) {
    json_builder_set_member_name(b, "arguments");
    JsonNode *a = json_node_alloc();
    json_node_init_object(a, args);
    json_builder_add_value(b, a);
  }
  if (!linked) {
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, id);
  }
  json_builder_end_object(b);
  g_autoptr(JsonNode) req = json_builder_get_root(b);
  g_autofree char *text = json_to_string(req, FALSE);
  if (linked)
    return execute_linked(qmp, command, text, error);
  g_autofree char *line = g_strconcat(text, "\n", NULL);

  if (!send_all(qmp, line, strlen(line), error)) {
    g_prefix_error(error, "%s: ", command);
    return NULL;
  }
  gint64 deadline = g_get_monotonic_time() + (gint64)qmp->timeout_ms * 1000;
  for (;;) {
    g_autoptr(JsonObject) msg = read_message(qmp, deadline, error);
    if (msg == NULL) {
      g_prefix_error(error, "%s: ", command);
      return NULL;
    }
    if (queue_if_event(qmp, msg))
      continue;
    JsonNode *idn = json_object_get_member(msg, "id");
    if (idn == NULL || !JSON_NODE_HOLDS_VALUE(idn) ||
        json_node_get_value_type(idn) != G_TYPE_STRING ||
        strcmp(json_node_get_string(idn), id) != 0) {
      g_debug("%s: skipping a reply that is not ours", command);
      continue;  /* a late reply to an earlier, timed-out command */
    }
    return take_reply(msg, command, error);
  }
}

JsonObject *
hw_qmp_execute_object(HwQmp *qmp, const char *command, JsonObject *args, GError **error)
{
  g_autoptr(JsonNode) ret = hw_qmp_execute(qmp, command, args, error);
  if (ret == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT(ret)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "%s: return value is not an object",
                command);
    return NULL;
  }
  return json_object_ref(json_node_get_object(ret));
}

char *
hw_qmp_hmp(HwQmp *qmp, const char *command_line, int cpu_index, GError **error)
{
  g_autoptr(JsonObject) args = json_object_new();
  json_object_set_string_member(args, "command-line", command_line);
  if (cpu_index >= 0)
    json_object_set_int_member(args, "cpu-index", cpu_index);
  g_autoptr(JsonNode) ret = hw_qmp_execute(qmp, "human-monitor-command", args, error);
  if (ret == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE(ret) || json_node_get_value_type(ret) != G_TYPE_STRING) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "HMP %s: reply is not a string",
                command_line);
    return NULL;
  }
  return g_strdup(json_node_get_string(ret));
}

HwQmpEvent *
hw_qmp_pop_event(HwQmp *qmp)
{
  return g_queue_pop_head(&qmp->events);
}

gboolean
hw_qmp_poll_events(HwQmp *qmp, guint timeout_ms, GError **error)
{
  if (qmp->link)
    return qmp->link->poll(qmp->link_data, qmp, timeout_ms, error);
  gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  for (;;) {
    /* Drain complete lines already buffered, then wait for more until the deadline. */
    while (memchr(qmp->in->str + qmp->scanned, '\n', qmp->in->len - qmp->scanned) != NULL) {
      g_autoptr(JsonObject) msg = read_message(qmp, deadline, error);
      if (msg == NULL)
        return FALSE;
      if (!queue_if_event(qmp, msg))
        g_debug("skipping an unexpected reply while polling events");
    }
    /* What is readable now is read even with no time left: a caller that polls with
     * timeout 0 when the socket is readable (or hung up) must see its data or its end. */
    if (qmp->sock == NULL)
      return TRUE;
    gint64 left = deadline - g_get_monotonic_time();
    if (g_socket_condition_check(qmp->sock, G_IO_IN | G_IO_HUP | G_IO_ERR) == 0 &&
        (left <= 0 || !g_socket_condition_timed_wait(qmp->sock, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                                      left, NULL, NULL)))
      return TRUE;
    /* Readable now: a deadline that cannot pass before the read. */
    if (!receive_some(qmp, g_get_monotonic_time() + (gint64)qmp->timeout_ms * 1000, error))
      return FALSE;
  }
}

/* ---- connect ---------------------------------------------------------------------- */

/* Close the connection, if any (events already queued are kept). */
static void
close_session(HwQmp *qmp)
{
  if (qmp->conn) {
    g_io_stream_close(G_IO_STREAM(qmp->conn), NULL, NULL);
    g_clear_object(&qmp->conn);
  }
  qmp->sock = NULL;
  g_string_truncate(qmp->in, 0);
  qmp->scanned = 0;
}

/* Connect to qmp->addr, read the greeting, negotiate capabilities. */
static gboolean
open_session(HwQmp *qmp, GError **error)
{
  const char *addr = qmp->addr;
  qmp->conn = hw_socket_connect(addr, qmp->timeout_ms, "QMP", error);
  if (qmp->conn == NULL)
    return FALSE;
  qmp->sock = g_socket_connection_get_socket(qmp->conn);
  /* Who serves the socket: lets a caller tell "QEMU exited" from "the link broke". */
  if (g_socket_get_family(qmp->sock) == G_SOCKET_FAMILY_UNIX) {
    g_autoptr(GCredentials) cred = g_socket_get_credentials(qmp->sock, NULL);
    pid_t pid = cred ? g_credentials_get_unix_pid(cred, NULL) : -1;
    qmp->peer_pid = pid > 0 ? (int)pid : 0;
  }

  gint64 deadline = g_get_monotonic_time() + (gint64)qmp->timeout_ms * 1000;
  g_autoptr(JsonObject) greeting = read_message(qmp, deadline, error);
  JsonNode *qmpn = greeting ? json_object_get_member(greeting, "QMP") : NULL;
  if (qmpn == NULL || !JSON_NODE_HOLDS_OBJECT(qmpn)) {
    if (greeting != NULL)
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "no QMP greeting");
    g_prefix_error(error, "%s is not a QMP socket: ", addr);
    return FALSE;
  }
  JsonObject *ver, *q;
  JsonNode *vn = json_object_get_member(json_node_get_object(qmpn), "version");
  g_clear_pointer(&qmp->version, g_free);
  if (vn && JSON_NODE_HOLDS_OBJECT(vn) && (ver = json_node_get_object(vn)) &&
      json_object_has_member(ver, "qemu") &&
      JSON_NODE_HOLDS_OBJECT(json_object_get_member(ver, "qemu"))) {
    gint64 ma = 0, mi = 0, mc = 0;
    q = json_object_get_object_member(ver, "qemu");
    hw_json_get_int(q, "major", &ma, NULL);
    hw_json_get_int(q, "minor", &mi, NULL);
    hw_json_get_int(q, "micro", &mc, NULL);
    qmp->version = g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT,
                                   ma, mi, mc);
  } else {
    qmp->version = g_strdup("unknown");
  }
  g_autoptr(JsonNode) caps = hw_qmp_execute(qmp, "qmp_capabilities", NULL, error);
  return caps != NULL;
}

HwQmp *
hw_qmp_connect(const char *addr, guint timeout_ms, GError **error)
{
  g_autoptr(HwQmp) qmp = g_new0(HwQmp, 1);
  qmp->in = g_string_sized_new(READ_CHUNK);
  g_queue_init(&qmp->events);
  qmp->addr = g_strdup(addr);
  hw_qmp_set_timeout(qmp, timeout_ms);

  if (addr == NULL || addr[0] == '\0') {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "no QMP address (use --qmp or HAYWIRE_QMP)");
    return NULL;
  }
  if (!open_session(qmp, error))
    return NULL;
  return g_steal_pointer(&qmp);
}

gboolean
hw_qmp_reconnect(HwQmp *qmp, GError **error)
{
  enum { RECONNECT_MS = 5000 };
  if (qmp->link) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "cannot reconnect to %s",
                qmp->addr);
    return FALSE;
  }
  close_session(qmp);
  if (g_str_has_prefix(qmp->addr, "fd:")) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                "cannot reconnect to %s: an inherited socket cannot be opened again",
                qmp->addr);
    return FALSE;
  }
  /* QEMU greets a new client only once its main loop has seen the old one go, which on
   * a busy host can take longer than a reply may: a reconnect (made to resume a guest
   * that must not stay paused) waits up to RECONNECT_MS for it. */
  guint was = qmp->timeout_ms;
  hw_qmp_set_timeout(qmp, MAX(was, RECONNECT_MS));
  gboolean ok = open_session(qmp, error);
  hw_qmp_set_timeout(qmp, was);
  if (ok)
    return TRUE;
  close_session(qmp);
  return FALSE;
}

HwQmp *
hw_qmp_new_linked(const char *addr, const HwQmpLink *link, gpointer data, guint timeout_ms,
                  GError **error)
{
  g_autoptr(HwQmp) qmp = g_new0(HwQmp, 1);
  qmp->in = g_string_sized_new(64);
  g_queue_init(&qmp->events);
  qmp->addr = g_strdup(addr);
  qmp->link = link;
  qmp->link_data = data;
  hw_qmp_set_timeout(qmp, timeout_ms);
  g_autoptr(JsonObject) v = hw_qmp_execute_object(qmp, "query-version", NULL, error);
  JsonNode *qn = v ? json_object_get_member(v, "qemu") : NULL;
  if (qn == NULL || !JSON_NODE_HOLDS_OBJECT(qn)) {
    if (v != NULL)
      g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "query-version: no qemu member");
    return NULL;
  }
  gint64 ma = 0, mi = 0, mc = 0;
  hw_json_get_int(json_node_get_object(qn), "major", &ma, NULL);
  hw_json_get_int(json_node_get_object(qn), "minor", &mi, NULL);
  hw_json_get_int(json_node_get_object(qn), "micro", &mc, NULL);
  qmp->version = g_strdup_printf("%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT ".%" G_GINT64_FORMAT,
                                 ma, mi, mc);
  return g_steal_pointer(&qmp);
}
