/* haywire: Linux guests without a profile: kernel discovery from guest RAM (BTF,
 * init_task, KASLR), tasks, memory maps and per-process address spaces. */
#pragma once

#include <glib.h>
#include <haywire/guest.h>
#include <haywire/mmu.h>
#include <haywire/btf.h>

G_BEGIN_DECLS

typedef struct _HwLinux HwLinux;

/* What discovery found. */
typedef struct {
  char *banner;             /* "Linux version ..." */
  guint64 btf_gpa;          /* where the kernel's .BTF sits in guest-physical memory */
  guint64 btf_size;
  guint32 btf_types;
  guint64 text_va;          /* _text: start of the kernel image mapping */
  guint64 text_gpa;
  gint64 kaslr_slide;       /* _text minus its address without KASLR */
  guint64 init_task_va;
  guint64 init_task_gpa;
  guint64 kernel_pgd_gpa;   /* init_mm.pgd (swapper_pg_dir) */
  guint paging_levels;      /* 4 or 5 on x86-64; 3 or 4 on arm64 */
  guint64 page_size;        /* the kernel's page size (4 KiB; 16 or 64 KiB on some arm64) */
  gboolean from_cache;      /* discovery came from the per-boot cache */
  double discovery_ms;      /* time it took (cold or warm) */
} HwLinuxInfo;

/* One task. */
typedef struct {
  guint64 task_va;
  gint32 pid;               /* thread id */
  gint32 tgid;              /* process id */
  gint32 ppid;              /* real_parent's tgid */
  guint32 uid;
  char state;               /* R S D T t X Z P I, as /proc shows */
  char comm[17];
  gboolean kernel_thread;   /* PF_KTHREAD */
  guint64 mm_va;            /* 0 for kernel threads */
  guint64 pgd_gpa;          /* mm->pgd as a physical address, 0 if none */
} HwTask;

/* One memory mapping (VMA). */
typedef struct {
  guint64 start, end;
  char perms[5];            /* "r-xp" */
  guint64 offset;           /* file offset, 0 for anonymous */
  char *path;               /* file path, "[heap]"/"[stack]"/"[vdso]"..., or "" */
  guint64 vma_va;
} HwVma;

/* Discover the kernel in GUEST (must be paused for a consistent result; RAM mapped).
 * CACHE_DIR (may be NULL: no cache) keeps results per guest boot. */
HwLinux *hw_linux_open(HwGuest *guest, const char *cache_dir, GError **error);
/* Free. */
void hw_linux_free(HwLinux *lx);
/* What discovery found. */
const HwLinuxInfo *hw_linux_get_info(const HwLinux *lx);
/* The kernel's type information. */
const HwBtf *hw_linux_get_btf(HwLinux *lx, GError **error);
/* The kernel's address space (init_mm). */
const HwMmu *hw_linux_get_kernel_mmu(const HwLinux *lx);

/* All tasks (processes; with THREADS, every thread). *PARTIAL is set when the walk
 * stopped early on bad guest data (the list then holds what was read). */
GArray *hw_linux_list_tasks(HwLinux *lx, gboolean threads, gboolean *partial, GError **error);
/* Find the process PID (a thread group leader). */
gboolean hw_linux_find_task(HwLinux *lx, gint32 pid, HwTask *out, GError **error);
/* The memory maps of task T, sorted (GArray of HwVma, caller owns: g_array_unref frees
 * the paths too, so g_autoptr(GArray) works). */
GArray *hw_linux_list_vmas(HwLinux *lx, const HwTask *t, gboolean *partial, GError **error);
/* Free a GArray of HwVma from hw_linux_list_vmas (g_array_unref does the same). */
void hw_vma_array_free(GArray *vmas);
/* The address space of a vCPU's registers REGS, with the kernel half on the kernel's own
 * tables where it has tables apart (arm64: under KPTI a vCPU at EL0 holds trampoline
 * tables in TTBR1_EL1); the caller owns it. */
HwMmu *hw_linux_vcpu_mmu(HwLinux *lx, const HwRegs *regs, GError **error);
/* The user address space of task T (paging mode from the kernel's). */
HwMmu *hw_linux_task_mmu(HwLinux *lx, const HwTask *t, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwLinux, hw_linux_free)

G_END_DECLS
