/* Tests against a real booted AArch64 Linux guest (config from HW_GUEST_CONFIG: -M virt
 * with cortex-a57 or max), booted once for all cases here and in test-guest-linux.c and
 * test-guest-images.c. Registers come from QEMU's GDB stub; every check compares with
 * the ground truth the guest printed, and with the run state before and after. */
#include "guest-harness.h"

#include <gio/gunixsocketaddress.h>

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARM_RAM_BASE 0x40000000ull

static HwTestGuest *guest;

static gboolean
config_is(const char *name)
{
  return strcmp(guest->config, name) == 0;
}

/* The 16 KiB-page guest (Debian 6.12 arm64-16k): 52-bit VAs with LPA2. */
static gboolean
is_16k(void)
{
  return guest->sleep.page_size == 16384;
}

/* A TTBR's table address: ASID (63:48) and CnP drop; with LPA2 a start table may sit at
 * 64-byte alignment (and bits 5:2 carry address bits 51:48, zero below 256 TiB). */
static guint64
ttbr_table(guint64 ttbr)
{
  return ttbr & 0x0000ffffffffffc0ull;
}

static void
resume_guest(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "resume", NULL);
  g_assert_cmpint(r->status, ==, 0);
}

static JsonObject *
regs_of(HwRun *r)
{
  return json_object_get_object_member(hw_run_object(r), "registers");
}

/* The process PID's page-table root, from haywire's ps. */
static guint64
pgd_of(int pid)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "ps", NULL);
  JsonArray *tasks = json_object_get_array_member(hw_run_object(r), "tasks");
  for (guint i = 0; i < json_array_get_length(tasks); i++) {
    JsonObject *t = json_array_get_object_element(tasks, i);
    if (json_object_get_int_member(t, "pid") == pid)
      return hw_json_hex(t, "pgd");
  }
  g_error("pid %d not in ps", pid);
}

/* Pause while the spinning test program is on a vCPU at EL0; returns that vCPU. */
static int
pause_in_spinner(void)
{
  guint64 pgd = pgd_of(guest->spin.pid);
  g_autoptr(HwRun) info = hw_test_runv(guest, "--json", "info", NULL);
  int vcpus = (int)json_object_get_int_member(hw_run_object(info), "vcpus");
  for (int attempt = 0; attempt < 50; attempt++) {
    g_autoptr(HwRun) p = hw_test_runv(guest, "pause", NULL);
    g_assert_cmpint(p->status, ==, 0);
    for (int cpu = 0; cpu < vcpus; cpu++) {
      g_autofree char *c = g_strdup_printf("%d", cpu);
      g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "regs", "--cpu", c, NULL);
      JsonObject *regs = regs_of(r);
      if (hw_json_hex(regs, "EL") == 0 &&
          ttbr_table(hw_json_hex(regs, "TTBR0_EL1")) == pgd)
        return cpu;
    }
    resume_guest();
    g_usleep(20000);
  }
  g_error("never caught the spinning test program on a vCPU at EL0");
}

static void
test_info(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "info", NULL);
  JsonObject *o = hw_run_object(r);
  g_assert_cmpstr(json_object_get_string_member(o, "arch"), ==, "aarch64");
  g_assert_cmpint(json_object_get_int_member(o, "vcpus"), ==,
                  config_is("aarch64-virt-max") ? 2 : 1);
  g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "running");
  JsonArray *ram = json_object_get_array_member(o, "ram");
  g_assert_cmpuint(json_array_get_length(ram), ==, 1);
  /* virt: one block at 1 GiB, file offset 0. */
  JsonObject *first = json_array_get_object_element(ram, 0);
  g_assert_cmphex(hw_json_hex(first, "gpa"), ==, ARM_RAM_BASE);
  g_assert_cmphex(hw_json_hex(first, "file_offset"), ==, 0);
  g_assert_cmphex(hw_json_hex(first, "size"), ==, 512ull << 20);
  g_assert_cmphex(guest->spin.pa, >=, ARM_RAM_BASE);
}

/* TTBRs and TCR from the stub: 4 KiB granules and 48-bit halves as Debian's 6.1 uses
 * (16 KiB, 52 bits and DS for 6.12's arm64-16k), and the run state as found, running or
 * paused. */
