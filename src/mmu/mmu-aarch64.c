/* AArch64 stage-1 walker (EL1&0): granule 4, 16 or 64 KiB per half, as many levels as
 * the input size needs (up to 5 with 52-bit VAs: levels -1 to 3), block descriptors,
 * hierarchical table permissions, and FEAT_LPA2 (TCR_EL1.DS: 52-bit output addresses
 * whose bits 51:50 sit in descriptor bits 9:8). One loop serves every level; the
 * granule only changes the index width. */
#include "mmu/mmu-private.h"
#include <haywire/error.h>

#include <string.h>

#define DESC_VALID (1ull << 0)
#define DESC_TABLE (1ull << 1)     /* with VALID: table (levels 0-2) or page (level 3) */
#define DESC_AP_EL0 (1ull << 6)    /* AP[1]: EL0 may access */
#define DESC_AP_RO (1ull << 7)     /* AP[2]: read-only */
#define DESC_PXN (1ull << 53)
#define DESC_UXN (1ull << 54)
#define TABLE_PXN (1ull << 59)
#define TABLE_UXN (1ull << 60)
#define TABLE_AP_NO_EL0 (1ull << 61)
#define TABLE_AP_RO (1ull << 62)
#define OA_MASK 0x0000fffffffff000ull  /* output address bits 47:12 */
#define OA_MASK_DS 0x0003fffffffff000ull  /* with DS: 49:12, and 51:50 from bits 9:8 */
#define TTBR_BADDR 0x0000fffffffffffeull  /* 47:1: a small start table may sit below 4 KiB
                                           * alignment; ASID (63:48) and CnP (0) drop */
#define TTBR_BADDR_DS 0x0000ffffffffffc0ull  /* with DS: 47:6, and 51:48 from bits 5:2 */
#define TCR_DS (1ull << 59)

/* The output address in descriptor D (a table's or a page's, before the in-page bits
 * are cleared). */
static guint64
desc_addr(const HwMmu *mmu, guint64 d)
{
  if (!mmu->u.arm.ds)
    return d & OA_MASK;
  return (d & OA_MASK_DS) | (((d >> 8) & 3) << 50);
}

/* The table address in a TTBR (or a plain table address: its low bits are zero). */
static guint64
ttbr_table(gboolean ds, guint64 ttbr)
{
  if (!ds)
    return ttbr & TTBR_BADDR;
  return (ttbr & TTBR_BADDR_DS) | (((ttbr >> 2) & 0xf) << 48);
}

/* Which half serves VA: 0 (TTBR0), 1 (TTBR1), or -1 for neither. With top-byte-ignore,
 * bit 55 picks the half and bits 63:56 do not count. */
static int
half_of(const HwMmu *mmu, guint64 va, guint64 *va_out)
{
  const guint64 tcr = mmu->u.arm.regs.tcr;
  int h = (va >> 55) & 1;
  gboolean tbi = (tcr >> (h ? 38 : 37)) & 1;
  if (tbi)
    va = h ? va | 0xff00000000000000ull : va & 0x00ffffffffffffffull;
  guint bits = mmu->u.arm.half[h].va_bits;
  guint64 top = bits >= 64 ? 0 : va >> bits;
  guint64 want = h ? (bits >= 64 ? 0 : ~0ull >> bits) : 0;
  if (!mmu->u.arm.half[h].enabled || top != want)
    return -1;
  *va_out = va;
  return h;
}

static guint
index_bits(guint page_shift)
{
  return page_shift - 3;
}

/* Bytes one entry covers at LEVEL (-1..3; 3: a page). */
static guint64
level_span(guint page_shift, int level)
{
  return 1ull << (page_shift + index_bits(page_shift) * (guint)(3 - level));
}

