/* Benchmark on a live guest, every figure against a baseline measured in the same run:
 *  - page-walk translations per second: haywire's walker vs QEMU's HMP gva2gpa,
 *    for the same addresses (the test program's buffer pages);
 *  - bulk physical reads (hw_physmem_read, as `read --phys` does) vs a plain
 *    sequential pass over the same mapping;
 *  - Linux discovery: cold (no cache) vs a plain pass over all RAM, and warm ps / maps
 *    (cache, pause, walk, resume) vs a bare pause+resume, in-process and as the
 *    `haywire` command (HAYWIRE binary given).
 * Usage: bench-haywire QMP_ADDR VA [PAGES [HAYWIRE [PID]]]
 *   (VA: a user buffer of the spinning program; PID: a process for maps; AArch64
 *   guests need HAYWIRE_GDB, the GDB stub, for their registers) */
#include <haywire/haywire.h>
#include "bench-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20)

/* Pause while the spinning test program is on vCPU 0 in user mode. */
static HwRegs *
pause_in_user_mode(HwGuest *guest)
{
  GError *error = NULL;
  for (int i = 0; i < 100; i++) {
    if (!hw_guest_pause(guest, NULL, &error))
      bench_die("pause", error);
    HwRegs *regs = hw_guest_read_regs(guest, 0, &error);
    guint64 level = 0, pc = 0;
    if (regs == NULL)
      bench_die("regs", error);
    /* x86-64: CPL 3 and a user RIP; AArch64: EL0 and a user PC. */
    gboolean arm = hw_regs_get_arch(regs) == HW_ARCH_AARCH64;
    if (hw_regs_get(regs, arm ? "EL" : "CPL", &level) && level == (arm ? 0u : 3u) &&
        hw_regs_get(regs, arm ? "PC" : "RIP", &pc) && pc < 0x800000000000ull)
      return regs;
    hw_regs_free(regs);
    if (!hw_guest_resume(guest, &error))
      bench_die("resume", error);
    g_usleep(20000);
  }
  bench_die("catching the test program in user mode", NULL);
  return NULL;
}