static void
test_regs(void)
{
  g_assert_true(hw_test_guest_running(guest));
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "regs", NULL);
  JsonObject *regs = regs_of(r);
  g_assert_true(hw_test_guest_running(guest));
  guint64 tcr = hw_json_hex(regs, "TCR_EL1");
  guint tsz = is_16k() ? 12 : 16;
  g_assert_cmpuint(tcr & 63, ==, tsz);                 /* T0SZ: 48 or 52-bit user half */
  g_assert_cmpuint((tcr >> 16) & 63, ==, tsz);         /* T1SZ */
  g_assert_cmpuint((tcr >> 14) & 3, ==, is_16k() ? 2 : 0);   /* TG0: 4 or 16 KiB */
  g_assert_cmpuint((tcr >> 30) & 3, ==, is_16k() ? 1 : 2);   /* TG1 */
  g_assert_cmpuint((tcr >> 59) & 1, ==, is_16k());     /* DS: LPA2 */
  g_assert_cmphex(hw_json_hex(regs, "SCTLR_EL1") & 1, ==, 1);   /* MMU on */
  guint64 ttbr1 = ttbr_table(hw_json_hex(regs, "TTBR1_EL1"));
  g_assert_cmphex(ttbr1, >=, ARM_RAM_BASE);
  g_assert_cmphex(ttbr1, <, ARM_RAM_BASE + (512ull << 20));
  g_assert_true(json_object_has_member(regs, "TTBR0_EL1"));
  g_assert_true(json_object_has_member(regs, "PC"));
  g_assert_cmphex(hw_json_hex(regs, "EL"), <=, 1);
  /* Text output names the registers. */
  g_autoptr(HwRun) t = hw_test_runv(guest, "regs", NULL);
  g_assert_nonnull(strstr(t->out, "TTBR1_EL1"));
  g_assert_nonnull(strstr(t->out, "TCR_EL1"));

  /* Paused by someone else: stays paused across several register reads. */
  g_autoptr(HwRun) p = hw_test_runv(guest, "pause", NULL);
  g_assert_false(hw_test_guest_running(guest));
  g_autoptr(HwRun) a = hw_test_runv(guest, "--json", "regs", NULL);
  g_autoptr(HwRun) b = hw_test_runv(guest, "--json", "regs", "--all", NULL);
  g_assert_false(hw_test_guest_running(guest));
  /* A paused guest's registers do not change between reads. */
  g_assert_cmphex(hw_json_hex(regs_of(a), "PC"), ==, hw_json_hex(regs_of(b), "PC"));
  g_assert_cmphex(hw_json_hex(regs_of(a), "TTBR0_EL1"), ==, hw_json_hex(regs_of(b), "TTBR0_EL1"));
  resume_guest();
  g_assert_true(hw_test_guest_running(guest));

  g_autoptr(HwRun) bad = hw_test_runv(guest, "regs", "--cpu", "7", NULL);
  g_assert_cmpint(bad->status, ==, 1);
  g_assert_nonnull(strstr(bad->err, "no vCPU 7"));
}

/* Every command that reads state leaves the guest as it was: running, or paused. */
static void
test_run_state_kept(void)
{
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->sleep.va);
  const char *const cmds[][8] = {
    { "regs" }, { "kernel" }, { "ps" }, { "maps", pid }, { "translate", va, "--pid", pid },
    { "read", va, "16", "--pid", pid }, { "translate", "0x10" },
    { "scan", "--string", "HAYWIRE", "--pid", pid }, { "scan", "--find", "png" },
    { "read", va, "16", "--live", "--pid", pid }, { "regs", "--live", "--all" },
  };
  for (int paused = 0; paused < 2; paused++) {
    if (paused) {
      g_autoptr(HwRun) p = hw_test_runv(guest, "pause", NULL);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(cmds); i++) {
      g_autoptr(HwRun) r = hw_test_run(guest, cmds[i]);
      int want = strcmp(cmds[i][1] ? cmds[i][1] : "", "0x10") == 0 ? 1 : 0;
      if (r->status != want)
        g_error("'%s %s': exit %d, not %d: %s", cmds[i][0], cmds[i][1] ? cmds[i][1] : "",
                r->status, want, r->err);
      if (hw_test_guest_running(guest) != !paused)
        g_error("'%s' left the guest %s", cmds[i][0], paused ? "running" : "paused");
    }
  }
  resume_guest();
}

