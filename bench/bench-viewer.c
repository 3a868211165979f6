/* Viewer benchmark: how many frames a second the viewer's page, in a real browser
 * (Debian's headless Chromium, driven through its DevTools protocol), draws for a window
 * of 4 MiB of guest RAM (rgba8888, as wide as that takes at the window's rows) while
 * the guest runs, against the honest baseline measured in the same run: every core
 * reading the same mapping, which bounds the frames a second any server could read that
 * window at. Both ways the page draws a running guest: live (no pause) and still (the
 * guest paused and resumed for each frame); with the slowest frame (what a scroll
 * waits for at most).
 *
 * Usage: bench-viewer QMP_ADDR HAYWIRE [SECONDS]
 * Prints "key value" lines. The baseline is measured first and its QMP connection
 * closed (QEMU's monitor takes one client); then the server is started as a user
 * starts it and the page opened on it. */
#include <haywire/haywire.h>
#include "bench-util.h"

#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define WINDOW_BYTES (4u << 20)

/* A DevTools connection to one page. */
typedef struct {
  GMainLoop *loop;
  SoupWebsocketConnection *conn;
  GError *error;
  JsonNode *reply;       /* the answer to the last command */
  guint id;
} DevTools;

static void
on_connected(GObject *src, GAsyncResult *res, gpointer data)
{
  DevTools *d = data;
  d->conn = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &d->error);
  g_main_loop_quit(d->loop);
}

static void
on_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  DevTools *d = data;
  (void)conn, (void)type;
  g_autoptr(JsonParser) p = json_parser_new();
  gsize n = 0;
  const char *text = g_bytes_get_data(message, &n);
  if (!json_parser_load_from_data(p, text, (gssize)n, NULL))
    return;
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  if (o && json_object_has_member(o, "id") && json_object_get_int_member(o, "id") == d->id) {
    g_clear_pointer(&d->reply, json_node_unref);
    d->reply = json_node_copy(json_parser_get_root(p));
    g_main_loop_quit(d->loop);
  }
}

/* Evaluate EXPR in the page (awaiting a promise): its value as JSON (caller frees). */
static JsonNode *
evaluate(DevTools *d, const char *expr)
{
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, ++d->id);
  json_builder_set_member_name(b, "method");
  json_builder_add_string_value(b, "Runtime.evaluate");
  json_builder_set_member_name(b, "params");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "expression");
  json_builder_add_string_value(b, expr);
  json_builder_set_member_name(b, "awaitPromise");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_set_member_name(b, "returnByValue");
  json_builder_add_boolean_value(b, TRUE);
  json_builder_end_object(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autofree char *text = json_to_string(root, FALSE);
  soup_websocket_connection_send_text(d->conn, text);
  g_main_loop_run(d->loop);
  JsonObject *r = json_node_get_object(d->reply);
  JsonObject *res = json_object_get_object_member(r, "result");
  res = res ? json_object_get_object_member(res, "result") : NULL;
  if (res == NULL || !json_object_has_member(res, "value")) {
    g_autofree char *all = json_to_string(d->reply, FALSE);
    fprintf(stderr, "bench-viewer: %s: %s\n", expr, all);
    exit(1);
  }
  return json_node_copy(json_object_get_member(res, "value"));
}

/* The page's measure of N_MS milliseconds (LIVE or not) as "key value" lines named
 * after WHAT, against BASELINE_FPS. */
static void
measure(DevTools *d, const char *what, gboolean live, guint n_ms, double baseline_fps)
{
  g_autofree char *expr = g_strdup_printf("haywireMeasure(%u, %u, %s)", n_ms, WINDOW_BYTES,
                                          live ? "true" : "false");
  g_autoptr(JsonNode) v = evaluate(d, expr);
  JsonObject *o = json_node_get_object(v);
  double fps = json_object_get_double_member(o, "fps");
  if (!json_object_get_boolean_member(o, "stream")) {
    fprintf(stderr, "bench-viewer: the page drew without its stream\n");
    exit(1);
  }
  printf("%s_window_bytes %" G_GINT64_FORMAT "\n", what, json_object_get_int_member(o, "bytes"));
  printf("%s_window %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT "\n", what,
         json_object_get_int_member(o, "width"), json_object_get_int_member(o, "rows"));
  printf("%s_state %s\n", what, json_object_get_string_member(o, "state"));
  const char *message = json_object_get_string_member(o, "message");
  if (message && *message)
    fprintf(stderr, "bench-viewer: %s: the page says: %s\n", what, message);
  printf("%s_fps %.1f\n", what, fps);
  printf("%s_worst_frame_ms %.0f\n", what, json_object_get_double_member(o, "worst_ms"));
  printf("%s_vs_baseline %.3f\n", what, fps / baseline_fps);
}

/* Read lines of FD until one holds NEEDLE: that line (caller frees), or NULL at the end. */
static char *
line_with(int fd, const char *needle)
{
  GString *line = g_string_new(NULL);
  char c;
  while (read(fd, &c, 1) == 1) {
    if (c != '\n') {
      g_string_append_c(line, c);
      continue;
    }
    if (strstr(line->str, needle))
      return g_string_free(line, FALSE);
    g_string_truncate(line, 0);
  }
  g_string_free(line, TRUE);
  return NULL;
}

