/* Benchmark on a live guest, every figure against a baseline measured in the same run:
 *  - page-walk translations per second: haywire's walker vs QEMU's HMP gva2gpa,
 *    for the same addresses (the test program's buffer pages);
 *  - bulk physical reads (hw_physmem_read, as `read --phys` does) vs a plain
 *    sequential pass over the same mapping.
 * Usage: bench-haywire QMP_ADDR VA [PAGES]   (VA: a user buffer of the spinning program) */
#include <haywire/haywire.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20)

static double
now(void)
{
  return g_get_monotonic_time() / 1e6;
}

static void
die(const char *what, GError *error)
{
  fprintf(stderr, "bench-haywire: %s: %s\n", what, error ? error->message : "failed");
  exit(1);
}

/* Pause while the spinning test program is on vCPU 0 in user mode. */
static HwRegs *
pause_in_user_mode(HwGuest *guest)
{
  GError *error = NULL;
  for (int i = 0; i < 100; i++) {
    if (!hw_guest_pause(guest, NULL, &error))
      die("pause", error);
    HwRegs *regs = hw_guest_read_regs(guest, 0, &error);
    guint64 cpl = 0, rip = 0;
    if (regs == NULL)
      die("regs", error);
    if (hw_regs_get(regs, "CPL", &cpl) && cpl == 3 && hw_regs_get(regs, "RIP", &rip) &&
        rip < 0x800000000000ull)
      return regs;
    hw_regs_free(regs);
    if (!hw_guest_resume(guest, &error))
      die("resume", error);
    g_usleep(20000);
  }
  die("catching the test program in user mode", NULL);
  return NULL;
}

int
main(int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  if (argc < 3) {
    fprintf(stderr, "usage: bench-haywire QMP_ADDR VA [PAGES]\n");
    return 2;
  }
  guint64 va0 = g_ascii_strtoull(argv[2], NULL, 0);
  guint pages = argc > 3 ? (guint)atoi(argv[3]) : 16;

  g_autoptr(HwQmp) qmp = hw_qmp_connect(argv[1], 10000, &error);
  if (!qmp)
    die("connect", error);
  g_autoptr(HwGuest) guest = hw_guest_new(qmp, &error);
  if (!guest || !hw_guest_map_memory(guest, NULL, &error))
    die("guest", error);
  HwPhysMem *mem = hw_guest_get_physmem(guest);

  g_autoptr(HwRegs) regs = pause_in_user_mode(guest);
  g_autoptr(HwMmu) mmu = hw_mmu_new_from_regs(mem, regs, &error);
  if (!mmu)
    die("mmu", error);

  /* QEMU's gva2gpa: one HMP round trip per address. */
  guint qemu_n = 0;
  double t0 = now();
  for (int round = 0; round < 20; round++)
    for (guint p = 0; p < pages; p++) {
      g_autofree char *cmd = g_strdup_printf("gva2gpa 0x%" G_GINT64_MODIFIER "x",
                                             va0 + p * (guint64)4096);
      g_autofree char *out = hw_qmp_hmp(qmp, cmd, 0, &error);
      if (!out)
        die("gva2gpa", error);
      guint64 qpa = g_ascii_strtoull(strstr(out, "0x") ? strstr(out, "0x") : "0", NULL, 16);
      HwTranslation t;
      if (!hw_mmu_translate(mmu, va0 + p * (guint64)4096, &t, &error))
        die("translate", error);
      if (qpa != t.pa) {
        fprintf(stderr, "bench-haywire: mismatch at VA 0x%" G_GINT64_MODIFIER "x: QEMU 0x%"
                G_GINT64_MODIFIER "x, haywire 0x%" G_GINT64_MODIFIER "x\n",
                (guint64)(va0 + p * (guint64)4096), qpa, t.pa);
        return 1;
      }
      qemu_n++;
    }
  double qemu_s = now() - t0;

  /* haywire's walker, same addresses, many rounds. */
  guint64 sink = 0, ours_n = 0;
  t0 = now();
  do {
    for (int round = 0; round < 10000; round++)
      for (guint p = 0; p < pages; p++) {
        HwTranslation t;
        if (!hw_mmu_translate(mmu, va0 + p * (guint64)4096, &t, NULL))
          return 1;
        sink += t.pa;
        ours_n++;
      }
  } while (now() - t0 < 1.0);
  double ours_s = now() - t0;

  /* Bulk reads over all RAM: baseline plain pass, then hw_physmem_read. */
  guint n_ranges;
  const HwRamRange *ranges = hw_physmem_get_ranges(mem, &n_ranges);
  guint64 ram = hw_physmem_get_ram_size(mem);
  g_autofree guint8 *buf = g_malloc(CHUNK);
  double plain_best = 1e9, read_best = 1e9;
  for (int rep = 0; rep < 4; rep++) {
    /* Plain: straight memcpy from the mapping, no bounds checks, no guard. */
    t0 = now();
    for (guint r = 0; r < n_ranges; r++) {
      const guint8 *base = hw_physmem_ptr(mem, ranges[r].gpa, ranges[r].size);
      for (guint64 off = 0; off < ranges[r].size; off += CHUNK) {
        gsize n = (gsize)MIN((guint64)CHUNK, ranges[r].size - off);
        memcpy(buf, base + off, n);
        sink += buf[n - 1];
      }
    }
    double plain = now() - t0;
    t0 = now();
    for (guint r = 0; r < n_ranges; r++)
      for (guint64 off = 0; off < ranges[r].size; off += CHUNK) {
        gsize n = (gsize)MIN((guint64)CHUNK, ranges[r].size - off);
        if (!hw_physmem_read(mem, ranges[r].gpa + off, buf, n, &error))
          die("read", error);
        sink += buf[n - 1];
      }
    double ours = now() - t0;
    if (rep > 0) {  /* the first pass faults the mapping in */
      plain_best = MIN(plain_best, plain);
      read_best = MIN(read_best, ours);
    }
  }
  if (!hw_guest_resume(guest, &error))
    die("resume", error);

  double qemu_rate = qemu_n / qemu_s, ours_rate = ours_n / ours_s;
  printf("translate_qemu_gva2gpa_per_s %.0f\n", qemu_rate);
  printf("translate_haywire_per_s %.0f\n", ours_rate);
  printf("translate_ratio %.0f\n", ours_rate / qemu_rate);
  printf("ram_bytes %" G_GUINT64_FORMAT "\n", ram);
  printf("read_plain_gb_per_s %.2f\n", ram / plain_best / 1e9);
  printf("read_haywire_gb_per_s %.2f\n", ram / read_best / 1e9);
  printf("read_ratio %.2f\n", plain_best / read_best);
  printf("sink %" G_GUINT64_FORMAT "\n", sink & 1);
  return 0;
}
