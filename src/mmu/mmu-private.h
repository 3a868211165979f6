/* Inside the MMU layer: one ops table per architecture behind the HwMmu handle. */
#pragma once

#include <haywire/mmu.h>

typedef struct {
  const char *name;
  HwArch arch;
  /* The address space a vCPU's registers describe. */
  HwMmu *(*from_regs)(const HwPhysMem *mem, const HwRegs *regs, GError **error);
  /* The paging mode to assume for a bare root with no registers; NULL when the arch
   * cannot do without them. */
  HwMmu *(*from_root)(const HwPhysMem *mem, guint64 root, GError **error);
  /* Replace the tables of the user half (a process's) or of the kernel half. */
  void (*set_user_root)(HwMmu *mmu, guint64 root);
  void (*set_kernel_root)(HwMmu *mmu, guint64 root);
  /* The kernel half's tables, and whether they are apart from the user half's (a
   * kernel root can then be replaced without touching the user half). */
  guint64 (*kernel_root)(const HwMmu *mmu);
  gboolean separate_kernel_root;
  /* Roots of the kernel half an OS may keep beside the one in the registers, most
   * likely first, the registers' own among them (see hw_mmu_kernel_root_candidates). */
  guint (*kernel_root_candidates)(const HwMmu *mmu, guint64 *out, guint max);
  /* After VA was not mapped from ROOT: another root worth a try (FALSE: none). */
  gboolean (*retry_root)(const HwMmu *mmu, guint64 va, guint64 root, guint64 *other);
  /* Walk from ROOT (a table address) for VA; fill OUT on success. */
  gboolean (*walk)(const HwMmu *mmu, guint64 root, guint64 va, HwTranslation *out,
                   GError **error);
  /* Bytes of address space one entry covers at DEPTH (0: the root table's entries) on
   * the walk for VA (AArch64's two halves may use different granules). */
  guint64 (*entry_span)(const HwMmu *mmu, guint64 va, guint depth);
  /* Call FN for every table page reachable from ROOT (see hw_mmu_for_each_table). */
  guint64 (*tables)(const HwMmu *mmu, guint64 root, HwHalf half, HwMmuTableFunc fn,
                    gpointer data, guint64 budget);
  /* Call FN for every leaf reachable from ROOT (see hw_mmu_for_each_mapping); *STOP is
   * set when FN asked to stop. */
  guint64 (*mappings)(const HwMmu *mmu, guint64 root, HwHalf half, HwMmuMappingFunc fn,
                      gpointer data, guint64 budget, gboolean *stop);
} HwMmuOps;

struct _HwMmu {
  const HwMmuOps *ops;
  const HwPhysMem *mem;
  guint64 root;
  guint levels;
  union {
    HwX86Paging x86;
    struct {
      HwAArch64Paging regs;
      gboolean ds;            /* TCR_EL1.DS: 52-bit addresses with LPA2 descriptors */
      /* Per half (0: TTBR0, low VAs; 1: TTBR1, high VAs), decoded from TCR_EL1. */
      struct {
        gboolean enabled;
        guint page_shift;     /* 12, 14 or 16 */
        guint va_bits;        /* 64 - TxSZ */
        guint levels;         /* tables walked, the last one holding pages */
        guint64 table;        /* TTBRn's table address */
      } half[2];
    } arm;
  } u;
};

extern const HwMmuOps hw_mmu_x86_64_ops;
extern const HwMmuOps hw_mmu_aarch64_ops;
