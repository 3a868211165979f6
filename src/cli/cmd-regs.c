/* haywire regs: a vCPU's control and instruction-pointer registers. */
#include "cli/cli.h"

#include <string.h>

/* The registers shown by default, in this order. */
static const char *const shown[] = { "RIP", "CPL", "CR0", "CR2", "CR3", "CR4", "EFER",
                                     "RSP", "RFL" };

int
hw_cmd_regs(HwCli *cli, int argc, char **argv)
{
  int rc, cpu = 0;
  gboolean all = FALSE, live = FALSE;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "cpu", 'c', 0, G_OPTION_ARG_INT, &cpu, "vCPU index (default 0)", "N" },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "show every register QEMU reports", NULL },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest while reading", NULL },
    { NULL }
  };
  if (!hw_cli_parse("regs", "[--cpu N]", "Show vCPU N's registers: RIP, CPL, CR0, CR2, CR3, "
                    "CR4, EFER (x86-64, from HMP 'info registers').", entries, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("regs", "unexpected argument '%s'", argv[1]);
  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  g_autoptr(HwRegs) regs = hw_cli_regs(cli, cpu, &error);
  if (regs == NULL)
    return hw_cli_fail(error);
  if (!hw_cli_release(cli, &error))
    return hw_cli_fail(error);

  guint n_all;
  const char *const *names = hw_regs_get_names(regs, &n_all);
  guint n = all ? n_all : G_N_ELEMENTS(shown);
  const char *const *list = all ? names : shown;

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "cpu");
    json_builder_add_int_value(b, cpu);
    json_builder_set_member_name(b, "arch");
    json_builder_add_string_value(b, hw_guest_get_arch_name(cli->guest));
    json_builder_set_member_name(b, "registers");
    json_builder_begin_object(b);
    for (guint i = 0; i < n; i++) {
      guint64 v;
      if (hw_regs_get(regs, list[i], &v))
        hw_cli_json_hex(b, list[i], v);
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
    return HW_EXIT_OK;
  }
  printf("vCPU %d (%s)\n", cpu, hw_guest_get_arch_name(cli->guest));
  for (guint i = 0; i < n; i++) {
    guint64 v;
    if (hw_regs_get(regs, list[i], &v) && strcmp(list[i], "CPL") == 0)
      printf("  %-6s %" G_GUINT64_FORMAT "\n", list[i], v);
    else if (hw_regs_get(regs, list[i], &v))
      printf("  %-6s 0x%016" G_GINT64_MODIFIER "x\n", list[i], v);
  }
  return HW_EXIT_OK;
}
