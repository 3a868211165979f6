/* What a launch script does around QEMU: `haywire wait` for a socket that does not
 * exist yet while QEMU starts, for a run state, for a line on the serial console; and
 * its time-out, which must come after the time given and within a second of it. The
 * guest is booted here, with `wait` already running. Then `haywire watch` follows the
 * stop, cont and system_reset issued on the second QMP socket, runs commands at them,
 * and ends on SIGTERM and on QEMU's SHUTDOWN. */
#include "guest-harness.h"

#include <glib/gstdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *config;
static HwTestGuest *guest;

static const char *
haywire(void)
{
  const char *exe = g_getenv("HW_HAYWIRE");
  g_assert_nonnull(exe);
  return exe;
}

/* A socket that never appears: exit 1 after the time-out, not before, within 1 s after. */
static void
test_wait_missing(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-wait-XXXXXX", NULL);
  g_autofree char *sock = g_build_filename(dir, "never.sock", NULL);
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(HwRun) r = hw_test_runv(NULL, "--qmp", sock, "wait", "--timeout", "1.5", NULL);
  double took = (g_get_monotonic_time() - t0) / 1e6;
  g_assert_cmpint(r->status, ==, 1);
  g_assert_nonnull(strstr(r->err, "gave up after 1.5 s"));
  g_assert_nonnull(strstr(r->err, "No such file"));
  g_assert_cmpfloat(took, >=, 1.5);
  g_assert_cmpfloat(took, <, 2.5);
  g_test_message("a missing socket: gave up after %.2f s (time-out 1.5 s)", took);
  g_rmdir(dir);
}

/* Started before QEMU: returns once the socket answers, the guest runs and its console
 * said it is ready; then the socket is free for the next command. */
static void
test_wait_starting(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-wait-XXXXXX", NULL);
  g_autofree char *sock = g_build_filename(dir, "qmp.sock", NULL);
  g_autofree char *serial = g_build_filename(dir, "serial.log", NULL);
  const char *argv[] = { haywire(), "--qmp", sock, "--json", "wait", "--timeout", "300",
                         "--status", "running", "--serial", serial, "--for", "^HWGUEST-READY$",
                         NULL };
  GPid pid;
  int out_fd;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                         NULL, NULL, &pid, NULL, &out_fd, NULL, &error));
  g_assert_no_error(error);
  g_usleep(300 * 1000);   /* it is waiting for a socket that is not there */
  guest = hw_test_guest_boot_in(config, dir);
  int status = 0;
  gint64 deadline = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  pid_t done = 0;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
    g_usleep(20 * 1000);
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    g_error("wait did not return within 30 s of the guest being ready");
  }
  char buf[4096];
  ssize_t n = read(out_fd, buf, sizeof buf - 1);
  close(out_fd);
  g_assert_true(WIFEXITED(status));
  g_assert_cmpint(WEXITSTATUS(status), ==, 0);
  g_assert_cmpint(n, >, 0);
  buf[n] = '\0';
  g_autoptr(JsonNode) node = json_from_string(buf, &error);
  g_assert_no_error(error);
  JsonObject *o = json_node_get_object(node);
  g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "running");
  g_assert_cmpstr(json_object_get_string_member(o, "line"), ==, "HWGUEST-READY");
  g_test_message("wait returned after %.1f s", json_object_get_double_member(o, "waited_s"));
  /* The socket is free: the next command gets it at once. */
  g_autoptr(HwRun) info = hw_test_runv(guest, "--timeout", "5000", "info", NULL);
  g_assert_cmpint(info->status, ==, 0);
}

