/* RAM access benchmark: the same paused guest's RAM read through the zero-copy mapping
 * of its memory file and through QEMU's process (/proc/PID/mem at `gpa2hva`
 * addresses, copied as it is read), against the all-core read pass over the mapping in
 * the same run. Prints "key value" lines.
 *
 * Usage: bench-access QMP_ADDR   (a guest with a shared memory-backend-file)
 *
 * Each copied pass starts cold (hw_physmem_forget): it measures what a command pays
 * at each pause, not a warm cache. */
#include <haywire/haywire.h>
#include "bench-util.h"

#include <stdio.h>

#define CHUNK (1u << 20)

/* Every byte of RAM through hw_physmem_read, 1 MiB at a time; seconds. */
static double
read_all(const HwPhysMem *mem, guint64 *sink)
{
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  g_autofree guint8 *buf = g_malloc(CHUNK);
  double t0 = bench_now();
  for (guint i = 0; i < n; i++)
    for (guint64 off = 0; off < r[i].size; off += CHUNK) {
      gsize len = (gsize)MIN((guint64)CHUNK, r[i].size - off);
      g_autoptr(GError) error = NULL;
      if (!hw_physmem_read(mem, r[i].gpa + off, buf, len, &error))
        bench_die("read", error);
      *sink += buf[0] + buf[len - 1];
    }
  return bench_now() - t0;
}

/* A full image and string scan of all RAM; seconds. */
static double
scan_all(const HwPhysMem *mem, guint *hits)
{
  g_autoptr(GError) error = NULL;
  double t0 = bench_now();
  g_autoptr(GArray) h = hw_scan_phys(mem, NULL, (1u << HW_IMAGE_N_KINDS) - 1, 0, NULL, NULL,
                                     NULL, &error);
  double t = bench_now() - t0;
  if (h == NULL)
    bench_die("scan", error);
  *hits = h->len;
  return t;
}

int
main(int argc, char **argv)
{
  g_set_prgname("bench-access");
  if (argc != 2) {
    fprintf(stderr, "usage: bench-access QMP_ADDR\n");
    return 2;
  }
  g_autoptr(GError) error = NULL;
  HwQmp *qmp = hw_qmp_connect(argv[1], 30000, &error);
  if (qmp == NULL)
    bench_die("connect", error);
  HwGuest *mapped = hw_guest_new(qmp, &error);
  if (mapped == NULL || !hw_guest_map_memory(mapped, NULL, &error))
    bench_die("map the memory file", error);
  HwGuest *copied = hw_guest_new(qmp, &error);
  if (copied == NULL)
    bench_die("guest", error);
  hw_guest_set_copy_ram(copied, TRUE);
  if (!hw_guest_map_memory(copied, NULL, &error))
    bench_die("read through QEMU's process", error);
  HwPhysMem *file = hw_guest_get_physmem(mapped), *proc = hw_guest_get_physmem(copied);
  if (hw_physmem_copies(file) || !hw_physmem_copies(proc))
    bench_die("access modes", NULL);
  gboolean was_running;
  hw_guest_guard_signals();
  if (!hw_guest_pause(mapped, &was_running, &error))
    bench_die("pause", error);

  guint64 sink = 0, bytes = hw_physmem_get_ram_size(file);
  bench_allcore_read(file, &sink);   /* populate the file's pages: like against like */
  double base = bench_allcore_read(file, &sink);
  hw_physmem_forget(proc);
  double copy_allcore = bench_allcore_read(proc, &sink);
  double copy_warm = bench_allcore_read(proc, &sink);
  double read_file = read_all(file, &sink);
  hw_physmem_forget(proc);
  double read_proc = read_all(proc, &sink);
  guint hits_file = 0, hits_proc = 0;
  double scan_file = scan_all(file, &hits_file);
  hw_physmem_forget(proc);
  double scan_proc = scan_all(proc, &hits_proc);

  if (was_running && !hw_guest_resume(mapped, &error))
    bench_die("resume", error);
  double gb = bytes / 1e9;
  printf("ram_bytes %" G_GUINT64_FORMAT "\n", bytes);
  printf("cores %u\n", g_get_num_processors());
  printf("allcore_mmap_gb_per_s %.2f\n", gb / base);
  printf("allcore_copy_cold_gb_per_s %.2f\n", gb / copy_allcore);
  printf("allcore_copy_cold_ratio %.3f\n", base / copy_allcore);
  printf("allcore_copy_warm_gb_per_s %.2f\n", gb / copy_warm);
  printf("read_mmap_gb_per_s %.2f\n", gb / read_file);
  printf("read_mmap_ratio %.3f\n", base / read_file);
  printf("read_copy_gb_per_s %.2f\n", gb / read_proc);
  printf("read_copy_ratio %.3f\n", base / read_proc);
  printf("scan_mmap_gb_per_s %.2f\n", gb / scan_file);
  printf("scan_mmap_ratio %.3f\n", base / scan_file);
  printf("scan_copy_gb_per_s %.2f\n", gb / scan_proc);
  printf("scan_copy_ratio %.3f\n", base / scan_proc);
  printf("scan_copy_vs_mmap %.3f\n", scan_file / scan_proc);
  printf("scan_hits_mmap %u\n", hits_file);
  printf("scan_hits_copy %u\n", hits_proc);
  printf("sink %" G_GUINT64_FORMAT "\n", sink & 1);
  hw_guest_free(copied);
  hw_guest_free(mapped);
  hw_qmp_free(qmp);
  return 0;
}
