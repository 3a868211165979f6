/* Faults against real guests: QEMU killed while haywire works (scan, ps, overview, a
 * read holding the guest paused, a GDB-stub session), the memory file truncated under
 * a scan, a QMP link that breaks or goes silent in the middle of a session, and
 * signals at random moments of every pausing command. Every case wants one clear
 * line, exit 1 (or death by the signal sent), no hang, and a guest that was running
 * never left paused by haywire.
 *
 * The cases that kill QEMU boot a guest of their own; the others share one. */
#include "guest-harness.h"
#include "fault-proxy.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define EXIT_WAIT_MS 30000   /* longer than any command here takes; a hang past it fails */

static const char *config;
static HwTestGuest *shared;

/* The guest the non-destructive cases share, booted on first use. */
static HwTestGuest *
shared_guest(void)
{
  if (shared == NULL)
    shared = hw_test_guest_boot(config);
  return shared;
}

/* A haywire started in the background, its output going to files. */
typedef struct {
  GPid pid;
  char *dir, *out_path, *err_path;
  int status;
  char *out, *err;
} Child;

static Child *
child_start(HwTestGuest *g, const char *qmp, const char *gdb, const char *const *args)
{
  Child *c = g_new0(Child, 1);
  c->dir = g_dir_make_tmp("hw-fault-XXXXXX", NULL);
  g_assert_nonnull(c->dir);
  c->out_path = g_build_filename(c->dir, "out", NULL);
  c->err_path = g_build_filename(c->dir, "err", NULL);
  int out = open(c->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  int err = open(c->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint(out, >=, 0);
  g_assert_cmpint(err, >=, 0);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("HW_HAYWIRE"));
  g_ptr_array_add(argv, (gpointer)"--qmp");
  g_ptr_array_add(argv, (gpointer)(qmp ? qmp : g->qmp));
  g_ptr_array_add(argv, (gpointer)"--gdb");
  g_ptr_array_add(argv, (gpointer)(gdb ? gdb : g->gdb));
  for (guint i = 0; args[i]; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_async_with_fds(NULL, (char **)argv->pdata, NULL,
                                       G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &c->pid, -1, out,
                                       err, &error));
  g_assert_no_error(error);
  close(out);
  close(err);
  return c;
}

/* Wait for the child to exit (fails the test after EXIT_WAIT_MS: a hang). */
static void
child_wait(Child *c)
{
  for (int i = 0; i < EXIT_WAIT_MS / 5; i++) {
    pid_t r = waitpid(c->pid, &c->status, WNOHANG);
    if (r == c->pid) {
      g_file_get_contents(c->out_path, &c->out, NULL, NULL);
      g_file_get_contents(c->err_path, &c->err, NULL, NULL);
      return;
    }
    g_usleep(5000);
  }
  kill(c->pid, SIGKILL);
  waitpid(c->pid, NULL, 0);
  g_error("haywire did not exit within %d ms", EXIT_WAIT_MS);
}

static void
child_free(Child *c)
{
  unlink(c->out_path);
  unlink(c->err_path);
  rmdir(c->dir);
  g_free(c->dir);
  g_free(c->out_path);
  g_free(c->err_path);
  g_free(c->out);
  g_free(c->err);
  g_free(c);
}

/* The last line of TEXT (without its newline). */
static char *
last_line(const char *text)
{
  g_autofree char *t = g_strdup(text);
  g_strchomp(t);
  const char *nl = strrchr(t, '\n');
  return g_strdup(nl ? nl + 1 : t);
}

/* Exit 1 with MESSAGE as the last line of stderr; with ONE_LINE, the only line. */
static void
expect_failure(Child *c, const char *message, gboolean one_line)
{
  if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 1)
    g_error("expected exit 1, got status 0x%x; stderr: %s", c->status, c->err);
  g_autofree char *last = last_line(c->err);
  g_autofree char *want = g_strdup_printf("haywire: %s", message);
  if (strcmp(last, want) != 0)
    g_error("expected \"%s\", got: %s", want, c->err);
  if (one_line)
    g_assert_cmpint(strchr(c->err, '\n') - c->err, ==, (long)strlen(c->err) - 1);
}

/* ---- QEMU's side ------------------------------------------------------------------ */

