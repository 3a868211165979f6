/* haywire wait: block until QEMU's QMP socket exists and answers (a launch script may
 * call it before QEMU has made the socket), optionally until the run state is STATE and
 * a line matching REGEX has appeared in a serial log. The socket is closed on return,
 * so the next haywire command can have it (QEMU serves one client per socket). */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define POLL_MS 50          /* between attempts: well inside the 1 s the time-out allows */
#define SERIAL_PIECE (1u << 20)  /* the most of a serial log read in one look */

typedef struct {
  const char *path;
  GRegex *regex;
  goffset done;          /* bytes of the log already searched, up to a line's end */
  char *line;            /* the matching line, once found */
} Serial;

/* Look at what the log gained since the last look; TRUE once a line matched. A log
 * that shrank was started afresh: it is read again from its start. */
static gboolean
serial_matched(Serial *s)
{
  if (s->line != NULL)
    return TRUE;
  FILE *f = fopen(s->path, "rb");
  if (f == NULL)
    return FALSE;   /* not made yet */
  struct stat st;
  if (fstat(fileno(f), &st) == 0 && st.st_size < s->done)
    s->done = 0;
  g_autofree char *buf = g_malloc(SERIAL_PIECE + 1);
  gsize n = fseeko(f, s->done, SEEK_SET) == 0 ? fread(buf, 1, SERIAL_PIECE, f) : 0;
  fclose(f);
  buf[n] = '\0';
  /* Whole lines only: a line still being written is looked at again next time; one
   * longer than a piece is looked at in pieces. */
  char *end = memrchr(buf, '\n', n);
  if (end == NULL && n < SERIAL_PIECE)
    return FALSE;
  gsize used = end ? (gsize)(end - buf) + 1 : n;
  if (end)
    *end = '\0';
  g_auto(GStrv) lines = g_strsplit(buf, "\n", 0);
  for (guint i = 0; lines[i] && s->line == NULL; i++) {
    g_strchomp(lines[i]);   /* serial logs end lines with \r\n */
    if (g_regex_match(s->regex, lines[i], 0, NULL))
      s->line = g_strdup(lines[i]);
  }
  s->done += (goffset)used;
  return s->line != NULL;
}

/* One look at QEMU: connect, and with STATE ask its run state (*STATUS, caller frees).
 * FALSE with *WHY (caller frees) saying what is not there yet. */
static gboolean
qemu_ready(const char *addr, const char *state, guint timeout_ms, char **status, char **why)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwQmp) qmp = hw_qmp_connect(addr, timeout_ms, &error);
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
  if (cli->qmp_addr == NULL)
    cli->qmp_addr = g_strdup(g_getenv("HAYWIRE_QMP"));
  if (cli->qmp_addr == NULL || cli->qmp_addr[0] == '\0') {
    fprintf(stderr, "haywire: no QMP address: use --qmp ADDR or set HAYWIRE_QMP\n");
    return HW_EXIT_USAGE;
  }

  Serial log = { serial, regex, 0, NULL };
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
      qemu_ok = qemu_ready(cli->qmp_addr, state, CLAMP(left_ms, 250u, 1000u), &status, &why);
    }
    /* The log only once QEMU answers: it has opened (and emptied) the file by then, so
     * a log left from an earlier run cannot pass for this one. */
    if (qemu_ok && !log_ok)
      log_ok = serial_matched(&log);
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
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, status);
    json_builder_set_member_name(b, "waited_s");
    json_builder_add_double_value(b, waited);
    json_builder_set_member_name(b, "line");
    if (log.line)
      json_builder_add_string_value(b, log.line);
    else
      json_builder_add_null_value(b);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    printf("ready after %.1f s: %s%s%s\n", waited, status, log.line ? ", serial: " : "",
           log.line ? log.line : "");
  }
  g_free(log.line);
  return HW_EXIT_OK;
}
