/* Tests against a real booted x86-64 Linux guest (config from HW_GUEST_CONFIG, kernel
 * flavour from HW_GUEST_FLAVOUR), booted once for all cases here and in
 * test-guest-linux.c: every
 * check compares what haywire sees with the ground truth the guest printed itself. */
#include "guest-harness.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static HwTestGuest *guest;

static gboolean
config_is(const char *name)
{
  return strcmp(guest->config, name) == 0;
}

/* Pause the guest with haywire while the spinning test program is on the vCPU in user
 * mode, so vCPU 0's CR3 is its address space. Returns that CR3. */
static guint64
pause_in_spinner(void)
{
  for (int attempt = 0; attempt < 50; attempt++) {
    g_autoptr(HwRun) p = hw_test_runv(guest, "pause", NULL);
    g_assert_cmpint(p->status, ==, 0);
    g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "regs", NULL);
    JsonObject *regs = json_object_get_object_member(hw_run_object(r), "registers");
    if (hw_json_hex(regs, "CPL") == 3 && hw_json_hex(regs, "RIP") < 0x800000000000ull)
      return hw_json_hex(regs, "CR3");
    g_autoptr(HwRun) c = hw_test_runv(guest, "resume", NULL);
    g_usleep(20000);
  }
  g_error("never caught the spinning test program on the vCPU in user mode");
}

static void
resume_guest(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "resume", NULL);
  g_assert_cmpint(r->status, ==, 0);
}

static void
test_info(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "info", NULL);
  JsonObject *o = hw_run_object(r);
  g_assert_cmpstr(json_object_get_string_member(o, "arch"), ==, "x86_64");
  g_assert_cmpint(json_object_get_int_member(o, "vcpus"), ==, 1);
  g_assert_cmpstr(json_object_get_string_member(o, "mem_path"), ==, guest->mem);
  g_assert_cmpstr(json_object_get_string_member(o, "status"), ==, "running");
  JsonArray *ram = json_object_get_array_member(o, "ram");
  guint n = json_array_get_length(ram);
  g_assert_cmpuint(n, >=, 1);
  JsonObject *first = json_array_get_object_element(ram, 0);
  g_assert_cmphex(hw_json_hex(first, "gpa"), ==, 0);
  g_assert_cmphex(hw_json_hex(first, "file_offset"), ==, 0);

  /* The map must hold the test buffer's physical address. */
  gboolean found = FALSE;
  guint64 total = 0;
  for (guint i = 0; i < n; i++) {
    JsonObject *e = json_array_get_object_element(ram, i);
    guint64 gpa = hw_json_hex(e, "gpa"), size = hw_json_hex(e, "size");
    total += size;
    found |= guest->spin.pa >= gpa && guest->spin.pa < gpa + size;
  }
  g_assert_true(found);
  struct stat st;
  g_assert_cmpint(stat(guest->mem, &st), ==, 0);
  g_assert_cmpuint(total, <=, (guint64)st.st_size);

  if (config_is("x86-64-q35-4g")) {
    /* q35 keeps 2 GiB below 4 GiB; the other 2 GiB sit at 4 GiB, file offset 2 GiB. */
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmphex(hw_json_hex(first, "size"), ==, 0x80000000ull);
    JsonObject *high = json_array_get_object_element(ram, 1);
    g_assert_cmphex(hw_json_hex(high, "gpa"), ==, 0x100000000ull);
    g_assert_cmphex(hw_json_hex(high, "file_offset"), ==, 0x80000000ull);
    g_assert_cmphex(hw_json_hex(high, "size"), ==, 0x80000000ull);
    /* Linux fills ZONE_NORMAL first: the test buffers sit above 4 GiB, so the read
     * tests exercise the second range and its file offset. */
    g_assert_cmphex(guest->spin.pa, >=, 0x100000000ull);
    g_assert_cmphex(guest->sleep.pa, >=, 0x100000000ull);
  } else {
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmphex(hw_json_hex(first, "size"), ==, (guint64)st.st_size);
  }
}