static void
test_translate_buffer(void)
{
  int cpu = pause_in_spinner();
  g_autofree char *c = g_strdup_printf("%d", cpu);
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->spin.va);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "translate", va, "--cpu", c, NULL);
  JsonObject *t = hw_run_object(r);
  g_assert_cmphex(hw_json_hex(t, "pa"), ==, guest->spin.pa);
  g_assert_cmphex(hw_json_hex(t, "page_size"), ==, guest->spin.page_size);
  g_assert_true(json_object_get_boolean_member(t, "user"));
  g_assert_true(json_object_get_boolean_member(t, "writable"));
  g_assert_true(json_object_get_boolean_member(t, "nx"));
  g_assert_cmpint(json_object_get_int_member(t, "levels"), ==, 4);
  g_autofree char *gva = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->spin.grad_va);
  g_autoptr(HwRun) g = hw_test_runv(guest, "--json", "translate", gva, "--cpu", c, NULL);
  g_assert_cmphex(hw_json_hex(hw_run_object(g), "pa"), ==, guest->spin.grad_pa);
  resume_guest();

  /* The sleeping one through its own page tables. */
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autofree char *sva = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->sleep.va);
  g_autoptr(HwRun) s = hw_test_runv(guest, "--json", "translate", sva, "--pid", pid, NULL);
  g_assert_cmphex(hw_json_hex(hw_run_object(s), "pa"), ==, guest->sleep.pa);
}

/* Kernel addresses from a vCPU at EL0: under KPTI its TTBR1_EL1 holds the trampoline
 * tables, so the walk must use the kernel's own (found by discovery). */
static void
test_translate_kernel(void)
{
  guint64 stext = hw_test_guest_ksym(guest, "_stext");
  g_assert_cmphex(stext, !=, 0);
  g_autoptr(HwRun) k = hw_test_runv(guest, "--json", "kernel", NULL);
  JsonObject *ko = hw_run_object(k);
  /* text_va is _text where the kernel maps its header page (6.12), _stext where not. */
  guint64 stext_gpa = hw_json_hex(ko, "text_gpa") + (stext - hw_json_hex(ko, "text_va"));
  int cpu = pause_in_spinner();
  g_autofree char *c = g_strdup_printf("%d", cpu);
  g_autoptr(HwRun) regs = hw_test_runv(guest, "--json", "regs", "--cpu", c, NULL);
  guint64 ttbr1 = ttbr_table(hw_json_hex(regs_of(regs), "TTBR1_EL1"));
  if (config_is("aarch64-virt-a57"))   /* KPTI: at EL0, TTBR1 is not init_mm's */
    g_assert_cmphex(ttbr1, !=, hw_json_hex(ko, "kernel_pgd"));
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", stext);
  /* Cold (no cache): discovery runs inside the walk set-up. */
  g_autoptr(HwRun) t = hw_test_runv(guest, "--no-cache", "--json", "translate", va, "--cpu", c,
                                    NULL);
  JsonObject *o = hw_run_object(t);
  g_assert_cmphex(hw_json_hex(o, "pa"), ==, stext_gpa);
  g_assert_false(json_object_get_boolean_member(o, "user"));
  /* The same bytes through the page tables and physically. */
  g_autoptr(HwRun) v = hw_test_runv(guest, "--json", "read", va, "64", "--cpu", c, NULL);
  g_autofree char *pa = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", stext_gpa);
  g_autoptr(HwRun) p = hw_test_runv(guest, "--json", "read", "--phys", pa, "64", NULL);
  g_assert_cmpstr(json_object_get_string_member(hw_run_object(v), "hex"), ==,
                  json_object_get_string_member(hw_run_object(p), "hex"));
  resume_guest();
}

static void
test_read_pid(void)
{
  g_autofree char *pid = g_strdup_printf("%d", guest->sleep.pid);
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->sleep.va);
  g_autoptr(HwRun) r = hw_test_runv(guest, "read", va, "64", "--pid", pid, NULL);
  g_assert_cmpint(r->status, ==, 0);
  g_assert_nonnull(strstr(r->out, "|HAYWIRE-TEST-MAR|"));
  g_assert_true(hw_test_guest_running(guest));
}

/* Start a second QEMU, vCPUs stopped (-S), with a GDB stub: a stub of another VM. */
static GPid
start_other_vm(const char *qemu, const char *machine, const char *cpu, const char *smp,
               const char *sock)
{
  g_autofree char *gdb = g_strdup_printf("unix:%s,server=on,wait=off", sock);
  const char *argv[] = { qemu, "-M", machine, "-cpu", cpu, "-smp", smp, "-m", "64M", "-S",
                         "-display", "none", "-nodefaults", "-gdb", gdb, NULL };
  GPid pid;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH |
                              G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                              NULL, NULL, &pid, &error));
  g_assert_no_error(error);
  for (int i = 0; i < 300 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++)
    g_usleep(10000);
  g_assert_true(g_file_test(sock, G_FILE_TEST_EXISTS));
  return pid;
}