static gboolean
arm_walk(const HwMmu *mmu, guint64 root, guint64 va_in, HwTranslation *out, GError **error)
{
  guint64 va;
  memset(out, 0, sizeof *out);
  out->va = va_in;
  int h = half_of(mmu, va_in, &va);
  if (h < 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNMAPPED,
                "VA 0x%" G_GINT64_MODIFIER "x is outside both translation ranges (TCR_EL1 "
                "0x%" G_GINT64_MODIFIER "x)", va_in, mmu->u.arm.regs.tcr);
    return FALSE;
  }
  const guint g = mmu->u.arm.half[h].page_shift, s = index_bits(g);
  const int levels = (int)mmu->u.arm.half[h].levels, start = 4 - levels;
  const guint va_bits = mmu->u.arm.half[h].va_bits;
  const gboolean ds = mmu->u.arm.ds;
  /* The TTBR0 walk may start from an explicit root (a process's page tables). */
  guint64 table = h == 0 ? ttbr_table(ds, root) : mmu->u.arm.half[1].table;
  gboolean writable = TRUE, user = TRUE, uxn = FALSE, pxn = FALSE;
  out->root_used = table;

  for (int level = start; level <= 3; level++) {
    guint depth = (guint)(level - start);
    guint shift = g + s * (guint)(3 - level);
    /* The start level's table may hold fewer entries: only as many as VA bits remain. */
    guint width = MIN(s, va_bits - shift);
    guint64 index = (va >> shift) & ((1ull << width) - 1);
    guint64 entry_gpa = table + index * 8;
    const guint8 *p = hw_physmem_ptr(mmu->mem, entry_gpa, 8);
    guint64 d;
    if (p == NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE,
                  "VA 0x%" G_GINT64_MODIFIER "x: level-%d descriptor at 0x%" G_GINT64_MODIFIER
                  "x is outside guest RAM", va_in, level, entry_gpa);
      return FALSE;
    }
    memcpy(&d, p, sizeof d);
    out->entry_gpa[depth] = entry_gpa;
    out->entry[depth] = d;
    out->levels = depth + 1;
    /* Blocks exist at level 2 with any granule, at level 1 with 4 KiB (and 16 KiB with
     * DS), at level 0 with 4 KiB and DS; a level-3 descriptor must be a page (0b11). */
    gboolean block_ok = level == 2 || (level == 1 && (g == 12 || (g == 14 && ds))) ||
                        (level == 0 && g == 12 && ds);
    gboolean is_table = (d & DESC_TABLE) != 0;
    if (!(d & DESC_VALID) || (level == 3 && !is_table) || (!is_table && !block_ok)) {
      g_set_error(error, HW_ERROR, HW_ERROR_UNMAPPED,
                  "VA 0x%" G_GINT64_MODIFIER "x is not mapped (level-%d descriptor 0x%"
                  G_GINT64_MODIFIER "x at 0x%" G_GINT64_MODIFIER "x %s)", va_in, level, d,
                  entry_gpa, d & DESC_VALID ? "is not valid at this level" : "is invalid");
      return FALSE;
    }
    if (level < 3 && is_table) {
      writable = writable && !(d & TABLE_AP_RO);
      user = user && !(d & TABLE_AP_NO_EL0);
      uxn = uxn || (d & TABLE_UXN);
      pxn = pxn || (d & TABLE_PXN);
      table = desc_addr(mmu, d) & ~((1ull << g) - 1);
      continue;
    }
    guint64 size = level_span(g, level);
    out->page_size = size;
    out->pa = (desc_addr(mmu, d) & ~(size - 1)) | (va & (size - 1));
    out->writable = writable && !(d & DESC_AP_RO);
    out->user = user && (d & DESC_AP_EL0);
    out->nx = out->user ? (uxn || (d & DESC_UXN)) : (pxn || (d & DESC_PXN));
    return TRUE;
  }
  g_assert_not_reached();
}