/* A run state the guest is not in: the time-out, naming the state it is in. */
static void
test_wait_status(void)
{
  g_assert_nonnull(guest);
  gint64 t0 = g_get_monotonic_time();
  g_autoptr(HwRun) r = hw_test_runv(guest, "wait", "--timeout", "1", "--status", "paused", NULL);
  double took = (g_get_monotonic_time() - t0) / 1e6;
  g_assert_cmpint(r->status, ==, 1);
  g_assert_nonnull(strstr(r->err, "the guest is running, not paused"));
  g_assert_cmpfloat(took, >=, 1.0);
  g_assert_cmpfloat(took, <, 2.0);
  hw_test_observer_run(guest, "stop", NULL);
  g_autoptr(HwRun) p = hw_test_runv(guest, "wait", "--timeout", "5", "--status", "paused", NULL);
  hw_test_observer_run(guest, "cont", NULL);
  g_assert_cmpint(p->status, ==, 0);
  g_assert_true(g_str_has_prefix(p->out, "ready after "));
  /* Bad requests: usage errors. */
  g_autoptr(HwRun) lone = hw_test_runv(guest, "wait", "--for", "x", NULL);
  g_assert_cmpint(lone->status, ==, 2);
  g_autoptr(HwRun) neg = hw_test_runv(guest, "wait", "--timeout", "-1", NULL);
  g_assert_cmpint(neg->status, ==, 2);
  g_autoptr(HwRun) re = hw_test_runv(guest, "wait", "--serial", "/dev/null", "--for", "(", NULL);
  g_assert_cmpint(re->status, ==, 2);
  g_assert_true(hw_test_guest_running(guest));
}


/* ---- watch ---------------------------------------------------------------------------- */

typedef struct {
  GPid pid;
  int out;
  GString *buf;
  GPtrArray *lines;   /* JsonObject*, every line read so far */
} Watcher;

static Watcher *
watcher_start(const char *const *extra)
{
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (char *)haywire());
  g_ptr_array_add(argv, "--qmp");
  g_ptr_array_add(argv, guest->qmp);
  g_ptr_array_add(argv, "--json");
  g_ptr_array_add(argv, "watch");
  for (guint i = 0; extra[i]; i++)
    g_ptr_array_add(argv, (char *)extra[i]);
  g_ptr_array_add(argv, NULL);
  Watcher *w = g_new0(Watcher, 1);
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_async_with_pipes(NULL, (char **)argv->pdata, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &w->pid, NULL,
                                         &w->out, NULL, &error));
  g_assert_no_error(error);
  g_ptr_array_unref(argv);
  w->buf = g_string_new(NULL);
  w->lines = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);
  return w;
}

/* The next JSON line from the watcher, within TIMEOUT_S (fatal after). */
static JsonObject *
watcher_next(Watcher *w, double timeout_s)
{
  gint64 deadline = g_get_monotonic_time() + (gint64)(timeout_s * G_USEC_PER_SEC);
  for (;;) {
    const char *nl = strchr(w->buf->str, '\n');
    if (nl != NULL) {
      g_autofree char *line = g_strndup(w->buf->str, (gsize)(nl - w->buf->str));
      g_string_erase(w->buf, 0, nl - w->buf->str + 1);
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = json_from_string(line, &error);
      if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
        g_error("watch printed a line that is not a JSON object: %s", line);
      g_test_message("watch: %s", line);
      JsonObject *o = json_node_dup_object(node);
      g_ptr_array_add(w->lines, json_object_ref(o));
      return o;
    }
    gint64 left = deadline - g_get_monotonic_time();
    if (left <= 0)
      g_error("watch printed no line within %.0f s (so far: %s)", timeout_s, w->buf->str);
    struct pollfd p = { w->out, POLLIN, 0 };
    if (poll(&p, 1, (int)(left / 1000) + 1) > 0) {
      char chunk[65536];
      ssize_t n = read(w->out, chunk, sizeof chunk);
      if (n <= 0)
        g_error("watch closed its output (so far: %s)", w->buf->str);
      g_string_append_len(w->buf, chunk, n);
    }
  }
}

