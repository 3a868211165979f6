/* haywire watch: stay attached, print one line per QMP event with its epoch and run
 * state, and run haywire commands in-process when events come (QEMU serves one client
 * per QMP socket: a child haywire could not connect while we hold it). */
#include "cli/cli.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define MAX_HOOKS 64

typedef struct {
  char *event;    /* QEMU's event name, or NULL for --on-stop */
  char *text;     /* the command as given */
  char **argv;    /* parsed, first word a haywire command */
} Hook;

typedef struct {
  HwCli *cli;
  GArray *hooks;         /* Hook */
  guint quiet_from, quiet_to;   /* history indexes of events our own last command caused */
} Watch;

static void
hook_clear(gpointer p)
{
  Hook *h = p;
  g_free(h->event);
  g_free(h->text);
  g_strfreev(h->argv);
}

/* Parse COMMAND for EVENT (NULL: --on-stop) into W's hooks; FALSE after a usage message. */
static gboolean
add_hook(Watch *w, const char *event, const char *command)
{
  g_autoptr(GError) error = NULL;
  char **argv = NULL;
  int argc = 0;
  if (!g_shell_parse_argv(command, &argc, &argv, &error)) {
    hw_cli_usage("watch", "cannot parse the command '%s': %s", command, error->message);
    return FALSE;
  }
  const HwCmd *cmd = hw_cli_find_command(argv[0]);
  const char *why = cmd == NULL ? "is not a haywire command"
                  : strcmp(cmd->name, "watch") == 0 || strcmp(cmd->name, "wait") == 0
                      ? "cannot run inside watch" : NULL;
  if (why != NULL || w->hooks->len >= MAX_HOOKS) {
    hw_cli_usage("watch", "'%s' %s", argv[0], why ? why : "is one command too many");
    g_strfreev(argv);
    return FALSE;
  }
  Hook h = { g_strdup(event), g_strdup(command), argv };
  g_array_append_val(w->hooks, h);
  return TRUE;
}

/* The run state from an event on, as the events tell. */
static const char *
event_status(const HwRunEvent *e)
{
  if (strcmp(e->name, "SHUTDOWN") == 0)
    return "shutdown";
  if (strcmp(e->name, "GUEST_PANICKED") == 0)
    return "guest-panicked";
  if (g_str_has_prefix(e->name, "SUSPEND"))
    return "suspended";
  return e->running ? "running" : "paused";
}

static char *
stamp(gint64 s, gint64 us)
{
  return g_strdup_printf("%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT, s, us);
}

static void
print_line(JsonBuilder *b)
{
  json_builder_end_object(b);
  hw_cli_print_json(json_builder_get_root(b));
  fflush(stdout);
}

static void
print_attached(HwCli *cli, const char *status)
{
  guint64 epoch = hw_guest_get_epoch(cli->guest);
  if (!cli->json) {
    printf("attached: QEMU %s, guest %s, epoch %" G_GUINT64_FORMAT "\n",
           hw_qmp_get_version(cli->qmp), status, epoch);
    fflush(stdout);
    return;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "attached");
  json_builder_set_member_name(b, "qemu");
  json_builder_add_string_value(b, hw_qmp_get_version(cli->qmp));
  json_builder_set_member_name(b, "status");
  json_builder_add_string_value(b, status);
  json_builder_set_member_name(b, "epoch");
  json_builder_add_int_value(b, (gint64)epoch);
  print_line(b);
}

static void
print_event(HwCli *cli, const HwRunEvent *e, gboolean ours)
{
  g_autofree char *when = stamp(e->seconds, e->microseconds);
  g_autofree char *data = NULL;
  if (e->data) {
    g_autoptr(JsonNode) n = json_node_init_object(json_node_alloc(), e->data);
    data = json_to_string(n, FALSE);
  }
  if (!cli->json) {
    printf("%s %s epoch %" G_GUINT64_FORMAT " %s%s%s%s\n", when, e->name, e->epoch,
           event_status(e), data ? " " : "", data ? data : "", ours ? " (by haywire)" : "");
    fflush(stdout);
    return;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "event");
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, e->name);
  json_builder_set_member_name(b, "timestamp");
  json_builder_add_string_value(b, when);
  json_builder_set_member_name(b, "epoch");
  json_builder_add_int_value(b, (gint64)e->epoch);
  json_builder_set_member_name(b, "status");
  json_builder_add_string_value(b, event_status(e));
  if (e->data) {
    json_builder_set_member_name(b, "data");
    json_builder_add_value(b, json_node_init_object(json_node_alloc(), e->data));
  }
  json_builder_set_member_name(b, "by_haywire");
  json_builder_add_boolean_value(b, ours);
  print_line(b);
}

