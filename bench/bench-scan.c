/* Scan benchmark: a full image scan of guest RAM against, in the same run and on the
 * same memory file, a plain sequential read pass over the mapping and QEMU's own
 * ways to get RAM out (pmemsave, dump-guest-memory). Prints "key value" lines.
 *
 * Usage: bench-scan QMP_ADDR [OUT_DIR]   (OUT_DIR for QEMU's files, default /dev/shm)
 *
 * Order matters: the first scan runs on the memory file as QEMU left it (sparse:
 * never-written RAM is a hole, skipped). The plain pass then reads every byte, which
 * makes tmpfs allocate the holes, so the later scans and the baseline read the same
 * fully populated file: like against like. */
#include <haywire/haywire.h>
#include "bench-util.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

#define CHUNK (1u << 20)

static GArray *
scan_all(HwPhysMem *mem)
{
  g_autoptr(GError) error = NULL;
  GArray *hits = hw_scan_phys(mem, NULL, (1u << HW_IMAGE_N_KINDS) - 1, 0, NULL, NULL, NULL, &error);
  if (!hits)
    bench_die("scan", error);
  return hits;
}

/* Run a QMP command that writes RAM to PATH; its time in seconds. */
static double
qemu_export(HwQmp *qmp, const char *command, JsonObject *args, const char *path)
{
  g_autoptr(GError) error = NULL;
  g_unlink(path);
  double t0 = bench_now();
  g_autoptr(JsonNode) r = hw_qmp_execute(qmp, command, args, &error);
  double t = bench_now() - t0;
  json_object_unref(args);
  if (!r)
    bench_die(command, error);
  g_unlink(path);
  return t;
}