static guint64
arm_entry_span(const HwMmu *mmu, guint64 va, guint depth)
{
  guint64 v;
  int h = half_of(mmu, va, &v);
  if (h < 0)
    return 1ull << 12;
  guint g = mmu->u.arm.half[h].page_shift;
  int start = 4 - (int)mmu->u.arm.half[h].levels;
  return level_span(g, MIN(start + (int)MIN(depth, 8u), 3));
}

static guint64
arm_tables_below(const HwMmu *mmu, guint g, guint64 table, int level, guint64 n_entries,
                 HwMmuTableFunc fn, gpointer data, guint64 budget)
{
  const guint8 *p = hw_physmem_ptr(mmu->mem, table, (gsize)n_entries * 8);
  if (budget == 0 || p == NULL)
    return 0;
  guint64 visited = 1;
  if (!fn(table, (guint)(4 - level), data) || level == 3)
    return visited;
  for (guint64 i = 0; i < n_entries && visited < budget; i++) {
    guint64 d;
    memcpy(&d, p + 8 * i, sizeof d);
    if ((d & (DESC_VALID | DESC_TABLE)) != (DESC_VALID | DESC_TABLE))
      continue;
    visited += arm_tables_below(mmu, g, desc_addr(mmu, d) & ~((1ull << g) - 1), level + 1,
                                1ull << index_bits(g), fn, data, budget - visited);
  }
  return visited;
}

/* Both halves: the process's (ROOT, in TTBR0's place) and the kernel's (TTBR1). */
static guint64
arm_tables(const HwMmu *mmu, guint64 root, HwHalf half, HwMmuTableFunc fn, gpointer data,
           guint64 budget)
{
  guint64 visited = 0;
  for (int h = 0; h < 2 && visited < budget; h++) {
    if (!mmu->u.arm.half[h].enabled || (half == HW_HALF_LOW && h == 1) ||
        (half == HW_HALF_HIGH && h == 0))
      continue;
    guint g = mmu->u.arm.half[h].page_shift;
    int start = 4 - (int)mmu->u.arm.half[h].levels;
    guint top_shift = g + index_bits(g) * (guint)(3 - start);
    guint64 n = 1ull << MIN(index_bits(g), mmu->u.arm.half[h].va_bits - top_shift);
    guint64 table = h == 0 ? ttbr_table(mmu->u.arm.ds, root) : mmu->u.arm.half[1].table;
    visited += arm_tables_below(mmu, g, table, start, n, fn, data, budget - visited);
  }
  return visited;
}

/* Leaves below TABLE (N_ENTRIES descriptors at LEVEL, granule 2^G, VAs from BASE). */
static guint64
arm_mappings_below(const HwMmu *mmu, guint g, guint64 table, int level, guint64 n_entries,
                   guint64 base, HwMapping m, gboolean uxn, gboolean pxn, HwMmuMappingFunc fn,
                   gpointer data, guint64 budget, gboolean *stop)
{
  const guint8 *p = hw_physmem_ptr(mmu->mem, table, (gsize)n_entries * 8);
  if (budget == 0 || p == NULL)
    return 0;
  guint64 visited = 1;
  gboolean ds = mmu->u.arm.ds;
  guint64 span = level_span(g, level);
  for (guint64 i = 0; i < n_entries && visited < budget && !*stop; i++) {
    guint64 d;
    memcpy(&d, p + 8 * i, sizeof d);
    if (!(d & DESC_VALID))
      continue;
    guint64 va = base + i * span;
    gboolean is_table = (d & DESC_TABLE) != 0;
    HwMapping n = m;
    if (level < 3 && is_table) {
      n.writable = m.writable && !(d & TABLE_AP_RO);
      n.user = m.user && !(d & TABLE_AP_NO_EL0);
      visited += arm_mappings_below(mmu, g, desc_addr(mmu, d) & ~((1ull << g) - 1),
                                    level + 1, 1ull << index_bits(g), va, n,
                                    uxn || (d & TABLE_UXN), pxn || (d & TABLE_PXN), fn, data,
                                    budget - visited, stop);
      continue;
    }
    gboolean block_ok = level == 2 || (level == 1 && (g == 12 || (g == 14 && ds))) ||
                        (level == 0 && g == 12 && ds);
    if ((level == 3 && !is_table) || (level < 3 && !block_ok))
      continue;
    n.size = span;
    n.pa = desc_addr(mmu, d) & ~(span - 1);
    n.va = va;
    n.writable = m.writable && !(d & DESC_AP_RO);
    n.user = m.user && (d & DESC_AP_EL0);
    n.nx = n.user ? (uxn || (d & DESC_UXN)) : (pxn || (d & DESC_PXN));
    if (!fn(&n, data))
      *stop = TRUE;
  }
  return visited;
}

