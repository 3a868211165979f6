/* Snapshot files as input: the loader's checks (header, counts, sections against the
 * file size, metadata JSON, checksum) and, for a file that loads, a diff against itself
 * and owner lookups; for one with page data, restoring RAM from it (frames decoded, each
 * page checked against its hash). The checksum would stop almost every mutation at the door, so the
 * harness writes the right one into inputs whose first byte is odd: the checks behind
 * it get their turn too. */
#include <haywire/haywire.h>
#include <xxhash.h>

#include <string.h>

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  g_autofree guint8 *copy = g_memdup2(data, size);
  if (size >= 40 && (data[size - 9] & 1)) {
    guint64 h = GUINT64_TO_LE(XXH3_64bits(copy, size - 8));
    memcpy(copy + size - 8, &h, 8);
  }
  g_autoptr(HwSnapshot) s = hw_snapshot_parse(copy, size, "input", NULL);
  if (s == NULL)
    return 0;
  g_autoptr(GArray) d = hw_snapshot_diff(s, s, NULL);
  if (d == NULL || d->len != 0)
    __builtin_trap();   /* a snapshot never differs from itself */
  guint n;
  const HwRamRange *r = hw_snapshot_get_ranges(s, &n);
  for (guint i = 0; i < n && i < 8; i++) {
    g_autoptr(GArray) o = hw_snapshot_owners(s, r[i].gpa);
    for (guint k = 0; k < o->len; k++)
      if (g_array_index(o, HwSnapshotOwner, k).gpa != (r[i].gpa & ~(guint64)4095))
        __builtin_trap();   /* owners of another page */
    g_assert_nonnull(hw_snapshot_get_hashes(s, i));
  }
  if (hw_snapshot_has_data(s)) {
    g_autoptr(HwPhysMem) mem = hw_snapshot_restore_memory(s, "input", 1, NULL);
    (void)mem;
  }
  return 0;
}