static void
stop_other_vm(GPid pid, const char *sock)
{
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  unlink(sock);
}

static void
expect_error(const char *const *args, const char *msg)
{
  g_autoptr(HwRun) r = hw_test_run(guest, args);
  g_assert_cmpint(r->status, ==, 1);
  if (strstr(r->err, msg) == NULL)
    g_error("'%s': expected \"%s\" in: %s", args[2], msg, r->err);
  g_assert_cmpint(strchr(r->err, '\n') - r->err, ==, (long)strlen(r->err) - 1);
  g_assert_true(hw_test_guest_running(guest));
}

/* Bad register sources: one line, exit 1, the guest still running. */
static void
test_bad_stub(void)
{
  /* No stub given at all (the harness's --gdb is overridden by an empty one). */
  const char *none[] = { "--gdb", "", "regs", NULL };
  expect_error(none, "--gdb");
  const char *none_ps[] = { "--gdb", "", "ps", NULL };
  expect_error(none_ps, "HAYWIRE_GDB");
  /* A socket that is not a stub: QEMU's second QMP socket greets in JSON. */
  g_autofree char *obs = g_build_filename(guest->run_dir, "qmp-observer.sock", NULL);
  const char *qmp[] = { "--gdb", obs, "regs", NULL };
  expect_error(qmp, "not a GDB stub");
  const char *missing[] = { "--gdb", "/nonexistent/gdb.sock", "regs", NULL };
  expect_error(missing, "GDB stub");

  /* Another debugger holds the stub (QEMU serves one client; attaching stopped the
   * VM): a clear error after the time-out, and the guest as that debugger left it. */
  {
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(guest->gdb);
    g_autoptr(GSocketConnection) other = g_socket_client_connect(
        client, G_SOCKET_CONNECTABLE(addr), NULL, NULL);
    g_assert_nonnull(other);
    static const char hello[] = "$qSupported#37";
    GOutputStream *os = g_io_stream_get_output_stream(G_IO_STREAM(other));
    g_assert_true(g_output_stream_write_all(os, hello, strlen(hello), NULL, NULL, NULL));
    for (int i = 0; i < 200 && hw_test_guest_running(guest); i++)
      g_usleep(10000);
    g_assert_false(hw_test_guest_running(guest));
    const char *busy[] = { "--timeout", "1500", "regs", NULL };
    g_autoptr(HwRun) r = hw_test_run(guest, busy);
    g_assert_cmpint(r->status, ==, 1);
    g_assert_nonnull(strstr(r->err, "another debugger"));
    g_assert_false(hw_test_guest_running(guest));
    g_io_stream_close(G_IO_STREAM(other), NULL, NULL);
  }
  resume_guest();
  g_assert_true(hw_test_guest_running(guest));

  /* Stubs of other VMs: another vCPU count, another arch. */
  g_autofree char *s1 = g_build_filename(guest->run_dir, "other-arm.sock", NULL);
  GPid arm = start_other_vm("qemu-system-aarch64", "virt", "cortex-a57", config_is("aarch64-virt-max") ? "3" : "2", s1);
  const char *count[] = { "--gdb", s1, "translate", "0x1000", NULL };
  expect_error(count, "vCPUs");
  stop_other_vm(arm, s1);
  g_autofree char *s2 = g_build_filename(guest->run_dir, "other-x86.sock", NULL);
  GPid x86 = start_other_vm("qemu-system-x86_64", "q35", "qemu64", "1", s2);
  const char *arch[] = { "--gdb", s2, "regs", NULL };
  expect_error(arch, "another VM");
  stop_other_vm(x86, s2);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  const char *config = g_getenv("HW_GUEST_CONFIG");
  g_assert_nonnull(config);
  guest = hw_test_guest_boot(config);

  g_autofree char *p = g_strdup_printf("/guest/%s/", config);
#define ADD(name, fn) hw_test_add(p, name, fn)
  ADD("info", test_info);
  ADD("regs", test_regs);
  ADD("run-state-kept", test_run_state_kept);
  ADD("translate/buffer", test_translate_buffer);
  ADD("translate/kernel", test_translate_kernel);
  ADD("read/pid", test_read_pid);
  ADD("errors/stub", test_bad_stub);
  hw_test_add_linux_tests(guest);
  hw_test_add_image_tests(guest);
  hw_test_add_offline_tests(guest);
  int rc = g_test_run();
  hw_test_guest_stop(guest);
  return rc;
}