/* The next line of TYPE (and EVENT, if given), skipping others. */
static JsonObject *
watcher_expect(Watcher *w, const char *type, const char *event)
{
  for (guint i = 0; i < 64; i++) {
    JsonObject *o = watcher_next(w, 60);
    if (g_strcmp0(json_object_get_string_member_with_default(o, "type", NULL), type) == 0 &&
        (event == NULL || g_strcmp0(json_object_get_string_member_with_default(o, "event",
                                                                                 NULL),
                                    event) == 0))
      return o;
    json_object_unref(o);
  }
  g_error("no %s %s line from watch", type, event ? event : "");
}

/* Wait for the watcher to exit; its exit status. */
static int
watcher_wait(Watcher *w)
{
  int status = 0;
  gint64 deadline = g_get_monotonic_time() + 20 * G_USEC_PER_SEC;
  pid_t done = 0;
  while ((done = waitpid(w->pid, &status, WNOHANG)) == 0 && g_get_monotonic_time() < deadline)
    g_usleep(20 * 1000);
  if (done == 0) {
    kill(w->pid, SIGKILL);
    waitpid(w->pid, &status, 0);
    g_error("watch did not exit within 20 s");
  }
  g_assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void
watcher_free(Watcher *w)
{
  close(w->out);
  g_string_free(w->buf, TRUE);
  g_ptr_array_unref(w->lines);
  g_free(w);
}

static gint64
epoch_of(JsonObject *o)
{
  return json_object_get_int_member(o, "epoch");
}

/* stop, cont, system_reset on the observer socket: each event once, with the epoch it
 * leads to; the --on-stop scan runs at the STOP, in that epoch, on the guest as it was
 * paused by someone else; a RESET command that pauses marks its own STOP/RESUME and
 * starts no --on-stop; SIGTERM ends it with exit 0 and the guest running. */
static void
test_watch_events(void)
{
  g_assert_nonnull(guest);
  g_autofree char *scan = g_strdup_printf("scan --pid %d --string " HW_TEST_MARKER,
                                          guest->sleep.pid);
  g_autofree char *on_reset = g_strdup("RESET:scan --phys --string HW-NOT-THERE-{epoch}");
  const char *extra[] = { "--on-stop", scan, "--on-event", on_reset, NULL };
  Watcher *w = watcher_start(extra);
  JsonObject *a = watcher_expect(w, "attached", NULL);
  g_assert_cmpstr(json_object_get_string_member(a, "status"), ==, "running");
  gint64 e0 = epoch_of(a);
  json_object_unref(a);

  hw_test_observer_run(guest, "stop", NULL);
  JsonObject *stop = watcher_expect(w, "event", "STOP");
  g_assert_cmpint(epoch_of(stop), ==, e0);
  g_assert_cmpstr(json_object_get_string_member(stop, "status"), ==, "paused");
  g_assert_false(json_object_get_boolean_member(stop, "by_haywire"));
  g_assert_nonnull(json_object_get_string_member(stop, "timestamp"));
  JsonObject *cmd = watcher_next(w, 60);
  g_assert_cmpstr(json_object_get_string_member(cmd, "type"), ==, "command");
  g_assert_cmpstr(json_object_get_string_member(cmd, "after"), ==, "STOP");
  /* The scan's own lines (its hits, then its summary) until the command is done: the
   * marker found in the paused moment the STOP began. */
  JsonObject *result = NULL, *done = NULL;
  guint hits = 0;
  while (done == NULL) {
    JsonObject *o = watcher_next(w, 120);
    const char *type = json_object_get_string_member_with_default(o, "type", NULL);
    const char *kind = json_object_get_string_member_with_default(o, "kind", NULL);
    if (g_strcmp0(type, "command-done") == 0)
      done = o;
    else if (g_strcmp0(kind, "summary") == 0)
      result = o;
    else {
      g_assert_cmpstr(kind, ==, "string");
      hits++;
      json_object_unref(o);
    }
  }
  g_assert_nonnull(result);
  g_assert_cmpint(epoch_of(result), ==, e0);
  g_assert_cmpstr(json_object_get_string_member(result, "state"), ==, "already-paused");
  g_assert_cmpint(json_object_get_int_member(result, "hits"), ==, hits);
  g_assert_cmpuint(hits, >=, 1);
  g_assert_cmpint(json_object_get_int_member(done, "exit"), ==, 0);
  g_assert_false(hw_test_guest_running(guest));   /* nobody resumed it */

  hw_test_observer_run(guest, "cont", NULL);
  JsonObject *resume = watcher_expect(w, "event", "RESUME");
  g_assert_cmpint(epoch_of(resume), ==, e0 + 1);
  g_assert_cmpstr(json_object_get_string_member(resume, "status"), ==, "running");

  /* The test guests run with -no-reboot, which makes a reset a shutdown: undo that. */
  hw_test_observer_run(guest, "set-action", "{\"reboot\": \"reset\"}");
  hw_test_observer_run(guest, "system_reset", NULL);
  JsonObject *reset = watcher_expect(w, "event", "RESET");
  g_assert_cmpint(epoch_of(reset), ==, e0 + 1);   /* it ran already: same stretch */
  g_assert_cmpstr(json_object_get_string_member(reset, "status"), ==, "running");
  JsonObject *rdata = json_object_get_object_member(reset, "data");
  g_assert_nonnull(rdata);
  g_assert_cmpstr(json_object_get_string_member(rdata, "reason"), ==, "host-qmp-system-reset");
  /* The RESET command pauses the running guest: its STOP and RESUME are marked ours and
   * the --on-stop scan does not run for them. */
  JsonObject *rcmd = watcher_expect(w, "command", NULL);
  g_assert_cmpstr(json_object_get_string_member(rcmd, "after"), ==, "RESET");
  g_assert_nonnull(strstr(json_object_get_string_member(rcmd, "command"), "{epoch}"));
  JsonObject *rdone = watcher_expect(w, "command-done", NULL);
  g_assert_cmpint(json_object_get_int_member(rdone, "exit"), ==, 0);
  JsonObject *own_stop = watcher_expect(w, "event", NULL);
  g_assert_cmpstr(json_object_get_string_member(own_stop, "event"), ==, "STOP");
  g_assert_true(json_object_get_boolean_member(own_stop, "by_haywire"));
  JsonObject *own_resume = watcher_expect(w, "event", NULL);
  g_assert_cmpstr(json_object_get_string_member(own_resume, "event"), ==, "RESUME");
  g_assert_true(json_object_get_boolean_member(own_resume, "by_haywire"));
  g_assert_cmpint(epoch_of(own_resume), ==, e0 + 2);

  kill(w->pid, SIGTERM);
  JsonObject *end = watcher_expect(w, "end", NULL);
  g_assert_cmpstr(json_object_get_string_member(end, "reason"), ==, "SIGTERM");
  g_assert_cmpint(watcher_wait(w), ==, 0);
  g_assert_true(hw_test_guest_running(guest));
  /* Exactly one --on-stop scan ran: for the observer's STOP only. */
  guint scans = 0;
  for (guint i = 0; i < w->lines->len; i++) {
    JsonObject *o = w->lines->pdata[i];
    if (g_strcmp0(json_object_get_string_member_with_default(o, "type", ""), "command") == 0 &&
        g_strcmp0(json_object_get_string_member(o, "after"), "STOP") == 0)
      scans++;
  }
  g_assert_cmpuint(scans, ==, 1);
  json_object_unref(stop);
  json_object_unref(cmd);
  json_object_unref(result);
  json_object_unref(done);
  json_object_unref(resume);
  json_object_unref(reset);
  json_object_unref(rcmd);
  json_object_unref(rdone);
  json_object_unref(own_stop);
  json_object_unref(own_resume);
  json_object_unref(end);
  watcher_free(w);
}

/* Bad requests, and a signal while a command holds the guest paused: it is resumed. */
static void
test_watch_bad(void)
{
  g_assert_nonnull(guest);
  g_autoptr(HwRun) unknown = hw_test_runv(guest, "watch", "--on-stop", "frobnicate", NULL);
  g_assert_cmpint(unknown->status, ==, 2);
  g_assert_nonnull(strstr(unknown->err, "'frobnicate' is not a haywire command"));
  g_autoptr(HwRun) nested = hw_test_runv(guest, "watch", "--on-stop", "watch", NULL);
  g_assert_cmpint(nested->status, ==, 2);
  g_autoptr(HwRun) quote = hw_test_runv(guest, "watch", "--on-stop", "scan '", NULL);
  g_assert_cmpint(quote->status, ==, 2);
  g_autoptr(HwRun) colon = hw_test_runv(guest, "watch", "--on-event", "RESET", NULL);
  g_assert_cmpint(colon->status, ==, 2);
  g_autoptr(HwRun) extra = hw_test_runv(guest, "watch", "now", NULL);
  g_assert_cmpint(extra->status, ==, 2);
  g_autoptr(HwRun) rec = hw_test_runv(NULL, "--dump", "/dev/null", "watch", NULL);
  g_assert_cmpint(rec->status, ==, 2);
  g_autoptr(HwRun) help = hw_test_runv(NULL, "watch", "--help", NULL);
  g_assert_cmpint(help->status, ==, 0);
  g_assert_nonnull(strstr(help->out, "--on-event"));

  /* SIGINT while the RESUME command (a paused scan of all RAM, one thread) holds the
   * guest: the guard resumes it, and the watch ends by the signal. */
  const char *extra_args[] = {
    "--on-event", "RESUME:scan --phys --find png,jpeg,gif,bmp,raw --threads 1", NULL };
  Watcher *w = watcher_start(extra_args);
  json_object_unref(watcher_expect(w, "attached", NULL));
  hw_test_observer_run(guest, "stop", NULL);
  hw_test_observer_run(guest, "cont", NULL);
  json_object_unref(watcher_expect(w, "command", NULL));
  gboolean held = FALSE;
  for (guint i = 0; i < 500 && !held; i++) {
    held = !hw_test_guest_running(guest);
    if (!held)
      g_usleep(5 * 1000);
  }
  g_assert_true(held);   /* the scan paused it */
  kill(w->pid, SIGINT);
  int status = 0;
  waitpid(w->pid, &status, 0);
  g_assert_true(WIFSIGNALED(status));
  g_assert_cmpint(WTERMSIG(status), ==, SIGINT);
  g_assert_true(hw_test_guest_running(guest));
  watcher_free(w);
}

/* QEMU quits (on the observer socket): SHUTDOWN, then exit 0. The guest is gone after. */
static void
test_watch_shutdown(void)
{
  g_assert_nonnull(guest);
  const char *extra[] = { NULL };
  Watcher *w = watcher_start(extra);
  json_object_unref(watcher_expect(w, "attached", NULL));
  hw_test_observer_run(guest, "quit", NULL);
  JsonObject *sd = watcher_expect(w, "event", "SHUTDOWN");
  g_assert_cmpstr(json_object_get_string_member(sd, "status"), ==, "shutdown");
  JsonObject *end = watcher_expect(w, "end", NULL);
  g_assert_cmpstr(json_object_get_string_member(end, "reason"), ==, "SHUTDOWN");
  g_assert_cmpint(watcher_wait(w), ==, 0);
  json_object_unref(sd);
  json_object_unref(end);
  watcher_free(w);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  config = g_getenv("HW_GUEST_CONFIG");
  g_assert_nonnull(config);
  g_autofree char *p = g_strdup_printf("/launch/%s/", config);
  hw_test_add(p, "wait/missing-socket", test_wait_missing);
  hw_test_add(p, "wait/starting", test_wait_starting);
  hw_test_add(p, "wait/status", test_wait_status);
  hw_test_add(p, "watch/events", test_watch_events);
  hw_test_add(p, "watch/bad-requests", test_watch_bad);
  hw_test_add(p, "watch/shutdown", test_watch_shutdown);
  int rc = g_test_run();
  if (guest)
    hw_test_guest_stop(guest);
  return rc;
}
