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
x86_tables_below(const HwMmu *mmu, guint64 table, guint level, guint first, guint last,
                 HwMmuTableFunc fn, gpointer data, guint64 budget)
{
  const guint8 *p = hw_physmem_ptr(mmu->mem, table, 4096);
  if (budget == 0 || p == NULL)
    return 0;
  guint64 visited = 1;
  if (!fn(table, level, data) || level == 1)
    return visited;
  for (guint i = first; i <= last && visited < budget; i++) {
    guint64 e;
    memcpy(&e, p + 8 * i, sizeof e);
    if (!(e & PTE_P) || ((level == 2 || level == 3) && (e & PTE_PS)))
      continue;
    visited += x86_tables_below(mmu, e & PTE_ADDR, level - 1, 0, 511, fn, data,
                                budget - visited);
  }
  return visited;
}

/* The root table is visited for either half; below it only that half's entries. */
static guint64
x86_tables(const HwMmu *mmu, guint64 root, HwHalf half, HwMmuTableFunc fn, gpointer data,
           guint64 budget)
{
  guint first = half == HW_HALF_HIGH ? 256 : 0, last = half == HW_HALF_LOW ? 255 : 511;
  return x86_tables_below(mmu, root & PTE_ADDR, mmu->levels, first, last, fn, data, budget);
}

/* Leaves below TABLE (at LEVEL, covering VAs from BASE), permissions so far in M. */
static guint64
x86_mappings_below(const HwMmu *mmu, guint64 table, guint level, guint64 base, HwMapping m,
                   guint first, guint last, HwMmuMappingFunc fn, gpointer data,
                   guint64 budget, gboolean *stop)
{
  const guint8 *p = hw_physmem_ptr(mmu->mem, table, 4096);
  if (budget == 0 || p == NULL)
    return 0;
  guint64 visited = 1;
  guint shift = 12 + 9 * (level - 1), top = mmu->levels == 5 ? 56 : 47;
  for (guint i = first; i <= last && visited < budget && !*stop; i++) {
    guint64 e;
    memcpy(&e, p + 8 * i, sizeof e);
    if (!(e & PTE_P))
      continue;
    guint64 va = base | ((guint64)i << shift);
    HwMapping n = m;
    n.writable = m.writable && (e & PTE_RW);
    n.user = m.user && (e & PTE_US);
    n.nx = m.nx || (mmu->u.x86.nxe && (e & PTE_NX));
    gboolean leaf = level == 1 || ((level == 2 || level == 3) && (e & PTE_PS));
    if (!leaf) {
      if (!(e & PTE_PS))   /* PS at levels 4/5 is reserved: nothing below */
        visited += x86_mappings_below(mmu, e & PTE_ADDR, level - 1, va, n, 0, 511, fn, data,
                                      budget - visited, stop);
      continue;
    }
    n.size = 1ull << shift;
    n.pa = (e & PTE_ADDR) & ~(n.size - 1);
    n.va = (guint64)((gint64)(va << (63 - top)) >> (63 - top));   /* canonical */
    if (!fn(&n, data))
      *stop = TRUE;
  }
  return visited;
}

/* The top table's low 256 entries map the low half, the high 256 the high half. */
static guint64
x86_mappings(const HwMmu *mmu, guint64 root, HwHalf half, HwMmuMappingFunc fn, gpointer data,
             guint64 budget, gboolean *stop)
{
  HwMapping m = { .writable = TRUE, .user = TRUE };
  guint first = half == HW_HALF_HIGH ? 256 : 0, last = half == HW_HALF_LOW ? 255 : 511;
  return x86_mappings_below(mmu, root & PTE_ADDR, mmu->levels, 0, m, first, last, fn, data,
                            budget, stop);
}

static guint64
x86_entry_span(const HwMmu *mmu, guint64 va, guint depth)
{
  return 1ull << (12 + 9 * (mmu->levels - 1 - MIN(depth, mmu->levels - 1)));
}

