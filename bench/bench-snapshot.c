/* Snapshot benchmark: on one paused guest, the reverse map of page owners, `snapshot
 * save` (hashes, and with --data), the file sizes, and the diff of two snapshots taken
 * a few seconds apart with every changed page's owners looked up, as `snapshot diff`
 * does; against, in the same run and on the same memory file, the all-core read pass.
 * Prints "key value" lines.
 *
 * Usage: bench-snapshot QMP_ADDR OUT_DIR
 *
 * Order: the first snapshots run on the memory file as QEMU left it (sparse, as users
 * see it). The read pass then populates the file's holes, and the save is timed again
 * on the populated file against that pass: like against like. */
#include <haywire/haywire.h>
#include "bench-util.h"

#include <glib/gstdio.h>
#include <stdio.h>

static HwSnapshot *
take(HwGuest *guest, HwOwnerMap *owners, double *seconds)
{
  g_autoptr(GError) error = NULL;
  double t0 = bench_now();
  HwSnapshot *s = hw_snapshot_take(hw_guest_get_physmem(guest), owners, NULL, 0, &error);
  *seconds = bench_now() - t0;
  if (s == NULL)
    bench_die("snapshot", error);
  return s;
}

static guint64
save(HwSnapshot *s, const char *path)
{
  g_autoptr(GError) error = NULL;
  if (!hw_snapshot_save(s, path, &error))
    bench_die("save", error);
  GStatBuf st;
  return g_stat(path, &st) == 0 ? (guint64)st.st_size : 0;
}

/* The owner map, best of 3; its counts. */
static HwOwnerMap *
owners(HwLinux *lx, double *best, guint64 *mappings, guint *spaces)
{
  HwOwnerMap *map = NULL;
  *best = 1e9;
  for (int rep = 0; rep < 3; rep++) {
    g_autoptr(GError) error = NULL;
    hw_owner_map_free(map);
    double t0 = bench_now();
    map = hw_owner_map_build(lx, NULL, &error);
    *best = MIN(*best, bench_now() - t0);
    if (map == NULL)
      bench_die("owner map", error);
  }
  hw_owner_map_get_counts(map, mappings, spaces);
  return map;
}