int
main(int argc, char **argv)
{
  g_set_prgname("bench-haywire");
  g_autoptr(GError) error = NULL;
  if (argc < 3) {
    fprintf(stderr, "usage: bench-haywire QMP_ADDR VA [PAGES]\n");
    return 2;
  }
  guint64 va0 = g_ascii_strtoull(argv[2], NULL, 0);
  guint pages = argc > 3 ? (guint)atoi(argv[3]) : 16;

  g_autoptr(HwQmp) qmp = NULL;
  g_autoptr(HwGuest) guest = bench_open_guest(argv[1], 10000, &qmp);
  hw_guest_set_gdb(guest, g_getenv("HAYWIRE_GDB"), 10000);   /* AArch64 registers */
  HwPhysMem *mem = hw_guest_get_physmem(guest);

  g_autoptr(HwRegs) regs = pause_in_user_mode(guest);
  g_autoptr(HwMmu) mmu = hw_mmu_new_from_regs(mem, regs, &error);
  if (!mmu)
    bench_die("mmu", error);

  /* QEMU's gva2gpa: one HMP round trip per address. */
  guint qemu_n = 0;
  double t0 = bench_now();
  for (int round = 0; round < 20; round++)
    for (guint p = 0; p < pages; p++) {
      g_autofree char *cmd = g_strdup_printf("gva2gpa 0x%" G_GINT64_MODIFIER "x",
                                             va0 + p * (guint64)4096);
      g_autofree char *out = hw_qmp_hmp(qmp, cmd, 0, &error);
      if (!out)
        bench_die("gva2gpa", error);
      guint64 qpa = g_ascii_strtoull(strstr(out, "0x") ? strstr(out, "0x") : "0", NULL, 16);
      HwTranslation t;
      if (!hw_mmu_translate(mmu, va0 + p * (guint64)4096, &t, &error))
        bench_die("translate", error);
      if (qpa != t.pa) {
        fprintf(stderr, "bench-haywire: mismatch at VA 0x%" G_GINT64_MODIFIER "x: QEMU 0x%"
                G_GINT64_MODIFIER "x, haywire 0x%" G_GINT64_MODIFIER "x\n",
                (guint64)(va0 + p * (guint64)4096), qpa, t.pa);
        return 1;
      }
      qemu_n++;
    }
  double qemu_s = bench_now() - t0;

  /* haywire's walker, same addresses, many rounds. */
  guint64 sink = 0, ours_n = 0;
  t0 = bench_now();
  do {
    for (int round = 0; round < 10000; round++)
      for (guint p = 0; p < pages; p++) {
        HwTranslation t;
        if (!hw_mmu_translate(mmu, va0 + p * (guint64)4096, &t, NULL))
          return 1;
        sink += t.pa;
        ours_n++;
      }
  } while (bench_now() - t0 < 1.0);
  double ours_s = bench_now() - t0;

  /* Bulk reads over all RAM: baseline plain pass, then hw_physmem_read. */
  guint n_ranges;
  const HwRamRange *ranges = hw_physmem_get_ranges(mem, &n_ranges);
  guint64 ram = hw_physmem_get_ram_size(mem);
  g_autofree guint8 *buf = g_malloc(CHUNK);
  double plain_best = 1e9, read_best = 1e9;
  for (int rep = 0; rep < 4; rep++) {
    /* Plain: straight memcpy from the mapping, no bounds checks, no guard. */
    t0 = bench_now();
    for (guint r = 0; r < n_ranges; r++) {
      const guint8 *base = hw_physmem_ptr(mem, ranges[r].gpa, ranges[r].size);
      for (guint64 off = 0; off < ranges[r].size; off += CHUNK) {
        gsize n = (gsize)MIN((guint64)CHUNK, ranges[r].size - off);
        memcpy(buf, base + off, n);
        sink += buf[n - 1];
      }
    }
    double plain = bench_now() - t0;
    t0 = bench_now();
    for (guint r = 0; r < n_ranges; r++)
      for (guint64 off = 0; off < ranges[r].size; off += CHUNK) {
        gsize n = (gsize)MIN((guint64)CHUNK, ranges[r].size - off);
        if (!hw_physmem_read(mem, ranges[r].gpa + off, buf, n, &error))
          bench_die("read", error);
        sink += buf[n - 1];
      }
    double ours = bench_now() - t0;
    if (rep > 0) {  /* the first pass faults the mapping in */
      plain_best = MIN(plain_best, plain);
      read_best = MIN(read_best, ours);
    }
  }
  /* Linux discovery, cold: the guest is still paused. */
  double cold_best = 1e9;
  for (int rep = 0; rep < 5; rep++) {
    t0 = bench_now();
    g_autoptr(HwLinux) lx = hw_linux_open(guest, NULL, &error);
    if (!lx)
      bench_die("discovery", error);
    cold_best = MIN(cold_best, bench_now() - t0);
  }
  if (!hw_guest_resume(guest, &error))
    bench_die("resume", error);

  /* Warm, in-process: pause, discovery from the cache, task walk (+ maps), resume. */
  g_autofree char *cache = g_dir_make_tmp("hw-bench-XXXXXX", NULL);
  {
    g_autoptr(HwLinux) lx = hw_linux_open(guest, cache, &error);  /* fills the cache */
    if (!lx)
      bench_die("discovery", error);
  }
  gint32 maps_pid = argc > 5 ? atoi(argv[5]) : 1;
  double bare_best = 1e9, ps_best = 1e9, maps_best = 1e9;
  guint n_tasks = 0, n_vmas = 0;
  for (int rep = 0; rep < 20; rep++) {
    t0 = bench_now();
    if (!hw_guest_pause(guest, NULL, &error) || !hw_guest_resume(guest, &error))
      bench_die("pause/resume", error);
    bare_best = MIN(bare_best, bench_now() - t0);

    t0 = bench_now();
    if (!hw_guest_pause(guest, NULL, &error))
      bench_die("pause", error);
    g_autoptr(HwLinux) lx = hw_linux_open(guest, cache, &error);
    g_autoptr(GArray) tasks = lx ? hw_linux_list_tasks(lx, FALSE, NULL, &error) : NULL;
    if (!tasks || !hw_guest_resume(guest, &error))
      bench_die("ps", error);
    ps_best = MIN(ps_best, bench_now() - t0);
    n_tasks = tasks->len;

    t0 = bench_now();
    if (!hw_guest_pause(guest, NULL, &error))
      bench_die("pause", error);
    g_autoptr(HwLinux) lx2 = hw_linux_open(guest, cache, &error);
    HwTask task;
    GArray *vmas = lx2 && hw_linux_find_task(lx2, maps_pid, &task, &error)
                     ? hw_linux_list_vmas(lx2, &task, NULL, &error) : NULL;
    if (!vmas || !hw_guest_resume(guest, &error))
      bench_die("maps", error);
    maps_best = MIN(maps_best, bench_now() - t0);
    n_vmas = vmas->len;
    hw_vma_array_free(vmas);
  }

  /* The same through the haywire program (process start, QMP connect, mmap). */
  double cli_ps_best = 0;
  if (argc > 4) {
    cli_ps_best = 1e9;
    g_autofree char *cmd = g_strdup_printf("env HAYWIRE_CACHE_DIR=%s %s --qmp %s ps", cache,
                                           argv[4], argv[1]);
    hw_qmp_free(g_steal_pointer(&qmp));  /* QEMU serves one client per socket */
    for (int rep = 0; rep < 10; rep++) {
      int status;
      t0 = bench_now();
      if (!g_spawn_command_line_sync(cmd, NULL, NULL, &status, &error) ||
          !g_spawn_check_wait_status(status, &error))
        bench_die("haywire ps", error);
      cli_ps_best = MIN(cli_ps_best, bench_now() - t0);
    }
  }
  g_autofree char *rm = g_strdup_printf("rm -rf %s", cache);
  g_spawn_command_line_sync(rm, NULL, NULL, NULL, NULL);

  double qemu_rate = qemu_n / qemu_s, ours_rate = ours_n / ours_s;
  printf("translate_qemu_gva2gpa_per_s %.0f\n", qemu_rate);
  printf("translate_haywire_per_s %.0f\n", ours_rate);
  printf("translate_ratio %.0f\n", ours_rate / qemu_rate);
  printf("ram_bytes %" G_GUINT64_FORMAT "\n", ram);
  printf("read_plain_gb_per_s %.2f\n", ram / plain_best / 1e9);
  printf("read_haywire_gb_per_s %.2f\n", ram / read_best / 1e9);
  printf("read_ratio %.2f\n", plain_best / read_best);
  printf("discovery_cold_ms %.1f\n", cold_best * 1e3);
  printf("discovery_cold_vs_ram_pass %.2f\n", cold_best / plain_best);
  printf("pause_resume_ms %.2f\n", bare_best * 1e3);
  printf("warm_ps_ms %.2f\n", ps_best * 1e3);
  printf("warm_ps_tasks %u\n", n_tasks);
  printf("warm_ps_vs_pause_resume %.2f\n", ps_best / bare_best);
  printf("warm_maps_ms %.2f\n", maps_best * 1e3);
  printf("warm_maps_vmas %u\n", n_vmas);
  printf("cli_ps_ms %.1f\n", cli_ps_best * 1e3);
  printf("sink %" G_GUINT64_FORMAT "\n", sink & 1);
  return 0;
}
