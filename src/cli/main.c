/* haywire: command-line entry point with the sorted command table. */
#include "cli/cli.h"

#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* Sorted by name: looked up with bsearch. */
static const HwCmd commands[] = {
  { "carve", hw_cmd_carve, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM,
    "-d DIR [--phys | --pid PID] [--find KINDS] [--thumbnails] [--gpu]",
    "write the images found in guest memory as files", "carving" },
  { "gpu", hw_cmd_gpu, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM, "",
    "the guest's DRM devices and framebuffers: what is shown, who holds what, where",
    "the GPU listing" },
  { "info", hw_cmd_info, HW_CMD_NEEDS_GUEST, "",
    "run state, arch, vCPU count, RAM backends and how they are read, RAM map", "info" },
  { "kernel", hw_cmd_kernel, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM, "",
    "what kernel discovery found: banner, KASLR, BTF, init_task", "kernel discovery" },
  { "maps", hw_cmd_maps, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM, "PID",
    "memory mappings of a Linux process, like /proc/PID/maps", "maps" },
  { "overview", hw_cmd_overview, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM, "-o FILE.png",
    "picture of all guest RAM, one pixel per page, by kind of content", "the overview" },
  { "owners", hw_cmd_owners, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM, "GPA...",
    "who maps a physical page: processes, the kernel, page tables", "the owner lookup" },
  { "pause", hw_cmd_pause, HW_CMD_NEEDS_GUEST | HW_CMD_LIVE_ONLY, "", "stop the guest's vCPUs", "pause" },
  { "ps", hw_cmd_ps, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM, "[--threads]",
    "processes of a Linux guest (no profile needed)", "ps" },
  { "read", hw_cmd_read, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM,
    "ADDR LEN [--phys | --cpu N | --root PA | --pid PID] [-o FILE]", "hexdump guest memory, or save it raw", "the read" },
  { "regs", hw_cmd_regs, HW_CMD_NEEDS_GUEST, "[--cpu N]", "show a vCPU's registers", "the register read" },
  { "render", hw_cmd_render, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM,
    "ADDR --width W --format FMT [--height H] [--stride S] [--phys | --pid PID] -o FILE.png",
    "draw guest memory as pixels", "the render" },
  { "resume", hw_cmd_resume, HW_CMD_NEEDS_GUEST | HW_CMD_LIVE_ONLY, "", "let the guest's vCPUs run again", "resume" },
  { "scan", hw_cmd_scan, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM,
    "[--find KINDS] [--string TEXT] [--phys | --pid PID] [--live]",
    "find images and strings in guest memory (paused)", "the scan" },
  { "screen", hw_cmd_screen, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM, "[-o FILE.png] [--fb ID]",
    "what the guest displays, from its framebuffer in guest memory", "the screen capture" },
  { "serve", hw_cmd_serve, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM | HW_CMD_LIVE_ONLY,
    "[--listen ADDR:PORT]", "the memory viewer, in a browser (prints the address to open)",
    "the viewer" },
  { "snapshot", hw_cmd_snapshot, 0, "save FILE | diff A B",
    "page hashes of all RAM at one moment; the pages that changed, and whose", "the snapshot" },
  { "translate", hw_cmd_translate, HW_CMD_NEEDS_GUEST | HW_CMD_NEEDS_MEM,
    "VA [--cpu N | --root PA | --pid PID]", "walk the guest's page tables for a virtual address", "the translation" },
  { "wait", hw_cmd_wait, HW_CMD_LIVE_ONLY, "[--timeout S] [--status STATE] [--serial FILE --for REGEX]",
    "wait until QEMU answers (and is in STATE, and its serial log says REGEX)", "the wait" },
  { "watch", hw_cmd_watch, HW_CMD_NEEDS_GUEST | HW_CMD_LIVE_ONLY,
    "[--json] [--on-stop 'COMMAND'] [--on-event NAME:'COMMAND']...",
    "follow QEMU's events; at each, run haywire commands in-process", "the watch" },
};

static int
compare_cmd(const void *key, const void *elem)
{
  return strcmp(key, ((const HwCmd *)elem)->name);
}

const HwCmd *
hw_cli_find_command(const char *name)
{
  return bsearch(name, commands, G_N_ELEMENTS(commands), sizeof commands[0], compare_cmd);
}

