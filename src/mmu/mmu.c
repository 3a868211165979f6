/* Arch-neutral translation API: pick the walker, guard the mapping, read through pages. */
#include "mmu/mmu-private.h"
#include <haywire/error.h>
#include <haywire/guard.h>

#define X86_CR0_PG (1ull << 31)
#define X86_CR4_LA57 (1ull << 12)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)
#define X86_CR3_PTI_USER (1ull << 12)

HwMmu *
hw_mmu_new_x86_64(const HwPhysMem *mem, const HwX86Paging *paging)
{
  HwMmu *mmu = g_new0(HwMmu, 1);
  mmu->ops = &hw_mmu_x86_64_ops;
  mmu->mem = mem;
  mmu->u.x86 = *paging;
  mmu->root = paging->cr3 & 0x000ffffffffff000ull;  /* drops PCID and bit 63 */
  mmu->levels = paging->la57 ? 5 : 4;
  return mmu;
}

static gboolean
x86_paging_from_regs(const HwRegs *regs, HwX86Paging *p, GError **error)
{
  guint64 cr0, cr3, cr4, efer;
  if (!hw_regs_get(regs, "CR0", &cr0) || !hw_regs_get(regs, "CR3", &cr3) ||
      !hw_regs_get(regs, "CR4", &cr4) || !hw_regs_get(regs, "EFER", &efer)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "registers lack CR0/CR3/CR4/EFER");
    return FALSE;
  }
  if (!(cr0 & X86_CR0_PG) || !(efer & X86_EFER_LMA)) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                "vCPU is not in 64-bit paging mode (CR0=0x%" G_GINT64_MODIFIER
                "x EFER=0x%" G_GINT64_MODIFIER "x)", cr0, efer);
    return FALSE;
  }
  p->cr3 = cr3;
  p->la57 = (cr4 & X86_CR4_LA57) != 0;
  p->nxe = (efer & X86_EFER_NXE) != 0;
  return TRUE;
}

/* TTBR0_EL1, TTBR1_EL1 and TCR_EL1 (the GDB stub's names for them). */
static gboolean
aarch64_paging_from_regs(const HwRegs *regs, HwAArch64Paging *p, GError **error)
{
  if (!hw_regs_get(regs, "TTBR0_EL1", &p->ttbr0) || !hw_regs_get(regs, "TTBR1_EL1", &p->ttbr1) ||
      !hw_regs_get(regs, "TCR_EL1", &p->tcr)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "registers lack TTBR0_EL1/TTBR1_EL1/TCR_EL1");
    return FALSE;
  }
  return TRUE;
}

HwMmu *
hw_mmu_new_from_regs(const HwPhysMem *mem, const HwRegs *regs, GError **error)
{
  HwX86Paging p;
  if (hw_regs_get_arch(regs) == HW_ARCH_AARCH64) {
    HwAArch64Paging a;
    return aarch64_paging_from_regs(regs, &a, error) ? hw_mmu_new_aarch64(mem, &a, error)
                                                     : NULL;
  }
  if (hw_regs_get_arch(regs) != HW_ARCH_X86_64) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                "page walks are implemented for x86-64 and AArch64 only");
    return NULL;
  }
  if (!x86_paging_from_regs(regs, &p, error))
    return NULL;
  return hw_mmu_new_x86_64(mem, &p);
}

HwMmu *
hw_mmu_new_from_root(const HwPhysMem *mem, HwArch arch, guint64 root_gpa, const HwRegs *regs,
                     GError **error)
{
  HwX86Paging p = { .cr3 = root_gpa, .la57 = FALSE, .nxe = TRUE };
  if (arch == HW_ARCH_AARCH64) {
    /* A process's tables go in TTBR0's place; the kernel half and the granules come
     * from the vCPU's registers, which are required. */
    HwAArch64Paging a;
    if (regs == NULL) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "an AArch64 root needs the vCPU's TCR_EL1 and TTBR1_EL1");
      return NULL;
    }
    if (!aarch64_paging_from_regs(regs, &a, error))
      return NULL;
    a.ttbr0 = root_gpa;
    return hw_mmu_new_aarch64(mem, &a, error);
  }
  if (arch != HW_ARCH_X86_64) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                "page walks are implemented for x86-64 and AArch64 only");
    return NULL;
  }
  if (regs != NULL && !x86_paging_from_regs(regs, &p, error))
    return NULL;
  p.cr3 = root_gpa;
  return hw_mmu_new_x86_64(mem, &p);
}