int
main(int argc, char **argv)
{
  g_set_prgname("bench-snapshot");
  g_autoptr(GError) error = NULL;
  if (argc < 3) {
    fprintf(stderr, "usage: bench-snapshot QMP_ADDR OUT_DIR\n");
    return 2;
  }
  g_autoptr(HwQmp) qmp = NULL;
  g_autoptr(HwGuest) guest = bench_open_guest(argv[1], 60000, &qmp);
  HwPhysMem *mem = hw_guest_get_physmem(guest);
  g_autofree char *pa = g_build_filename(argv[2], "bench-a.snap", NULL);
  g_autofree char *pb = g_build_filename(argv[2], "bench-b.snap", NULL);
  g_autofree char *pd = g_build_filename(argv[2], "bench-data.snap", NULL);

  /* Moment A. */
  if (!hw_guest_pause(guest, NULL, &error))
    bench_die("pause", error);
  g_autoptr(HwLinux) lx = hw_linux_open(guest, NULL, &error);
  if (!lx)
    bench_die("linux", error);
  g_autoptr(GArray) tasks = hw_linux_list_tasks(lx, FALSE, NULL, &error);
  if (!tasks)
    bench_die("tasks", error);
  double map_s;
  guint64 mappings;
  guint spaces;
  g_autoptr(HwOwnerMap) map_a = owners(lx, &map_s, &mappings, &spaces);
  double take_sparse_s;
  g_autoptr(HwSnapshot) a = take(guest, map_a, &take_sparse_s);
  guint64 size_a = save(a, pa);
  double t0 = bench_now();
  if (!hw_snapshot_add_data(a, mem, 0, &error))
    bench_die("data", error);
  double data_s = bench_now() - t0;
  guint64 size_data = save(a, pd);
  g_unlink(pd);
  if (!hw_guest_resume(guest, &error))
    bench_die("resume", error);

  /* Moment B, a few seconds of guest time later. */
  g_usleep(3 * G_USEC_PER_SEC);
  if (!hw_guest_pause(guest, NULL, &error))
    bench_die("pause", error);
  g_autoptr(HwLinux) lx_b = hw_linux_open(guest, NULL, &error);
  if (!lx_b)
    bench_die("linux", error);
  double map_b_s;
  guint64 mappings_b;
  guint spaces_b;
  g_autoptr(HwOwnerMap) map_b = owners(lx_b, &map_b_s, &mappings_b, &spaces_b);
  double take_b_s;
  g_autoptr(HwSnapshot) b = take(guest, map_b, &take_b_s);
  save(b, pb);

  /* The diff of the two files, as `snapshot diff A B` does it: load both, compare,
   * every differing page's owners from the snapshot that has its data (best of 3). */
  double diff_best = 1e9, compare_best = 1e9;
  guint differ = 0, owned = 0;
  for (int rep = 0; rep < 3; rep++) {
    t0 = bench_now();
    g_autoptr(HwSnapshot) la = hw_snapshot_load(pa, &error);
    g_autoptr(HwSnapshot) lb = la ? hw_snapshot_load(pb, &error) : NULL;
    if (!lb)
      bench_die("load", error);
    double t1 = bench_now();
    g_autoptr(GArray) d = hw_snapshot_diff(la, lb, &error);
    if (!d)
      bench_die("diff", error);
    compare_best = MIN(compare_best, bench_now() - t1);
    owned = 0;
    for (guint i = 0; i < d->len; i++) {
      const HwPageDiff *p = &g_array_index(d, HwPageDiff, i);
      g_autoptr(GArray) o = hw_snapshot_owners(p->change == HW_PAGE_VANISHED ? la : lb, p->gpa);
      owned += o->len > 0;
    }
    diff_best = MIN(diff_best, bench_now() - t0);
    differ = d->len;
  }
  g_unlink(pa);
  g_unlink(pb);

  /* Like against like: the all-core read pass (it populates the holes), then the save's
   * hashing on the same populated file. */
  guint64 sink = 0;
  double allcore_best = 1e9, take_full_best = 1e9;
  for (int rep = 0; rep < 3; rep++)
    allcore_best = MIN(allcore_best, bench_allcore_read(mem, &sink));
  for (int rep = 0; rep < 3; rep++) {
    double s;
    g_autoptr(HwSnapshot) x = take(guest, NULL, &s);
    take_full_best = MIN(take_full_best, s);
  }
  if (!hw_guest_resume(guest, &error))
    bench_die("resume", error);

  guint64 ram = hw_physmem_get_ram_size(mem);
  printf("ram_bytes %" G_GUINT64_FORMAT "\n", ram);
  printf("threads %u\n", g_get_num_processors());
  printf("tasks %u\n", tasks->len);
  printf("owner_spaces %u\n", spaces);
  printf("owner_mappings %" G_GUINT64_FORMAT "\n", mappings);
  printf("owner_map_ms %.1f\n", map_s * 1e3);
  printf("owner_map_b_ms %.1f\n", map_b_s * 1e3);
  printf("owner_map_ns_per_mapping %.1f\n", map_s * 1e9 / (double)MAX(mappings, 1));
  printf("snapshot_take_sparse_ms %.1f\n", take_sparse_s * 1e3);
  printf("snapshot_file_bytes %" G_GUINT64_FORMAT "\n", size_a);
  printf("snapshot_data_ms %.1f\n", data_s * 1e3);
  printf("snapshot_data_file_bytes %" G_GUINT64_FORMAT "\n", size_data);
  printf("diff_pages %u\n", differ);
  printf("diff_pages_owned %u\n", owned);
  printf("diff_compare_ms %.2f\n", compare_best * 1e3);
  printf("diff_total_ms %.1f\n", diff_best * 1e3);
  printf("read_allcore_gb_per_s %.2f\n", ram / allcore_best / 1e9);
  printf("snapshot_take_full_gb_per_s %.2f\n", ram / take_full_best / 1e9);
  printf("snapshot_vs_allcore_read %.2f\n", allcore_best / take_full_best);
  printf("sink %" G_GUINT64_FORMAT "\n", sink & 1);
  return 0;
}