int
hw_cli_run_command(HwCli *cli, const HwCmd *cmd, int argc, char **argv)
{
  cli->doing = cmd->doing;
  /* --help must work without a guest: let the command parse its options first. */
  for (int k = 1; k < argc; k++)
    if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
      return cmd->fn(cli, argc, argv);
  if ((cmd->flags & HW_CMD_LIVE_ONLY) && (cli->snapshot_path || cli->dump_path)) {
    fprintf(stderr, "haywire: %s needs a running QEMU: --snapshot and --dump read a "
            "recording\n", cmd->name);
    return HW_EXIT_USAGE;
  }
  if (cmd->flags & HW_CMD_NEEDS_GUEST) {
    int rc = hw_cli_attach(cli, (cmd->flags & HW_CMD_NEEDS_MEM) != 0);
    if (rc >= 0)
      return rc;
  }
  return cmd->fn(cli, argc, argv);
}

static void
print_help(FILE *out)
{
  fprintf(out,
    "Usage: haywire [--qmp ADDR | --domain NAME [--connect URI] | --snapshot FILE | --dump FILE]\n"
    "               [--gdb ADDR] [--mem FILE]\n"
    "               [--json] [--timeout MS] COMMAND [ARGS]\n"
    "\n"
    "Look inside a running QEMU guest (x86-64 or AArch64) from the host: registers, RAM,\n"
    "page tables, Linux processes, images.\n"
    "\n"
    "Global options:\n"
    "  --qmp ADDR     QMP socket: a unix socket path or HOST:PORT (default $HAYWIRE_QMP)\n"
    "  --gdb ADDR     QEMU's GDB stub, path or HOST:PORT (default $HAYWIRE_GDB); AArch64\n"
    "                 guests need it: their TTBRs and TCR are only shown there\n"
    "  --mem FILE     guest RAM file, instead of the backend's mem-path (default $HAYWIRE_MEM)\n"
    "  --snapshot FILE  read a snapshot saved with 'snapshot save --data' instead of a\n"
    "                 running guest: no QEMU needed\n"
    "  --dump FILE    read QEMU's dump-guest-memory ELF file instead of a running guest\n"
    "  --json         print one JSON object on stdout; addresses are \"0x...\" strings\n"
    "  --timeout MS   time-out for each QMP command (default %u)\n"
    "  --domain NAME  a libvirt-managed guest, reached through libvirt's QEMU monitor\n"
    "                 pass-through (not QEMU's socket), instead of --qmp\n"
    "  --connect URI  libvirt's connection URI for --domain (default: libvirt's own)\n"
    "  --qemu-pid PID QEMU's pid, where the QMP socket does not tell it (TCP): lets\n"
    "                 haywire say \"QEMU exited\" rather than \"lost the connection\"\n"
    "  --no-cache     do not use the per-boot cache of kernel discovery\n"
    "                 (cache dir: $HAYWIRE_CACHE_DIR, default ~/.cache/haywire; 'off' disables)\n"
    "  -h, --help     show this help; 'haywire COMMAND --help' shows a command's options\n"
    "  --version      print the version\n"
    "\n"
    "Commands:\n", HW_QMP_DEFAULT_TIMEOUT_MS);
  for (gsize i = 0; i < G_N_ELEMENTS(commands); i++) {
    /* Name and summary on one line, the synopsis under them. */
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    if (commands[i].args[0])
      fprintf(out, "  %-10s   %s %s\n", "", commands[i].name, commands[i].args);
  }
  fprintf(out,
    "\nAddresses are hex with 0x (or bare hex digits), or decimal; lengths take K/M/G.\n"
    "Commands that read guest state pause the guest while they work and resume it after,\n"
    "unless it was already paused. Exit status: 0 success, 1 error, 2 usage.\n");
}

