/* QMP client against a fake QMP peer: a thread on a unix (or loopback TCP) socket that
 * plays a per-test script of what QEMU would send and checks what it receives. */
#include <haywire/qmp.h>
#include <haywire/error.h>

#include <glib/gstdio.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>

#define PEER_WAIT_MS 20000          /* upper bound on any wait in the peer */
#define OK_TIMEOUT_MS 10000         /* client time-out when an answer is due */
#define SHORT_TIMEOUT_MS 300        /* client time-out when no answer will come */

#define GREETING                                                                         \
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "      \
  "\"package\": \"Debian 1:7.2+dfsg-7+deb12u7\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define RETURN_EMPTY "{\"return\": {}, \"id\": @ID@}\r\n"

/* ---- the fake peer ------------------------------------------------------------------ */

typedef enum {
  STEP_END = 0,   /* end of script: stay silent until the client hangs up */
  STEP_SEND,      /* write TEXT, "@ID@" replaced by the id of the last request (JSON);
                   * ARG > 0: in writes of ARG bytes */
  STEP_EXPECT,    /* read one request line; its "execute" must be TEXT */
  STEP_SLEEP,     /* pause ARG milliseconds */
  STEP_CLOSE,     /* hang up now */
} StepKind;

typedef struct {
  StepKind kind;
  const char *text;
  gsize arg;
} PeerStep;

#define SEND(t) { STEP_SEND, (t), 0 }
#define SEND_CHUNKED(t, n) { STEP_SEND, (t), (n) }
#define EXPECT(c) { STEP_EXPECT, (c), 0 }
#define SLEEP(ms) { STEP_SLEEP, NULL, (ms) }
#define CLOSE { STEP_CLOSE, NULL, 0 }
#define HANDSHAKE SEND(GREETING), EXPECT("qmp_capabilities"), SEND(RETURN_EMPTY)

typedef struct {
  int listen_fd;
  int wake[2];             /* written by the test to stop every wait of the peer */
  char *tmpdir;            /* holds the unix socket, or NULL for TCP */
  char *addr;              /* what the client connects to */
  const PeerStep *steps;
  GThread *thread;
  GPtrArray *received;     /* char*: request lines in arrival order */
  GString *failure;        /* what the peer found wrong, empty if nothing */
} FakePeer;

static void
peer_fail(FakePeer *peer, const char *msg)
{
  g_test_message("fake peer: %s", msg);
  if (peer->failure->len == 0)
    g_string_assign(peer->failure, msg);
}

/* Wait until FD (may be -1) is ready for EVENTS; FALSE on time-out or when stopped. */
static gboolean
peer_wait(FakePeer *peer, int fd, short events, int timeout_ms)
{
  struct pollfd p[2] = { { fd, events, 0 }, { peer->wake[0], POLLIN, 0 } };
  int n;
  do
    n = poll(p, 2, timeout_ms);
  while (n < 0 && errno == EINTR);
  if (n <= 0 || p[1].revents != 0)
    return FALSE;
  return p[0].revents != 0;
}

static gboolean
peer_write(FakePeer *peer, int fd, const char *data, gsize len, gsize chunk)
{
  if (chunk == 0)
    chunk = len;
  while (len > 0) {
    if (!peer_wait(peer, fd, POLLOUT, PEER_WAIT_MS)) {
      peer_fail(peer, "client does not read");
      return FALSE;
    }
    ssize_t n = send(fd, data, MIN(len, chunk), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      peer_fail(peer, "write to client failed");
      return FALSE;
    }
    data += n;
    len -= (gsize)n;
  }
  return TRUE;
}

/* One line from the client (without its end), or NULL at EOF, on time-out or stop. */
static char *
peer_read_line(FakePeer *peer, int fd, GString *in)
{
  for (;;) {
    char *nl = memchr(in->str, '\n', in->len);
    if (nl != NULL) {
      char *line = g_strndup(in->str, (gsize)(nl - in->str));
      g_string_erase(in, 0, nl - in->str + 1);
      return g_strchomp(line);
    }
    if (!peer_wait(peer, fd, POLLIN, PEER_WAIT_MS))
      return NULL;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return NULL;
    g_string_append_len(in, buf, n);
  }
}

/* Check a request line: a JSON object executing COMMAND; return its id as JSON text. */
static char *
peer_check_request(FakePeer *peer, const char *line, const char *command)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  if (!json_parser_load_from_data(parser, line, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    peer_fail(peer, "request is not a JSON object");
    return NULL;
  }
  JsonObject *req = json_node_get_object(json_parser_get_root(parser));
  JsonNode *exec = json_object_get_member(req, "execute");
  if (exec == NULL || json_node_get_value_type(exec) != G_TYPE_STRING ||
      strcmp(json_node_get_string(exec), command) != 0) {
    g_autofree char *msg = g_strdup_printf("expected \"%s\", got: %s", command, line);
    peer_fail(peer, msg);
    return NULL;
  }
  JsonNode *id = json_object_get_member(req, "id");
  return id != NULL ? json_to_string(id, FALSE) : g_strdup("null");
}

static gpointer
peer_thread(gpointer data)
{
  FakePeer *peer = data;
  g_autoptr(GString) in = g_string_new(NULL);
  g_autofree char *last_id = g_strdup("null");

  if (!peer_wait(peer, peer->listen_fd, POLLIN, PEER_WAIT_MS)) {
    peer_fail(peer, "no client connected");
    return NULL;
  }
  int fd = accept4(peer->listen_fd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) {
    peer_fail(peer, "accept failed");
    return NULL;
  }
  for (const PeerStep *s = peer->steps; s->kind != STEP_END; s++) {
    if (s->kind == STEP_SEND) {
      g_autoptr(GString) text = g_string_new(s->text);
      g_string_replace(text, "@ID@", last_id, 0);
      if (!peer_write(peer, fd, text->str, text->len, s->arg))
        goto out;
    } else if (s->kind == STEP_EXPECT) {
      char *line = peer_read_line(peer, fd, in);
      if (line == NULL) {
        g_autofree char *msg = g_strdup_printf("expected \"%s\", got nothing", s->text);
        peer_fail(peer, msg);
        goto out;
      }
      g_ptr_array_add(peer->received, line);
      g_autofree char *id = peer_check_request(peer, line, s->text);
      if (id == NULL)
        goto out;
      g_free(last_id);
      last_id = g_steal_pointer(&id);
    } else if (s->kind == STEP_SLEEP) {
      peer_wait(peer, -1, 0, (int)s->arg);
    } else if (s->kind == STEP_CLOSE) {
      goto out;
    }
  }
  /* Script done: say nothing more, keep what arrives, until the client hangs up. */
  for (;;) {
    char *line = peer_read_line(peer, fd, in);
    if (line == NULL)
      break;
    g_ptr_array_add(peer->received, line);
  }
out:
  close(fd);
  return NULL;
}

static void
fake_peer_free(FakePeer *peer)
{
  if (peer->thread != NULL) {
    if (write(peer->wake[1], "x", 1) != 1)
      g_error("cannot wake the fake peer");
    g_thread_join(peer->thread);
  }
  close(peer->wake[0]);
  close(peer->wake[1]);
  if (peer->listen_fd >= 0)
    close(peer->listen_fd);
  if (peer->tmpdir != NULL) {
    g_autofree char *path = g_build_filename(peer->tmpdir, "qmp.sock", NULL);
    g_unlink(path);
    g_rmdir(peer->tmpdir);
    g_free(peer->tmpdir);
  }
  g_free(peer->addr);
  g_ptr_array_unref(peer->received);
  g_string_free(peer->failure, TRUE);
  g_free(peer);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(FakePeer, fake_peer_free)

/* Start a peer playing STEPS (borrowed) on a fresh unix socket, or on loopback TCP. */
static FakePeer *
fake_peer_start(const PeerStep *steps, gboolean tcp)
{
  g_autoptr(FakePeer) peer = g_new0(FakePeer, 1);
  peer->listen_fd = -1;
  peer->steps = steps;
  peer->received = g_ptr_array_new_with_free_func(g_free);
  peer->failure = g_string_new(NULL);
  g_assert_no_errno(pipe(peer->wake));

  if (tcp) {
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0 };
    socklen_t len = sizeof sin;
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(peer->listen_fd, >=, 0);
    g_assert_no_errno(bind(peer->listen_fd, (struct sockaddr *)&sin, sizeof sin));
    g_assert_no_errno(getsockname(peer->listen_fd, (struct sockaddr *)&sin, &len));
    peer->addr = g_strdup_printf("127.0.0.1:%u", ntohs(sin.sin_port));
  } else {
    g_autoptr(GError) error = NULL;
    struct sockaddr_un sun = { .sun_family = AF_UNIX };
    peer->tmpdir = g_dir_make_tmp("haywire-qmp-XXXXXX", &error);
    g_assert_no_error(error);
    peer->addr = g_build_filename(peer->tmpdir, "qmp.sock", NULL);
    g_assert_cmpuint(strlen(peer->addr), <, sizeof sun.sun_path);
    strcpy(sun.sun_path, peer->addr);
    peer->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    g_assert_cmpint(peer->listen_fd, >=, 0);
    g_assert_no_errno(bind(peer->listen_fd, (struct sockaddr *)&sun, sizeof sun));
  }
  g_assert_no_errno(listen(peer->listen_fd, 4));
  peer->thread = g_thread_new("fake-qmp-peer", peer_thread, peer);
  return g_steal_pointer(&peer);
}

/* Wait for the peer to end its script (the client must have hung up or be done). */
static void
fake_peer_finish(FakePeer *peer)
{
  g_thread_join(g_steal_pointer(&peer->thread));
  g_assert_cmpstr(peer->failure->str, ==, "");
}

/* Request number I as the peer received it, parsed. */
static JsonObject *
peer_request(FakePeer *peer, guint i)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_cmpuint(i, <, peer->received->len);
  json_parser_load_from_data(parser, g_ptr_array_index(peer->received, i), -1, &error);
  g_assert_no_error(error);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)));
  return json_object_ref(json_node_get_object(json_parser_get_root(parser)));
}

