/* Helpers shared by the subcommands: option parsing, errors, JSON, pause guard. */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

static HwCli *context;

void
hw_cli_set_context(HwCli *cli)
{
  context = cli;
}

char *
hw_cli_explain(const GError *error)
{
  const char *doing = context && context->doing ? context->doing : "the command";
  if (error == NULL)
    return g_strdup("unknown error");
  /* The memory file shrinking is the first cause even when QEMU then dies of it. */
  /* RAM copied out of QEMU's process: QEMU exited, or the copy failed for its reason. */
  if (g_error_matches(error, HW_ERROR, HW_ERROR_GONE) && strstr(error->message, "/proc/")) {
    if (context && context->guest && hw_guest_qemu_exited(context->guest))
      return g_strdup_printf("QEMU exited during %s", doing);
    return g_strdup_printf("guest memory could not be read during %s: %s", doing,
                           error->message);
  }
  if (g_error_matches(error, HW_ERROR, HW_ERROR_GONE) && !g_str_has_prefix(error->message, "QEMU"))
    return g_strdup_printf("guest memory vanished during %s: the memory file shrank under "
                           "haywire (truncated or replaced?)", doing);
  if ((context && context->guest && hw_guest_qemu_exited(context->guest)) ||
      g_error_matches(error, HW_ERROR, HW_ERROR_GONE))
    return g_strdup_printf("QEMU exited during %s", doing);
  if (error->domain != HW_ERROR)
    return g_strdup(error->message);
  switch (error->code) {
  case HW_ERROR_DISCONNECTED:
    return g_strdup_printf("lost the connection to QEMU during %s: %s", doing, error->message);
  default:
    return g_strdup(error->message);
  }
}

int
hw_cli_fail(GError *error)
{
  g_autofree char *text = hw_cli_explain(error);
  fprintf(stderr, "haywire: %s\n", text);
  return HW_EXIT_ERROR;
}

int
hw_cli_usage(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  fprintf(stderr, "haywire %s: %s (see 'haywire %s --help')\n", cmd, msg, cmd);
  return HW_EXIT_USAGE;
}

gboolean
hw_cli_parse(const char *cmd, const char *params, const char *summary, GOptionEntry *entries,
             int *argc, char ***argv, int *exit_code)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new(params);
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf("haywire %s", cmd);

  g_set_prgname(prgname);
  g_option_context_set_summary(ctx, summary);
  g_option_context_set_description(ctx,
    "Global options go before the command: --qmp ADDR, --gdb ADDR, --mem FILE, --json,\n"
    "--timeout MS (see 'haywire --help').");
  if (entries)
    g_option_context_add_main_entries(ctx, entries, NULL);
  if (!g_option_context_parse(ctx, argc, argv, &error)) {
    *exit_code = hw_cli_usage(cmd, "%s", error->message);
    return FALSE;
  }
  return TRUE;
}


/* ---- the pause guard -------------------------------------------------------------- */

HwGuest *
hw_cli_open_recording(HwCli *cli, GError **error)
{
  if (cli->dump_path)
    return hw_guest_open_dump(cli->dump_path, error);
  g_autoptr(HwSnapshot) s = hw_snapshot_load(cli->snapshot_path, error);
  return s ? hw_snapshot_open_guest(s, cli->snapshot_path, 0, error) : NULL;
}

gboolean
hw_cli_pause(HwCli *cli, GError **error)
{
  gboolean was_running = FALSE;
  if (hw_guest_is_offline(cli->guest)) {
    cli->run_state = "recorded";   /* a snapshot or a dump: one moment, never running */
    cli->epoch = hw_guest_get_epoch(cli->guest);
    return TRUE;
  }
  if (!hw_guest_pause(cli->guest, &was_running, error))
    return FALSE;
  cli->we_paused = was_running;
  cli->run_state = was_running ? "paused-by-haywire" : "already-paused";
  cli->epoch = hw_guest_get_epoch(cli->guest);
  return TRUE;
}

gboolean
hw_cli_release(HwCli *cli, GError **error)
{
  if (!cli->we_paused)
    return TRUE;
  gboolean ok = hw_guest_resume(cli->guest, error);
  cli->we_paused = FALSE;
  return ok;
}