#define X86_CR0_PG (1ull << 31)
#define X86_CR4_LA57 (1ull << 12)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)
#define X86_CR3_PTI_USER (1ull << 12)   /* Linux PTI: user PGD = kernel PGD + 4 KiB */

HwMmu *
hw_mmu_new_x86_64(const HwPhysMem *mem, const HwX86Paging *paging)
{
  HwMmu *mmu = g_new0(HwMmu, 1);
  mmu->ops = &hw_mmu_x86_64_ops;
  mmu->mem = mem;
  mmu->u.x86 = *paging;
  mmu->root = paging->cr3 & PTE_ADDR;  /* drops PCID and bit 63 */
  mmu->levels = paging->la57 ? 5 : 4;
  return mmu;
}

static HwMmu *
x86_from_regs(const HwPhysMem *mem, const HwRegs *regs, GError **error)
{
  guint64 cr0, cr3, cr4, efer;
  if (!hw_regs_get(regs, "CR0", &cr0) || !hw_regs_get(regs, "CR3", &cr3) ||
      !hw_regs_get(regs, "CR4", &cr4) || !hw_regs_get(regs, "EFER", &efer)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "registers lack CR0/CR3/CR4/EFER");
    return NULL;
  }
  if (!(cr0 & X86_CR0_PG) || !(efer & X86_EFER_LMA)) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                "vCPU is not in 64-bit paging mode (CR0=0x%" G_GINT64_MODIFIER
                "x EFER=0x%" G_GINT64_MODIFIER "x)", cr0, efer);
    return NULL;
  }
  HwX86Paging p = { .cr3 = cr3, .la57 = (cr4 & X86_CR4_LA57) != 0,
                    .nxe = (efer & X86_EFER_NXE) != 0 };
  return hw_mmu_new_x86_64(mem, &p);
}

/* No registers: 4-level paging with NX, the common case. */
static HwMmu *
x86_from_root(const HwPhysMem *mem, guint64 root, GError **error)
{
  HwX86Paging p = { .cr3 = root, .la57 = FALSE, .nxe = TRUE };
  return hw_mmu_new_x86_64(mem, &p);
}

/* One table serves both halves: CR3. */
static void
x86_set_root(HwMmu *mmu, guint64 root)
{
  mmu->u.x86.cr3 = root;
  mmu->root = root & PTE_ADDR;
}

static guint64
x86_kernel_root(const HwMmu *mmu)
{
  return mmu->root;
}

static guint
x86_kernel_root_candidates(const HwMmu *mmu, guint64 *out, guint max)
{
  guint n = 0;
  if ((mmu->root & X86_CR3_PTI_USER) && n < max)
    out[n++] = mmu->root & ~X86_CR3_PTI_USER;
  if (n < max)
    out[n++] = mmu->root;
  return n;
}

/* With PTI a user-mode CR3 points at the user PGD, which maps almost nothing of the
 * kernel: kernel addresses are retried from the kernel PGD beside it. */
static gboolean
x86_retry_root(const HwMmu *mmu, guint64 va, guint64 root, guint64 *other)
{
  if (!(va >> 63) || !(root & X86_CR3_PTI_USER))
    return FALSE;
  *other = root & ~X86_CR3_PTI_USER;
  return TRUE;
}

const HwMmuOps hw_mmu_x86_64_ops = {
  .name = "x86-64",
  .arch = HW_ARCH_X86_64,
  .from_regs = x86_from_regs,
  .from_root = x86_from_root,
  .set_user_root = x86_set_root,
  .set_kernel_root = x86_set_root,
  .kernel_root = x86_kernel_root,
  .separate_kernel_root = FALSE,   /* CR3 serves both halves */
  .kernel_root_candidates = x86_kernel_root_candidates,
  .retry_root = x86_retry_root,
  .walk = x86_walk,
  .entry_span = x86_entry_span,
  .tables = x86_tables,
  .mappings = x86_mappings,
};