static void
test_pause_resume(void)
{
  g_assert_true(hw_test_guest_running(guest));
  g_autoptr(HwRun) p = hw_test_runv(guest, "--json", "pause", NULL);
  g_assert_true(json_object_get_boolean_member(hw_run_object(p), "changed"));
  g_assert_false(hw_test_guest_running(guest));

  /* Commands on a guest that was already paused leave it paused. */
  g_autoptr(HwRun) regs = hw_test_runv(guest, "regs", NULL);
  g_assert_cmpint(regs->status, ==, 0);
  g_assert_false(hw_test_guest_running(guest));
  g_autoptr(HwRun) p2 = hw_test_runv(guest, "pause", NULL);
  g_assert_cmpstr(p2->out, ==, "already paused\n");

  g_autoptr(HwRun) c = hw_test_runv(guest, "--json", "resume", NULL);
  g_assert_true(json_object_get_boolean_member(hw_run_object(c), "changed"));
  g_assert_true(hw_test_guest_running(guest));

  /* A command that pauses by itself resumes afterwards. */
  g_autoptr(HwRun) t = hw_test_runv(guest, "regs", NULL);
  g_assert_cmpint(t->status, ==, 0);
  g_assert_true(hw_test_guest_running(guest));
}

static void
test_regs(void)
{
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "regs", "--cpu", "0", NULL);
  JsonObject *regs = json_object_get_object_member(hw_run_object(r), "registers");
  guint64 cr0 = hw_json_hex(regs, "CR0"), cr4 = hw_json_hex(regs, "CR4");
  guint64 efer = hw_json_hex(regs, "EFER");
  g_assert_cmphex(cr0 & (1ull << 31), !=, 0);       /* paging on */
  g_assert_cmphex(efer & (1ull << 10), !=, 0);      /* long mode active */
  gboolean la57 = (cr4 >> 12) & 1;
  g_assert_cmpint(la57, ==, config_is("x86-64-la57") || config_is("x86-64-pti"));
  g_autoptr(HwRun) bad = hw_test_runv(guest, "regs", "--cpu", "7", NULL);
  g_assert_cmpint(bad->status, ==, 1);
  g_assert_nonnull(strstr(bad->err, "no vCPU 7"));
}

/* The GDB stub route gives the same registers as HMP, and leaves the run state as it
 * found it (QEMU's stub resumes the guest on detach, even one QMP had paused). */
static void
test_regs_gdb_stub(void)
{
  g_autoptr(HwRun) p = hw_test_runv(guest, "pause", NULL);
  g_autoptr(HwRun) hmp = hw_test_runv(guest, "--json", "regs", NULL);
  g_autoptr(HwRun) gdb = hw_test_runv(guest, "--gdb", guest->gdb, "--json", "regs",
                                      "--gdb-stub", NULL);
  JsonObject *a = json_object_get_object_member(hw_run_object(hmp), "registers");
  JsonObject *b = json_object_get_object_member(hw_run_object(gdb), "registers");
  g_assert_cmphex(hw_json_hex(b, "cr3"), ==, hw_json_hex(a, "CR3"));
  g_assert_cmphex(hw_json_hex(b, "cr4"), ==, hw_json_hex(a, "CR4"));
  g_assert_cmphex(hw_json_hex(b, "efer"), ==, hw_json_hex(a, "EFER"));
  g_assert_cmphex(hw_json_hex(b, "rip"), ==, hw_json_hex(a, "RIP"));
  g_assert_false(hw_test_guest_running(guest));
  g_autoptr(HwRun) r = hw_test_runv(guest, "resume", NULL);
  g_autoptr(HwRun) again = hw_test_runv(guest, "--gdb", guest->gdb, "regs", "--gdb-stub", NULL);
  g_assert_cmpint(again->status, ==, 0);
  g_assert_nonnull(strstr(again->out, "cr3"));
  g_assert_true(hw_test_guest_running(guest));
  /* No stub there: one clear error. */
  g_autoptr(HwRun) none = hw_test_runv(guest, "--gdb", "/nonexistent.sock", "regs", "--gdb-stub",
                                       NULL);
  g_assert_cmpint(none->status, ==, 1);
  g_assert_nonnull(strstr(none->err, "GDB stub"));
  g_assert_true(hw_test_guest_running(guest));
}