gboolean
hw_cli_release_after(HwCli *cli, gboolean ok, GError **error)
{
  g_autoptr(GError) rerr = NULL;
  if (!hw_cli_release(cli, &rerr) && ok) {
    g_propagate_error(error, g_steal_pointer(&rerr));
    return FALSE;
  }
  return ok;
}

/* ---- output ----------------------------------------------------------------------- */

void
hw_cli_print_json(JsonNode *node)
{
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, node);
  g_autofree char *text = json_generator_to_data(gen, NULL);
  printf("%s\n", text);
  json_node_unref(node);
}

char *
hw_cli_hex(guint64 v)
{
  return g_strdup_printf("0x%" G_GINT64_MODIFIER "x", v);
}

char *
hw_cli_event_stamp(HwCli *cli, const char *name, guint mark)
{
  const HwRunEvent *e = hw_history_find_last(hw_guest_get_history(cli->guest), name, mark);
  return e ? g_strdup_printf("%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT, e->seconds,
                             e->microseconds)
           : NULL;
}

void
hw_cli_json_moment(JsonBuilder *b, HwCli *cli)
{
  gboolean recorded = cli->guest && hw_guest_is_offline(cli->guest);
  json_builder_set_member_name(b, "epoch");
  json_builder_add_int_value(b, (gint64)(cli->run_state && !recorded
                                             ? cli->epoch : hw_guest_get_epoch(cli->guest)));
  json_builder_set_member_name(b, "run_state");
  json_builder_add_string_value(b, recorded ? "recorded" : cli->run_state ? cli->run_state
                                                                          : "live");
}

const char *
hw_cli_state(HwCli *cli, gboolean live)
{
  if (hw_guest_is_offline(cli->guest))
    return "recorded";   /* --live or not: a recording never runs */
  return live ? "live" : cli->we_paused ? "paused-by-haywire" : "already-paused";
}

void
hw_cli_json_hex(JsonBuilder *b, const char *member, guint64 v)
{
  g_autofree char *s = hw_cli_hex(v);
  json_builder_set_member_name(b, member);
  json_builder_add_string_value(b, s);
}

void
hw_cli_json_task(JsonBuilder *b, const HwTask *t)
{
  char state[2] = { t->state, 0 };
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "pid");
  json_builder_add_int_value(b, t->pid);
  json_builder_set_member_name(b, "tgid");
  json_builder_add_int_value(b, t->tgid);
  json_builder_set_member_name(b, "ppid");
  json_builder_add_int_value(b, t->ppid);
  json_builder_set_member_name(b, "uid");
  json_builder_add_int_value(b, t->uid);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, state);
  json_builder_set_member_name(b, "comm");
  json_builder_add_string_value(b, t->comm);
  json_builder_set_member_name(b, "kernel_thread");
  json_builder_add_boolean_value(b, t->kernel_thread);
  hw_cli_json_hex(b, "pgd", t->pgd_gpa);
  hw_cli_json_hex(b, "task", t->task_va);
  json_builder_end_object(b);
}

void
hw_cli_json_vma(JsonBuilder *b, const HwVma *v)
{
  json_builder_begin_object(b);
  hw_cli_json_hex(b, "start", v->start);
  hw_cli_json_hex(b, "end", v->end);
  json_builder_set_member_name(b, "perms");
  json_builder_add_string_value(b, v->perms);
  hw_cli_json_hex(b, "offset", v->offset);
  json_builder_set_member_name(b, "path");
  json_builder_add_string_value(b, v->path ? v->path : "");
  json_builder_end_object(b);
}

void
hw_cli_json_owner(JsonBuilder *b, const HwOwner *o)
{
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "kind");
  json_builder_add_string_value(b, hw_owner_kind_name(o->kind));
  json_builder_set_member_name(b, "pid");
  json_builder_add_int_value(b, o->pid);
  json_builder_set_member_name(b, "comm");
  json_builder_add_string_value(b, o->comm);
  if (o->kind == HW_OWNER_PAGE_TABLE) {
    json_builder_set_member_name(b, "level");
    json_builder_add_int_value(b, o->level);
  } else {
    hw_cli_json_hex(b, "va", o->va);
    json_builder_set_member_name(b, "writable");
    json_builder_add_boolean_value(b, o->writable);
    json_builder_set_member_name(b, "executable");
    json_builder_add_boolean_value(b, !o->nx);
  }
  json_builder_end_object(b);
}

