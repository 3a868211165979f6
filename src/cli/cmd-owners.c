/* haywire owners: who maps a physical page: processes (pid, comm, va), the kernel, or
 * page tables; from a reverse map of every page table at one paused moment. */
#include "cli/cli.h"

#include <string.h>

#define MAX_ADDRESSES 4096

static void
owner_text(const HwOwner *o)
{
  if (o->kind == HW_OWNER_PAGE_TABLE) {
    printf("  page table    %7d %-16s level %u\n", o->pid, o->comm, o->level);
    return;
  }
  printf("  %-13s %7d %-16s va 0x%016" G_GINT64_MODIFIER "x %c%c\n",
         hw_owner_kind_name(o->kind), o->pid, o->comm, o->va, o->writable ? 'w' : '-',
         o->nx ? '-' : 'x');
}

int
hw_cmd_owners(HwCli *cli, int argc, char **argv)
{
  int rc;
  gboolean live = FALSE;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest (the answer may be torn)",
      NULL },
    { NULL }
  };
  if (!hw_cli_parse("owners", "GPA...", "Show who maps each physical page: processes (pid, "
                    "name, virtual address, write/execute), the kernel (direct map, vmalloc, "
                    "its image) or page tables. Built from every page table of a Linux guest "
                    "at one paused moment.", entries, &argc, &argv, &rc))
    return rc;
  if (argc < 2)
    return hw_cli_usage("owners", "give at least one physical address");
  if (argc - 1 > MAX_ADDRESSES)
    return hw_cli_usage("owners", "at most %d addresses", MAX_ADDRESSES);
  g_autofree guint64 *gpas = g_new(guint64, argc - 1);
  for (int i = 1; i < argc; i++)
    if (!hw_cli_parse_u64(argv[i], FALSE, &gpas[i - 1], &error))
      return hw_cli_usage("owners", "%s", error->message);
  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  gboolean partial = FALSE;
  gint64 t0 = g_get_monotonic_time();
  HwLinux *lx = hw_cli_linux(cli, &error);
  g_autoptr(HwOwnerMap) map = lx ? hw_owner_map_build(lx, &partial, &error) : NULL;
  double build_ms = (g_get_monotonic_time() - t0) / 1000.0;
  if (!hw_cli_release_after(cli, map != NULL, &error))
    return hw_cli_fail(error);
  guint64 n_mappings;
  guint n_spaces;
  hw_owner_map_get_counts(map, &n_mappings, &n_spaces);

  for (int i = 0; i < argc - 1; i++) {
    g_autoptr(GArray) owners = hw_owner_map_lookup(map, gpas[i]);
    if (cli->json) {
      g_autoptr(JsonBuilder) b = json_builder_new();
      json_builder_begin_object(b);
      hw_cli_json_moment(b, cli);
      hw_cli_json_hex(b, "gpa", gpas[i]);
      json_builder_set_member_name(b, "partial");
      json_builder_add_boolean_value(b, partial);
      json_builder_set_member_name(b, "owners");
      json_builder_begin_array(b);
      for (guint k = 0; k < owners->len; k++)
        hw_cli_json_owner(b, &g_array_index(owners, HwOwner, k));
      json_builder_end_array(b);
      json_builder_end_object(b);
      hw_cli_print_json(json_builder_get_root(b));
      continue;
    }
    printf("gpa 0x%" G_GINT64_MODIFIER "x:%s\n", gpas[i], owners->len ? "" : " nobody known");
    for (guint k = 0; k < owners->len; k++)
      owner_text(&g_array_index(owners, HwOwner, k));
  }
  if (!cli->json)
    fprintf(stderr, "reverse map of %u address spaces, %" G_GUINT64_FORMAT " mappings, built "
            "in %.1f ms%s\n", n_spaces, n_mappings, build_ms,
            partial ? " (partial: a bound was hit or the task list was torn)" : "");
  return HW_EXIT_OK;
}
