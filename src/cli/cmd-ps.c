/* haywire ps: the guest's processes, read from kernel memory without a profile. */
#include "cli/cli.h"

int
hw_cmd_ps(HwCli *cli, int argc, char **argv)
{
  int rc;
  gboolean threads = FALSE, live = FALSE;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "threads", 't', 0, G_OPTION_ARG_NONE, &threads, "list every thread, not only processes",
      NULL },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest (the list may be torn)",
      NULL },
    { NULL }
  };
  if (!hw_cli_parse("ps", NULL, "List the processes of a Linux guest: pid, parent, uid, state, "
                    "name, page-table root. Found from the kernel's own BTF and task list in "
                    "guest RAM; no symbol file or profile needed.", entries, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("ps", "unexpected argument '%s'", argv[1]);
  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  gboolean partial = FALSE;
  HwLinux *lx = hw_cli_linux(cli, &error);
  g_autoptr(GArray) tasks = lx ? hw_linux_list_tasks(lx, threads, &partial, &error) : NULL;
  if (!hw_cli_release_after(cli, tasks != NULL, &error))
    return hw_cli_fail(error);

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
    json_builder_set_member_name(b, "partial");
    json_builder_add_boolean_value(b, partial);
    json_builder_set_member_name(b, "tasks");
    json_builder_begin_array(b);
    for (guint i = 0; i < tasks->len; i++)
      hw_cli_json_task(b, &g_array_index(tasks, HwTask, i));
    json_builder_end_array(b);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
    return HW_EXIT_OK;
  }
  printf("%7s %7s%s %5s S %-16s %s\n", "PID", "PPID", threads ? "    TGID" : "", "UID",
         "COMM", "PGD");
  for (guint i = 0; i < tasks->len; i++) {
    const HwTask *t = &g_array_index(tasks, HwTask, i);
    g_autofree char *tgid = threads ? g_strdup_printf(" %7d", t->tgid) : g_strdup("");
    g_autofree char *name = t->kernel_thread ? g_strdup_printf("[%s]", t->comm)
                                             : g_strdup(t->comm);
    g_autofree char *pgd = t->pgd_gpa ? g_strdup_printf("0x%" G_GINT64_MODIFIER "x", t->pgd_gpa)
                                      : g_strdup("-");
    printf("%7d %7d%s %5u %c %-16s %s\n", t->pid, t->ppid, tgid, t->uid, t->state, name, pgd);
  }
  if (partial)
    fprintf(stderr, "haywire: warning: the task list was only partly readable\n");
  return HW_EXIT_OK;
}
