/* haywire wait: block until QEMU's QMP socket exists and answers (a launch script may
 * call it before QEMU has made the socket), optionally until the run state is STATE and
 * a line matching REGEX has appeared in a serial log. The socket is closed on return,
 * so the next haywire command can have it (QEMU serves one client per socket). */
#include "cli/cli.h"

#include <string.h>

#define POLL_MS 50          /* between attempts: well inside the 1 s the time-out allows */
/* One look at QEMU: connect (to the socket, or to the libvirt domain), and with STATE ask
 * its run state (*STATUS, caller frees). FALSE with *WHY (caller frees) saying what is
 * not there yet. */
static gboolean
qemu_ready(HwCli *cli, const char *state, guint timeout_ms, char **status, char **why)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = cli->domain
      ? hw_qmp_connect_libvirt(cli->connect_uri, cli->domain, timeout_ms, &error)
      : hw_qmp_connect(cli->qmp_addr, timeout_ms, &error);
  if (qmp == NULL) {
    *why = g_strdup(error->message);
    return FALSE;
  }
  g_autoptr(JsonObject) st = hw_qmp_execute_object(qmp, "query-status", NULL, &error);
  const char *s;
  if (st == NULL || !hw_json_get_string(st, "status", &s, &error)) {
    *why = g_strdup(error->message);
    return FALSE;
  }
  g_free(*status);
  *status = g_strdup(s);
  if (state != NULL && strcmp(s, state) != 0) {
    *why = g_strdup_printf("the guest is %s, not %s", s, state);
    return FALSE;
  }
  return TRUE;
}

int
hw_cmd_wait(HwCli *cli, int argc, char **argv)
{
  int rc;
  double timeout_s = 60;
  g_autofree char *state = NULL, *serial = NULL, *pattern = NULL;
  GOptionEntry entries[] = {
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &timeout_s, "give up after S seconds (default 60)",
      "S" },
    { "status", 0, 0, G_OPTION_ARG_STRING, &state,
      "also wait until the run state is STATE (running, paused, prelaunch, ...)", "STATE" },
    { "serial", 0, 0, G_OPTION_ARG_FILENAME, &serial, "a serial log to watch (with --for)",
      "FILE" },
    { "for", 0, 0, G_OPTION_ARG_STRING, &pattern,
      "also wait until a line of the serial log matches REGEX", "REGEX" },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  if (!hw_cli_parse("wait", NULL, "Wait until QEMU's QMP socket exists and answers (it may "
                    "not exist yet), and optionally until the guest's run state is STATE and "
                    "a line of a serial log matches REGEX. Exit 0 when all hold, 1 after the "
                    "time-out. The QMP socket is free again when it returns.", entries, &argc,
                    &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("wait", "unexpected argument '%s'", argv[1]);
  if (!(timeout_s > 0 && timeout_s <= 86400))
    return hw_cli_usage("wait", "--timeout takes seconds, more than 0 and at most 86400");
  if ((serial == NULL) != (pattern == NULL))
    return hw_cli_usage("wait", "--serial FILE and --for REGEX go together");
  g_autoptr(GError) error = NULL;
  g_autoptr(GRegex) regex = pattern ? g_regex_new(pattern, G_REGEX_OPTIMIZE, 0, &error) : NULL;
  if (pattern && regex == NULL)
    return hw_cli_usage("wait", "bad --for: %s", error->message);
  if (cli->qmp_addr == NULL && cli->domain == NULL)
    cli->qmp_addr = g_strdup(g_getenv("HAYWIRE_QMP"));
  if (cli->domain == NULL && (cli->qmp_addr == NULL || cli->qmp_addr[0] == '\0')) {
    fprintf(stderr, "haywire: no QMP address: use --qmp ADDR or set HAYWIRE_QMP\n");
    return HW_EXIT_USAGE;
  }

  g_autoptr(HwSerialLog) log = regex ? hw_serial_log_new(serial, regex) : NULL;
  gint64 t0 = g_get_monotonic_time(), deadline = t0 + (gint64)(timeout_s * G_USEC_PER_SEC);
  g_autofree char *status = NULL, *why = NULL;
  gboolean qemu_ok = FALSE, log_ok = regex == NULL;
  for (;;) {
    gint64 now = g_get_monotonic_time();
    guint left_ms = now < deadline ? (guint)MAX((deadline - now) / 1000, 1) : 1;
    if (!qemu_ok) {
      g_clear_pointer(&why, g_free);
      /* At least 250 ms to answer, even at the end: a last look may run that much past
       * the time-out, well inside the second allowed. */
      qemu_ok = qemu_ready(cli, state, CLAMP(left_ms, 250u, 1000u), &status, &why);
    }
    /* The log only once QEMU answers: it has opened (and emptied) the file by then, so
     * a log left from an earlier run cannot pass for this one. */
    if (qemu_ok && !log_ok)
      log_ok = hw_serial_log_poll(log);
    if (qemu_ok && log_ok)
      break;
    now = g_get_monotonic_time();
    if (now >= deadline) {
      if (!qemu_ok)
        fprintf(stderr, "haywire: gave up after %.1f s waiting for QEMU: %s\n", timeout_s, why);
      else
        fprintf(stderr, "haywire: gave up after %.1f s waiting for a line matching '%s' in "
                "%s\n", timeout_s, pattern, serial);
      return HW_EXIT_ERROR;
    }
    g_usleep((gulong)MIN((gint64)POLL_MS * 1000, deadline - now));
  }
  double waited = (g_get_monotonic_time() - t0) / 1e6;
  const char *line = log ? hw_serial_log_get_line(log) : NULL;
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, status);
    json_builder_set_member_name(b, "waited_s");
    json_builder_add_double_value(b, waited);
    json_builder_set_member_name(b, "line");
    if (line)
      json_builder_add_string_value(b, line);
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    printf("ready after %.1f s: %s%s%s\n", waited, status, line ? ", serial: " : "",
           line ? line : "");
  }
  return HW_EXIT_OK;
}
