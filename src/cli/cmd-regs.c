/* haywire regs: a vCPU's control and instruction-pointer registers. */
#include "cli/cli.h"

#include <string.h>

/* What x86-64's GDB stub is asked for with --gdb-stub (its names). */
static const char *const gdb_x86_64[] = { "rip", "cr0", "cr2", "cr3", "cr4", "efer", "rsp",
                                          "eflags", NULL };

/* x86-64 registers through the GDB stub, as a second route beside HMP. The guest is
 * paused through QMP first; QEMU would resume it on a detach, so the stub is left by
 * closing the socket (AArch64's registers come from the stub anyway, through the guest
 * model, which does the same). */
static HwRegs *
regs_from_gdb(HwCli *cli, int cpu, GError **error)
{
  g_autoptr(HwGdb) gdb = hw_gdb_connect(cli->gdb_addr, cli->timeout_ms, error);
  if (gdb == NULL)
    return NULL;
  if (hw_gdb_get_arch(gdb) != HW_ARCH_X86_64) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "the GDB stub at %s serves "
                "another VM: its target is %s, this guest (QMP) is x86_64", cli->gdb_addr,
                hw_arch_name(hw_gdb_get_arch(gdb)));
    return NULL;   /* closing without detaching leaves that VM stopped as it was */
  }
  /* The guest is paused (no --live with the stub): closing without detaching leaves it
   * so, where a detach would let it run until QMP stopped it again. */
  return hw_gdb_read_regs(gdb, (guint)cpu, gdb_x86_64, error);
}

int
hw_cmd_regs(HwCli *cli, int argc, char **argv)
{
  int rc, cpu = 0;
  gboolean all = FALSE, live = FALSE, via_gdb = FALSE;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "cpu", 'c', 0, G_OPTION_ARG_INT, &cpu, "vCPU index (default 0)", "N" },
    { "all", 'a', 0, G_OPTION_ARG_NONE, &all, "show every register QEMU reports", NULL },
    { "gdb-stub", 'g', 0, G_OPTION_ARG_NONE, &via_gdb, "read them through QEMU's GDB stub "
      "(--gdb ADDR or HAYWIRE_GDB): names and numbers from its target description", NULL },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest while reading", NULL },
    { NULL }
  };
  if (!hw_cli_parse("regs", "[--cpu N]", "Show vCPU N's registers. x86-64: RIP, CPL, CR0, "
                    "CR2, CR3, CR4, EFER from HMP 'info registers' (with --gdb-stub: from "
                    "QEMU's GDB stub instead). AArch64: PC, EL, CPSR, SP_EL0, SCTLR_EL1, "
                    "TCR_EL1, TTBR0_EL1, TTBR1_EL1 from QEMU's GDB stub (--gdb ADDR or "
                    "HAYWIRE_GDB), which HMP lacks.", entries, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("regs", "unexpected argument '%s'", argv[1]);
  if (cpu < 0)
    return hw_cli_usage("regs", "bad --cpu %d", cpu);
  gboolean from_stub = hw_guest_regs_need_gdb(cli->guest);
  via_gdb = via_gdb && !from_stub;   /* AArch64's registers come from the stub anyway */
  if (via_gdb && hw_guest_is_offline(cli->guest))
    return hw_cli_usage("regs", "--gdb-stub reads a running QEMU: a recording has its "
                        "registers in the file");
  if (via_gdb && live)
    return hw_cli_usage("regs", "--gdb-stub stops the guest while attached: no --live");
  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  g_autoptr(HwRegs) regs = via_gdb ? regs_from_gdb(cli, cpu, &error)
                                   : hw_cli_regs(cli, cpu, &error);
  if (regs == NULL)
    return hw_cli_fail(error);
  if (!hw_cli_release(cli, &error))
    return hw_cli_fail(error);

  guint n_all;
  const char *const *names = hw_regs_get_names(regs, &n_all);
  const char *const *shown = hw_guest_get_register_summary(cli->guest);
  guint n = 0;
  while (shown[n])
    n++;
  if (all || via_gdb)
    n = n_all;
  const char *const *list = all || via_gdb ? names : shown;

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
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
  printf("vCPU %d (%s%s)\n", cpu, hw_guest_get_arch_name(cli->guest),
         via_gdb || from_stub ? ", GDB stub" : "");
  int width = 6;   /* one column for all names */
  for (guint i = 0; i < n; i++)
    width = MAX(width, (int)strlen(list[i]));
  for (guint i = 0; i < n; i++) {
    guint64 v;
    if (!hw_regs_get(regs, list[i], &v))
      continue;
    if (strcmp(list[i], "CPL") == 0 || strcmp(list[i], "EL") == 0)
      printf("  %-*s %" G_GUINT64_FORMAT "\n", width, list[i], v);
    else
      printf("  %-*s 0x%016" G_GINT64_MODIFIER "x\n", width, list[i], v);
  }
  return HW_EXIT_OK;
}