/* Wait for a STOP event on the observer QMP (haywire pausing the guest). */
static void
wait_for_stop(HwQmp *observer)
{
  for (int i = 0; i < 2000; i++) {
    HwQmpEvent *e;
    while ((e = hw_qmp_pop_event(observer)) != NULL) {
      gboolean stop = strcmp(e->name, "STOP") == 0;
      hw_qmp_event_free(e);
      if (stop)
        return;
    }
    g_autoptr(GError) error = NULL;
    if (!hw_qmp_poll_events(observer, 10, &error))
      g_error("waiting for STOP: %s", error->message);
  }
  g_error("haywire never paused the guest");
}

/* SIGKILL QEMU and wait until it is gone (or a zombie nobody reaps). */
static void
kill_qemu(HwTestGuest *g)
{
  g_assert_cmpint(kill(g->qemu_pid, SIGKILL), ==, 0);
  g_autofree char *stat = g_strdup_printf("/proc/%d/stat", g->qemu_pid);
  for (int i = 0; i < 1000; i++) {
    g_autofree char *text = NULL;
    if (!g_file_get_contents(stat, &text, NULL, NULL))
      return;
    const char *paren = strrchr(text, ')');
    if (paren && paren[1] == ' ' && paren[2] == 'Z')
      return;
    g_usleep(5000);
  }
  g_error("QEMU %d did not die", g->qemu_pid);
}

/* Wait until the guest runs (a resume may land a moment after haywire exits). */
static gboolean
eventually_running(HwTestGuest *g)
{
  for (int i = 0; i < 200; i++) {
    if (hw_test_guest_running(g))
      return TRUE;
    g_usleep(10000);
  }
  return FALSE;
}

/* A guest-physical address with 8 MiB of RAM after it: the 16 MiB boundary below a page
 * hwtest holds (RAM starts at 0 on x86-64, at 1 GiB on -M virt). */
static char *
ram_address(HwTestGuest *g)
{
  return g_strdup_printf("0x%" G_GINT64_MODIFIER "x", g->sleep.pa & ~(guint64)0xffffff);
}

/* ---- QEMU killed, or its memory file cut, while haywire holds the guest paused ---- */

typedef enum { KILL_QEMU, TRUNCATE_MEMORY } Fault;

/* Start ARGS on a fresh guest, freeze haywire right after it paused the guest, do FAULT,
 * let haywire go on, and return it finished. */
static Child *
fault_while_paused(HwTestGuest **gp, const char *const *args, Fault fault)
{
  HwTestGuest *g = *gp = hw_test_guest_boot(config);
  g_autoptr(HwQmp) observer = hw_test_qmp(g);
  Child *c = child_start(g, NULL, NULL, args);
  wait_for_stop(observer);
  g_assert_cmpint(kill(c->pid, SIGSTOP), ==, 0);
  if (fault == KILL_QEMU) {
    kill_qemu(g);
  } else {
    g_assert_cmpint(truncate(g->mem, 0), ==, 0);
  }
  g_assert_cmpint(kill(c->pid, SIGCONT), ==, 0);
  child_wait(c);
  return c;
}

/* The hits a failed scan printed before its summary: that summary marked partial with
 * MESSAGE, and the hit count it states. */
static guint
check_partial_summary(const Child *c, const char *message)
{
  g_auto(GStrv) lines = g_strsplit(c->out, "\n", 0);
  guint n = g_strv_length(lines);
  g_assert_cmpuint(n, >=, 2);   /* [hits,] summary, "" */
  g_autoptr(JsonNode) summary = json_from_string(lines[n - 2], NULL);
  g_assert_nonnull(summary);
  JsonObject *o = json_node_get_object(summary);
  g_assert_cmpstr(json_object_get_string_member(o, "kind"), ==, "summary");
  g_assert_true(json_object_get_boolean_member(o, "partial"));
  g_assert_cmpstr(json_object_get_string_member(o, "error"), ==, message);
  g_assert_cmpint(json_object_get_int_member(o, "hits"), ==, (gint64)n - 2);
  return n - 2;
}

/* QEMU killed at a moment after haywire paused it: while it confirms the pause (then
 * nothing is printed), or in the scan (the hits so far, partial); and, through a QMP
 * proxy, exactly when the scan is done and haywire sends "cont": every hit it had. */
