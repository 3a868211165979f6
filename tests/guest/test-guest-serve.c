/* The viewer's server against the booted guest: the access token on every request, the
 * API's answers checked against the guest's own ground truth (its processes, the test
 * program's gradient drawn as pixels), bad parameters refused with limits, and a guest
 * the viewer paused resumed when the server is stopped. Requests go through libsoup's
 * client, as a browser would send them (the browser test drives the page itself). */
#include "guest-harness.h"
#include "../common/read-png.h"
#include "../../guest/hwtest-pixels.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static HwTestGuest *guest;

typedef struct {
  GPid pid;
  int out_fd, err_fd;
  char *url;           /* as printed: http://127.0.0.1:PORT/?token=... */
  char *base;          /* http://127.0.0.1:PORT */
  char *token;
} Server;

/* Read a line from FD within SECONDS (NULL on time-out or end). */
static char *
read_line(int fd, int seconds)
{
  GString *s = g_string_new(NULL);
  gint64 deadline = g_get_monotonic_time() + (gint64)seconds * G_USEC_PER_SEC;
  while (g_get_monotonic_time() < deadline) {
    struct pollfd p = { fd, POLLIN, 0 };
    if (poll(&p, 1, 100) <= 0)
      continue;
    char c;
    if (read(fd, &c, 1) != 1)
      break;
    if (c == '\n')
      return g_string_free(s, FALSE);
    g_string_append_c(s, c);
  }
  g_string_free(s, TRUE);
  return NULL;
}

/* Start `haywire serve` with EXTRA arguments (NULL-terminated) and read its address. */
static Server *
server_start(const char *const *extra)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("HW_HAYWIRE"));
  g_ptr_array_add(argv, (gpointer)"--qmp");
  g_ptr_array_add(argv, guest->qmp);
  g_ptr_array_add(argv, (gpointer)"--gdb");
  g_ptr_array_add(argv, guest->gdb);
  g_ptr_array_add(argv, (gpointer)"--json");
  g_ptr_array_add(argv, (gpointer)"serve");
  for (guint i = 0; extra && extra[i]; i++)
    g_ptr_array_add(argv, (gpointer)extra[i]);
  g_ptr_array_add(argv, NULL);
  Server *s = g_new0(Server, 1);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) env = g_environ_unsetenv(g_get_environ(), "HAYWIRE_MEM");
  g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv->pdata, env,
                                         G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &s->pid, NULL,
                                         &s->out_fd, &s->err_fd, &error));
  g_assert_no_error(error);
  g_autofree char *line = read_line(s->out_fd, 60);
  if (line == NULL) {
    g_autofree char *err = read_line(s->err_fd, 1);
    g_error("haywire serve printed no address (stderr: %s)", err ? err : "");
  }
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, line, -1, NULL));
  JsonObject *o = json_node_get_object(json_parser_get_root(p));
  s->url = g_strdup(json_object_get_string_member(o, "url"));
  s->token = g_strdup(json_object_get_string_member(o, "token"));
  g_assert_true(g_str_has_prefix(s->url, "http://"));
  const char *path = strchr(s->url + strlen("http://"), '/');
  g_assert_nonnull(path);
  s->base = g_strndup(s->url, (gsize)(path - s->url));
  g_autofree char *want_path = g_strdup_printf("/?token=%s", s->token);
  g_assert_cmpstr(path, ==, want_path);
  g_assert_cmpuint(strlen(s->token), ==, 32);
  g_test_message("serving at %s", s->url);
  return s;
}