/* ---- good conversations --------------------------------------------------------------- */

static void
check_normal_session(gboolean tcp)
{
  /* The greeting arrives in two pieces, with a pause: the client must wait for the line. */
  static const PeerStep steps[] = {
    SEND("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"ma"),
    SLEEP(50),
    SEND("jor\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\r\n"),
    EXPECT("qmp_capabilities"),
    SEND(RETURN_EMPTY),
    EXPECT("query-status"),
    SEND("{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": true}, "
         "\"id\": @ID@}\r\n"),
    { 0 },
  };
  g_autoptr(FakePeer) peer = fake_peer_start(steps, tcp);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = hw_qmp_connect(peer->addr, OK_TIMEOUT_MS, &error);
  g_assert_no_error(error);
  g_assert_nonnull(qmp);
  g_assert_cmpstr(hw_qmp_get_version(qmp), ==, "7.2.0");
  g_assert_cmpint(hw_qmp_get_fd(qmp), >=, 0);

  g_autoptr(JsonObject) st = hw_qmp_execute_object(qmp, "query-status", NULL, &error);
  g_assert_no_error(error);
  const char *status = NULL;
  gboolean running = FALSE;
  g_assert_true(hw_json_get_string(st, "status", &status, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(status, ==, "running");
  g_assert_true(hw_json_get_bool(st, "running", &running, &error));
  g_assert_no_error(error);
  g_assert_true(running);
  g_assert_null(hw_qmp_pop_event(qmp));

  g_clear_pointer(&qmp, hw_qmp_free);
  fake_peer_finish(peer);
  g_assert_cmpuint(peer->received->len, ==, 2);
  g_autoptr(JsonObject) caps = peer_request(peer, 0);
  g_autoptr(JsonObject) qs = peer_request(peer, 1);
  g_assert_false(json_object_has_member(caps, "arguments"));
  g_assert_false(json_object_has_member(qs, "arguments"));
  const char *id0 = NULL, *id1 = NULL;
  g_assert_true(hw_json_get_string(caps, "id", &id0, NULL));
  g_assert_true(hw_json_get_string(qs, "id", &id1, NULL));
  g_assert_cmpstr(id0, !=, id1);
}

static void
test_connect_unix(void)
{
  check_normal_session(FALSE);
}

static void
test_connect_tcp(void)
{
  check_normal_session(TRUE);
}

/* Events and replies to other ids come before ours: the events are queued with their
 * timestamps, the foreign replies skipped, and ours returned. */
static void
test_reply_match_id(void)
{
  static const PeerStep steps[] = {
    HANDSHAKE,
    EXPECT("query-status"),
    SEND("{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 123456}, "
         "\"event\": \"STOP\"}\r\n"
         "{\"return\": {\"status\": \"stale\"}, \"id\": \"hw-999\"}\r\n"),
    SLEEP(20),
    SEND("{\"error\": {\"class\": \"GenericError\", \"desc\": \"stale\"}, \"id\": 7}\r\n"
         "{\"return\": {\"status\": \"no id\"}}\r\n"
         "{\"event\": \"RESET\", \"data\": {\"guest\": true, \"reason\": \"guest-reset\"}, "
         "\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 999999}}\r\n"
         "{\"return\": {\"status\": \"paused\", \"running\": false}, \"id\": @ID@}\r\n"),
    EXPECT("cont"),
    SEND(RETURN_EMPTY),
    { 0 },
  };
  g_autoptr(FakePeer) peer = fake_peer_start(steps, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = hw_qmp_connect(peer->addr, OK_TIMEOUT_MS, &error);
  g_assert_no_error(error);

  g_autoptr(JsonObject) st = hw_qmp_execute_object(qmp, "query-status", NULL, &error);
  g_assert_no_error(error);
  const char *status = NULL;
  g_assert_true(hw_json_get_string(st, "status", &status, &error));
  g_assert_cmpstr(status, ==, "paused");

  /* The connection is still in step: the next command gets its own reply. */
  g_autoptr(JsonNode) cont = hw_qmp_execute(qmp, "cont", NULL, &error);
  g_assert_no_error(error);
  g_assert_true(JSON_NODE_HOLDS_OBJECT(cont));

  g_autoptr(HwQmpEvent) stop = hw_qmp_pop_event(qmp);
  g_assert_nonnull(stop);
  g_assert_cmpstr(stop->name, ==, "STOP");
  g_assert_cmpint(stop->seconds, ==, 1700000000);
  g_assert_cmpint(stop->microseconds, ==, 123456);
  g_assert_null(stop->data);

  g_autoptr(HwQmpEvent) reset = hw_qmp_pop_event(qmp);
  g_assert_nonnull(reset);
  g_assert_cmpstr(reset->name, ==, "RESET");
  g_assert_cmpint(reset->seconds, ==, 1700000001);
  g_assert_cmpint(reset->microseconds, ==, 999999);
  g_assert_nonnull(reset->data);
  const char *reason = NULL;
  g_assert_true(hw_json_get_string(reset->data, "reason", &reason, &error));
  g_assert_cmpstr(reason, ==, "guest-reset");

  g_assert_null(hw_qmp_pop_event(qmp));
  g_clear_pointer(&qmp, hw_qmp_free);
  fake_peer_finish(peer);
}

/* A reply of several MiB arrives in thousands of small writes. */
static void
test_reply_large(void)
{
  g_autoptr(GString) expected = g_string_new(NULL);
  for (guint i = 0; expected->len < 5u << 20; i++)
    g_string_append_printf(expected, "%08x: 0123456789abcdef \"quoted\" \\ tab\t\r\n", i);
  g_autoptr(JsonNode) str = json_node_init_string(json_node_alloc(), expected->str);
  g_autofree char *escaped = json_to_string(str, FALSE);
  g_autofree char *reply = g_strdup_printf("{\"return\": %s, \"id\": @ID@}\r\n", escaped);

  const PeerStep steps[] = {
    HANDSHAKE,
    EXPECT("human-monitor-command"),
    SEND_CHUNKED(reply, 4093),
    { 0 },
  };
  g_autoptr(FakePeer) peer = fake_peer_start(steps, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = hw_qmp_connect(peer->addr, OK_TIMEOUT_MS, &error);
  g_assert_no_error(error);

  g_autofree char *text = hw_qmp_hmp(qmp, "info mtree -f", -1, &error);
  g_assert_no_error(error);
  g_assert_nonnull(text);
  g_assert_cmpmem(text, strlen(text), expected->str, expected->len);

  g_clear_pointer(&qmp, hw_qmp_free);
  fake_peer_finish(peer);
  g_autoptr(JsonObject) req = peer_request(peer, 1);
  JsonObject *args = json_object_get_object_member(req, "arguments");
  g_assert_nonnull(args);
  const char *cmdline = NULL;
  g_assert_true(hw_json_get_string(args, "command-line", &cmdline, NULL));
  g_assert_cmpstr(cmdline, ==, "info mtree -f");
  g_assert_false(json_object_has_member(args, "cpu-index"));
}

/* hw_qmp_hmp passes the vCPU as "cpu-index", including vCPU 0. */
static void
test_hmp_cpu_index(void)
{
  static const PeerStep steps[] = {
    HANDSHAKE,
    EXPECT("human-monitor-command"),
    SEND("{\"return\": \"RAX=0000000000000001 RBX=0000000000000002\\r\\n\", \"id\": @ID@}\r\n"),
    EXPECT("human-monitor-command"),
    SEND("{\"return\": \"\", \"id\": @ID@}\r\n"),
    { 0 },
  };
  g_autoptr(FakePeer) peer = fake_peer_start(steps, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = hw_qmp_connect(peer->addr, OK_TIMEOUT_MS, &error);
  g_assert_no_error(error);

  g_autofree char *regs = hw_qmp_hmp(qmp, "info registers", 3, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(regs, ==, "RAX=0000000000000001 RBX=0000000000000002\r\n");
  g_autofree char *empty = hw_qmp_hmp(qmp, "info registers", 0, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(empty, ==, "");

  g_clear_pointer(&qmp, hw_qmp_free);
  fake_peer_finish(peer);
  static const gint64 want_cpu[] = { 3, 0 };
  for (guint i = 0; i < G_N_ELEMENTS(want_cpu); i++) {
    g_autoptr(JsonObject) req = peer_request(peer, 1 + i);
    JsonObject *args = json_object_get_object_member(req, "arguments");
    const char *cmdline = NULL;
    gint64 cpu = -1;
    g_assert_nonnull(args);
    g_assert_true(hw_json_get_string(args, "command-line", &cmdline, NULL));
    g_assert_cmpstr(cmdline, ==, "info registers");
    g_assert_true(hw_json_get_int(args, "cpu-index", &cpu, NULL));
    g_assert_cmpint(cpu, ==, want_cpu[i]);
  }
}

/* Events that arrive between commands are picked up by hw_qmp_poll_events. */
static void
test_events_poll(void)
{
  static const PeerStep steps[] = {
    HANDSHAKE,
    SLEEP(20),
    SEND("{\"timestamp\": {\"seconds\": 1234, \"microseconds\": 5}, \"event\": \"RESUME\"}\r\n"),
    { 0 },
  };
  g_autoptr(FakePeer) peer = fake_peer_start(steps, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = hw_qmp_connect(peer->addr, OK_TIMEOUT_MS, &error);
  g_assert_no_error(error);

  g_autoptr(HwQmpEvent) ev = NULL;
  for (guint i = 0; i < 50 && ev == NULL; i++) {
    g_assert_true(hw_qmp_poll_events(qmp, 100, &error));
    g_assert_no_error(error);
    ev = hw_qmp_pop_event(qmp);
  }
  g_assert_nonnull(ev);
  g_assert_cmpstr(ev->name, ==, "RESUME");
  g_assert_cmpint(ev->seconds, ==, 1234);
  g_assert_cmpint(ev->microseconds, ==, 5);
  g_assert_null(hw_qmp_pop_event(qmp));

  g_clear_pointer(&qmp, hw_qmp_free);
  fake_peer_finish(peer);
}

/* A later, longer time-out applies in full to the next command. */
static void
test_reply_longer_timeout(void)
{
  static const PeerStep steps[] = {
    HANDSHAKE,
    EXPECT("query-status"),
    SLEEP(1600),
    SEND("{\"return\": {\"status\": \"running\"}, \"id\": @ID@}\r\n"),
    { 0 },
  };
  g_autoptr(FakePeer) peer = fake_peer_start(steps, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = hw_qmp_connect(peer->addr, 1000, &error);
  g_assert_no_error(error);

  hw_qmp_set_timeout(qmp, OK_TIMEOUT_MS);
  g_autoptr(JsonObject) st = hw_qmp_execute_object(qmp, "query-status", NULL, &error);
  g_assert_no_error(error);
  g_assert_nonnull(st);

  g_clear_pointer(&qmp, hw_qmp_free);
  fake_peer_finish(peer);
}

/* ---- peers that break the protocol ------------------------------------------------------ */

typedef enum {
  AT_CONNECT,         /* hw_qmp_connect fails */
  AT_EXECUTE,         /* hw_qmp_execute("query-status") fails */
  AT_EXECUTE_OBJECT,  /* hw_qmp_execute_object("query-status") fails */
  AT_HMP,             /* hw_qmp_hmp("info registers", 0) fails */
  AT_POLL,            /* hw_qmp_poll_events fails */
  AT_POLL_NOW,        /* hw_qmp_poll_events with no time-out, called until it fails */
} FailPoint;

typedef struct {
  const char *name;
  FailPoint at;
  guint timeout_ms;        /* client time-out; 0: OK_TIMEOUT_MS */
  gint code;               /* HwError */
  const char *message;     /* must occur in the error message, or NULL */
  PeerStep steps[8];
} BadPeerCase;

#define QUERY_STATUS HANDSHAKE, EXPECT("query-status")
#define HMP HANDSHAKE, EXPECT("human-monitor-command")

static const BadPeerCase bad_peer_cases[] = {
  { "greeting/garbage", AT_CONNECT, 0, HW_ERROR_PROTOCOL, "not a QMP socket",
    { SEND("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n") } },
  { "greeting/binary", AT_CONNECT, 0, HW_ERROR_PROTOCOL, NULL,
    { SEND("\x01\x02\xff\xfe\x7f\n") } },
  { "greeting/not-object", AT_CONNECT, 0, HW_ERROR_PROTOCOL, NULL,
    { SEND("[\"QMP\", 7, 2]\r\n") } },
  { "greeting/string", AT_CONNECT, 0, HW_ERROR_PROTOCOL, NULL,
    { SEND("\"QMP\"\r\n") } },
  { "greeting/no-qmp-member", AT_CONNECT, 0, HW_ERROR_PROTOCOL, NULL,
    { SEND("{\"return\": {}}\r\n") } },
  { "greeting/qmp-not-object", AT_CONNECT, 0, HW_ERROR_PROTOCOL, NULL,
    { SEND("{\"QMP\": 1}\r\n") } },
  /* A GDB stub (or anything else) that waits for us to speak first. */
  { "greeting/silent", AT_CONNECT, SHORT_TIMEOUT_MS, HW_ERROR_TIMEOUT, NULL,
    { { 0 } } },
  { "greeting/hang-up", AT_CONNECT, 0, HW_ERROR_DISCONNECTED, NULL,
    { CLOSE } },
  { "greeting/hang-up-midway", AT_CONNECT, 0, HW_ERROR_DISCONNECTED, NULL,
    { SEND("{\"QMP\": {\"version\": "), CLOSE } },
  { "greeting/capabilities-refused", AT_CONNECT, 0, HW_ERROR_QMP_COMMAND, "qmp_capabilities",
    { SEND(GREETING), EXPECT("qmp_capabilities"),
      SEND("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"nope\"}, \"id\": @ID@}\n") } },
  { "reply/error", AT_EXECUTE, 0, HW_ERROR_QMP_COMMAND,
    "The command query-status has not been found",
    { QUERY_STATUS,
      SEND("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command query-status "
           "has not been found\"}, \"id\": @ID@}\r\n") } },
  { "reply/neither", AT_EXECUTE, 0, HW_ERROR_PROTOCOL, "query-status",
    { QUERY_STATUS, SEND("{\"id\": @ID@}\r\n") } },
  { "reply/both", AT_EXECUTE, 0, HW_ERROR_PROTOCOL, NULL,
    { QUERY_STATUS,
      SEND("{\"return\": {}, \"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}, "
           "\"id\": @ID@}\r\n") } },
  { "reply/bad-json", AT_EXECUTE, 0, HW_ERROR_PROTOCOL, NULL,
    { QUERY_STATUS, SEND("{\"return\": {}, \"id\": @ID@\r\n") } },
  { "reply/array", AT_EXECUTE, 0, HW_ERROR_PROTOCOL, NULL,
    { QUERY_STATUS, SEND("[{\"return\": {}, \"id\": @ID@}]\r\n") } },
  { "reply/number", AT_EXECUTE, 0, HW_ERROR_PROTOCOL, NULL,
    { QUERY_STATUS, SEND("42\r\n") } },
  { "reply/null", AT_EXECUTE, 0, HW_ERROR_PROTOCOL, NULL,
    { QUERY_STATUS, SEND("null\r\n") } },
  { "reply/hang-up", AT_EXECUTE, 0, HW_ERROR_DISCONNECTED, NULL,
    { QUERY_STATUS, CLOSE } },
  { "reply/hang-up-midway", AT_EXECUTE, 0, HW_ERROR_DISCONNECTED, NULL,
    { QUERY_STATUS, SEND("{\"return\": {\"status\": \"runn"), CLOSE } },
  { "reply/silent", AT_EXECUTE, SHORT_TIMEOUT_MS, HW_ERROR_TIMEOUT, NULL,
    { QUERY_STATUS } },
  /* Replies to other ids (or none) are not ours: we keep waiting for ours. */
  { "reply/only-foreign-ids", AT_EXECUTE, SHORT_TIMEOUT_MS, HW_ERROR_TIMEOUT, NULL,
    { QUERY_STATUS,
      SEND("{\"return\": {}}\r\n{\"return\": {}, \"id\": \"hw-999\"}\r\n"
           "{\"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}, \"id\": 1}\r\n") } },
  { "reply/object-expected", AT_EXECUTE_OBJECT, 0, HW_ERROR_PROTOCOL, "not an object",
    { QUERY_STATUS, SEND("{\"return\": [], \"id\": @ID@}\r\n") } },
  { "reply/hmp-not-string", AT_HMP, 0, HW_ERROR_PROTOCOL, "not a string",
    { HMP, SEND("{\"return\": {}, \"id\": @ID@}\r\n") } },
  { "events/hang-up", AT_POLL, 0, HW_ERROR_DISCONNECTED, NULL,
    { HANDSHAKE, CLOSE } },
  { "events/garbage", AT_POLL, 0, HW_ERROR_PROTOCOL, NULL,
    { HANDSHAKE, SEND("}{\r\n") } },
  /* A main loop calls with timeout 0 when the socket is readable: a hang-up must end it
   * (not leave it spinning on a socket that stays readable). */
  { "events/hang-up-polled-now", AT_POLL_NOW, 0, HW_ERROR_DISCONNECTED, NULL,
    { HANDSHAKE, CLOSE } },
};

/* Play case C against the client; *ERROR may be NULL (the NULL-error row). */
static gboolean
run_bad_peer(const BadPeerCase *c, GError **error_out, gint64 *elapsed_ms)
{
  guint timeout_ms = c->timeout_ms ? c->timeout_ms : OK_TIMEOUT_MS;
  g_autoptr(FakePeer) peer = fake_peer_start(c->steps, FALSE);
  GError *local = NULL, **error = error_out ? &local : NULL;
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(HwQmp) qmp = hw_qmp_connect(peer->addr, timeout_ms, error);
  gboolean ok = qmp != NULL;

  if (c->at != AT_CONNECT) {
    g_assert_no_error(local);
    g_assert_nonnull(qmp);
    t0 = g_get_monotonic_time();
    if (c->at == AT_EXECUTE) {
      g_autoptr(JsonNode) ret = hw_qmp_execute(qmp, "query-status", NULL, error);
      ok = ret != NULL;
    } else if (c->at == AT_EXECUTE_OBJECT) {
      g_autoptr(JsonObject) ret = hw_qmp_execute_object(qmp, "query-status", NULL, error);
      ok = ret != NULL;
    } else if (c->at == AT_HMP) {
      g_autofree char *ret = hw_qmp_hmp(qmp, "info registers", 0, error);
      ok = ret != NULL;
    } else if (c->at == AT_POLL) {
      ok = hw_qmp_poll_events(qmp, 2 * OK_TIMEOUT_MS, error);
    } else {
      for (guint i = 0; i < 1000 && (ok = hw_qmp_poll_events(qmp, 0, error)); i++)
        g_usleep(1000);
    }
  }
  *elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
  g_clear_pointer(&qmp, hw_qmp_free);
  fake_peer_finish(peer);
  if (error_out)
    *error_out = local;
  return ok;
}

static void
test_bad_peer(gconstpointer data)
{
  const BadPeerCase *c = data;
  guint timeout_ms = c->timeout_ms ? c->timeout_ms : OK_TIMEOUT_MS;
  g_autoptr(GError) error = NULL;
  gint64 elapsed_ms;
  gboolean ok = run_bad_peer(c, &error, &elapsed_ms);

  g_assert_false(ok);
  g_assert_error(error, HW_ERROR, c->code);
  if (c->message != NULL)
    g_assert_nonnull(strstr(error->message, c->message));
  if (c->code == HW_ERROR_TIMEOUT) {
    g_assert_cmpint(elapsed_ms, >=, timeout_ms - 20);
    g_assert_cmpint(elapsed_ms, <, timeout_ms + 3000);
  } else {
    /* Failing fast: no waiting for a time-out. */
    g_assert_cmpint(elapsed_ms, <, OK_TIMEOUT_MS / 2);
  }
  /* The same peer for a caller that passes no GError (normal GLib usage): same result. */
  g_assert_false(run_bad_peer(c, NULL, &elapsed_ms));
}

/* ---- addresses nobody answers at -------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *addr;       /* "@DIR@" is a fresh empty directory, "@PORT@" a closed port */
  gint code;               /* HwError */
} BadAddrCase;

static const BadAddrCase bad_addr_cases[] = {
  { "missing-path", "@DIR@/no-such.sock", HW_ERROR_CONNECT },
  { "missing-unix-prefixed", "unix:@DIR@/no-such.sock", HW_ERROR_CONNECT },
  { "directory", "@DIR@", HW_ERROR_CONNECT },
  { "not-a-socket", "@DIR@/file", HW_ERROR_CONNECT },
  { "tcp-refused", "127.0.0.1:@PORT@", HW_ERROR_CONNECT },
  { "empty", "", HW_ERROR_INVALID_ARGUMENT },
  { "port-zero", "127.0.0.1:0", HW_ERROR_INVALID_ARGUMENT },
  { "port-too-big", "127.0.0.1:65536", HW_ERROR_INVALID_ARGUMENT },
};

/* A loopback port that was free a moment ago. */
static guint
closed_port(void)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = 0 };
  socklen_t len = sizeof sin;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_assert_cmpint(fd, >=, 0);
  g_assert_no_errno(bind(fd, (struct sockaddr *)&sin, sizeof sin));
  g_assert_no_errno(getsockname(fd, (struct sockaddr *)&sin, &len));
  close(fd);
  return ntohs(sin.sin_port);
}

static void
test_bad_addr(gconstpointer data)
{
  const BadAddrCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp("haywire-qmp-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *file = g_build_filename(dir, "file", NULL);
  g_assert_true(g_file_set_contents(file, "not a socket\n", -1, &error));
  g_autofree char *port = g_strdup_printf("%u", closed_port());
  g_autoptr(GString) addr = g_string_new(c->addr);
  g_string_replace(addr, "@DIR@", dir, 0);
  g_string_replace(addr, "@PORT@", port, 0);

  g_autoptr(HwQmp) qmp = hw_qmp_connect(addr->str, OK_TIMEOUT_MS, &error);
  g_assert_null(qmp);
  g_assert_error(error, HW_ERROR, c->code);
  g_assert_null(hw_qmp_connect(addr->str, OK_TIMEOUT_MS, NULL));   /* the NULL-error row */

  g_unlink(file);
  g_rmdir(dir);
}

/* ---- typed getters ---------------------------------------------------------------------- */

typedef enum { GET_STRING, GET_INT, GET_BOOL, GET_ARRAY } Getter;

typedef struct {
  const char *name;
  Getter getter;
  const char *member;
  gboolean ok;            /* FALSE: fails with HW_ERROR_PROTOCOL naming MEMBER */
} GetterCase;

static const char getter_json[] =
  "{\"s\": \"text\", \"i\": 42, \"neg\": -7, \"b\": true, \"a\": [1, 2], \"o\": {}, "
  "\"n\": null, \"d\": 1.5, \"si\": \"42\"}";

static const GetterCase getter_cases[] = {
  { "string/ok", GET_STRING, "s", TRUE },
  { "string/int", GET_STRING, "i", FALSE },
  { "string/null", GET_STRING, "n", FALSE },
  { "string/array", GET_STRING, "a", FALSE },
  { "string/object", GET_STRING, "o", FALSE },
  { "string/missing", GET_STRING, "x", FALSE },
  { "int/ok", GET_INT, "i", TRUE },
  { "int/negative", GET_INT, "neg", TRUE },
  { "int/string-of-digits", GET_INT, "si", FALSE },
  { "int/double", GET_INT, "d", FALSE },
  { "int/bool", GET_INT, "b", FALSE },
  { "int/null", GET_INT, "n", FALSE },
  { "int/object", GET_INT, "o", FALSE },
  { "int/missing", GET_INT, "x", FALSE },
  { "bool/ok", GET_BOOL, "b", TRUE },
  { "bool/int", GET_BOOL, "i", FALSE },
  { "bool/string", GET_BOOL, "s", FALSE },
  { "bool/null", GET_BOOL, "n", FALSE },
  { "bool/missing", GET_BOOL, "x", FALSE },
  { "array/ok", GET_ARRAY, "a", TRUE },
  { "array/object", GET_ARRAY, "o", FALSE },
  { "array/string", GET_ARRAY, "s", FALSE },
  { "array/null", GET_ARRAY, "n", FALSE },
  { "array/missing", GET_ARRAY, "x", FALSE },
};

static gboolean
run_getter(Getter getter, JsonObject *obj, const char *member, GError **error)
{
  const char *s = NULL;
  gint64 i = 0;
  gboolean b = FALSE;
  JsonArray *a = NULL;

  switch (getter) {
  case GET_STRING:
    return hw_json_get_string(obj, member, &s, error);
  case GET_INT:
    return hw_json_get_int(obj, member, &i, error);
  case GET_BOOL:
    return hw_json_get_bool(obj, member, &b, error);
  case GET_ARRAY:
    return hw_json_get_array(obj, member, &a, error);
  }
  g_assert_not_reached();
}

static void
test_getter(gconstpointer data)
{
  const GetterCase *c = data;
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_data(parser, getter_json, -1, &error));
  JsonObject *obj = json_node_get_object(json_parser_get_root(parser));

  gboolean ok = run_getter(c->getter, obj, c->member, &error);
  if (c->ok) {
    g_assert_no_error(error);
    g_assert_true(ok);
  } else {
    g_assert_false(ok);
    g_assert_error(error, HW_ERROR, HW_ERROR_PROTOCOL);
    g_autofree char *quoted = g_strdup_printf("\"%s\"", c->member);
    g_assert_nonnull(strstr(error->message, quoted));
  }
}

/* The values come through as they are. */
static void
test_getter_values(void)
{
  g_autoptr(JsonParser) parser = json_parser_new();
  g_autoptr(GError) error = NULL;
  g_assert_true(json_parser_load_from_data(parser, getter_json, -1, &error));
  JsonObject *obj = json_node_get_object(json_parser_get_root(parser));
  const char *s = NULL;
  gint64 i = 0, neg = 0;
  gboolean b = FALSE;
  JsonArray *a = NULL;

  g_assert_true(hw_json_get_string(obj, "s", &s, &error));
  g_assert_true(hw_json_get_int(obj, "i", &i, &error));
  g_assert_true(hw_json_get_int(obj, "neg", &neg, &error));
  g_assert_true(hw_json_get_bool(obj, "b", &b, &error));
  g_assert_true(hw_json_get_array(obj, "a", &a, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(s, ==, "text");
  g_assert_cmpint(i, ==, 42);
  g_assert_cmpint(neg, ==, -7);
  g_assert_true(b);
  g_assert_cmpuint(json_array_get_length(a), ==, 2);

  /* No object at all (a reply member that was missing) is a protocol error too. */
  g_assert_false(hw_json_get_string(NULL, "s", &s, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_PROTOCOL);
}

/* "fd:N": a socket the caller already holds (one end of a socketpair here). */
static void
test_address_fd(void)
{
  int sv[2];
  g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
  static const char said[] =
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}}}}\n"
    "{\"return\": {}, \"id\": \"hw-1\"}\n";
  g_assert_cmpint(write(sv[1], said, strlen(said)), ==, (gssize)strlen(said));
  g_autofree char *addr = g_strdup_printf("fd:%d", sv[0]);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = hw_qmp_connect(addr, 1000, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(hw_qmp_get_version(qmp), ==, "7.2.22");
  close(sv[1]);

  static const struct { const char *addr; int code; } bad[] = {
    { "fd:", HW_ERROR_INVALID_ARGUMENT },
    { "fd:x1", HW_ERROR_INVALID_ARGUMENT },
    { "fd:99999999999", HW_ERROR_INVALID_ARGUMENT },
    { "fd:987654", HW_ERROR_CONNECT },     /* not an open descriptor */
  };
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_clear_error(&error);
    g_assert_null(hw_qmp_connect(bad[i].addr, 300, &error));
    g_assert_error(error, HW_ERROR, bad[i].code);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/qmp/connect/unix", test_connect_unix);
  g_test_add_func("/qmp/connect/tcp", test_connect_tcp);
  g_test_add_func("/qmp/reply/match-id", test_reply_match_id);
  g_test_add_func("/qmp/reply/large", test_reply_large);
  g_test_add_func("/qmp/reply/longer-timeout", test_reply_longer_timeout);
  g_test_add_func("/qmp/hmp/cpu-index", test_hmp_cpu_index);
  g_test_add_func("/qmp/events/poll", test_events_poll);
  g_test_add_func("/qmp/address/fd", test_address_fd);
  for (guint i = 0; i < G_N_ELEMENTS(bad_peer_cases); i++) {
    g_autofree char *path = g_strdup_printf("/qmp/bad-peer/%s", bad_peer_cases[i].name);
    g_test_add_data_func(path, &bad_peer_cases[i], test_bad_peer);
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad_addr_cases); i++) {
    g_autofree char *path = g_strdup_printf("/qmp/connect/%s", bad_addr_cases[i].name);
    g_test_add_data_func(path, &bad_addr_cases[i], test_bad_addr);
  }
  g_test_add_func("/qmp/json/values", test_getter_values);
  for (guint i = 0; i < G_N_ELEMENTS(getter_cases); i++) {
    g_autofree char *path = g_strdup_printf("/qmp/json/%s", getter_cases[i].name);
    g_test_add_data_func(path, &getter_cases[i], test_getter);
  }
  return g_test_run();
}
