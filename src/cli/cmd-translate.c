/* haywire translate: walk the guest's page tables for one virtual address. */
#include "cli/cli.h"

int
hw_cmd_translate(HwCli *cli, int argc, char **argv)
{
  int rc, cpu = 0, pid = 0;
  g_autofree char *root = NULL;
  gboolean live = FALSE;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "cpu", 'c', 0, G_OPTION_ARG_INT, &cpu, "take the page-table roots from vCPU N's CR3 "
      "(AArch64: TTBR0_EL1/TTBR1_EL1; default 0)", "N" },
    { "root", 'r', 0, G_OPTION_ARG_STRING, &root, "walk from this page-table root (a physical "
      "address) instead", "PA" },
    { "pid", 'P', 0, G_OPTION_ARG_INT, &pid, "use the page tables of Linux process PID "
      "(found in guest RAM, no profile needed)", "PID" },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest during the walk", NULL },
    { NULL }
  };
  if (!hw_cli_parse("translate", "VA", "Translate guest virtual address VA to a physical "
                    "address by walking the guest's page tables (x86-64: 4- or 5-level, large "
                    "pages; AArch64: 4/16/64 KiB granules, blocks, LPA2). Kernel addresses also "
                    "work from a user-mode CR3 under PTI, and from EL0 under arm64 KPTI.",
                    entries, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return hw_cli_usage("translate", argc < 2 ? "missing VA" : "unexpected argument '%s'",
                        argv[argc < 2 ? 0 : 2]);
  if ((root && pid) || pid < 0)
    return hw_cli_usage("translate", pid < 0 ? "bad --pid" : "--root and --pid exclude each other");
  guint64 va;
  if (!hw_cli_parse_u64(argv[1], FALSE, &va, &error))
    return hw_cli_fail(error);

  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  g_autoptr(HwMmu) mmu = hw_cli_mmu(cli, cpu, root, pid, &error);
  HwTranslation t;
  gboolean ok = mmu != NULL && hw_mmu_translate(mmu, va, &t, &error);
  if (!hw_cli_release_after(cli, ok, &error))
    return hw_cli_fail(error);

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
    hw_cli_json_hex(b, "va", t.va);
    hw_cli_json_hex(b, "pa", t.pa);
    hw_cli_json_hex(b, "page_size", t.page_size);
    json_builder_set_member_name(b, "writable");
    json_builder_add_boolean_value(b, t.writable);
    json_builder_set_member_name(b, "user");
    json_builder_add_boolean_value(b, t.user);
    json_builder_set_member_name(b, "nx");
    json_builder_add_boolean_value(b, t.nx);
    json_builder_set_member_name(b, "levels");
    json_builder_add_int_value(b, hw_mmu_get_levels(mmu));
    hw_cli_json_hex(b, "root", t.root_used);
    json_builder_set_member_name(b, "entries");
    json_builder_begin_array(b);
    for (guint i = 0; i < t.levels; i++) {
      json_builder_begin_object(b);
      hw_cli_json_hex(b, "gpa", t.entry_gpa[i]);
      hw_cli_json_hex(b, "value", t.entry[i]);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
    return HW_EXIT_OK;
  }
  /* Any power of two: 4 KiB to 512 GiB pages and blocks on the two arches. */
  const char *unit = t.page_size >= (1ull << 30) ? "GiB" : t.page_size >= (1ull << 20) ? "MiB"
                                                                                     : "KiB";
  guint64 amount = t.page_size >> (t.page_size >= (1ull << 30) ? 30
                                   : t.page_size >= (1ull << 20) ? 20 : 10);
  printf("0x%016" G_GINT64_MODIFIER "x -> 0x%" G_GINT64_MODIFIER "x  (%" G_GUINT64_FORMAT
         " %s page, %s%s%s)\n", t.va, t.pa, amount, unit,
         t.writable ? "rw" : "ro", t.user ? ", user" : ", kernel", t.nx ? ", nx" : ", exec");
  printf("  root 0x%" G_GINT64_MODIFIER "x, %u levels\n", t.root_used, hw_mmu_get_levels(mmu));
  for (guint i = 0; i < t.levels; i++)
    printf("  L%u entry @0x%" G_GINT64_MODIFIER "x = 0x%016" G_GINT64_MODIFIER "x\n",
           hw_mmu_get_levels(mmu) - i, t.entry_gpa[i], t.entry[i]);
  return HW_EXIT_OK;
}