/* Take "--opt VALUE" or "--opt=VALUE" at argv[*i]; NULL if this is not OPT. */
static gboolean
take_value(int argc, char **argv, int *i, const char *opt, char **value, int *rc)
{
  gsize n = strlen(opt);
  if (strncmp(argv[*i], opt, n) != 0)
    return FALSE;
  if (argv[*i][n] == '=') {
    g_free(*value);
    *value = g_strdup(argv[*i] + n + 1);
    return TRUE;
  }
  if (argv[*i][n] != '\0')
    return FALSE;
  if (*i + 1 >= argc) {
    fprintf(stderr, "haywire: option %s needs a value\n", opt);
    *rc = HW_EXIT_USAGE;
    return TRUE;
  }
  g_free(*value);
  *value = g_strdup(argv[++*i]);
  return TRUE;
}

static int
run(HwCli *cli, int argc, char **argv)
{
  int i, rc = -1;
  g_autofree char *timeout = NULL, *qemu_pid = NULL;
  const char *live_option = NULL;   /* --qmp or --mem: a live guest's */
  gboolean gdb_given = FALSE;

  for (i = 1; i < argc && argv[i][0] == '-' && rc < 0; i++) {
    const char *a = argv[i];
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      print_help(stdout);
      return HW_EXIT_OK;
    }
    if (strcmp(a, "--version") == 0) {
      printf("haywire %s\n", HW_VERSION);
      return HW_EXIT_OK;
    }
    if (strcmp(a, "--no-cache") == 0) {
      cli->no_cache = TRUE;
      continue;
    }
    if (strcmp(a, "--json") == 0) {
      cli->json = TRUE;
      continue;
    }
    if (take_value(argc, argv, &i, "--qmp", &cli->qmp_addr, &rc) ||
        take_value(argc, argv, &i, "--mem", &cli->mem_path, &rc)) {
      live_option = a;
      continue;
    }
    if (take_value(argc, argv, &i, "--gdb", &cli->gdb_addr, &rc)) {
      gdb_given = TRUE;
      continue;
    }
    if (
        take_value(argc, argv, &i, "--timeout", &timeout, &rc) ||
        take_value(argc, argv, &i, "--qemu-pid", &qemu_pid, &rc) ||
        take_value(argc, argv, &i, "--snapshot", &cli->snapshot_path, &rc) ||
        take_value(argc, argv, &i, "--dump", &cli->dump_path, &rc))
      continue;
    if (take_value(argc, argv, &i, "--domain", &cli->domain, &rc) ||
        take_value(argc, argv, &i, "--connect", &cli->connect_uri, &rc)) {
      live_option = a;
      continue;
    }
    fprintf(stderr, "haywire: unknown option %s (see 'haywire --help')\n", a);
    return HW_EXIT_USAGE;
  }
  if (rc >= 0)
    return rc;
  if (cli->domain && cli->qmp_addr) {
    fprintf(stderr, "haywire: give --qmp or --domain, not both\n");
    return HW_EXIT_USAGE;
  }
  if (cli->connect_uri && !cli->domain) {
    fprintf(stderr, "haywire: --connect goes with --domain NAME\n");
    return HW_EXIT_USAGE;
  }
  if (cli->snapshot_path && cli->dump_path) {
    fprintf(stderr, "haywire: give --snapshot or --dump, not both\n");
    return HW_EXIT_USAGE;
  }
  if ((cli->snapshot_path || cli->dump_path) && (live_option || gdb_given)) {
    fprintf(stderr, "haywire: %s is for a running QEMU: --snapshot and --dump read a "
            "recording\n", live_option ? live_option : "--gdb");
    return HW_EXIT_USAGE;
  }
  if (i >= argc) {
    print_help(stderr);
    return HW_EXIT_USAGE;
  }
  if (timeout) {
    guint64 ms;
    if (!hw_cli_parse_u64(timeout, FALSE, &ms, NULL) || ms == 0 || ms > 3600000) {
      fprintf(stderr, "haywire: bad --timeout %s (milliseconds, 1..3600000)\n", timeout);
      return HW_EXIT_USAGE;
    }
    cli->timeout_ms = (guint)ms;
  }
  guint64 pid = 0;
  if (qemu_pid && (qemu_pid[0] == '\0' || strspn(qemu_pid, "0123456789") != strlen(qemu_pid) ||
                   !hw_cli_parse_u64(qemu_pid, FALSE, &pid, NULL) || pid == 0 ||
                   pid > G_MAXINT32)) {
    fprintf(stderr, "haywire: bad --qemu-pid %s\n", qemu_pid);
    return HW_EXIT_USAGE;
  }
  const HwCmd *cmd = hw_cli_find_command(argv[i]);
  if (cmd == NULL) {
    fprintf(stderr, "haywire: unknown command '%s' (see 'haywire --help')\n", argv[i]);
    return HW_EXIT_USAGE;
  }
  cli->qemu_pid = (int)pid;
  return hw_cli_run_command(cli, cmd, argc - i, argv + i);
}