static void
test_translate_buffer(void)
{
  guint64 cr3 = pause_in_spinner();
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->spin.va);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "translate", va, NULL);
  JsonObject *t = hw_run_object(r);
  g_assert_cmphex(hw_json_hex(t, "pa"), ==, guest->spin.pa);
  g_assert_cmphex(hw_json_hex(t, "page_size"), ==, 4096);
  g_assert_true(json_object_get_boolean_member(t, "user"));
  g_assert_true(json_object_get_boolean_member(t, "writable"));
  g_assert_true(json_object_get_boolean_member(t, "nx"));
  g_assert_cmpint(json_object_get_int_member(t, "levels"), ==,
                  config_is("x86-64-la57") || config_is("x86-64-pti") ? 5 : 4);

  /* The gradient page, and an explicit --root equal to the CR3. */
  g_autofree char *root = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", cr3);
  g_autofree char *gva = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->spin.grad_va);
  g_autoptr(HwRun) r2 = hw_test_runv(guest, "--json", "translate", gva, "--root", root, NULL);
  g_assert_cmphex(hw_json_hex(hw_run_object(r2), "pa"), ==, guest->spin.grad_pa);
  if (config_is("x86-64-pti"))
    g_assert_cmphex(cr3 & 0x1000, !=, 0);  /* user-mode CR3 is the PTI user PGD */
  resume_guest();
}

static void
test_translate_kernel(void)
{
  guint64 banner = hw_test_guest_ksym(guest, "linux_banner");
  g_assert_cmphex(banner, !=, 0);
  /* From a user-mode CR3 (under PTI: the user PGD) a kernel address must translate. */
  pause_in_spinner();
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", banner);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "read", va, "64", NULL);
  const char *hex = json_object_get_string_member(hw_run_object(r), "hex");
  /* "Linux version " */
  g_assert_true(g_str_has_prefix(hex, "4c696e75782076657273696f6e20"));
  g_autoptr(HwRun) t = hw_test_runv(guest, "--json", "translate", va, NULL);
  JsonObject *o = hw_run_object(t);
  g_assert_false(json_object_get_boolean_member(o, "user"));
  resume_guest();
}

static void
test_read_virtual(void)
{
  pause_in_spinner();
  g_autofree char *va = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->spin.va);
  g_autoptr(HwRun) r = hw_test_runv(guest, "read", va, "64", NULL);
  g_assert_cmpint(r->status, ==, 0);
  g_assert_nonnull(strstr(r->out, "|HAYWIRE-TEST-MAR|"));

  /* The gradient, 16 KiB over four pages, raw to a file. */
  g_autofree char *dir = g_dir_make_tmp("hw-read-XXXXXX", NULL);
  g_autofree char *file = g_build_filename(dir, "grad.bin", NULL);
  g_autofree char *gva = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->spin.grad_va);
  gsize n = guest->spin.grad_w * guest->spin.grad_h * 4;
  g_autofree char *len = g_strdup_printf("%" G_GSIZE_FORMAT, n);
  g_autoptr(HwRun) g = hw_test_runv(guest, "read", gva, len, "-o", file, NULL);
  g_assert_cmpint(g->status, ==, 0);
  resume_guest();
  g_autofree char *got = NULL;
  gsize got_len = 0;
  g_assert_true(g_file_get_contents(file, &got, &got_len, NULL));
  g_autofree guint8 *want = g_malloc(n);
  hw_test_expected_gradient(want, guest->spin.grad_w, guest->spin.grad_h);
  g_assert_cmpmem(got, got_len, want, n);
  unlink(file);
  rmdir(dir);
}