/* ARGV with {epoch} and {event} replaced (caller frees). */
static char **
expand(char **argv, const HwRunEvent *e)
{
  g_autofree char *epoch = g_strdup_printf("%" G_GUINT64_FORMAT, e->epoch);
  guint n = g_strv_length(argv);
  char **out = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++) {
    g_auto(GStrv) a = g_strsplit(argv[i], "{epoch}", -1);
    g_autofree char *s = g_strjoinv(epoch, a);
    g_auto(GStrv) b = g_strsplit(s, "{event}", -1);
    out[i] = g_strjoinv(e->name, b);
  }
  return out;
}

static void
print_command(HwCli *cli, const char *type, const Hook *h, const HwRunEvent *e, int rc)
{
  if (!cli->json) {
    if (rc < 0)
      printf("-- %s (after %s, epoch %" G_GUINT64_FORMAT ")\n", h->text, e->name, e->epoch);
    else
      printf("-- %s: exit %d\n", h->text, rc);
    fflush(stdout);
    return;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, type);
  json_builder_set_member_name(b, "command");
  json_builder_add_string_value(b, h->text);
  json_builder_set_member_name(b, "after");
  json_builder_add_string_value(b, e->name);
  json_builder_set_member_name(b, "epoch");
  json_builder_add_int_value(b, (gint64)e->epoch);
  if (rc >= 0) {
    json_builder_set_member_name(b, "exit");
    json_builder_add_int_value(b, rc);
  }
  print_line(b);
}

/* Run hook H for event E on the same connection, as a command of its own. */
static void
run_hook(Watch *w, const Hook *h, const HwRunEvent *e)
{
  HwCli *cli = w->cli;
  g_auto(GStrv) argv = expand(h->argv, e);
  const HwCmd *cmd = hw_cli_find_command(argv[0]);
  print_command(cli, "command", h, e, -1);
  const char *doing = cli->doing;
  cli->run_state = NULL;
  cli->epoch = 0;
  guint before = hw_history_get_count(hw_guest_get_history(cli->guest));
  /* Option parsing takes what it parses out of the array: hand it a copy of the
   * pointers, so that every string is still freed from ARGV. */
  guint argc = g_strv_length(argv);
  g_autofree char **args = g_memdup2(argv, (argc + 1) * sizeof *argv);
  int rc = hw_cli_run_command(cli, cmd, (int)argc, args);
  /* Whatever it paused, it resumes; a command that failed half-way may not have. */
  g_autoptr(GError) error = NULL;
  if (cli->we_paused && !hw_cli_release(cli, &error)) {
    hw_cli_fail(error);
    rc = HW_EXIT_ERROR;
  }
  fflush(stdout);
  cli->doing = doing;
  cli->run_state = NULL;
  w->quiet_from = before;
  w->quiet_to = hw_history_get_count(hw_guest_get_history(cli->guest));
  print_command(cli, "command-done", h, e, rc);
}

static void
print_end(HwCli *cli, const char *reason)
{
  if (!cli->json) {
    printf("watch ended: %s\n", reason);
    fflush(stdout);
    return;
  }
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "type");
  json_builder_add_string_value(b, "end");
  json_builder_set_member_name(b, "reason");
  json_builder_add_string_value(b, reason);
  json_builder_set_member_name(b, "epoch");
  json_builder_add_int_value(b, (gint64)hw_guest_get_epoch(cli->guest));
  print_line(b);
}

/* Print and act on the events from *NEXT on; TRUE when one was SHUTDOWN. */
static gboolean
handle_events(Watch *w, guint *next)
{
  HwCli *cli = w->cli;
  gboolean shutdown = FALSE;
  /* Commands record new events while we go: look the count up each time. */
  while (*next < hw_history_get_count(hw_guest_get_history(cli->guest))) {
    const HwHistory *hist = hw_guest_get_history(cli->guest);
    guint index = (*next)++;
    const HwRunEvent *ev = hw_history_get_event(hist, index);
    if (ev == NULL)
      continue;   /* dropped from a very long history */
    /* Copied: running a command may grow the history and move its array. */
    HwRunEvent e = *ev;
    e.name = g_strdup(ev->name);
    e.data = ev->data ? json_object_ref(ev->data) : NULL;
    gboolean ours = index >= w->quiet_from && index < w->quiet_to;
    print_event(cli, &e, ours);
    if (strcmp(e.name, "RESET") == 0)
      g_clear_pointer(&cli->lx, hw_linux_free);   /* a new boot: found again when needed */
    if (strcmp(e.name, "SHUTDOWN") == 0)
      shutdown = TRUE;
    /* Events a command of ours caused (its own pause and resume) start nothing. */
    for (guint i = 0; !ours && i < w->hooks->len; i++) {
      const Hook *h = &g_array_index(w->hooks, Hook, i);
      if (h->event ? strcmp(h->event, e.name) == 0 : strcmp(e.name, "STOP") == 0)
        run_hook(w, h, &e);
    }
    g_free(e.name);
    if (e.data)
      json_object_unref(e.data);
  }
  return shutdown;
}

