/* What a launch script does around QEMU: `haywire wait` for a socket that does not
 * exist yet while QEMU starts, for a run state, for a line on the serial console; and
 * its time-out, which must come after the time given and within a second of it. The
 * guest is booted here, with `wait` already running. */
#include "guest-harness.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

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
  int rc = g_test_run();
  if (guest)
    hw_test_guest_stop(guest);
  return rc;
}
