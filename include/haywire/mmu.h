/* haywire: arch-neutral virtual-to-physical translation by walking guest page tables. */
#pragma once

#include <glib.h>
#include <haywire/regs.h>
#include <haywire/physmem.h>

G_BEGIN_DECLS

#define HW_MMU_MAX_LEVELS 6

/* Result of one translation. */
typedef struct {
  guint64 va;
  guint64 pa;
  guint64 page_size;
  gboolean writable;
  gboolean user;
  gboolean nx;
  guint levels;                          /* page-table levels walked */
  guint64 entry_gpa[HW_MMU_MAX_LEVELS];  /* where each entry was read */
  guint64 entry[HW_MMU_MAX_LEVELS];      /* the entries, top level first */
  guint64 root_used;                     /* table root actually walked */
} HwTranslation;

/* An address space: a page-table root plus paging mode, over guest RAM. */
typedef struct _HwMmu HwMmu;

/* x86-64 paging mode and root; see hw_mmu_new_x86_64. */
typedef struct {
  guint64 cr3;      /* PCID and bit 63 are masked off */
  gboolean la57;    /* CR4.LA57: 5-level paging */
  gboolean nxe;     /* EFER.NXE: bit 63 of entries means no-execute */
} HwX86Paging;

/* AArch64 stage-1 EL1&0 translation registers, as the GDB stub reports them. */
typedef struct {
  guint64 ttbr0;    /* TTBR0_EL1: low (user) half; ASID and CnP are masked off */
  guint64 ttbr1;    /* TTBR1_EL1: high (kernel) half */
  guint64 tcr;      /* TCR_EL1: T0SZ/T1SZ, TG0/TG1, EPD0/EPD1, TBI0/TBI1 */
} HwAArch64Paging;

/* An AArch64 address space over MEM: 4, 16 or 64 KiB granules, 1 to 4 levels per half
 * as TCR_EL1 says; NULL (HW_ERROR_UNSUPPORTED) for a TCR this walker cannot follow. */
HwMmu *hw_mmu_new_aarch64(const HwPhysMem *mem, const HwAArch64Paging *paging, GError **error);
/* An x86-64 address space over MEM (borrowed). */
HwMmu *hw_mmu_new_x86_64(const HwPhysMem *mem, const HwX86Paging *paging);
/* The address space of a vCPU's registers (arch picked from REGS). */
HwMmu *hw_mmu_new_from_regs(const HwPhysMem *mem, const HwRegs *regs, GError **error);
/* The address space of an explicit root ROOT_GPA, paging mode from REGS (may be NULL). */
HwMmu *hw_mmu_new_from_root(const HwPhysMem *mem, HwArch arch, guint64 root_gpa,
                            const HwRegs *regs, GError **error);
/* Free an address space. */
void hw_mmu_free(HwMmu *mmu);
/* A copy of MMU (same mode and kernel half) whose user half uses the tables at ROOT_GPA,
 * e.g. a process's mm->pgd; the caller owns it. */
HwMmu *hw_mmu_copy_with_root(const HwMmu *mmu, guint64 root_gpa);
/* A copy of MMU whose kernel half uses the tables at ROOT_GPA; the caller owns it. */
HwMmu *hw_mmu_copy_with_kernel_root(const HwMmu *mmu, guint64 root_gpa);
/* Candidate roots of the kernel's own tables, most likely first, at most MAX into OUT:
 * the registers' root, and the tables an OS keeps beside it for user mode (x86-64 PTI's
 * PGD pair, AArch64 KPTI's trampoline neighbours). The OS layer validates them. */
guint hw_mmu_kernel_root_candidates(const HwMmu *mmu, guint64 *out, guint max);
/* The architecture of this address space. */
HwArch hw_mmu_get_arch(const HwMmu *mmu);
/* The kernel half's table root (x86-64: the same as hw_mmu_get_root). */
guint64 hw_mmu_get_kernel_root(const HwMmu *mmu);
/* Whether the kernel half has tables of its own (AArch64's TTBR1), so that
 * hw_mmu_copy_with_kernel_root leaves the user half alone. */
gboolean hw_mmu_has_separate_kernel_root(const HwMmu *mmu);
/* Size in bytes of the smallest page of the half VA belongs to (4 KiB on x86-64). */
guint64 hw_mmu_get_page_size(const HwMmu *mmu, guint64 va);

/* Translate VA; fails with HW_ERROR_UNMAPPED (not present), OUT_OF_RANGE (table outside RAM). */
gboolean hw_mmu_translate(const HwMmu *mmu, guint64 va, HwTranslation *out, GError **error);
/* Read LEN bytes at VA page by page into BUF. */
gboolean hw_mmu_read(const HwMmu *mmu, guint64 va, void *buf, gsize len, GError **error);
/* Number of paging levels of the user half (4 or 5 on x86-64). */
guint hw_mmu_get_levels(const HwMmu *mmu);
/* The user half's page-table root (x86-64: CR3's table). */
guint64 hw_mmu_get_root(const HwMmu *mmu);

/* After hw_mmu_translate of VA failed with FAILED filled in: where the unmapped region
 * around VA known from that walk ends (a non-present entry high in the tables covers
 * up to 512 GiB), at least the next page. Lets loops over sparse ranges skip holes. */
guint64 hw_mmu_hole_end(const HwMmu *mmu, guint64 va, const HwTranslation *failed);
/* Called for each page-table page at GPA (LEVEL: the root's is highest); return FALSE
 * to skip the tables below it (e.g. when already seen from another root). */
typedef gboolean (*HwMmuTableFunc)(guint64 gpa, guint level, gpointer data);
/* Visit the page-table pages of MMU's address space, at most MAX_TABLES of them; returns
 * how many were visited (tables outside RAM are not visited). */
guint64 hw_mmu_for_each_table(const HwMmu *mmu, HwMmuTableFunc fn, gpointer data,
                              guint64 max_tables);

/* Which half of an address space: the low (user) VAs, the high (kernel) VAs, or both. */
typedef enum { HW_HALF_BOTH, HW_HALF_LOW, HW_HALF_HIGH } HwHalf;
/* Like hw_mmu_for_each_table for HALF only (x86-64: the root table itself, then the
 * entries of that half; AArch64: that half's tables). */
guint64 hw_mmu_for_each_table_in(const HwMmu *mmu, HwHalf half, HwMmuTableFunc fn,
                                 gpointer data, guint64 max_tables);

/* One leaf of the page tables: SIZE bytes at VA (canonical) map PA, both aligned to
 * SIZE, with the permissions of the whole walk to it. */
typedef struct {
  guint64 va, pa, size;
  gboolean writable, user, nx;
} HwMapping;
/* Called for each mapping; return FALSE to stop. */
typedef gboolean (*HwMmuMappingFunc)(const HwMapping *m, gpointer data);
/* Call FN for every present leaf in HALF of MMU's address space, in VA order, visiting
 * at most MAX_TABLES table pages (tables outside RAM are skipped); returns the tables
 * visited. A table reached twice (guest loops) is walked again only within that
 * budget. */
guint64 hw_mmu_for_each_mapping(const HwMmu *mmu, HwHalf half, HwMmuMappingFunc fn,
                                gpointer data, guint64 max_tables);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwMmu, hw_mmu_free)

G_END_DECLS
