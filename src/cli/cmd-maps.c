/* haywire maps: a Linux process's memory mappings, like /proc/PID/maps. */
#include "cli/cli.h"

int
hw_cmd_maps(HwCli *cli, int argc, char **argv)
{
  int rc;
  gboolean live = FALSE;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest (the list may be torn)",
      NULL },
    { NULL }
  };
  if (!hw_cli_parse("maps", "PID", "Show the memory mappings of Linux process PID (start, end, "
                    "permissions, file offset, path), read from its maple tree in guest RAM.",
                    entries, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return hw_cli_usage("maps", argc < 2 ? "missing PID" : "unexpected argument '%s'",
                        argv[argc < 2 ? 0 : 2]);
  guint64 pid;
  if (!hw_cli_parse_u64(argv[1], FALSE, &pid, &error) || pid == 0 || pid > G_MAXINT32 ||
      !g_ascii_isdigit(argv[1][0]) || argv[1][strspn(argv[1], "0123456789")] != '\0')
    return hw_cli_usage("maps", "'%s' is not a process id", argv[1]);
  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  HwTask t;
  gboolean partial = FALSE;
  HwLinux *lx = hw_cli_linux(cli, &error);
  GArray *vmas = lx && hw_linux_find_task(lx, (gint32)pid, &t, &error)
                   ? hw_linux_list_vmas(lx, &t, &partial, &error) : NULL;
  if (!hw_cli_release_after(cli, vmas != NULL, &error)) {
    hw_vma_array_free(vmas);
    return hw_cli_fail(error);
  }

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, t.pid);
    json_builder_set_member_name(b, "comm");
    json_builder_add_string_value(b, t.comm);
    json_builder_set_member_name(b, "partial");
    json_builder_add_boolean_value(b, partial);
    json_builder_set_member_name(b, "maps");
    json_builder_begin_array(b);
    for (guint i = 0; i < vmas->len; i++)
      hw_cli_json_vma(b, &g_array_index(vmas, HwVma, i));
    json_builder_end_array(b);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    for (guint i = 0; i < vmas->len; i++) {
      const HwVma *v = &g_array_index(vmas, HwVma, i);
      printf("%08" G_GINT64_MODIFIER "x-%08" G_GINT64_MODIFIER "x %s %08" G_GINT64_MODIFIER
             "x %s\n", v->start, v->end, v->perms, v->offset, v->path);
    }
    if (partial)
      fprintf(stderr, "haywire: warning: the memory map was only partly readable\n");
  }
  hw_vma_array_free(vmas);
  return HW_EXIT_OK;
}