static void
test_kill_during_scan(void)
{
  const char *msg = "QEMU exited during the scan";
  HwTestGuest *g;
  const char *args[] = { "--json", "scan", "--phys", "--threads", "1", NULL };
  Child *c = fault_while_paused(&g, args, KILL_QEMU);
  expect_failure(c, msg, TRUE);
  if (c->out[0] != '\0')
    check_partial_summary(c, msg);
  child_free(c);
  hw_test_guest_stop(g);

  g = hw_test_guest_boot(config);
  HwFaultProxy *proxy = hw_fault_proxy_new(g->qmp, HW_FAULT_CUT, G_MAXUINT, g->qemu_pid);
  hw_fault_proxy_kill_on(proxy, "\"cont\"");
  /* Behind a proxy the socket names the proxy's pid, not QEMU's: say which it is. */
  g_autofree char *pid = g_strdup_printf("%d", g->qemu_pid);
  const char *proxied[] = { "--qemu-pid", pid, "--json", "scan", "--phys", NULL };
  c = child_start(g, hw_fault_proxy_address(proxy), NULL, proxied);
  child_wait(c);
  g_assert_true(hw_fault_proxy_fired(proxy));
  expect_failure(c, msg, TRUE);
  g_assert_cmpuint(check_partial_summary(c, msg), >, 0);   /* hwtest's images at least */
  hw_fault_proxy_free(proxy);
  child_free(c);
  hw_test_guest_stop(g);
}

static void
test_kill_during_ps(void)
{
  HwTestGuest *g;
  const char *args[] = { "--no-cache", "ps", NULL };
  Child *c = fault_while_paused(&g, args, KILL_QEMU);
  expect_failure(c, "QEMU exited during ps", TRUE);
  child_free(c);
  hw_test_guest_stop(g);
}

static void
test_kill_during_overview(void)
{
  HwTestGuest *g;
  g_autofree char *png = g_build_filename(g_get_tmp_dir(), "hw-fault-overview.png", NULL);
  const char *args[] = { "overview", "-o", png, NULL };
  Child *c = fault_while_paused(&g, args, KILL_QEMU);
  expect_failure(c, "QEMU exited during the overview", TRUE);
  g_assert_false(g_file_test(png, G_FILE_TEST_EXISTS));
  child_free(c);
  hw_test_guest_stop(g);
}