/* ---- address spaces --------------------------------------------------------------- */

HwRegs *
hw_cli_regs(HwCli *cli, int cpu, GError **error)
{
  if (cpu < 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "bad vCPU number %d", cpu);
    return NULL;
  }
  /* Registers from the GDB stub (AArch64), whose attach stops the guest anyway: a
   * --live command holds it paused through QMP for the read instead, so a signal in
   * between still resumes it (the pause guard) and it never runs half-attached. */
  gboolean hold = hw_guest_regs_need_gdb(cli->guest) && !cli->we_paused;
  if (hold && !hw_cli_pause(cli, error))
    return NULL;
  HwRegs *regs = hw_guest_read_regs(cli->guest, (guint)cpu, error);
  if (hold) {
    cli->run_state = NULL;   /* held for the read only: the command is still live */
    if (!hw_cli_release_after(cli, regs != NULL, error))
      g_clear_pointer(&regs, hw_regs_free);
  }
  return regs;
}

HwLinux *
hw_cli_linux(HwCli *cli, GError **error)
{
  if (cli->lx == NULL) {
    const char *env = g_getenv("HAYWIRE_CACHE_DIR");
    g_autofree char *dir = NULL;
    /* A recording's kernel is found afresh: the cache is per boot of a live guest. */
    if (!cli->no_cache && !(env && strcmp(env, "off") == 0) &&
        !hw_guest_is_offline(cli->guest))
      dir = env && *env ? g_strdup(env) : g_build_filename(g_get_user_cache_dir(), "haywire",
                                                           NULL);
    /* Discovery reads vCPU 0's registers: held paused as in hw_cli_regs. */
    gboolean hold = hw_guest_regs_need_gdb(cli->guest) && !cli->we_paused;
    if (hold && !hw_cli_pause(cli, error))
      return NULL;
    cli->lx = hw_linux_open(cli->guest, dir, error);
    if (hold) {
      cli->run_state = NULL;
      if (!hw_cli_release_after(cli, cli->lx != NULL, error))
        g_clear_pointer(&cli->lx, hw_linux_free);
    }
  }
  return cli->lx;
}

HwMmu *
hw_cli_mmu(HwCli *cli, int cpu, const char *root, int pid, GError **error)
{
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  if (pid > 0) {
    HwTask t;
    HwLinux *lx = hw_cli_linux(cli, error);
    if (lx == NULL || !hw_linux_find_task(lx, pid, &t, error))
      return NULL;
    return hw_linux_task_mmu(lx, &t, error);
  }
  g_autoptr(HwRegs) regs = hw_cli_regs(cli, cpu, error);
  if (regs == NULL)
    return NULL;
  if (root != NULL) {
    guint64 root_gpa;
    if (!hw_cli_parse_u64(root, FALSE, &root_gpa, error))
      return NULL;
    /* Paging mode (4/5 levels, NX) still comes from the vCPU. */
    return hw_mmu_new_from_root(mem, hw_guest_get_arch(cli->guest), root_gpa, regs, error);
  }
  /* A recording without translation registers (an AArch64 dump): the kernel's tables,
   * as the Linux layer found them; user addresses then need --pid. */
  guint64 ttbr1;
  if (hw_guest_is_offline(cli->guest) && hw_guest_get_arch(cli->guest) == HW_ARCH_AARCH64 &&
      !hw_regs_get(regs, "TTBR1_EL1", &ttbr1)) {
    HwLinux *klx = hw_cli_linux(cli, error);
    if (klx == NULL)
      return NULL;
    const HwMmu *k = hw_linux_get_kernel_mmu(klx);
    return hw_mmu_copy_with_root(k, hw_mmu_get_kernel_root(k));
  }
  /* Where the kernel half has tables of its own, a vCPU may hold stand-ins there (arm64
   * KPTI at EL0): with a Linux guest the kernel's own tables serve kernel addresses. */
  HwMmu *mmu = hw_mmu_new_from_regs(mem, regs, error);
  HwLinux *lx = mmu && hw_mmu_has_separate_kernel_root(mmu) ? hw_cli_linux(cli, NULL) : NULL;
  if (lx == NULL)
    return mmu;
  hw_mmu_free(mmu);
  return hw_linux_vcpu_mmu(lx, regs, error);
}