/* Both halves: TTBR0's (ROOT) from VA 0, TTBR1's from the top of the address space down. */
static guint64
arm_mappings(const HwMmu *mmu, guint64 root, HwHalf half, HwMmuMappingFunc fn, gpointer data,
             guint64 budget, gboolean *stop)
{
  guint64 visited = 0;
  for (int h = 0; h < 2 && visited < budget && !*stop; h++) {
    if (!mmu->u.arm.half[h].enabled || (half == HW_HALF_LOW && h == 1) ||
        (half == HW_HALF_HIGH && h == 0))
      continue;
    guint g = mmu->u.arm.half[h].page_shift;
    guint va_bits = mmu->u.arm.half[h].va_bits;
    int start = 4 - (int)mmu->u.arm.half[h].levels;
    guint top_shift = g + index_bits(g) * (guint)(3 - start);
    guint64 n = 1ull << MIN(index_bits(g), va_bits - top_shift);
    guint64 table = h == 0 ? ttbr_table(mmu->u.arm.ds, root) : mmu->u.arm.half[1].table;
    guint64 base = h == 0 ? 0 : ~0ull << va_bits;
    HwMapping m = { .writable = TRUE, .user = TRUE };
    visited += arm_mappings_below(mmu, g, table, start, n, base, m, FALSE, FALSE, fn, data,
                                  budget - visited, stop);
  }
  return visited;
}

static HwMmu *arm_from_regs(const HwPhysMem *mem, const HwRegs *regs, GError **error);

/* A process's tables go in TTBR0's place. */
static void
arm_set_user_root(HwMmu *mmu, guint64 root)
{
  mmu->u.arm.regs.ttbr0 = root;
  mmu->u.arm.half[0].table = ttbr_table(mmu->u.arm.ds, root);
  mmu->root = mmu->u.arm.half[0].table;
}

static void
arm_set_kernel_root(HwMmu *mmu, guint64 root)
{
  mmu->u.arm.regs.ttbr1 = root;
  mmu->u.arm.half[1].table = ttbr_table(mmu->u.arm.ds, root);
}

static guint64
arm_kernel_root(const HwMmu *mmu)
{
  return mmu->u.arm.half[1].table;
}

/* Under Linux KPTI a vCPU at EL0 has TTBR1_EL1 on the trampoline tables, which sit a
 * few pages (of TTBR1's granule) from swapper_pg_dir (6.1 and 6.12: two above). The
 * registers' table first, then its neighbours nearest first, above before below. */
static guint
arm_kernel_root_candidates(const HwMmu *mmu, guint64 *out, guint max)
{
  static const int offsets[] = { 0, 2, 1, 3, -1, -2, -3 };
  const guint64 t = mmu->u.arm.half[1].table, g = 1ull << mmu->u.arm.half[1].page_shift;
  guint n = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(offsets) && n < max; i++) {
    if (offsets[i] < 0 && t < g * (guint64)-offsets[i])
      continue;
    out[n++] = t + (guint64)((gint64)offsets[i] * (gint64)g);
  }
  return n;
}