static void
test_read_physical(void)
{
  g_autofree char *pa = g_strdup_printf("0x%" G_GINT64_MODIFIER "x", guest->sleep.pa);
  g_autoptr(HwRun) r = hw_test_runv(guest, "--json", "read", "--phys", pa, "36", NULL);
  const char *hex = json_object_get_string_member(hw_run_object(r), "hex");
  g_autofree char *want = g_malloc0(strlen(HW_TEST_MARKER) * 2 + 1);
  for (gsize i = 0; i < strlen(HW_TEST_MARKER); i++)
    g_snprintf(want + i * 2, 3, "%02x", (guint8)HW_TEST_MARKER[i]);
  g_assert_cmpstr(hex, ==, want);
  g_assert_true(hw_test_guest_running(guest));
}

static void
test_bad_addresses(void)
{
  /* Each: a one-line error on stderr and exit status 1 (2 for usage). */
  static const struct { const char *args[6]; int status; const char *msg; } cases[] = {
    { { "read", "--phys", "0x7fffffffff000", "16" }, 1, "not in guest RAM" },
    { { "translate", "0x0100000000000000" }, 1, "canonical" },
    { { "translate", "0x10" }, 1, "not mapped" },
    { { "translate", "zzz" }, 1, "not a valid address" },
    { { "read", "0x1000" }, 2, "need ADDR and LEN" },
    { { "read", "--phys", "0", "0" }, 2, "LEN" },
    { { "frobnicate" }, 2, "unknown command" },
    { { "translate", "0x1000", "--root", "0xfffffffff000" }, 1, "outside guest RAM" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(HwRun) r = hw_test_run(guest, cases[i].args);
    g_assert_cmpint(r->status, ==, cases[i].status);
    g_assert_nonnull(strstr(r->err, cases[i].msg));
    g_assert_cmpint(strchr(r->err, '\n') - r->err, ==, (long)strlen(r->err) - 1);
  }
  g_assert_true(hw_test_guest_running(guest));
}

static void
test_bad_sockets(void)
{
  /* A missing socket, and the GDB stub's socket, which does not speak QMP. */
  const char *missing[] = { "--qmp", "/nonexistent/qmp.sock", "info", NULL };
  g_autoptr(HwRun) r = hw_test_run(NULL, missing);
  g_assert_cmpint(r->status, ==, 1);
  g_assert_nonnull(strstr(r->err, "cannot connect"));
}

/* SIGTERM while haywire holds the guest paused: the guest must run again. */
static void
test_signal_resumes(void)
{
  g_autofree char *dir = g_dir_make_tmp("hw-sig-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  /* A reader that never reads: haywire's write blocks once the pipe is full. */
  int rfd = open(fifo, O_RDONLY | O_NONBLOCK);
  g_assert_cmpint(rfd, >=, 0);
  const char *argv[] = { g_getenv("HW_HAYWIRE"), "--qmp", guest->qmp, "read", "--phys", "0",
                         "8M", "-o", fifo, NULL };
  GPid pid;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_async(NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                              &pid, &error));
  /* Wait until the guest is paused (by haywire). */
  gboolean paused = FALSE;
  for (int i = 0; i < 200 && !paused; i++) {
    paused = !hw_test_guest_running(guest);
    if (!paused)
      g_usleep(10000);
  }
  g_assert_true(paused);
  kill(pid, SIGTERM);
  int status;
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  g_assert_true(WIFSIGNALED(status));
  g_assert_cmpint(WTERMSIG(status), ==, SIGTERM);
  close(rfd);
  unlink(fifo);
  rmdir(dir);
  gboolean running = FALSE;
  for (int i = 0; i < 100 && !running; i++) {
    running = hw_test_guest_running(guest);
    if (!running)
      g_usleep(10000);
  }
  g_assert_true(running);
}

/* A share=off backend is copy-on-write: its file shows stale RAM, so haywire copies
 * the RAM out of QEMU's process instead; given the file with --mem, it refuses. */
static void
test_share_off_refused(void)
{
  const char *args[] = { "--mem", guest->mem, "read", "--phys", "0", "16", NULL };
  g_autoptr(HwRun) r = hw_test_run(guest, args);
  g_assert_cmpint(r->status, ==, 1);
  g_assert_nonnull(strstr(r->err, "share=off"));
  g_assert_cmpint(strchr(r->err, '\n') - r->err, ==, (long)strlen(r->err) - 1);
  /* info still answers, and says why the file cannot serve. */
  const char *info[] = { "--mem", guest->mem, "info", NULL };
  g_autoptr(HwRun) i = hw_test_run(guest, info);
  g_assert_cmpint(i->status, ==, 0);
  g_assert_nonnull(strstr(i->out, "not readable: RAM backend ram0 has share=off"));
  const char *plain[] = { "read", "--phys", "0", "16", NULL };
  g_autoptr(HwRun) m = hw_test_run(guest, plain);
  g_assert_cmpint(m->status, ==, 0);
}

/* A socket that is not QMP: the GDB stub's, which sends no greeting. */
static void
test_not_qmp_socket(void)
{
  const char *args[] = { "--qmp", guest->gdb, "--timeout", "1500", "info", NULL };
  g_autoptr(HwRun) r = hw_test_run(NULL, args);
  g_assert_cmpint(r->status, ==, 1);
  g_assert_nonnull(strstr(r->err, "is not a QMP socket"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  const char *config = g_getenv("HW_GUEST_CONFIG");
  g_assert_nonnull(config);
  if (g_str_has_suffix(config, "share-off")) {
    /* QEMU only: the kernel need not boot for these. */
    guest = hw_test_guest_start_stopped(config);
    g_test_add_func("/guest/share-off/refused", test_share_off_refused);
    g_test_add_func("/guest/share-off/not-qmp-socket", test_not_qmp_socket);
    hw_test_add_access_tests(guest, FALSE);
    int rc = g_test_run();
    hw_test_guest_stop(guest);
    return rc;
  }
  /* libvirt-VARIANT: the test guest as a libvirt domain, reached with --domain. */
  if (g_str_has_prefix(config, "libvirt-"))
    guest = hw_test_guest_libvirt(config, config + 8);
  else
    guest = hw_test_guest_boot(config);

  g_autofree char *p = g_strdup_printf("/guest/%s/", config);
#define ADD(name, fn) hw_test_add(p, name, fn)
  ADD("info", test_info);
  ADD("pause-resume", test_pause_resume);
  ADD("regs", test_regs);
  ADD("regs/gdb-stub", test_regs_gdb_stub);
  ADD("translate/buffer", test_translate_buffer);
  ADD("translate/kernel", test_translate_kernel);
  ADD("read/virtual", test_read_virtual);
  ADD("read/physical", test_read_physical);
  ADD("errors/addresses", test_bad_addresses);
  ADD("errors/sockets", test_bad_sockets);
  ADD("signal-resumes", test_signal_resumes);
  hw_test_add_linux_tests(guest);
  hw_test_add_image_tests(guest);
  hw_test_add_offline_tests(guest);
  hw_test_add_access_tests(guest, TRUE);
  /* The viewer's server: once, on the plain test guest. */
  if (config_is("x86-64-q35") && g_strcmp0(g_getenv("HW_GUEST_FLAVOUR"), "amd64") == 0)
    hw_test_add_serve_tests(guest);
  int rc = g_test_run();
  hw_test_guest_stop(guest);
  return rc;
}