int
hw_cmd_watch(HwCli *cli, int argc, char **argv)
{
  char *on_stop = NULL;
  char **on_event = NULL;
  GOptionEntry entries[] = {
    { "on-stop", 0, 0, G_OPTION_ARG_STRING, &on_stop,
      "at each STOP, run COMMAND (a haywire command and its options; {epoch} and {event} "
      "are replaced)", "'COMMAND'" },
    { "on-event", 0, 0, G_OPTION_ARG_STRING_ARRAY, &on_event,
      "at each event NAME (QEMU's name: RESET, SHUTDOWN, ...), run COMMAND; repeatable",
      "NAME:'COMMAND'" },
    { NULL }
  };
  int rc = HW_EXIT_OK;
  g_autofree char *stop_cmd = NULL;
  g_auto(GStrv) event_cmds = NULL;
  gboolean parsed = hw_cli_parse("watch", "",
    "Stay attached to QEMU and print one line per QMP event with the epoch and run state\n"
    "it leads to (--json: JSON Lines). Commands given with --on-stop and --on-event run\n"
    "inside this process on the same QMP connection, their output in the stream; events\n"
    "they cause are marked and start nothing. Ends with exit 0 on SHUTDOWN, SIGINT or\n"
    "SIGTERM (a guest paused by a running command is resumed), 1 when QEMU goes away\n"
    "without a SHUTDOWN.", entries, &argc, &argv, &rc);
  stop_cmd = on_stop;
  event_cmds = on_event;
  if (!parsed)
    return rc;
  if (argc > 1)
    return hw_cli_usage("watch", "unexpected argument '%s'", argv[1]);
  Watch w = { cli, g_array_new(FALSE, TRUE, sizeof(Hook)), 0, 0 };
  g_array_set_clear_func(w.hooks, hook_clear);
  gboolean ok = TRUE;
  if (stop_cmd)
    ok = add_hook(&w, NULL, stop_cmd);
  for (guint i = 0; ok && event_cmds && event_cmds[i]; i++) {
    const char *colon = strchr(event_cmds[i], ':');
    g_autofree char *name = colon ? g_strndup(event_cmds[i], (gsize)(colon - event_cmds[i]))
                                  : NULL;
    if (name == NULL || name[0] == '\0' || colon[1] == '\0') {
      hw_cli_usage("watch", "--on-event wants NAME:'COMMAND', not '%s'", event_cmds[i]);
      ok = FALSE;
      break;
    }
    g_autofree char *upper = g_ascii_strup(name, -1);
    ok = add_hook(&w, upper, colon + 1);
  }
  if (!ok) {
    g_array_unref(w.hooks);
    return HW_EXIT_USAGE;
  }

  g_autoptr(GError) error = NULL;
  int sig_fd = hw_guest_get_signal_fd();
  g_autofree char *status = hw_guest_query_status(cli->guest, NULL, &error);
  if (status == NULL) {
    g_array_unref(w.hooks);
    return hw_cli_fail(error);
  }
  print_attached(cli, status);
  guint next = 0;
  rc = -1;
  while (rc < 0) {
    if (handle_events(&w, &next)) {
      print_end(cli, "SHUTDOWN");
      rc = HW_EXIT_OK;
      break;
    }
    /* A link without an fd of its own (libvirt) is polled by the library instead. */
    int qmp_fd = hw_qmp_get_fd(cli->qmp);
    gboolean linked = qmp_fd < 0;
    struct pollfd p[2] = { { qmp_fd, POLLIN, 0 }, { sig_fd, POLLIN, 0 } };
    int n = poll(p, sig_fd >= 0 ? 2 : 1, linked ? 0 : 1000);
    if (n < 0 && errno != EINTR) {
      g_set_error(&error, HW_ERROR, HW_ERROR_FAILED, "poll: %s", g_strerror(errno));
      rc = hw_cli_fail(error);
      break;
    }
    if (sig_fd >= 0 && (p[1].revents & POLLIN)) {
      unsigned char s = 0;
      if (read(sig_fd, &s, 1) == 1) {
        print_end(cli, s == SIGINT ? "SIGINT" : s == SIGTERM ? "SIGTERM" : "SIGHUP");
        rc = HW_EXIT_OK;
        break;
      }
    }
    if (linked || (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      /* Whatever came in is read now; events first, then a broken link. */
      if (!hw_guest_follow(cli->guest, linked ? 200 : 10, &error)) {
        if (handle_events(&w, &next)) {
          print_end(cli, "SHUTDOWN");
          rc = HW_EXIT_OK;
          break;
        }
        print_end(cli, hw_guest_qemu_exited(cli->guest) ? "QEMU exited" : "disconnected");
        rc = hw_cli_fail(error);
      }
    }
  }
  g_array_unref(w.hooks);
  return rc;
}