int
main(int argc, char **argv)
{
  g_set_prgname("bench-scan");
  g_autoptr(GError) error = NULL;
  if (argc < 2) {
    fprintf(stderr, "usage: bench-scan QMP_ADDR [OUT_DIR]\n");
    return 2;
  }
  const char *out_dir = argc > 2 ? argv[2] : "/dev/shm";
  g_autoptr(HwQmp) qmp = NULL;
  g_autoptr(HwGuest) guest = bench_open_guest(argv[1], 10000, &qmp);
  HwPhysMem *mem = hw_guest_get_physmem(guest);
  guint n_ranges;
  const HwRamRange *ranges = hw_physmem_get_ranges(mem, &n_ranges);
  guint64 ram = hw_physmem_get_ram_size(mem);

  /* 1. What a user gets: pause, scan the memory file as it is, resume. */
  double t0 = bench_now();
  if (!hw_guest_pause(guest, NULL, &error))
    bench_die("pause", error);
  g_autoptr(GArray) first = scan_all(mem);
  if (!hw_guest_resume(guest, &error))
    bench_die("resume", error);
  double paused_sparse = bench_now() - t0;

  if (!hw_guest_pause(guest, NULL, &error))
    bench_die("pause", error);
  /* 2. Baseline: a plain sequential pass over the mapping (best of 3 after one that
   * populates the file). */
  guint64 sink = 0;
  g_autofree guint8 *buf = g_malloc(CHUNK);
  double plain_best = 1e9;
  for (int rep = 0; rep < 4; rep++) {
    t0 = bench_now();
    for (guint r = 0; r < n_ranges; r++) {
      const guint8 *base = hw_physmem_ptr(mem, ranges[r].gpa, ranges[r].size);
      for (guint64 off = 0; off < ranges[r].size; off += CHUNK) {
        gsize n = (gsize)MIN((guint64)CHUNK, ranges[r].size - off);
        memcpy(buf, base + off, n);
        sink += buf[n - 1];
      }
    }
    if (rep > 0)
      plain_best = MIN(plain_best, bench_now() - t0);
  }
  /* 3. The scan over the same, now populated, file (best of 3). */
  double scan_best = 1e9;
  guint hits = 0;
  for (int rep = 0; rep < 3; rep++) {
    t0 = bench_now();
    g_autoptr(GArray) h = scan_all(mem);
    scan_best = MIN(scan_best, bench_now() - t0);
    hits = h->len;
  }
  /* 3b. The all-core read pass, and the page hashes of snapshots, on the same file. */
  double allcore_best = 1e9, hash_best = 1e9;
  for (int rep = 0; rep < 3; rep++)
    allcore_best = MIN(allcore_best, bench_allcore_read(mem, &sink));
  for (int rep = 0; rep < 3; rep++) {
    t0 = bench_now();
    g_autoptr(GPtrArray) h = hw_scan_page_hashes(mem, 0, NULL, NULL, &error);
    if (!h)
      bench_die("hashes", error);
    hash_best = MIN(hash_best, bench_now() - t0);
  }
  double scan_1t = 1e9;
  {
    t0 = bench_now();
    g_autoptr(GArray) h = hw_scan_phys(mem, NULL, (1u << HW_IMAGE_N_KINDS) - 1, 1, NULL, NULL, NULL,
                                       &error);
    scan_1t = bench_now() - t0;
  }
  /* 4. QEMU's ways out, guest paused as for our scan. */
  hw_qmp_set_timeout(qmp, 600000);
  g_autofree char *pmem_path = g_build_filename(out_dir, "haywire-bench-pmemsave", NULL);
  double pmemsave = 0;
  for (guint r = 0; r < n_ranges; r++) {
    JsonObject *args = json_object_new();
    json_object_set_int_member(args, "val", (gint64)ranges[r].gpa);
    json_object_set_int_member(args, "size", (gint64)ranges[r].size);
    json_object_set_string_member(args, "filename", pmem_path);
    pmemsave += qemu_export(qmp, "pmemsave", args, pmem_path);
  }
  g_autofree char *dump_path = g_build_filename(out_dir, "haywire-bench-dump", NULL);
  g_autofree char *proto = g_strconcat("file:", dump_path, NULL);
  JsonObject *args = json_object_new();
  json_object_set_boolean_member(args, "paging", FALSE);
  json_object_set_string_member(args, "protocol", proto);
  double dump = qemu_export(qmp, "dump-guest-memory", args, dump_path);
  if (!hw_guest_resume(guest, &error))
    bench_die("resume", error);

  printf("ram_bytes %" G_GUINT64_FORMAT "\n", ram);
  printf("threads %u\n", g_get_num_processors());
  printf("scan_sparse_paused_ms %.1f\n", paused_sparse * 1e3);
  printf("scan_sparse_hits %u\n", first->len);
  printf("read_plain_gb_per_s %.2f\n", ram / plain_best / 1e9);
  printf("scan_gb_per_s %.2f\n", ram / scan_best / 1e9);
  printf("scan_1thread_gb_per_s %.2f\n", ram / scan_1t / 1e9);
  printf("scan_vs_read %.2f\n", plain_best / scan_best);
  printf("read_allcore_gb_per_s %.2f\n", ram / allcore_best / 1e9);
  printf("scan_vs_allcore_read %.2f\n", allcore_best / scan_best);
  printf("hash_gb_per_s %.2f\n", ram / hash_best / 1e9);
  printf("hash_vs_allcore_read %.2f\n", allcore_best / hash_best);
  printf("hash_ms %.1f\n", hash_best * 1e3);
  printf("scan_hits %u\n", hits);
  printf("pmemsave_ms %.0f\n", pmemsave * 1e3);
  printf("dump_guest_memory_ms %.0f\n", dump * 1e3);
  printf("scan_ms %.1f\n", scan_best * 1e3);
  printf("scan_vs_pmemsave %.1f\n", pmemsave / scan_best);
  printf("scan_vs_dump %.1f\n", dump / scan_best);
  printf("sink %" G_GUINT64_FORMAT "\n", sink & 1);
  return 0;
}