int
main(int argc, char **argv)
{
  g_set_prgname("bench-viewer");
  if (argc < 3) {
    fprintf(stderr, "usage: bench-viewer QMP_ADDR HAYWIRE [SECONDS]\n");
    return 2;
  }
  double seconds = argc > 3 ? g_ascii_strtod(argv[3], NULL) : 3;
  g_autoptr(GError) error = NULL;

  /* 1. The baseline: all cores reading all RAM over the mapping, best of 5. */
  guint64 gpa = 16u << 20, ram = 0, sink = 0;
  double allcore = 1e9;
  {
    g_autoptr(HwQmp) qmp = NULL;
    g_autoptr(HwGuest) guest = bench_open_guest(argv[1], 10000, &qmp);
    HwPhysMem *mem = hw_guest_get_physmem(guest);
    ram = hw_physmem_get_ram_size(mem);
    bench_allcore_read(mem, &sink);   /* fault the mapping in */
    for (int i = 0; i < 5; i++)
      allcore = MIN(allcore, bench_allcore_read(mem, &sink));
  }
  double bandwidth = ram / allcore;
  double baseline_fps = bandwidth / WINDOW_BYTES;

  /* 2. The server, as a user starts it. */
  const char *args[] = { argv[2], "--qmp", argv[1], "--json", "serve", NULL };
  GPid pid;
  int out_fd = -1;
  if (!g_spawn_async_with_pipes(NULL, (char **)args, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL,
                                NULL, &pid, NULL, &out_fd, NULL, &error))
    bench_die("haywire serve", error);
  g_autofree char *line = line_with(out_fd, "\"url\"");
  g_autoptr(JsonParser) p = json_parser_new();
  if (line == NULL || !json_parser_load_from_data(p, line, -1, &error))
    bench_die("the server's address", error);
  const char *url = json_object_get_string_member(json_node_get_object(json_parser_get_root(p)),
                                                  "url");

  /* 3. The page, in headless Chromium with a DevTools port. */
  g_autofree char *dir = g_dir_make_tmp("bench-viewer-XXXXXX", &error);
  if (dir == NULL)
    bench_die("a profile directory", error);
  g_autofree char *profile = g_strdup_printf("--user-data-dir=%s", dir);
  g_autofree char *page = g_strdup_printf("%s&addr=0x%" G_GINT64_MODIFIER "x&format=rgba8888&"
                                          "zoom=1", url, gpa);
  const char *cargs[] = { "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                          "--no-first-run", "--window-size=1280,800",
                          "--remote-debugging-port=0", profile, page, NULL };
  GPid cpid;
  int cerr = -1;
  if (!g_spawn_async_with_pipes(NULL, (char **)cargs, NULL,
                                G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH, NULL, NULL,
                                &cpid, NULL, NULL, &cerr, &error))
    bench_die("chromium", error);
  g_autofree char *devtools = line_with(cerr, "DevTools listening on ws://");
  if (devtools == NULL)
    bench_die("chromium's DevTools address", NULL);
  guint port = (guint)g_ascii_strtoull(strstr(devtools, "127.0.0.1:") + 10, NULL, 10);
  g_autoptr(SoupSession) session = soup_session_new();
  g_autofree char *list_url = g_strdup_printf("http://127.0.0.1:%u/json/list", port);
  g_autofree char *target = NULL;
  for (int tries = 0; target == NULL && tries < 100; tries++) {
    g_autoptr(SoupMessage) m = soup_message_new("GET", list_url);
    g_autoptr(GBytes) body = soup_session_send_and_read(session, m, NULL, NULL);
    g_autoptr(JsonParser) lp = json_parser_new();
    if (body && json_parser_load_from_data(lp, g_bytes_get_data(body, NULL),
                                           (gssize)g_bytes_get_size(body), NULL)) {
      JsonArray *targets = json_node_get_array(json_parser_get_root(lp));
      for (guint i = 0; targets && i < json_array_get_length(targets); i++) {
        JsonObject *t = json_array_get_object_element(targets, i);
        if (g_strcmp0(json_object_get_string_member_with_default(t, "type", ""), "page") == 0)
          target = g_strdup(json_object_get_string_member(t, "webSocketDebuggerUrl"));
      }
    }
    if (target == NULL)
      g_usleep(100000);
  }
  if (target == NULL)
    bench_die("the page's DevTools target", NULL);
  DevTools d = { .loop = g_main_loop_new(NULL, FALSE) };
  g_autoptr(SoupMessage) wm = soup_message_new("GET", target);
  soup_session_websocket_connect_async(session, wm, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                       on_connected, &d);
  g_main_loop_run(d.loop);
  if (d.conn == NULL)
    bench_die("DevTools", d.error);
  soup_websocket_connection_set_max_incoming_payload_size(d.conn, 16u << 20);
  g_signal_connect(d.conn, "message", G_CALLBACK(on_message), &d);
  for (int tries = 0;; tries++) {
    g_autoptr(JsonNode) ready = evaluate(&d, "typeof haywireMeasure");
    if (g_strcmp0(json_node_get_string(ready), "function") == 0)
      break;
    if (tries > 100)
      bench_die("the page has no haywireMeasure", NULL);
    g_usleep(100000);
  }

  printf("allcore_gb_per_s %.2f\n", bandwidth / 1e9);
  printf("baseline_fps %.0f\n", baseline_fps);
  guint n_ms = (guint)(seconds * 1000);
  measure(&d, "page_live", TRUE, 500, baseline_fps);   /* warm up */
  measure(&d, "page_live", TRUE, n_ms, baseline_fps);
  measure(&d, "page_still", FALSE, n_ms, baseline_fps);

  g_signal_handlers_disconnect_by_data(d.conn, &d);
  g_object_unref(d.conn);
  g_clear_pointer(&d.reply, json_node_unref);
  g_main_loop_unref(d.loop);
  kill(cpid, SIGTERM);
  waitpid(cpid, NULL, 0);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
  if (system(rm) != 0)
    fprintf(stderr, "bench-viewer: could not remove %s\n", dir);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  printf("sink %" G_GUINT64_FORMAT "\n", sink & 1);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