const HwMmuOps hw_mmu_aarch64_ops = {
  .name = "aarch64",
  .arch = HW_ARCH_AARCH64,
  .from_regs = arm_from_regs,
  .from_root = NULL,
  .set_user_root = arm_set_user_root,
  .set_kernel_root = arm_set_kernel_root,
  .kernel_root = arm_kernel_root,
  .separate_kernel_root = TRUE,
  .kernel_root_candidates = arm_kernel_root_candidates,
  .retry_root = NULL,
  .walk = arm_walk,
  .entry_span = arm_entry_span,
  .tables = arm_tables,
  .mappings = arm_mappings,
};

/* Decode one half's TCR fields: TxSZ, the granule (TG0 and TG1 encode it differently)
 * and EPDn; FALSE for what the architecture reserves. */
static gboolean
decode_half(guint64 tcr, int h, guint64 ttbr, HwMmu *mmu, GError **error)
{
  guint tsz = (tcr >> (h ? 16 : 0)) & 63;
  guint tg = (tcr >> (h ? 30 : 14)) & 3;
  gboolean epd = (tcr >> (h ? 23 : 7)) & 1;
  static const guint tg0_shift[4] = { 12, 16, 14, 0 }, tg1_shift[4] = { 0, 14, 12, 16 };
  guint g = h ? tg1_shift[tg] : tg0_shift[tg];
  if (g == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "TCR_EL1 0x%" G_GINT64_MODIFIER
                "x: reserved granule TG%d=%u", tcr, h, tg);
    return FALSE;
  }
  /* 48-bit VAs, or 52 with DS (4/16 KiB) or 64 KiB granules; at least one level. */
  gboolean ds = (tcr & TCR_DS) && g != 16;
  guint min_tsz = ds || g == 16 ? 12 : 16;
  if (tsz < min_tsz || 64 - tsz < g + 1) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "TCR_EL1 0x%" G_GINT64_MODIFIER
                "x: T%dSZ=%u is outside %u..%u for a %u KiB granule%s", tcr, h, tsz, min_tsz,
                63 - g, 1u << (g - 10), ds ? " with DS" : "");
    return FALSE;
  }
  mmu->u.arm.ds = ds;
  guint va_bits = 64 - tsz, s = g - 3;
  mmu->u.arm.half[h].enabled = !epd;
  mmu->u.arm.half[h].page_shift = g;
  mmu->u.arm.half[h].va_bits = va_bits;
  mmu->u.arm.half[h].levels = (va_bits - g + s - 1) / s;
  mmu->u.arm.half[h].table = ttbr_table(ds, ttbr);
  return TRUE;
}

HwMmu *
hw_mmu_new_aarch64(const HwPhysMem *mem, const HwAArch64Paging *paging, GError **error)
{
  g_autoptr(HwMmu) mmu = g_new0(HwMmu, 1);
  mmu->ops = &hw_mmu_aarch64_ops;
  mmu->mem = mem;
  mmu->u.arm.regs = *paging;
  if (!decode_half(paging->tcr, 0, paging->ttbr0, mmu, error) ||
      !decode_half(paging->tcr, 1, paging->ttbr1, mmu, error))
    return NULL;
  mmu->root = mmu->u.arm.half[0].table;
  mmu->levels = mmu->u.arm.half[0].levels;
  return g_steal_pointer(&mmu);
}

/* TTBR0_EL1, TTBR1_EL1 and TCR_EL1 (our names; the guest layer maps the stub's). */
static HwMmu *
arm_from_regs(const HwPhysMem *mem, const HwRegs *regs, GError **error)
{
  HwAArch64Paging p;
  if (!hw_regs_get(regs, "TTBR0_EL1", &p.ttbr0) || !hw_regs_get(regs, "TTBR1_EL1", &p.ttbr1) ||
      !hw_regs_get(regs, "TCR_EL1", &p.tcr)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "registers lack TTBR0_EL1/TTBR1_EL1/TCR_EL1");
    return NULL;
  }
  return hw_mmu_new_aarch64(mem, &p, error);
}