/* haywire holds the guest paused while it writes a read out to a pipe nobody reads. */
static void
test_kill_while_paused(void)
{
  HwTestGuest *g = hw_test_guest_boot(config);
  g_autofree char *dir = g_dir_make_tmp("hw-fault-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
  g_assert_cmpint(rfd, >=, 0);
  g_autofree char *ram = ram_address(g);
  const char *args[] = { "read", "--phys", ram, "8M", "-o", fifo, NULL };
  g_autoptr(HwQmp) observer = hw_test_qmp(g);
  Child *c = child_start(g, NULL, NULL, args);
  wait_for_stop(observer);
  kill_qemu(g);
  /* Let the write finish: haywire then tries to resume a QEMU that is gone. */
  int flags = fcntl(rfd, F_GETFL);
  fcntl(rfd, F_SETFL, flags & ~O_NONBLOCK);
  char buf[65536];
  while (read(rfd, buf, sizeof buf) > 0)
    ;
  child_wait(c);
  expect_failure(c, "QEMU exited during the read", TRUE);
  close(rfd);
  unlink(fifo);
  rmdir(dir);
  child_free(c);
  hw_test_guest_stop(g);
}

/* The memory file cut to nothing under a scan: SIGBUS in the mapping, caught. */
static void
test_truncate_during_scan(void)
{
  HwTestGuest *g;
  const char *args[] = { "--json", "scan", "--phys", NULL };
  Child *c = fault_while_paused(&g, args, TRUNCATE_MEMORY);
  const char *msg = "guest memory vanished during the scan: the memory file shrank under "
                    "haywire (truncated or replaced?)";
  expect_failure(c, msg, TRUE);
  g_autofree char *summary_line = last_line(c->out);
  g_autoptr(JsonNode) summary = json_from_string(summary_line, NULL);
  g_assert_nonnull(summary);
  JsonObject *o = json_node_get_object(summary);
  g_assert_true(json_object_get_boolean_member(o, "partial"));
  g_assert_cmpstr(json_object_get_string_member(o, "error"), ==, msg);
  child_free(c);
  hw_test_guest_stop(g);
}

/* QEMU killed in the middle of a GDB-stub session: the proxy between haywire and the
 * stub kills it once the stub has answered a few packets. */
static void
test_kill_during_gdb_session(void)
{
  HwTestGuest *g = hw_test_guest_boot(config);
  HwFaultProxy *proxy = hw_fault_proxy_new(g->gdb, HW_FAULT_KILL, 3, g->qemu_pid);
  gboolean x86 = g_str_has_prefix(config, "x86");
  const char *args_x86[] = { "regs", "--gdb-stub", NULL };
  const char *args_arm[] = { "regs", NULL };
  Child *c = child_start(g, NULL, hw_fault_proxy_address(proxy), x86 ? args_x86 : args_arm);
  child_wait(c);
  g_assert_true(hw_fault_proxy_fired(proxy));
  expect_failure(c, "QEMU exited during the register read", TRUE);
  hw_fault_proxy_free(proxy);
  child_free(c);
  hw_test_guest_stop(g);
}

/* ---- run-state history -------------------------------------------------------------- */

/* The library follows the events of stop, cont, and a reset while paused that another
 * client causes: names in order, QEMU's timestamps, epochs and run states. The reset
 * reboots the guest, so it has a guest of its own. */
static void
test_history(void)
{
  HwTestGuest *g = hw_test_guest_boot(config);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = hw_qmp_connect(g->qmp, 5000, &error);
  g_assert_no_error(error);
  g_autoptr(HwGuest) guest = hw_guest_new(qmp, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(hw_guest_get_epoch(guest), ==, 1);
  g_assert_true(hw_history_is_running(hw_guest_get_history(guest)));

  hw_test_observer_run(g, "stop", NULL);
  hw_test_observer_run(g, "cont", NULL);
  hw_test_observer_run(g, "stop", NULL);
  /* The test guests run with -no-reboot, which makes a reset a shutdown: undo that. */
  hw_test_observer_run(g, "set-action", "{\"reboot\": \"reset\"}");
  hw_test_observer_run(g, "system_reset", NULL);
  hw_test_observer_run(g, "cont", NULL);
  static const struct {
    const char *name;
    guint64 epoch;
    gboolean running;
  } want[] = {
    { "STOP", 1, FALSE }, { "RESUME", 2, TRUE }, { "STOP", 2, FALSE },
    { "RESET", 3, FALSE }, { "RESUME", 4, TRUE },
  };
  guint n = 0;
  const HwRunEvent *ev = NULL;
  for (int i = 0; i < 100 && n < G_N_ELEMENTS(want); i++) {
    g_assert_true(hw_guest_follow(guest, 20, &error));
    ev = hw_history_get_events(hw_guest_get_history(guest), &n);
  }
  g_assert_cmpuint(n, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < n; i++) {
    if (strcmp(ev[i].name, want[i].name) != 0)
      g_error("event %u: %s, expected %s", i, ev[i].name, want[i].name);
    g_assert_cmpuint(ev[i].epoch, ==, want[i].epoch);
    g_assert_cmpint(ev[i].running, ==, want[i].running);
    g_assert_cmpint(ev[i].seconds, >, 1700000000);
    if (i > 0)
      g_assert_cmpint(ev[i].seconds * 1000000 + ev[i].microseconds, >=,
                      ev[i - 1].seconds * 1000000 + ev[i - 1].microseconds);
  }
  /* query-status agrees, and changes nothing. */
  gboolean running = FALSE;
  g_autofree char *status = hw_guest_query_status(guest, &running, &error);
  g_assert_no_error(error);
  g_assert_true(running);
  g_assert_cmpuint(hw_guest_get_epoch(guest), ==, 4);
  g_clear_pointer(&guest, hw_guest_free);
  g_clear_pointer(&qmp, hw_qmp_free);
  hw_test_guest_stop(g);
}

/* ---- a QMP link that breaks or goes silent (shared guest) ------------------------- */

/* For each message QEMU sends in a scan session, a link that fails right there: cut in
 * the middle of that message, or silent from it on. haywire must fail with one line or
 * finish, in time, and leave the guest running (over a new connection if need be, and
 * after a cut the first new connection is closed at once: QEMU on a busy host may not
 * serve it yet). */
static void
run_link_faults(HwFaultMode mode)
{
  HwTestGuest *g = shared_guest();
  guint fired = 0, failed = 0;
  /* How many messages QEMU sends in the session, through a proxy that never fails. */
  const char *args[] = { "--timeout", "800", "scan", "--phys", "--string", HW_TEST_MARKER,
                         NULL };
  HwFaultProxy *count = hw_fault_proxy_new(g->qmp, HW_FAULT_CUT, G_MAXUINT, 0);
  Child *c0 = child_start(g, hw_fault_proxy_address(count), NULL, args);
  child_wait(c0);
  g_assert_true(WIFEXITED(c0->status) && WEXITSTATUS(c0->status) == 0);
  guint total = hw_fault_proxy_messages(count);
  g_test_message("a scan session is %u messages from QEMU", total);
  g_assert_cmpuint(total, >=, 10);
  hw_fault_proxy_free(count);
  child_free(c0);
  for (guint n = 1; n <= total; n++) {
    HwFaultProxy *proxy = hw_fault_proxy_new(g->qmp, mode, n, 0);
    if (mode == HW_FAULT_CUT)
      hw_fault_proxy_refuse(proxy, 1);
    Child *c = child_start(g, hw_fault_proxy_address(proxy), NULL, args);
    child_wait(c);
    gboolean hit = hw_fault_proxy_fired(proxy);
    fired += hit;
    if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) > 1)
      g_error("message %u: status 0x%x; stderr: %s", n, c->status, c->err);
    if (WEXITSTATUS(c->status) == 1) {
      failed++;
      /* One line, worded for the user, no raw errno. */
      g_autofree char *last = last_line(c->err);
      if (!g_str_has_prefix(last, "haywire: ") || strstr(last, "Broken pipe") ||
          strstr(last, "Connection reset"))
        g_error("message %u: %s", n, c->err);
      g_test_message("message %u: %s", n, last);
    } else {
      g_assert_true(g_str_has_suffix(c->err, "\n"));
    }
    if (!eventually_running(g))
      g_error("message %u (%s): guest left paused; stderr: %s", n,
              mode == HW_FAULT_CUT ? "cut" : "silent", c->err);
    hw_fault_proxy_free(proxy);
    child_free(c);
  }
  /* Every message was reached; failing at most of them fails the command, but a link
   * that breaks at the last replies (cont, its RESUME) is mended by reconnecting. */
  g_assert_cmpuint(fired, ==, total);
  g_assert_cmpuint(failed, >=, total / 2);
}