/* Stop S with SIGNAL; its exit status (128 + signal when it died by it). */
static int
server_stop(Server *s, int sig)
{
  kill(s->pid, sig);
  int status = 0;
  gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
  pid_t done = 0;
  while ((done = waitpid(s->pid, &status, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
    g_usleep(20 * 1000);
  if (done == 0) {
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    g_error("haywire serve did not end within 20 s of signal %d", sig);
  }
  g_spawn_close_pid(s->pid);
  close(s->out_fd);
  close(s->err_fd);
  g_free(s->url);
  g_free(s->base);
  g_free(s->token);
  g_free(s);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

typedef struct {
  guint status;
  GBytes *body;
  SoupMessageHeaders *headers;   /* of the response (a reference) */
} Reply;

static void
reply_free(Reply *r)
{
  g_bytes_unref(r->body);
  soup_message_headers_unref(r->headers);
  g_free(r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Reply, reply_free)

/* METHOD BASE PATH with the extra request header HEADER: VALUE (may be NULL). */
static Reply *
request(const Server *s, const char *method, const char *path, const char *header,
        const char *value)
{
  static SoupSession *session;
  if (session == NULL)
    session = soup_session_new_with_options("timeout", 60, NULL);
  g_autofree char *url = g_strconcat(s->base, path, NULL);
  g_autoptr(SoupMessage) m = soup_message_new(method, url);
  g_assert_nonnull(m);
  if (header)
    soup_message_headers_replace(soup_message_get_request_headers(m), header, value);
  g_autoptr(GError) error = NULL;
  Reply *r = g_new0(Reply, 1);
  r->body = soup_session_send_and_read(session, m, NULL, &error);
  g_assert_no_error(error);
  r->status = soup_message_get_status(m);
  r->headers = soup_message_headers_ref(soup_message_get_response_headers(m));
  return r;
}

/* GET PATH with the token in the query (PATH has a '?' already or not). */
static Reply *
get(const Server *s, const char *path)
{
  g_autofree char *p = g_strdup_printf("%s%stoken=%s", path, strchr(path, '?') ? "&" : "?",
                                       s->token);
  return request(s, "GET", p, NULL, NULL);
}

static JsonObject *
reply_object(Reply *r, JsonParser *p)
{
  gsize n = 0;
  const char *data = g_bytes_get_data(r->body, &n);
  if (!json_parser_load_from_data(p, data, (gssize)n, NULL))
    g_error("not JSON: %.*s", (int)MIN(n, 300), data);
  return json_node_get_object(json_parser_get_root(p));
}

/* A bad request: STATUS, and a JSON error that says WHY. */
static void
expect_refused(const Server *s, const char *path, guint status, const char *why)
{
  g_autoptr(Reply) r = get(s, path);
  g_autoptr(JsonParser) p = json_parser_new();
  const char *error = json_object_get_string_member(reply_object(r, p), "error");
  if (r->status != status || strstr(error, why) == NULL)
    g_error("%s: %u %s (wanted %u, '%s')", path, r->status, error, status, why);
}

static void
test_token(void)
{
  Server *s = server_start(NULL);
  /* No token, a wrong one, a prefix of it, one a character longer: 403 everywhere. */
  g_autofree char *prefix = g_strndup(s->token, 31);
  g_autofree char *longer = g_strconcat(s->token, "0", NULL);
  const char *const tokens[] = { NULL, "00000000000000000000000000000000", prefix, longer, "" };
  const char *const paths[] = { "/", "/viewer.js", "/api/state", "/api/ps", "/nowhere" };
  for (guint t = 0; t < G_N_ELEMENTS(tokens); t++)
    for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
      g_autofree char *path = tokens[t] ? g_strdup_printf("%s?token=%s", paths[i], tokens[t])
                                        : g_strdup(paths[i]);
      g_autoptr(Reply) r = request(s, "GET", path, NULL, NULL);
      if (r->status != SOUP_STATUS_FORBIDDEN)
        g_error("%s: %u without the right token", path, r->status);
    }
  /* The page, with the token: it sets the cookie the page's own requests carry. */
  g_autoptr(Reply) page = get(s, "/");
  g_assert_cmpuint(page->status, ==, 200);
  g_assert_nonnull(strstr(soup_message_headers_get_content_type(page->headers, NULL), "html"));
  gsize n = 0;
  const char *html = g_bytes_get_data(page->body, &n);
  g_assert_nonnull(g_strstr_len(html, (gssize)n, "viewer.js"));
  const char *cookie = soup_message_headers_get_one(page->headers, "Set-Cookie");
  g_assert_nonnull(cookie);
  g_assert_nonnull(strstr(cookie, s->token));
  g_assert_nonnull(strstr(cookie, "HttpOnly"));
  g_autofree char *jar = g_strdup_printf("haywire_token=%s", s->token);
  g_autoptr(Reply) js = request(s, "GET", "/viewer.js", "Cookie", jar);
  g_assert_cmpuint(js->status, ==, 200);
  g_autoptr(Reply) css = request(s, "GET", "/viewer.css", "X-Haywire-Token", s->token);
  g_assert_cmpuint(css->status, ==, 200);
  g_autoptr(Reply) wrong_cookie = request(s, "GET", "/viewer.js", "Cookie", "haywire_token=00");
  g_assert_cmpuint(wrong_cookie->status, ==, 403);
  g_autoptr(Reply) missing = get(s, "/nowhere");
  g_assert_cmpuint(missing->status, ==, 404);
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
  g_assert_true(hw_test_guest_running(guest));
}

/* ps and maps name the test program; its gradient, drawn through its address space
 * and through the physical page under it, has the pixels hwtest wrote. */
static void
test_api(void)
{
  Server *s = server_start(NULL);
  const HwTruthProc *spin = &guest->spin;
  g_autoptr(Reply) ps = get(s, "/api/ps");
  g_assert_cmpuint(ps->status, ==, 200);
  g_autoptr(JsonParser) pp = json_parser_new();
  JsonArray *tasks = json_object_get_array_member(reply_object(ps, pp), "tasks");
  gboolean found = FALSE;
  for (guint i = 0; i < json_array_get_length(tasks); i++) {
    JsonObject *t = json_array_get_object_element(tasks, i);
    if (json_object_get_int_member(t, "pid") == spin->pid)
      found = strcmp(json_object_get_string_member(t, "comm"), "hwtest") == 0;
  }
  g_assert_true(found);

  g_autofree char *maps_path = g_strdup_printf("/api/maps?pid=%d", spin->pid);
  g_autoptr(Reply) maps = get(s, maps_path);
  g_assert_cmpuint(maps->status, ==, 200);
  g_autoptr(JsonParser) mp = json_parser_new();
  JsonArray *vmas = json_object_get_array_member(reply_object(maps, mp), "maps");
  gboolean covers = FALSE;
  for (guint i = 0; i < json_array_get_length(vmas); i++) {
    JsonObject *v = json_array_get_object_element(vmas, i);
    covers |= hw_json_hex(v, "start") <= spin->grad_va && spin->grad_va < hw_json_hex(v, "end");
  }
  g_assert_true(covers);

  guint w = spin->grad_w, h = spin->grad_h;
  g_autofree guint8 *want = g_malloc((gsize)w * h * 4);
  hw_test_expected_gradient(want, w, h);
  /* Through the process, and through the gradient's first physical page (its rows in
   * that page: the rest of the buffer need not follow it physically). */
  guint phys_rows = (guint)(4096 - spin->grad_pa % 4096) / (w * 4);
  for (int phys = 0; phys < 2; phys++) {
    guint rows = phys ? phys_rows : h;
    g_autofree char *path = phys
      ? g_strdup_printf("/api/pixels?phys=1&addr=0x%" G_GINT64_MODIFIER "x&format=rgba8888&"
                        "width=%u&height=%u", spin->grad_pa, w, rows)
      : g_strdup_printf("/api/pixels?pid=%d&addr=0x%" G_GINT64_MODIFIER "x&format=rgba8888&"
                        "width=%u&height=%u", spin->pid, spin->grad_va, w, rows);
    g_autoptr(Reply) px = get(s, path);
    g_assert_cmpuint(px->status, ==, 200);
    g_autofree char *width = g_strdup_printf("%u", w);
    g_assert_cmpstr(soup_message_headers_get_one(px->headers, "X-Haywire-Width"), ==, width);
    g_assert_cmpstr(soup_message_headers_get_one(px->headers, "X-Haywire-State"), ==,
                    "paused-by-haywire");
    gsize n = 0;
    const guint8 *got = g_bytes_get_data(px->body, &n);
    g_assert_cmpuint(n, ==, (gsize)w * rows * 4);
    for (gsize i = 0; i < n; i++) {
      /* Alpha is drawn opaque (the render's default). */
      guint8 expect = i % 4 == 3 ? 0xff : want[i];
      if (got[i] != expect)
        g_error("%s: byte %zu is %u, hwtest wrote %u", phys ? "phys" : "pid", i, got[i], expect);
    }
  }

  /* The finds: hwtest-sleeper's files, each once, at the gpa of its first byte, owned
   * by it at its va; decoded through its address space (the PNG's pages are scattered)
   * and physically (the GIF is in one page). */
  const HwTruthProc *sleep = &guest->sleep;
  g_autoptr(Reply) finds = get(s, "/api/finds");
  g_assert_cmpuint(finds->status, ==, 200);
  g_autoptr(JsonParser) fp = json_parser_new();
  JsonArray *hits = json_object_get_array_member(reply_object(finds, fp), "hits");
  const char *const kinds[] = { "png", "jpeg", "gif", "bmp" };
  for (guint k = 0; k < G_N_ELEMENTS(kinds); k++) {
    const HwTruthImage *im = hw_test_guest_image(guest, sleep->pid, kinds[k]);
    g_assert_nonnull(im);
    guint64 gpa = g_array_index(im->pas, guint64, 0) + (im->va & (sleep->page_size - 1));
    guint same = 0;
    for (guint i = 0; i < json_array_get_length(hits); i++) {
      JsonObject *hit = json_array_get_object_element(hits, i);
      if (strcmp(json_object_get_string_member(hit, "kind"), kinds[k]) != 0 ||
          hw_json_hex(hit, "gpa") != gpa)
        continue;
      same++;
      JsonArray *owners = json_object_get_array_member(hit, "owners");
      gboolean owned = FALSE;
      for (guint o = 0; o < json_array_get_length(owners); o++) {
        JsonObject *ow = json_array_get_object_element(owners, o);
        owned |= json_object_get_int_member(ow, "pid") == sleep->pid &&
                 hw_json_hex(ow, "va") == im->va;
      }
      g_assert_true(owned);
    }
    g_assert_cmpuint(same, ==, 1);
    g_autofree char *dpath = k == 2
      ? g_strdup_printf("/api/decoded?kind=gif&addr=0x%" G_GINT64_MODIFIER "x", gpa)
      : g_strdup_printf("/api/decoded?kind=%s&pid=%d&addr=0x%" G_GINT64_MODIFIER "x", kinds[k],
                        sleep->pid, im->va);
    g_autoptr(Reply) d = get(s, dpath);
    if (d->status != 200)
      g_error("%s: %u", dpath, d->status);
    guint64 dw = g_ascii_strtoull(soup_message_headers_get_one(d->headers, "X-Haywire-Width"),
                                  NULL, 10);
    guint64 dh = g_ascii_strtoull(soup_message_headers_get_one(d->headers, "X-Haywire-Height"),
                                  NULL, 10);
    g_assert_cmpuint(dw, >, 0);
    g_assert_cmpuint(dh, >, 0);
    g_assert_cmpuint(g_bytes_get_size(d->body), ==, dw * dh * 4);
    g_assert_cmpuint(g_ascii_strtoull(soup_message_headers_get_one(d->headers, "X-Haywire-Size"),
                                      NULL, 10), ==, im->size);
  }

  /* The overview: every page of RAM once, by class; the GIF's page is an image page. */
  g_autoptr(Reply) ov = get(s, "/api/overview");
  g_assert_cmpuint(ov->status, ==, 200);
  g_autoptr(JsonParser) op = json_parser_new();
  JsonObject *ovo = reply_object(ov, op);
  JsonArray *classes = json_object_get_array_member(ovo, "classes");
  g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(classes, 4),
                                                "name"), ==, "image");
  JsonArray *ranges = json_object_get_array_member(ovo, "ranges");
  const HwTruthImage *gif = hw_test_guest_image(guest, sleep->pid, "gif");
  guint64 gif_gpa = g_array_index(gif->pas, guint64, 0), ram_pages = 0;
  gboolean gif_seen = FALSE;
  for (guint r = 0; r < json_array_get_length(ranges); r++) {
    JsonObject *ro = json_array_get_object_element(ranges, r);
    gsize n = 0;
    g_autofree guchar *cls = g_base64_decode(json_object_get_string_member(ro, "classes"), &n);
    g_assert_cmpuint(n, ==, (gsize)json_object_get_int_member(ro, "pages"));
    ram_pages += n;
    guint64 base = hw_json_hex(ro, "gpa");
    if (gif_gpa >= base && gif_gpa < base + n * 4096) {
      g_assert_cmpuint(cls[(gif_gpa - base) / 4096], ==, 4);
      gif_seen = TRUE;
    }
  }
  g_assert_true(gif_seen);
  g_assert_cmpuint(ram_pages, >=, 512u * 256);   /* the test guest's 512 MiB */
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
  g_assert_true(hw_test_guest_running(guest));
}

/* The first of the width guesses in REPLY for FORMAT: its width, or 0. */
static gint64
first_width(Reply *reply, const char *format)
{
  g_autoptr(JsonParser) p = json_parser_new();
  JsonArray *guesses = json_object_get_array_member(reply_object(reply, p), "guesses");
  for (guint i = 0; i < json_array_get_length(guesses); i++) {
    JsonObject *g = json_array_get_object_element(guesses, i);
    if (strcmp(json_object_get_string_member(g, "format"), format) == 0)
      return json_object_get_int_member(g, "width");
  }
  return 0;
}

/* Width suggestions for the test program's pictures give their real widths; peek
 * shows the gradient's bytes, its physical address and hwtest as its owner. */
static void
test_widths_and_peek(void)
{
  Server *s = server_start(NULL);
  const HwTruthProc *spin = &guest->spin;
  guint gw = spin->grad_w, gh = spin->grad_h;
  /* The gradient through hwtest's address space, for rgba8888 and for every format. */
  for (int any = 0; any < 2; any++) {
    g_autofree char *path = g_strdup_printf("/api/widths?pid=%d&addr=0x%" G_GINT64_MODIFIER
                                            "x&len=%u%s", spin->pid, spin->grad_va, gw * gh * 4,
                                            any ? "" : "&format=rgba8888");
    g_autoptr(Reply) r = get(s, path);
    g_assert_cmpuint(r->status, ==, 200);
    gint64 w = first_width(r, "rgba8888");
    if (w != (gint64)gw)
      g_error("%s: rgba8888 width %" G_GINT64_FORMAT ", hwtest's gradient is %u wide: %.*s",
              path, w, gw, (int)g_bytes_get_size(r->body),
              (const char *)g_bytes_get_data(r->body, NULL));
  }
  /* hwtest-sleeper's bitmap: the real width is the first guess. */
  const HwTruthImage *raw = hw_test_guest_image(guest, guest->sleep.pid, "raw");
  g_assert_nonnull(raw);
  g_autofree char *raw_path = g_strdup_printf("/api/widths?pid=%d&addr=0x%" G_GINT64_MODIFIER
                                              "x&len=%d&format=rgba8888", guest->sleep.pid,
                                              raw->va, HWTEST_RAW_W * HWTEST_RAW_H * 4);
  g_autoptr(Reply) rr = get(s, raw_path);
  g_assert_cmpuint(rr->status, ==, 200);
  g_assert_cmpint(first_width(rr, "rgba8888"), ==, HWTEST_RAW_W);

  /* Peek: the gradient's first 300 bytes, its gpa, and who maps it. */
  g_autofree guint8 *want = g_malloc((gsize)gw * gh * 4);
  hw_test_expected_gradient(want, gw, gh);
  g_autofree char *peek = g_strdup_printf("/api/peek?pid=%d&addr=0x%" G_GINT64_MODIFIER
                                          "x&len=300&owners=1", spin->pid, spin->grad_va);
  g_autoptr(Reply) pr = get(s, peek);
  g_assert_cmpuint(pr->status, ==, 200);
  g_autoptr(JsonParser) pp = json_parser_new();
  JsonObject *po = reply_object(pr, pp);
  g_assert_cmpuint(hw_json_hex(po, "gpa"), ==, spin->grad_pa);
  g_assert_cmpstr(json_object_get_string_member(po, "state"), ==, "paused-by-haywire");
  const char *hex = json_object_get_string_member(po, "hex");
  g_assert_cmpuint(strlen(hex), ==, 600);
  for (guint i = 0; i < 300; i++) {
    g_autofree char *want_hex = g_strdup_printf("%02x", want[i]);
    if (strncmp(hex + 2 * i, want_hex, 2) != 0)
      g_error("peek byte %u: %.2s, hwtest wrote %s", i, hex + 2 * i, want_hex);
  }
  g_assert_true(json_object_get_boolean_member(po, "owners_known"));
  JsonArray *owners = json_object_get_array_member(po, "owners");
  gboolean by_hwtest = FALSE;
  for (guint i = 0; i < json_array_get_length(owners); i++) {
    JsonObject *o = json_array_get_object_element(owners, i);
    by_hwtest |= json_object_get_int_member(o, "pid") == spin->pid &&
                 hw_json_hex(o, "va") == (spin->grad_va & ~(guint64)4095);
  }
  g_assert_true(by_hwtest);
  /* Physically, without owners: the same bytes; an address past RAM reads as "??". */
  g_autofree char *ppeek = g_strdup_printf("/api/peek?phys=1&addr=0x%" G_GINT64_MODIFIER
                                           "x&len=16", spin->grad_pa);
  g_autoptr(Reply) ppr = get(s, ppeek);
  g_autoptr(JsonParser) ppp = json_parser_new();
  JsonObject *ppo = reply_object(ppr, ppp);
  g_autofree char *first16 = g_strndup(hex, 32);
  g_assert_cmpstr(json_object_get_string_member(ppo, "hex"), ==, first16);
  g_assert_false(json_object_get_boolean_member(ppo, "owners_known"));
  g_autoptr(Reply) far = get(s, "/api/peek?phys=1&addr=0xffff00000000&len=4");
  g_autoptr(JsonParser) fp = json_parser_new();
  g_assert_cmpstr(json_object_get_string_member(reply_object(far, fp), "hex"), ==, "????????");
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
  g_assert_true(hw_test_guest_running(guest));
}

/* ---- the picture stream (a WebSocket) -------------------------------------------- */

typedef struct {
  GMainLoop *loop;
  SoupWebsocketConnection *conn;
  GError *error;
  GBytes *message;      /* the last one received (a reference) */
  gint type;
  gboolean closed, timed_out;
} Ws;

static void
on_ws_connected(GObject *src, GAsyncResult *res, gpointer data)
{
  Ws *w = data;
  w->conn = soup_session_websocket_connect_finish(SOUP_SESSION(src), res, &w->error);
  g_main_loop_quit(w->loop);
}

static void
on_ws_message(SoupWebsocketConnection *conn, gint type, GBytes *message, gpointer data)
{
  Ws *w = data;
  (void)conn;
  g_clear_pointer(&w->message, g_bytes_unref);
  w->message = g_bytes_ref(message);
  w->type = type;
  g_main_loop_quit(w->loop);
}

static void
on_ws_closed(SoupWebsocketConnection *conn, gpointer data)
{
  Ws *w = data;
  (void)conn;
  w->closed = TRUE;
  g_main_loop_quit(w->loop);
}

static gboolean
on_ws_timeout(gpointer data)
{
  Ws *w = data;
  w->timed_out = TRUE;
  g_main_loop_quit(w->loop);
  return G_SOURCE_REMOVE;
}

/* Run W's loop until a callback quits it; at most 60 s. */
static void
ws_wait(Ws *w)
{
  w->timed_out = FALSE;
  guint t = g_timeout_add_seconds(60, on_ws_timeout, w);
  g_main_loop_run(w->loop);
  if (!w->timed_out)
    g_source_remove(t);
  g_assert_false(w->timed_out);
}

/* Open the stream of S with TOKEN (NULL: none) and ORIGIN (may be NULL): the
 * connection, or NULL with the handshake's status in *STATUS. */
static Ws *
ws_open(const Server *s, const char *token, const char *origin, guint *status)
{
  static SoupSession *session;
  if (session == NULL)
    session = soup_session_new();
  Ws *w = g_new0(Ws, 1);
  w->loop = g_main_loop_new(NULL, FALSE);
  g_autofree char *url = g_strdup_printf("ws%s/api/stream%s%s", s->base + 4,
                                         token ? "?token=" : "", token ? token : "");
  g_autoptr(SoupMessage) m = soup_message_new("GET", url);
  soup_session_websocket_connect_async(session, m, origin, NULL, G_PRIORITY_DEFAULT, NULL,
                                       on_ws_connected, w);
  ws_wait(w);
  *status = soup_message_get_status(m);
  if (w->conn) {
    g_signal_connect(w->conn, "message", G_CALLBACK(on_ws_message), w);
    g_signal_connect(w->conn, "closed", G_CALLBACK(on_ws_closed), w);
  }
  return w;
}

static void
ws_close(Ws *w)
{
  if (w->conn) {
    g_signal_handlers_disconnect_by_data(w->conn, w);
    if (!w->closed)
      soup_websocket_connection_close(w->conn, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    g_object_unref(w->conn);
  }
  g_clear_error(&w->error);
  g_clear_pointer(&w->message, g_bytes_unref);
  g_main_loop_unref(w->loop);
  g_free(w);
}

/* Send TEXT on W and wait for the answer (in W->message, W->type). */
static void
ws_ask(Ws *w, const char *text)
{
  g_clear_pointer(&w->message, g_bytes_unref);
  soup_websocket_connection_send_text(w->conn, text);
  ws_wait(w);
  g_assert_nonnull(w->message);
}

/* W's answer is a text error containing WHY. */
static void
ws_expect_error(Ws *w, const char *request, const char *why)
{
  ws_ask(w, request);
  gsize n = 0;
  const char *text = g_bytes_get_data(w->message, &n);
  if (w->type != SOUP_WEBSOCKET_DATA_TEXT || g_strstr_len(text, (gssize)n, why) == NULL)
    g_error("%s: %.*s (wanted an error with '%s')", request, (int)MIN(n, 300), text, why);
}

static guint32
le32(const guint8 *p)
{
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

/* The stream: the token and the page's own origin required, the gradient drawn right
 * with its header, live frames that leave the guest running, a page that does not say
 * it drew its frames held back, and bad requests answered, not fatal. */
static void
test_stream(void)
{
  Server *s = server_start(NULL);
  const HwTruthProc *spin = &guest->spin;
  guint status = 0;
  Ws *none = ws_open(s, NULL, NULL, &status);
  g_assert_null(none->conn);
  g_assert_cmpuint(status, ==, 403);
  ws_close(none);
  Ws *elsewhere = ws_open(s, s->token, "http://example.com", &status);
  g_assert_null(elsewhere->conn);
  g_assert_cmpuint(status, ==, 403);
  ws_close(elsewhere);
  g_autofree char *origin = g_strdup(s->base);
  Ws *w = ws_open(s, s->token, origin, &status);
  if (w->conn == NULL)
    g_error("no stream: %u %s", status, w->error ? w->error->message : "");

  guint gw = spin->grad_w, gh = spin->grad_h;
  g_autofree guint8 *want = g_malloc((gsize)gw * gh * 4);
  hw_test_expected_gradient(want, gw, gh);
  for (guint live = 0; live < 2; live++) {
    g_autofree char *req = g_strdup_printf("{\"seq\": %u, \"drawn\": %u, \"pid\": %d, "
                                           "\"addr\": \"0x%" G_GINT64_MODIFIER "x\", "
                                           "\"format\": \"rgba8888\", \"width\": %u, "
                                           "\"height\": %u, \"live\": %s}",
                                           41 + live, live, spin->pid, spin->grad_va, gw, gh,
                                           live ? "true" : "false");
    ws_ask(w, req);
    gsize n = 0;
    const guint8 *f = g_bytes_get_data(w->message, &n);
    if (w->type != SOUP_WEBSOCKET_DATA_BINARY)
      g_error("%s: %.*s", req, (int)MIN(n, 300), (const char *)f);
    g_assert_cmpuint(n, ==, 56 + (gsize)gw * gh * 4);
    g_assert_cmpmem(f, 4, "HWPX", 4);
    g_assert_cmpuint(le32(f + 4), ==, 41 + live);
    g_assert_cmpuint(le32(f + 8), ==, gw);
    g_assert_cmpuint(le32(f + 12), ==, gh);
    g_assert_cmpstr((const char *)f + 32, ==, live ? "live" : "paused-by-haywire");
    if (!live)   /* live pixels may be mid-write: the still frame is the checked one */
      for (gsize i = 0; i < (gsize)gw * gh * 4; i++)
        if (f[56 + i] != (i % 4 == 3 ? 0xff : want[i]))
          g_error("frame byte %zu is %u, hwtest wrote %u", i, f[56 + i], want[i]);
    g_assert_true(hw_test_guest_running(guest));
  }
  /* Two frames sent, none said drawn: held back until the page catches up. */
  ws_expect_error(w, "{\"seq\": 43, \"drawn\": 0, \"phys\": 1, \"addr\": 4096, \"format\": "
                  "\"gray8\", \"width\": 64, \"height\": 4}", "ask again when fewer");
  ws_expect_error(w, "{\"seq\": 44, \"drawn\": 9, \"phys\": 1, \"addr\": 4096, \"format\": "
                  "\"gray8\", \"width\": 64, \"height\": 4}", "drawn: 9 of the 2");
  ws_expect_error(w, "not json", "a request is a JSON object");
  ws_expect_error(w, "[1, 2]", "a request is a JSON object");
  ws_expect_error(w, "{\"width\": 1.5}", "width: a string");
  ws_expect_error(w, "{\"addr\": {\"x\": 1}}", "addr: a string");
  ws_expect_error(w, "{\"seq\": -1}", "seq: a string");
  ws_expect_error(w, "{\"seq\": 4294967296}", "seq: at most");
  ws_expect_error(w, "{\"seq\": 45, \"drawn\": 2, \"phys\": 1, \"addr\": \"zz\", \"format\": "
                  "\"gray8\", \"width\": 64, \"height\": 4}", "addr: not a number");
  ws_expect_error(w, "{\"seq\": 46, \"drawn\": 2, \"phys\": 1, \"addr\": 0, \"format\": "
                  "\"rgba8888\", \"width\": 4096, \"height\": 4096}", "at most 16 MiB");
  /* Still answering after all that. */
  ws_ask(w, "{\"seq\": 47, \"drawn\": 2, \"phys\": 1, \"addr\": 4096, \"format\": \"gray8\", "
            "\"width\": 64, \"height\": 4}");
  g_assert_cmpint(w->type, ==, SOUP_WEBSOCKET_DATA_BINARY);
  g_assert_cmpuint(g_bytes_get_size(w->message), ==, 56 + 64 * 4 * 4);
  /* At most 8 streams at once. */
  Ws *more[8];
  for (guint i = 0; i < 7; i++) {
    more[i] = ws_open(s, s->token, NULL, &status);
    g_assert_nonnull(more[i]->conn);
  }
  more[7] = ws_open(s, s->token, NULL, &status);
  g_assert_null(more[7]->conn);
  g_assert_cmpuint(status, ==, 503);
  for (guint i = 0; i < 8; i++)
    ws_close(more[i]);
  /* A request over 4 KiB: the server drops the stream (libsoup's payload limit). */
  g_autofree char *big = g_strnfill(5000, ' ');
  soup_websocket_connection_send_text(w->conn, big);
  ws_wait(w);
  g_assert_true(w->closed);
  ws_close(w);
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
  g_assert_true(hw_test_guest_running(guest));
}

/* The finds list's thumbnails and downloads: each of hwtest-sleeper's files carved byte
 * for byte as the file in the guest's /images, named after where it was, and small;
 * its raw bitmap carved as a PNG with its pixels. */
static void
test_thumbnails_and_carving(void)
{
  Server *s = server_start(NULL);
  const HwTruthProc *sleep = &guest->sleep;
  static const struct {
    const char *kind, *file, *ext, *type;
    guint w, h;
  } files[] = {
    { "png", "photo.png", "png", "image/png", 128, 96 },
    { "jpeg", "photo.jpg", "jpg", "image/jpeg", 240, 180 },
    { "gif", "icon.gif", "gif", "image/gif", 64, 48 },
    { "bmp", "logo.bmp", "bmp", "image/bmp", 40, 30 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
    const HwTruthImage *im = hw_test_guest_image(guest, sleep->pid, files[i].kind);
    g_assert_nonnull(im);
    g_autofree char *carved = g_strdup_printf("/api/carved?kind=%s&pid=%d&addr=0x%"
                                              G_GINT64_MODIFIER "x", files[i].kind, sleep->pid,
                                              im->va);
    g_autoptr(Reply) c = get(s, carved);
    if (c->status != 200)
      g_error("%s: %u %.*s", carved, c->status, (int)g_bytes_get_size(c->body),
              (const char *)g_bytes_get_data(c->body, NULL));
    g_autofree char *path = g_build_filename(g_getenv("HW_SOURCE_ROOT"), "guest", "images",
                                             files[i].file, NULL);
    g_autofree char *want = NULL;
    gsize want_len = 0;
    g_assert_true(g_file_get_contents(path, &want, &want_len, NULL));
    gsize n = 0;
    const char *got = g_bytes_get_data(c->body, &n);
    g_assert_cmpmem(got, n, want, want_len);
    g_assert_cmpstr(soup_message_headers_get_content_type(c->headers, NULL), ==, files[i].type);
    g_autofree char *name = g_strdup_printf("filename=\"haywire-pid%d-0x%" G_GINT64_MODIFIER
                                            "x.%s\"", sleep->pid, im->va, files[i].ext);
    const char *disposition = soup_message_headers_get_one(c->headers, "Content-Disposition");
    g_assert_nonnull(disposition);
    g_assert_nonnull(strstr(disposition, name));

    g_autofree char *thumb = g_strdup_printf("/api/thumbnail?kind=%s&pid=%d&addr=0x%"
                                             G_GINT64_MODIFIER "x&side=32", files[i].kind,
                                             sleep->pid, im->va);
    g_autoptr(Reply) t = get(s, thumb);
    g_assert_cmpuint(t->status, ==, 200);
    guint64 tw = g_ascii_strtoull(soup_message_headers_get_one(t->headers, "X-Haywire-Width"),
                                  NULL, 10);
    guint64 th = g_ascii_strtoull(soup_message_headers_get_one(t->headers, "X-Haywire-Height"),
                                  NULL, 10);
    g_assert_cmpuint(MAX(tw, th), ==, 32);
    g_assert_cmpuint(g_bytes_get_size(t->body), ==, tw * th * 4);
    g_assert_cmpuint(g_ascii_strtoull(soup_message_headers_get_one(t->headers,
                                                                   "X-Haywire-Image-Width"),
                                      NULL, 10), ==, files[i].w);
  }

  /* The raw bitmap, carved as a PNG of its pixels. */
  const HwTruthImage *raw = hw_test_guest_image(guest, sleep->pid, "raw");
  g_assert_nonnull(raw);
  g_autofree char *carved = g_strdup_printf("/api/carved?kind=framebuffer&pid=%d&addr=0x%"
                                            G_GINT64_MODIFIER "x&format=rgba8888&width=%d&"
                                            "height=%d", sleep->pid, raw->va, HWTEST_RAW_W,
                                            HWTEST_RAW_H);
  g_autoptr(Reply) c = get(s, carved);
  g_assert_cmpuint(c->status, ==, 200);
  g_autofree char *dir = g_dir_make_tmp("hw-carved-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "raw.png", NULL);
  g_assert_true(g_file_set_contents(png, g_bytes_get_data(c->body, NULL),
                                    (gssize)g_bytes_get_size(c->body), NULL));
  guint pw = 0, ph = 0;
  g_autofree guint8 *px = hw_test_read_png(png, &pw, &ph);
  g_assert_cmpuint(pw, ==, HWTEST_RAW_W);
  g_assert_cmpuint(ph, ==, HWTEST_RAW_H);
  for (int y = 0; y < HWTEST_RAW_H; y++)
    for (int x = 0; x < HWTEST_RAW_W; x++) {
      guint8 want[4];
      hwtest_raw_pixel(x, y, want);
      g_assert_cmpmem(px + ((gsize)y * HWTEST_RAW_W + (gsize)x) * 4, 3, want, 3);
    }
  g_unlink(png);
  g_rmdir(dir);
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
  g_assert_true(hw_test_guest_running(guest));
}

/* The byte for GPA in the per-range answer O (member NAME, base64), or -1. */
static int
page_byte(JsonObject *o, const char *name, guint64 gpa)
{
  JsonArray *ranges = json_object_get_array_member(o, "ranges");
  for (guint r = 0; r < json_array_get_length(ranges); r++) {
    JsonObject *ro = json_array_get_object_element(ranges, r);
    guint64 base = hw_json_hex(ro, "gpa"), pages = (guint64)json_object_get_int_member(ro, "pages");
    if (gpa < base || gpa >= base + pages * 4096)
      continue;
    gsize n = 0;
    g_autofree guchar *bytes = g_base64_decode(json_object_get_string_member(ro, name), &n);
    g_assert_cmpuint(n, ==, pages);
    return bytes[(gpa - base) / 4096];
  }
  return -1;
}

/* Wait until hwtest-sleeper has rewritten its tick pages twice more. */
static void
wait_ticks(void)
{
  guint ticks = hw_test_guest_ticks(guest);
  for (int i = 0; i < 100 && hw_test_guest_ticks(guest) < ticks + 2; i++)
    g_usleep(100000);
  g_assert_cmpuint(hw_test_guest_ticks(guest), >=, ticks + 2);
}

/* The Live view: the heat map shows the page hwtest-sleeper rewrites every second as
 * just changed; a snapshot, then its diff, shows it changed and whose it is; the
 * snapshot downloads as a file that loads. */
static void
test_live(void)
{
  Server *s = server_start(NULL);
  const HwTruthProc *sleep = &guest->sleep;
  g_assert_cmphex(guest->tick_va, !=, 0);
  expect_refused(s, "/api/snapshot/diff", SOUP_STATUS_CONFLICT, "no snapshot yet");
  expect_refused(s, "/api/snapshot/file", SOUP_STATUS_CONFLICT, "no snapshot yet");
  expect_refused(s, "/api/heat?live=2", SOUP_STATUS_BAD_REQUEST, "live: 0 or 1");
  g_autofree char *getsnap = g_strdup_printf("/api/snapshot?token=%s", s->token);
  g_autoptr(Reply) gs = request(s, "GET", getsnap, NULL, NULL);
  g_assert_cmpuint(gs->status, ==, 405);

  g_autofree char *peek = g_strdup_printf("/api/peek?pid=%d&addr=0x%" G_GINT64_MODIFIER "x&len=1",
                                          sleep->pid, guest->tick_va);
  g_autoptr(Reply) pr = get(s, peek);
  g_autoptr(JsonParser) pp = json_parser_new();
  guint64 tick_pa = hw_json_hex(reply_object(pr, pp), "gpa");

  g_autoptr(Reply) h1 = get(s, "/api/heat");
  g_assert_cmpuint(h1->status, ==, 200);
  g_autoptr(JsonParser) p1 = json_parser_new();
  JsonObject *o1 = reply_object(h1, p1);
  g_assert_cmpint(json_object_get_int_member(o1, "sample"), ==, 1);
  g_assert_cmpint(json_object_get_int_member(o1, "changed"), ==, 0);
  g_assert_cmpint(page_byte(o1, "heat", tick_pa), ==, 0);
  wait_ticks();
  g_autoptr(Reply) h2 = get(s, "/api/heat");
  g_autoptr(JsonParser) p2 = json_parser_new();
  JsonObject *o2 = reply_object(h2, p2);
  g_assert_cmpint(json_object_get_int_member(o2, "sample"), ==, 2);
  g_assert_cmpint(json_object_get_int_member(o2, "changed"), >, 0);
  g_assert_cmpint(page_byte(o2, "heat", tick_pa), ==, 255);
  g_assert_cmpstr(json_object_get_string_member(o2, "state"), ==, "paused-by-haywire");

  g_autofree char *post = g_strdup_printf("/api/snapshot?token=%s", s->token);
  g_autoptr(Reply) taken = request(s, "POST", post, NULL, NULL);
  g_assert_cmpuint(taken->status, ==, 200);
  g_autoptr(JsonParser) tp = json_parser_new();
  JsonObject *to = reply_object(taken, tp);
  g_assert_cmpint(json_object_get_int_member(to, "pages"), >=, 512 * 256);
  g_assert_cmpint(json_object_get_int_member(to, "data_pages"), >, 0);
  wait_ticks();
  g_autoptr(Reply) d = get(s, "/api/snapshot/diff");
  g_assert_cmpuint(d->status, ==, 200);
  g_autoptr(JsonParser) dp = json_parser_new();
  JsonObject *dobj = reply_object(d, dp);
  g_assert_cmpint(page_byte(dobj, "changes", tick_pa), ==, 1);   /* changed */
  g_assert_cmpint(json_object_get_int_member(dobj, "changed"), >, 0);
  JsonArray *procs = json_object_get_array_member(dobj, "processes");
  gboolean sleeper = FALSE;
  for (guint i = 0; i < json_array_get_length(procs); i++) {
    JsonObject *po = json_array_get_object_element(procs, i);
    sleeper |= json_object_get_int_member(po, "pid") == sleep->pid &&
               strcmp(json_object_get_string_member(po, "comm"), "hwtest-sleeper") == 0;
  }
  if (!sleeper)
    g_error("the diff does not name hwtest-sleeper (%d) among %u processes", sleep->pid,
            json_array_get_length(procs));

  g_autoptr(Reply) f = get(s, "/api/snapshot/file");
  g_assert_cmpuint(f->status, ==, 200);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwSnapshot) snap = hw_snapshot_parse(g_bytes_get_data(f->body, NULL),
                                                 g_bytes_get_size(f->body), "download", &error);
  g_assert_no_error(error);
  guint n = 0;
  hw_snapshot_get_ranges(snap, &n);
  g_assert_cmpuint(n, >, 0);
  g_assert_nonnull(strstr(soup_message_headers_get_one(f->headers, "Content-Disposition"),
                          ".snap\""));
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
  g_assert_true(hw_test_guest_running(guest));
}

/* Whether the finds answer of PATH has a hit at GPA owned by PID at VA. */
static gboolean
found_at(const Server *s, const char *path, guint64 gpa, int pid, guint64 va)
{
  g_autoptr(Reply) r = get(s, path);
  g_assert_cmpuint(r->status, ==, 200);
  g_autoptr(JsonParser) p = json_parser_new();
  JsonArray *hits = json_object_get_array_member(reply_object(r, p), "hits");
  for (guint i = 0; i < json_array_get_length(hits); i++) {
    JsonObject *h = json_array_get_object_element(hits, i);
    if (hw_json_hex(h, "gpa") != gpa)
      continue;
    JsonArray *owners = json_object_get_array_member(h, "owners");
    for (guint o = 0; o < json_array_get_length(owners); o++) {
      JsonObject *ow = json_array_get_object_element(owners, o);
      if (json_object_get_int_member(ow, "pid") == pid && hw_json_hex(ow, "va") == va)
        return TRUE;
    }
  }
  return FALSE;
}

/* The finds search: hwtest's marker found as text, as hex bytes with a wildcard and as
 * a regex, at its physical address and in hwtest at its virtual one. */
static void
test_search(void)
{
  Server *s = server_start(NULL);
  const HwTruthProc *spin = &guest->spin;
  g_assert_true(found_at(s, "/api/finds?text=HAYWIRE-TEST-MARKER-0123456789abcdef", spin->pa,
                         spin->pid, spin->va));
  g_assert_true(found_at(s, "/api/finds?hex=48415957495245%3F%3F54455354", spin->pa, spin->pid,
                         spin->va));
  g_assert_true(found_at(s, "/api/finds?regex=haywire-test-marker-[0-9]%2B&icase=1", spin->pa,
                         spin->pid, spin->va));
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
}

/* Every parameter is checked with the command line's limits; a huge window is refused,
 * never allocated; methods are checked. */
static void
test_bad_requests(void)
{
  Server *s = server_start(NULL);
  const struct {
    const char *path, *why;
  } bad[] = {
    { "/api/pixels?addr=0x1000&width=64&height=8", "format" },
    { "/api/pixels?addr=zz&format=gray8&width=64&height=8&phys=1", "addr: not a number" },
    { "/api/pixels?format=gray8&width=64&height=8&phys=1", "addr: give an address" },
    { "/api/pixels?addr=0&format=gray8&width=0&height=8&phys=1", "between 1 and" },
    { "/api/pixels?addr=0&format=gray8&width=99999&height=8&phys=1", "width: at most" },
    { "/api/pixels?addr=0&format=rgba8888&width=4096&height=4096&phys=1", "at most 16 MiB" },
    { "/api/pixels?addr=0&format=gray8&width=64&height=8&stride=8&phys=1", "less than a row" },
    { "/api/pixels?addr=0xffffffffffffff00&format=gray8&width=64&height=8&phys=1", "wrap" },
    { "/api/pixels?addr=0&format=gray8&width=64&height=8&phys=1&pid=1", "exclude" },
    { "/api/pixels?addr=0&format=gray8&width=64&height=8&pid=x", "pid: not a number" },
    { "/api/pixels?addr=0&format=gray8&width=64&height=8&phys=yes", "phys: 0 or 1" },
    { "/api/pixels?addr=0&format=gray8&width=64&height=8&scale=17&phys=1", "scale: at most" },
    { "/api/pixels?addr=18446744073709551616&format=gray8&width=64&height=8&phys=1", "addr" },
    { "/api/maps", "pid: give" },
    { "/api/decoded?kind=tiff&addr=0", "kind: png" },
    { "/api/decoded?kind=png", "addr: give" },
    { "/api/decoded?kind=png&addr=0x1000&phys=1", "no png file" },
    { "/api/maps?pid=99999999999", "pid: at most" },
    { "/api/widths?addr=0x1000&phys=1", "len: the bytes" },
    { "/api/widths?addr=0x1000&phys=1&len=0", "len: the bytes" },
    { "/api/widths?addr=0x1000&phys=1&len=4194305", "len: at most" },
    { "/api/widths?addr=0xfffffffffffff000&phys=1&len=8192", "wrapping" },
    { "/api/widths?addr=0x1000&phys=1&pid=1&len=64", "exclude" },
    { "/api/widths?addr=0x1000&phys=1&len=64&format=rgb999", "format: one of" },
    { "/api/widths?phys=1&len=64", "addr: give" },
    { "/api/peek?addr=0x1000&phys=1&len=1025", "len: at most" },
    { "/api/peek?addr=0x1000&phys=1&len=0", "1 to 1024" },
    { "/api/peek?addr=0xffffffffffffffff&phys=1&len=2", "wrapping" },
    { "/api/peek?addr=0x1000&phys=1&owners=2", "owners: 0 or 1" },
    { "/api/thumbnail?kind=png&addr=0x1000&side=8", "side: 16 to 256" },
    { "/api/thumbnail?kind=png&addr=0x1000&side=999", "side: at most 256" },
    { "/api/thumbnail?kind=png", "addr: give" },
    { "/api/thumbnail?kind=framebuffer&addr=0x1000", "format: one of" },
    { "/api/thumbnail?kind=framebuffer&addr=0x1000&format=gray8&width=0&height=4", "" },
    { "/api/thumbnail?kind=framebuffer&addr=0x1000&format=gray8&width=16384&height=16384",
      "at most 16 Mpixels" },
    { "/api/carved?kind=tiff&addr=0x1000", "kind: png" },
    { "/api/finds?text=a&hex=41", "one of text, hex or regex" },
    { "/api/finds?text=", "not empty" },
    { "/api/finds?regex=(", "regular expression" },
    { "/api/finds?hex=zz", "hex" },
    { "/api/carved?kind=png,gif&addr=0x1000", "kind: png" },
    { "/api/carved?kind=gif&addr=0x1000&phys=1", "no gif file" },
    { "/api/carved?kind=framebuffer&addr=0xfffffffffffff000&format=gray8&width=64&height=128",
      "wrapping" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
    expect_refused(s, bad[i].path, SOUP_STATUS_BAD_REQUEST, bad[i].why);
  g_autofree char *long_text = g_strnfill(300, 'x');
  g_autofree char *long_search = g_strconcat("/api/finds?text=", long_text, NULL);
  expect_refused(s, long_search, SOUP_STATUS_BAD_REQUEST, "text: at most 256 bytes");
  /* A process that is not there. */
  expect_refused(s, "/api/maps?pid=2147483000", SOUP_STATUS_BAD_REQUEST, "");
  g_autofree char *post_ps = g_strdup_printf("/api/ps?token=%s", s->token);
  g_autoptr(Reply) post = request(s, "POST", post_ps, NULL, NULL);
  g_assert_cmpuint(post->status, ==, 405);
  g_autofree char *get_pause = g_strdup_printf("/api/pause?token=%s", s->token);
  g_autoptr(Reply) gp = request(s, "GET", get_pause, NULL, NULL);
  g_assert_cmpuint(gp->status, ==, 405);
  g_assert_true(hw_test_guest_running(guest));
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
}

/* Pause from the viewer holds the guest; reads then say so; a signal to the server
 * resumes the guest it paused. Another address than loopback is warned about. */
static void
test_pause_and_signals(void)
{
  Server *s = server_start(NULL);
  g_autofree char *pause = g_strdup_printf("/api/pause?token=%s", s->token);
  g_autoptr(Reply) pr = request(s, "POST", pause, NULL, NULL);
  g_assert_cmpuint(pr->status, ==, 200);
  g_autoptr(JsonParser) p1 = json_parser_new();
  g_assert_true(json_object_get_boolean_member(reply_object(pr, p1), "held"));
  g_assert_false(hw_test_guest_running(guest));
  g_autoptr(Reply) st = get(s, "/api/state");
  g_autoptr(JsonParser) p2 = json_parser_new();
  JsonObject *state = reply_object(st, p2);
  g_assert_false(json_object_get_boolean_member(state, "running"));
  g_assert_true(json_object_get_boolean_member(state, "held"));
  g_autofree char *path = g_strdup_printf("/api/pixels?phys=1&addr=0x%" G_GINT64_MODIFIER
                                          "x&format=gray8&width=64&height=4",
                                          guest->spin.grad_pa);
  g_autoptr(Reply) px = get(s, path);
  g_assert_cmpuint(px->status, ==, 200);
  g_assert_cmpstr(soup_message_headers_get_one(px->headers, "X-Haywire-State"), ==,
                  "already-paused");
  g_assert_false(hw_test_guest_running(guest));
  /* SIGTERM while the viewer holds the guest: resumed, then the process ends by it. */
  int status = server_stop(s, SIGTERM);
  g_assert_cmpint(status, ==, 128 + SIGTERM);
  g_assert_true(hw_test_guest_running(guest));

  /* Resume from the viewer, then SIGINT: a clean end. */
  s = server_start(NULL);
  g_autofree char *pause2 = g_strdup_printf("/api/pause?token=%s", s->token);
  g_autofree char *resume2 = g_strdup_printf("/api/resume?token=%s", s->token);
  g_autoptr(Reply) a = request(s, "POST", pause2, NULL, NULL);
  g_assert_false(hw_test_guest_running(guest));
  g_autoptr(Reply) b = request(s, "POST", resume2, NULL, NULL);
  g_assert_cmpuint(b->status, ==, 200);
  g_assert_true(hw_test_guest_running(guest));
  g_autoptr(Reply) c = request(s, "POST", resume2, NULL, NULL);
  g_assert_cmpuint(c->status, ==, 409);   /* it resumes only what it paused */
  g_assert_cmpint(server_stop(s, SIGINT), ==, 0);

  /* Any address: a warning. A bad --listen: a usage error. */
  const char *const any[] = { "--listen", "0.0.0.0:0", NULL };
  s = server_start(any);
  g_autofree char *warning = read_line(s->err_fd, 10);
  g_assert_nonnull(warning);
  g_assert_nonnull(strstr(warning, "not on loopback"));
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
  g_autoptr(HwRun) r = hw_test_runv(guest, "serve", "--listen", "localhost:99999", NULL);
  g_assert_cmpint(r->status, ==, 2);
  g_assert_nonnull(strstr(r->err, "port of 0-65535"));
  g_assert_true(hw_test_guest_running(guest));
}


/* ---- the page itself, in headless Chromium ------------------------------------- */

/* Run Debian's chromium headless on URL with MODE (--dump-dom or --screenshot=FILE) and
 * its own profile in DIR; its stdout (the DOM for --dump-dom). */
static char *
chromium(const char *dir, const char *url, const char *mode)
{
  g_autofree char *profile = g_strdup_printf("--user-data-dir=%s/profile", dir);
  const char *argv[] = { "chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                         "--no-first-run", "--hide-scrollbars", "--window-size=1280,800",
                         "--virtual-time-budget=10000", profile, mode, url, NULL };
  char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out,
                             &err, &status, &error));
  g_assert_no_error(error);
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("chromium %s failed: %s", mode, err);
  g_free(err);
  return out;
}

static gboolean
close_to(const guint8 *a, const guint8 *b)
{
  for (guint c = 0; c < 3; c++)
    if (abs((int)a[c] - (int)b[c]) > 2)
      return FALSE;
  return TRUE;
}

/* Whether the screenshot SHOT (SW x SH) shows WANT (GW x GH, RGBA) drawn at ZOOM with
 * its top-left corner at (X, Y): every pixel, at the centre of its square. */
static gboolean
drawn_at(const guint8 *shot, guint sw, guint sh, guint x, guint y, const guint8 *want,
         guint gw, guint gh, guint zoom)
{
  if (x + gw * zoom > sw || y + gh * zoom > sh)
    return FALSE;
  for (guint gy = 0; gy < gh; gy++)
    for (guint gx = 0; gx < gw; gx++) {
      gsize at = ((gsize)(y + gy * zoom + zoom / 2) * sw + x + gx * zoom + zoom / 2) * 4;
      if (!close_to(shot + at, want + ((gsize)gy * gw + gx) * 4))
        return FALSE;
    }
  return TRUE;
}

/* Where the screenshot SHOT shows WANT drawn at ZOOM (its top-left corner in *X, *Y). */
static gboolean
find_drawn(const guint8 *shot, guint sw, guint sh, const guint8 *want, guint gw, guint gh,
           guint zoom, guint *x, guint *y)
{
  for (guint py = 0; py < sh; py++)
    for (guint px = 0; px < sw; px++)
      if (close_to(shot + ((gsize)py * sw + px) * 4, want) &&
          drawn_at(shot, sw, sh, px, py, want, gw, gh, zoom)) {
        *x = px;
        *y = py;
        return TRUE;
      }
  return FALSE;
}

/* The page in a real browser: it lists the guest's processes, hwtest among them, shows
 * the run state, and draws hwtest's gradient with the right pixels; without the token
 * it gets nothing but the refusal. The screenshot is kept where $HW_VIEWER_SCREENSHOT
 * says (the README's picture). */
static void
test_browser(void)
{
  Server *s = server_start(NULL);
  const HwTruthProc *spin = &guest->spin;
  g_autofree char *dir = g_dir_make_tmp("hw-browser-XXXXXX", NULL);
  g_autofree char *url = g_strdup_printf("%s&pid=%d&addr=0x%" G_GINT64_MODIFIER
                                         "x&format=rgba8888&width=%u", s->url, spin->pid,
                                         spin->grad_va, spin->grad_w);
  /* widths=1: the page asks for width suggestions at once, as the w key does. */
  g_autofree char *dom_url = g_strdup_printf("%s&widths=1", url);
  g_autofree char *dom = chromium(dir, dom_url, "--dump-dom");
  const char *widths = strstr(dom, "id=\"widths\"");
  g_assert_nonnull(widths);
  g_autofree char *real_width = g_strdup_printf("data-width=\"%u\"", spin->grad_w);
  const char *end = strstr(widths, "</ol>");
  const char *hit = strstr(widths, real_width);
  if (hit == NULL || end == NULL || hit > end)
    g_error("the width suggestions lack the gradient's width %u: %.600s", spin->grad_w, widths);
  /* The hex pane shows the gradient's first bytes, the address line its gpa, the
   * owners hwtest. */
  g_autofree guint8 *first = g_malloc((gsize)spin->grad_w * spin->grad_h * 4);
  hw_test_expected_gradient(first, spin->grad_w, spin->grad_h);
  g_autofree char *first_line = g_strdup_printf("%012" G_GINT64_MODIFIER "x  <b>%02x</b> %02x %02x",
                                                spin->grad_va, first[0], first[1], first[2]);
  const char *hexpane = strstr(dom, "id=\"hex\"");
  if (hexpane == NULL || strstr(hexpane, first_line) == NULL)
    g_error("the hex pane does not start with '%s': %.400s", first_line, hexpane);
  g_autofree char *gpa = g_strdup_printf("gpa 0x%" G_GINT64_MODIFIER "x", spin->grad_pa);
  const char *where = strstr(dom, "id=\"where\"");
  g_assert_nonnull(where);
  if (strstr(where, gpa) == NULL)
    g_error("the address line lacks %s: %.300s", gpa, where);
  g_autofree char *owner = g_strdup_printf("hwtest (%d) at 0x%" G_GINT64_MODIFIER "x", spin->pid,
                                           spin->grad_va & ~(guint64)4095);
  if (strstr(where, owner) == NULL)
    g_error("the owners lack '%s': %.600s", owner, where);
  g_assert_nonnull(strstr(dom, "id=\"procs\""));
  g_autofree char *entry = g_strdup_printf("data-pid=\"%d\"", spin->pid);
  const char *li = strstr(dom, entry);
  if (li == NULL || strstr(li, "hwtest") == NULL)
    g_error("the process list has no hwtest (pid %d): %s", spin->pid, dom);
  g_assert_nonnull(strstr(dom, "class=\"badge running\""));
  /* The finds list holds the test program's files. */
  const char *finds = strstr(dom, "id=\"finds\"");
  g_assert_nonnull(finds);
  for (guint k = 0; k < 4; k++) {
    static const char *const kinds[] = { "png", "jpeg", "gif", "bmp" };
    g_autofree char *item = g_strdup_printf("data-kind=\"%s\"", kinds[k]);
    if (strstr(finds, item) == NULL)
      g_error("the finds list has no %s: %s", kinds[k], finds);
  }
  /* Each with its thumbnail drawn and a download of the carved file. */
  guint loaded = 0, downloads = 0;
  for (const char *at = finds; (at = strstr(at, "data-loaded=\"1\"")) != NULL; at++)
    loaded++;
  for (const char *at = finds; (at = strstr(at, "href=\"/api/carved?")) != NULL; at++)
    downloads++;
  if (loaded < 8 || downloads < loaded)
    g_error("the finds list has %u thumbnails and %u downloads: %.2000s", loaded, downloads,
            finds);

  g_autofree char *shot_path = g_build_filename(dir, "viewer.png", NULL);
  g_autofree char *mode = g_strdup_printf("--screenshot=%s", shot_path);
  g_autofree char *ignored = chromium(dir, url, mode);
  guint sw = 0, sh = 0, gw = spin->grad_w, gh = spin->grad_h;
  g_autofree guint8 *shot = hw_test_read_png(shot_path, &sw, &sh);
  g_autofree guint8 *want = g_malloc((gsize)gw * gh * 4);
  hw_test_expected_gradient(want, gw, gh);
  guint fx = 0, fy = 0;
  if (!find_drawn(shot, sw, sh, want, gw, gh, 2, &fx, &fy))
    g_error("the screenshot (%ux%u, %s) does not show hwtest's gradient at zoom 2", sw, sh,
            shot_path);
  g_test_message("the gradient is drawn at (%u, %u) of the %ux%u screenshot", fx, fy, sw, sh);

  /* hwtest-sleeper's 200x150 bitmap, opened the same way: the README's picture. */
  const HwTruthImage *raw = hw_test_guest_image(guest, guest->sleep.pid, "raw");
  g_assert_nonnull(raw);
  g_autofree char *raw_url = g_strdup_printf("%s&pid=%d&addr=0x%" G_GINT64_MODIFIER
                                             "x&format=rgba8888&width=%d&widths=1", s->url,
                                             guest->sleep.pid, raw->va, HWTEST_RAW_W);
  g_autofree char *raw_path = g_build_filename(dir, "viewer-raw.png", NULL);
  g_autofree char *raw_mode = g_strdup_printf("--screenshot=%s", raw_path);
  g_autofree char *ignored2 = chromium(dir, raw_url, raw_mode);
  g_autofree guint8 *raw_shot = hw_test_read_png(raw_path, &sw, &sh);
  g_autofree guint8 *raw_want = g_malloc((gsize)HWTEST_RAW_W * HWTEST_RAW_H * 4);
  for (int y = 0; y < HWTEST_RAW_H; y++)
    for (int x = 0; x < HWTEST_RAW_W; x++)
      hwtest_raw_pixel(x, y, raw_want + ((gsize)y * HWTEST_RAW_W + x) * 4);
  if (!find_drawn(raw_shot, sw, sh, raw_want, HWTEST_RAW_W, HWTEST_RAW_H, 2, &fx, &fy))
    g_error("the screenshot %s does not show hwtest-sleeper's bitmap at zoom 2", raw_path);
  const char *keep = g_getenv("HW_VIEWER_SCREENSHOT");
  if (keep) {
    g_autofree char *png = NULL;
    gsize n = 0;
    g_assert_true(g_file_get_contents(raw_path, &png, &n, NULL));
    g_assert_true(g_file_set_contents(keep, png, (gssize)n, NULL));
  }

  /* The overview, opened first: its legend counts the image pages. */
  g_autofree char *ov_url = g_strdup_printf("%s&tab=overview", s->url);
  g_autofree char *ov_dom = chromium(dir, ov_url, "--dump-dom");
  const char *legend = strstr(ov_dom, "id=\"overview-legend\"");
  g_assert_nonnull(legend);
  if (strstr(legend, "image ") == NULL || strstr(legend, "zero ") == NULL)
    g_error("the overview's legend has no image and zero pages: %.400s", legend);

  /* The heat map, opened first: its first sample drawn, its legend saying so. */
  g_autofree char *heat_url = g_strdup_printf("%s&tab=overview&mode=heat", s->url);
  g_autofree char *heat_dom = chromium(dir, heat_url, "--dump-dom");
  const char *heat = strstr(heat_dom, "id=\"overview-legend\"");
  g_assert_nonnull(heat);
  if (strstr(heat, "data-sample=") == NULL || strstr(heat, "changed since the last sample") == NULL)
    g_error("the heat map's legend: %.400s", heat);

  /* Without the token: the refusal, and no guest data. */
  g_autofree char *bare = g_strdup_printf("%s/", s->base);
  g_autofree char *refused = chromium(dir, bare, "--dump-dom");
  g_assert_nonnull(strstr(refused, "access token"));
  g_assert_null(strstr(refused, "hwtest"));
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
  g_assert_true(hw_test_guest_running(guest));
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
  g_assert_cmpint(system(rm), ==, 0);
}

/* ---- the Screen view (on a guest with a display) ------------------------------------ */

static guint screen_fb, screen_crtc;

/* The screen as the viewer serves it (/api/screen, RGBA) and lists it (/api/gpu), against
 * QEMU's screendump taken while the viewer holds the guest paused; then the page's Screen
 * view in Chromium draws it 1:1 and names the framebuffer and its CRTC. */
static void
test_screen(void)
{
  Server *s = server_start(NULL);
  g_autoptr(JsonParser) jp = json_parser_new();
  g_autoptr(Reply) gpu = get(s, "/api/gpu");
  g_assert_cmpuint(gpu->status, ==, 200);
  JsonObject *o = reply_object(gpu, jp);
  JsonArray *fbs = json_object_get_array_member(o, "framebuffers");
  gboolean listed = FALSE;
  g_autofree char *vram_at = NULL;   /* the screen's gpa when it is one stretch of VRAM */
  guint pitch = 0;
  for (guint i = 0; i < json_array_get_length(fbs); i++) {
    JsonObject *fb = json_array_get_object_element(fbs, i);
    if (json_object_get_int_member(fb, "id") != screen_fb)
      continue;
    listed = json_object_get_boolean_member(fb, "on_screen") &&
             json_object_get_int_member(fb, "crtc") == screen_crtc;
    pitch = (guint)json_object_get_int_member(fb, "pitch");
    if (strcmp(json_object_get_string_member(fb, "backing"), "vram") == 0)
      vram_at = g_strdup(json_object_get_string_member(
          json_array_get_object_element(json_object_get_array_member(fb, "extents"), 0), "gpa"));
  }
  g_assert_true(listed);
  g_autoptr(Reply) held = request(s, "POST", "/api/pause", "X-Haywire-Token", s->token);
  g_assert_cmpuint(held->status, ==, 200);
  guint w = 0, h = 0;
  g_autofree guint8 *dump = hw_test_screendump(guest, &w, &h);
  g_autoptr(Reply) shot = get(s, "/api/screen");
  g_autoptr(Reply) go = request(s, "POST", "/api/resume", "X-Haywire-Token", s->token);
  g_assert_cmpuint(shot->status, ==, 200);
  g_assert_cmpuint(go->status, ==, 200);
  g_autofree char *width = g_strdup_printf("%u", w);
  g_assert_cmpstr(soup_message_headers_get_one(shot->headers, "X-Haywire-Width"), ==, width);
  g_assert_cmpuint(g_ascii_strtoull(soup_message_headers_get_one(shot->headers,
                                                                 "X-Haywire-Framebuffer"), NULL, 10),
                   ==, screen_fb);
  gsize n = 0;
  const guint8 *rgba = g_bytes_get_data(shot->body, &n);
  g_assert_cmpuint(n, ==, (gsize)w * h * 4);
  for (gsize i = 0; i < (gsize)w * h; i++)
    if (memcmp(rgba + i * 4, dump + i * 3, 3) != 0)
      g_error("/api/screen pixel %" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT " differs from the "
              "screendump", i % w, i / w);
  /* Device memory in the memory view: the screen's VRAM drawn as xrgb8888 rows of its
   * pitch is the screen too (what a click on its pixels in the Screen view opens). */
  if (vram_at != NULL) {
    g_autofree char *q = g_strdup_printf("/api/pixels?phys=1&addr=%s&format=xrgb8888&width=%u"
                                         "&height=%u&stride=%u", vram_at, w, MIN(h, 400u), pitch);
    g_autoptr(Reply) px = get(s, q);
    g_assert_cmpuint(px->status, ==, 200);
    gsize pn = 0;
    const guint8 *view = g_bytes_get_data(px->body, &pn);
    g_assert_cmpuint(pn, ==, (gsize)w * MIN(h, 400u) * 4);
    for (gsize i = 0; i < (gsize)w * MIN(h, 400u); i++)
      if (memcmp(view + i * 4, dump + i * 3, 3) != 0)
        g_error("VRAM at %s in the memory view differs from the screendump at %" G_GSIZE_FORMAT
                ",%" G_GSIZE_FORMAT, vram_at, i % w, i / w);
  }
  /* A framebuffer that is not there, a malformed id. */
  g_autoptr(Reply) none = get(s, "/api/screen?fb=999999");
  g_assert_cmpuint(none->status, ==, 400);
  g_autoptr(Reply) bad = get(s, "/api/screen?fb=-1");
  g_assert_cmpuint(bad->status, ==, 400);

  /* The page: the top-left 200x150 of the screen, drawn 1:1 somewhere in the shot. */
  g_autofree char *dir = g_dir_make_tmp("hw-browser-XXXXXX", NULL);
  g_autofree char *url = g_strdup_printf("%s&tab=screen", s->url);
  g_autofree char *dom = chromium(dir, url, "--dump-dom");
  g_autofree char *says = g_strdup_printf("framebuffer %u (XR24) %ux%u, on crtc %u", screen_fb,
                                          w, h, screen_crtc);
  if (strstr(dom, says) == NULL)
    g_error("the Screen view does not say \"%s\": %.3000s", says, dom);
  g_autofree char *shot_path = g_build_filename(dir, "screen.png", NULL);
  g_autofree char *mode = g_strdup_printf("--screenshot=%s", shot_path);
  g_autofree char *ignored = chromium(dir, url, mode);
  guint sw = 0, sh = 0, gw = MIN(w, 200u), gh = MIN(h, 150u);
  g_autofree guint8 *page = hw_test_read_png(shot_path, &sw, &sh);
  g_autofree guint8 *want = g_malloc((gsize)gw * gh * 4);
  for (guint y = 0; y < gh; y++)
    for (guint x = 0; x < gw; x++) {
      memcpy(want + ((gsize)y * gw + x) * 4, dump + ((gsize)y * w + x) * 3, 3);
      want[((gsize)y * gw + x) * 4 + 3] = 255;
    }
  guint fx = 0, fy = 0;
  if (!find_drawn(page, sw, sh, want, gw, gh, 1, &fx, &fy))
    g_error("the Screen view's screenshot %s does not show the guest's screen", shot_path);
  g_test_message("the screen is drawn at (%u, %u) of the page", fx, fy);
  const char *keep = g_getenv("HW_SCREEN_SCREENSHOT");
  if (keep) {
    g_autofree char *png = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(shot_path, &png, &len, NULL));
    g_assert_true(g_file_set_contents(keep, png, (gssize)len, NULL));
  }
  g_assert_cmpint(server_stop(s, SIGTERM), ==, 0);
  g_assert_true(hw_test_guest_running(guest));
}

void
hw_test_add_serve_screen_tests(HwTestGuest *g, guint fb, guint crtc)
{
  guest = g;
  screen_fb = fb;
  screen_crtc = crtc;
  g_autofree char *p = g_strdup_printf("/serve/%s/", g->config);
  hw_test_add(p, "screen", test_screen);
}

void
hw_test_add_serve_tests(HwTestGuest *g)
{
  guest = g;
  g_autofree char *p = g_strdup_printf("/serve/%s/", g->config);
  hw_test_add(p, "token", test_token);
  hw_test_add(p, "api", test_api);
  hw_test_add(p, "widths-and-peek", test_widths_and_peek);
  hw_test_add(p, "stream", test_stream);
  hw_test_add(p, "thumbnails-and-carving", test_thumbnails_and_carving);
  hw_test_add(p, "live", test_live);
  hw_test_add(p, "search", test_search);
  hw_test_add(p, "bad-requests", test_bad_requests);
  hw_test_add(p, "pause-and-signals", test_pause_and_signals);
  hw_test_add(p, "browser", test_browser);
}