int
hw_cli_attach(HwCli *cli, gboolean mem)
{
  g_autoptr(GError) error = NULL;
  if (cli->guest == NULL && (cli->snapshot_path || cli->dump_path)) {
    cli->guest = hw_cli_open_recording(cli, &error);
    if (cli->guest == NULL)
      return hw_cli_fail(error);
  }
  if (cli->guest == NULL && cli->domain) {
    cli->qmp = hw_qmp_connect_libvirt(cli->connect_uri, cli->domain, cli->timeout_ms, &error);
    if (cli->qmp == NULL)
      return hw_cli_fail(error);
  }
  if (cli->guest == NULL && cli->qmp == NULL) {
    if (cli->qmp_addr == NULL)
      cli->qmp_addr = g_strdup(g_getenv("HAYWIRE_QMP"));
    if (cli->qmp_addr == NULL || cli->qmp_addr[0] == '\0') {
      fprintf(stderr, "haywire: no QMP address: use --qmp ADDR or set HAYWIRE_QMP\n");
      return HW_EXIT_USAGE;
    }
    cli->qmp = hw_qmp_connect(cli->qmp_addr, cli->timeout_ms, &error);
    if (cli->qmp == NULL)
      return hw_cli_fail(error);
  }
  if (cli->guest == NULL) {
    cli->guest = hw_guest_new(cli->qmp, &error);
    if (cli->guest == NULL)
      return hw_cli_fail(error);
    hw_guest_set_gdb(cli->guest, cli->gdb_addr, cli->timeout_ms);
    hw_guest_set_qemu_pid(cli->guest, cli->qemu_pid);
  }
  if (mem && !hw_cli_map_memory(cli, &error))
    return hw_cli_fail(error);
  return -1;
}

gboolean
hw_cli_map_memory(HwCli *cli, GError **error)
{
  if (hw_guest_get_physmem(cli->guest) != NULL)
    return TRUE;
  if (cli->mem_path == NULL && g_getenv("HAYWIRE_MEM") && *g_getenv("HAYWIRE_MEM"))
    cli->mem_path = g_strdup(g_getenv("HAYWIRE_MEM"));
  return hw_guest_map_memory(cli->guest, cli->mem_path, error);
}

int
main(int argc, char **argv)
{
  HwCli cli = { 0 };
  g_autoptr(GError) error = NULL;

  setlocale(LC_ALL, "");
  signal(SIGPIPE, SIG_IGN);
  hw_guest_guard_signals();   /* a guest we paused is resumed on SIGINT, SIGTERM, SIGHUP */
  cli.gdb_addr = g_strdup(g_getenv("HAYWIRE_GDB"));
  hw_cli_set_context(&cli);
  int rc = run(&cli, argc, argv);

  /* Every path out comes through here: never leave paused a guest we paused. */
  if (cli.we_paused && !hw_cli_release(&cli, &error)) {
    /* A QEMU that exited was reported by the command already. */
    if (rc == HW_EXIT_OK || !hw_guest_qemu_exited(cli.guest)) {
      g_prefix_error(&error, "could not resume the guest: ");
      hw_cli_fail(error);
    }
    rc = HW_EXIT_ERROR;
  }
  if (fflush(stdout) != 0 || ferror(stdout)) {
    fprintf(stderr, "haywire: cannot write output\n");
    rc = HW_EXIT_ERROR;
  }
  hw_linux_free(cli.lx);
  hw_guest_free(cli.guest);
  hw_qmp_free(cli.qmp);
  g_free(cli.qmp_addr);
  g_free(cli.gdb_addr);
  g_free(cli.mem_path);
  g_free(cli.snapshot_path);
  g_free(cli.dump_path);
  g_free(cli.domain);
  g_free(cli.connect_uri);
  return rc;
}