static void
test_qmp_cut(void)
{
  run_link_faults(HW_FAULT_CUT);
}

static void
test_qmp_silent(void)
{
  run_link_faults(HW_FAULT_SILENT);
}

/* A peer that accepts and never says a word. */
static void
test_qmp_mute_peer(void)
{
  HwFaultProxy *proxy = hw_fault_proxy_new(shared_guest()->qmp, HW_FAULT_SILENT, 0, 0);
  const char *args[] = { "--timeout", "1000", "info", NULL };
  gint64 t0 = g_get_monotonic_time();
  Child *c = child_start(shared, hw_fault_proxy_address(proxy), NULL, args);
  child_wait(c);
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 10 * G_USEC_PER_SEC);
  g_autofree char *msg = g_strdup_printf("%s is not a QMP socket: no answer from QEMU within "
                                         "1000 ms", hw_fault_proxy_address(proxy));
  expect_failure(c, msg, TRUE);
  hw_fault_proxy_free(proxy);
  child_free(c);
}

/* ---- signals at random moments (shared guest) ------------------------------------- */

typedef struct {
  const char *name;
  const char *args[14];
} PausingCommand;

static void
test_random_signals(void)
{
  HwTestGuest *g = shared_guest();
  g_autofree char *dir = g_dir_make_tmp("hw-fault-XXXXXX", NULL);
  g_autofree char *png = g_build_filename(dir, "o.png", NULL);
  g_autofree char *carve = g_build_filename(dir, "carve", NULL);
  g_autofree char *pid = g_strdup_printf("%d", g->sleep.pid);
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", g->sleep.va);
  g_autofree char *ram = ram_address(g);
  gboolean x86 = g_str_has_prefix(config, "x86");
  PausingCommand cmds[] = {
    { "scan", { "scan", "--phys", NULL } },
    { "scan-pid", { "scan", "--pid", pid, NULL } },
    { "carve", { "carve", "-d", carve, "--phys", NULL } },
    { "overview", { "overview", "-o", png, NULL } },
    { "ps", { "ps", NULL } },
    { "maps", { "maps", pid, NULL } },
    { "kernel", { "--no-cache", "kernel", NULL } },
    { "read", { "read", "--phys", ram, "8M", "-o", "/dev/null", NULL } },
    { "translate", { "translate", va, "--pid", pid, NULL } },
    { "render", { "render", va, "--pid", pid, "--width", "64", "--format", "rgba8888",
                  "-o", png, NULL } },
    { "regs", { "regs", x86 ? "--gdb-stub" : "--all", NULL } },
  };
  /* How long each takes undisturbed: the signal lands anywhere in 0..1.2 times that. */
  double ms[G_N_ELEMENTS(cmds)];
  for (gsize k = 0; k < G_N_ELEMENTS(cmds); k++) {
    gint64 t0 = g_get_monotonic_time();
    Child *c = child_start(g, NULL, NULL, cmds[k].args);
    child_wait(c);
    if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0)
      g_error("%s failed undisturbed: %s", cmds[k].name, c->err);
    ms[k] = (g_get_monotonic_time() - t0) / 1000.0;
    child_free(c);
  }
  static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
  GRand *rand = g_rand_new_with_seed(0x5eed);
  guint trials = 0, signalled = 0, held = 0;
  for (guint t = 0; t < 2 * G_N_ELEMENTS(cmds) * 3; t++) {
    gsize k = t % G_N_ELEMENTS(cmds);
    int sig = sigs[(t / G_N_ELEMENTS(cmds)) % 3];
    /* One trial in four with the guest paused by someone else: it must stay paused. */
    gboolean others = g_rand_int_range(rand, 0, 4) == 0;
    if (others)
      hw_test_observer_run(g, "stop", NULL);
    Child *c = child_start(g, NULL, NULL, cmds[k].args);
    g_usleep((gulong)(g_rand_double_range(rand, 0, 1.2) * ms[k] * 1000));
    kill(c->pid, sig);
    child_wait(c);
    trials++;
    if (WIFSIGNALED(c->status)) {
      g_assert_cmpint(WTERMSIG(c->status), ==, sig);
      g_assert_false(WCOREDUMP(c->status));
      signalled++;
    } else if (!WIFEXITED(c->status) || WEXITSTATUS(c->status) != 0) {
      g_error("%s, signal %d: status 0x%x: %s", cmds[k].name, sig, c->status, c->err);
    }
    if (others) {
      if (hw_test_guest_running(g))
        g_error("%s, signal %d: resumed a guest someone else had paused", cmds[k].name, sig);
      hw_test_observer_run(g, "cont", NULL);
      held++;
    } else if (!eventually_running(g)) {
      g_error("%s, signal %d after %.0f ms: the guest was left paused", cmds[k].name, sig,
              ms[k]);
    }
    child_free(c);
  }
  g_rand_free(rand);
  g_test_message("%u trials, %u ended by the signal, %u with the guest paused by another",
                 trials, signalled, held);
  g_assert_cmpuint(signalled, >=, trials / 3);
  g_assert_cmpuint(held, >=, 4);
  g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
  g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  config = g_getenv("HW_GUEST_CONFIG");
  g_assert_nonnull(config);
  signal(SIGPIPE, SIG_IGN);
  g_autofree char *p = g_strdup_printf("/faults/%s/", config);
#define ADD(name, fn) hw_test_add(p, name, fn)
  /* x86-64 runs every case; AArch64, whose registers come from the GDB stub, the ones
   * where that matters (the link and memory cases do not depend on the arch). */
  gboolean all = g_str_has_prefix(config, "x86");
  /* Each of these boots a guest of its own and kills it. */
  ADD("kill/scan", test_kill_during_scan);
  if (all) {
    ADD("kill/ps", test_kill_during_ps);
    ADD("kill/overview", test_kill_during_overview);
  }
  ADD("kill/paused-read", test_kill_while_paused);
  ADD("kill/gdb-session", test_kill_during_gdb_session);
  if (all) {
    ADD("truncate/scan", test_truncate_during_scan);
    ADD("history/stop-cont-reset", test_history);
  }
  /* These share one. */
  if (all) {
    ADD("qmp/cut", test_qmp_cut);
    ADD("qmp/silent", test_qmp_silent);
    ADD("qmp/mute-peer", test_qmp_mute_peer);
  }
  ADD("signals/random", test_random_signals);
  int rc = g_test_run();
  hw_test_guest_stop(shared);
  return rc;
}