void
hw_mmu_free(HwMmu *mmu)
{
  g_free(mmu);
}

guint
hw_mmu_get_levels(const HwMmu *mmu)
{
  return mmu->levels;
}

guint64
hw_mmu_get_root(const HwMmu *mmu)
{
  return mmu->root;
}

static gboolean
walk_guarded(const HwMmu *mmu, guint64 root, guint64 va, HwTranslation *out, GError **error)
{
  HwGuard g;
  gboolean ok;
  hw_guard_push(&g);
  if (sigsetjmp(g.jb, 0) == 0) {
    ok = mmu->ops->walk(mmu, root, va, out, error);
    hw_guard_pop(&g);
    return ok;
  }
  g_clear_error(error);
  g_set_error(error, HW_ERROR, HW_ERROR_GONE,
              "guest memory vanished while walking page tables (did QEMU exit?)");
  return FALSE;
}

gboolean
hw_mmu_translate(const HwMmu *mmu, guint64 va, HwTranslation *out, GError **error)
{
  g_autoptr(GError) first = NULL;
  if (walk_guarded(mmu, mmu->root, va, out, &first))
    return TRUE;
  /* With PTI a user-mode CR3 points at the user PGD (kernel PGD + 4 KiB), which maps
   * almost nothing of the kernel: retry kernel addresses from the kernel PGD. */
  if (mmu->ops == &hw_mmu_x86_64_ops && (va >> 63) && (mmu->root & X86_CR3_PTI_USER) &&
      g_error_matches(first, HW_ERROR, HW_ERROR_UNMAPPED) &&
      walk_guarded(mmu, mmu->root & ~X86_CR3_PTI_USER, va, out, NULL))
    return TRUE;
  g_propagate_error(error, g_steal_pointer(&first));
  return FALSE;
}

gboolean
hw_mmu_read(const HwMmu *mmu, guint64 va, void *buf, gsize len, GError **error)
{
  guint8 *dst = buf;
  while (len > 0) {
    HwTranslation t;
    if (!hw_mmu_translate(mmu, va, &t, error))
      return FALSE;
    guint64 in_page = t.page_size - (va & (t.page_size - 1));
    gsize chunk = (gsize)MIN((guint64)len, in_page);
    if (!hw_physmem_read(mmu->mem, t.pa, dst, chunk, error)) {
      g_prefix_error(error, "VA 0x%" G_GINT64_MODIFIER "x: ", va);
      return FALSE;
    }
    dst += chunk;
    va += chunk;
    len -= chunk;
  }
  return TRUE;
}

guint64
hw_mmu_for_each_table(const HwMmu *mmu, HwMmuTableFunc fn, gpointer data, guint64 max_tables)
{
  HwGuard g;
  hw_guard_push(&g);
  if (sigsetjmp(g.jb, 0) == 0) {
    guint64 n = mmu->ops->tables(mmu, mmu->root, fn, data, max_tables);
    hw_guard_pop(&g);
    return n;
  }
  return 0;   /* the memory vanished: what was visited is all there is */
}

guint64
hw_mmu_hole_end(const HwMmu *mmu, guint64 va, const HwTranslation *failed)
{
  guint64 next = (va | 4095) + 1;
  if (failed->levels == 0 || failed->levels > mmu->levels || failed->va != va)
    return next;
  guint64 e = failed->entry[failed->levels - 1];
  if (e & 1)   /* present (x86-64) or valid (AArch64): failed for another reason */
    return next;
  guint64 span = mmu->ops->entry_span(mmu, va, failed->levels - 1);
  guint64 end = (va & ~(span - 1)) + span;
  return end > va ? end : G_MAXUINT64;   /* the top of the address space */
}
