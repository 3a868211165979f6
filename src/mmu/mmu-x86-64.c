/* x86-64 page walker: 4- or 5-level (CR4.LA57), 1 GiB and 2 MiB pages.
 * One loop serves every level; the level only decides the index shift and
 * whether a PS bit ends the walk. */
#include "mmu/mmu-private.h"
#include <haywire/error.h>

#include <string.h>

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull  /* bits 51:12 */

static gboolean
is_canonical(guint64 va, guint levels)
{
  guint top = levels == 5 ? 56 : 47;  /* highest implemented bit */
  gint64 s = (gint64)(va << (63 - top)) >> (63 - top);
  return (guint64)s == va;
}

static gboolean
x86_walk(const HwMmu *mmu, guint64 root, guint64 va, HwTranslation *out, GError **error)
{
  guint levels = mmu->levels;
  guint64 table = root & PTE_ADDR;
  gboolean writable = TRUE, user = TRUE, nx = FALSE;

  if (!is_canonical(va, levels)) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "0x%" G_GINT64_MODIFIER "x is not a canonical %u-level address", va, levels);
    return FALSE;
  }
  memset(out, 0, sizeof *out);
  out->va = va;
  out->root_used = table;

  for (guint depth = 0; depth < levels; depth++) {
    guint level = levels - depth;            /* 5/4 .. 1 */
    guint shift = 12 + 9 * (level - 1);
    guint64 entry_gpa = table + ((va >> shift) & 511) * 8;
    const guint8 *p = hw_physmem_ptr(mmu->mem, entry_gpa, 8);
    guint64 e;

    if (p == NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE,
                  "VA 0x%" G_GINT64_MODIFIER "x: level-%u table entry at 0x%" G_GINT64_MODIFIER
                  "x is outside guest RAM", va, level, entry_gpa);
      return FALSE;
    }
    memcpy(&e, p, sizeof e);
    out->entry_gpa[depth] = entry_gpa;
    out->entry[depth] = e;
    out->levels = depth + 1;
    if (!(e & PTE_P)) {
      g_set_error(error, HW_ERROR, HW_ERROR_UNMAPPED,
                  "VA 0x%" G_GINT64_MODIFIER "x is not mapped (level-%u entry 0x%"
                  G_GINT64_MODIFIER "x at 0x%" G_GINT64_MODIFIER "x not present)",
                  va, level, e, entry_gpa);
      return FALSE;
    }
    writable = writable && (e & PTE_RW);
    user = user && (e & PTE_US);
    nx = nx || (mmu->u.x86.nxe && (e & PTE_NX));

    gboolean leaf = level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
    if (!leaf && (e & PTE_PS) && level > 3) {
      g_set_error(error, HW_ERROR, HW_ERROR_UNMAPPED,
                  "VA 0x%" G_GINT64_MODIFIER "x: level-%u entry 0x%" G_GINT64_MODIFIER
                  "x has the reserved PS bit set", va, level, e);
      return FALSE;
    }
    if (leaf) {
      guint64 size = 1ull << shift;
      out->page_size = size;
      out->pa = ((e & PTE_ADDR) & ~(size - 1)) | (va & (size - 1));
      out->writable = writable;
      out->user = user;
      out->nx = nx;
      return TRUE;
    }
    table = e & PTE_ADDR;
  }
  g_assert_not_reached();
}

/* Depth-first over present non-leaf entries; BUDGET bounds the tables visited, so a
 * guest with looping or shared tables costs at most that many page reads. */
static guint64
x86_tables_below(const HwMmu *mmu, guint64 table, guint level, HwMmuTableFunc fn,
                 gpointer data, guint64 budget)
{
  const guint8 *p = hw_physmem_ptr(mmu->mem, table, 4096);
  if (budget == 0 || p == NULL)
    return 0;
  guint64 visited = 1;
  if (!fn(table, level, data) || level == 1)
    return visited;
  for (guint i = 0; i < 512 && visited < budget; i++) {
    guint64 e;
    memcpy(&e, p + 8 * i, sizeof e);
    if (!(e & PTE_P) || ((level == 2 || level == 3) && (e & PTE_PS)))
      continue;
    visited += x86_tables_below(mmu, e & PTE_ADDR, level - 1, fn, data, budget - visited);
  }
  return visited;
}

static guint64
x86_tables(const HwMmu *mmu, guint64 root, HwMmuTableFunc fn, gpointer data, guint64 budget)
{
  return x86_tables_below(mmu, root & PTE_ADDR, mmu->levels, fn, data, budget);
}

static guint64
x86_entry_span(const HwMmu *mmu, guint64 va, guint depth)
{
  return 1ull << (12 + 9 * (mmu->levels - 1 - MIN(depth, mmu->levels - 1)));
}

const HwMmuOps hw_mmu_x86_64_ops = {
  .name = "x86-64",
  .walk = x86_walk,
  .entry_span = x86_entry_span,
  .tables = x86_tables,
};
