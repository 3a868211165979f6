/* Linux layer over a synthetic guest: 8 MiB of RAM with a kernel direct map, a task
 * list and a maple tree of VMAs built by hand in a small made-up struct layout; then
 * hostile variants of each (loops, pointers outside RAM or unmapped, foreign VMAs). */
#include "os/linux/linux-private.h"
#include <haywire/error.h>
#include <haywire/physmem.h>
#include <haywire/mmu.h>
#include <haywire/guest.h>

#include <string.h>

/* ---- guest RAM and the kernel's address space ----------------------------------------- */

#define RAM_SIZE 0x800000ull                 /* 8 MiB at gpa 0 */
#define DIRECT_MAP 0xffff888000000000ull     /* kernel VA of gpa 0 */
#define KVA(pa) (DIRECT_MAP + (pa))
#define PML4_GPA 0x1000ull
#define PDPT_GPA 0x2000ull
#define PD_GPA 0x3000ull
#define ALLOC_START 0x10000ull               /* structures are handed out from here */
#define MiB2 0x200000ull
/* Past the direct map of RAM: one 2 MiB page not present, one mapped to 1 GiB (no RAM). */
#define UNMAPPED_KVA KVA(RAM_SIZE)
#define OUTSIDE_GPA 0x40000000ull
#define OUTSIDE_KVA KVA(RAM_SIZE + MiB2)
#define NON_CANONICAL_KVA 0xff00000000001000ull  /* upper byte set, not 4-level canonical */

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)

/* Kernel ABI constants the layer relies on. */
#define PF_KTHREAD 0x00200000u
#define VM_READ 0x1ull
#define VM_WRITE 0x2ull
#define VM_EXEC 0x4ull
#define VM_MAYSHARE 0x80ull
#define VM_DONTEXPAND 0x40000ull

/* Maple node types (enum maple_type) and node pointer encoding. */
#define MT_DENSE 0u
#include "linux-layout.h"

/* The VMAs of the standard mm, in address order. */
enum { V_FILE, V_HEAP, V_SHARED, V_VDSO, V_STACK, N_VMAS };

typedef struct {
  guint64 start, end;
  const char *perms;
  guint64 offset;
  const char *path;
} VmaWant;

static const VmaWant vma_want[N_VMAS] = {
  [V_FILE] = { 0x400000, 0x401000, "r-xp", 0x2000, "/opt/x" },
  [V_HEAP] = { 0x600000, 0x621000, "rw-p", 0, "[heap]" },
  [V_SHARED] = { 0x7f0000000000ull, 0x7f0000002000ull, "r--s", 0, "" },
  [V_VDSO] = { 0x7ffff7fc1000ull, 0x7ffff7fc3000ull, "r-xp", 0, "[vdso]" },
  [V_STACK] = { 0x7ffffffde000ull, 0x7ffffffff000ull, "rw-p", 0, "[stack]" },
};

#define USER_VA 0x400000ull          /* mapped in task 1's own page tables ... */
#define USER_PAGE_GPA 0x400000ull    /* ... to this 2 MiB page; structures sit below it */
#define SPARE_GPA 0x600000ull        /* the top 2 MiB of RAM, free for a test to fill */

typedef struct {
  guint8 *ram;
  HwPhysMem *mem;
  HwLinux *lx;
  guint64 next_gpa;
  /* tasks: init_task, pid 1 (user), 2 (kernel thread), 3 (user, a second thread pid 4) */
  guint64 init_task, t1, t2, t3, t4, signal3, mm1, mm3, pgd1;
  /* pid 1's memory map */
  guint64 root, leaf_a, leaf_b, vma[N_VMAS], file, d_x, d_opt, d_root, mnt, vdso_spec;
} Guest;

static void
guest_free(Guest *g)
{
  hw_linux_free(g->lx);
  hw_physmem_free(g->mem);
  g_free(g->ram);
  g_free(g);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(Guest, guest_free)

/* Where kernel VA KVA (LEN bytes of the direct map) sits in the RAM buffer. */
static guint8 *
at(Guest *g, guint64 kva, gsize len)
{
  if (kva < DIRECT_MAP || kva - DIRECT_MAP > RAM_SIZE || len > RAM_SIZE - (kva - DIRECT_MAP))
    g_error("0x%" G_GINT64_MODIFIER "x is not in the direct map of the test RAM", kva);
  return g->ram + (kva - DIRECT_MAP);
}

static void
put64(Guest *g, guint64 kva, guint64 v)
{
  memcpy(at(g, kva, 8), &v, 8);
}

static void
put32(Guest *g, guint64 kva, guint32 v)
{
  memcpy(at(g, kva, 4), &v, 4);
}

static void
put_pa64(Guest *g, guint64 gpa, guint64 v)
{
  put64(g, KVA(gpa), v);
}

/* LEN zeroed bytes aligned to ALIGN; returns the kernel VA. */
static guint64
kalloc(Guest *g, gsize len, guint64 align)
{
  guint64 gpa = (g->next_gpa + align - 1) & ~(align - 1);
  g_assert_cmphex(gpa + len, <=, USER_PAGE_GPA);
  g->next_gpa = gpa + len;
  return KVA(gpa);
}

static guint64
kstring(Guest *g, const char *s)
{
  gsize len = strlen(s) + 1;
  guint64 kva = kalloc(g, len, 8);
  memcpy(at(g, kva, len), s, len);
  return kva;
}

/* ---- kernel objects ----------------------------------------------------------------- */

static guint64
make_cred(Guest *g, guint32 uid)
{
  guint64 cred = kalloc(g, 0x40, 64);
  put32(g, cred + layout.cred_uid, uid);
  return cred;
}

static guint64
make_task(Guest *g, gint32 pid, gint32 tgid, const char *comm, guint32 flags, guint32 state,
          guint64 parent, guint64 cred, guint64 mm)
{
  guint64 t = kalloc(g, layout.task_size, 64);
  put32(g, t + layout.task_pid, (guint32)pid);
  put32(g, t + layout.task_tgid, (guint32)tgid);
  put32(g, t + layout.task_flags, flags);
  put32(g, t + layout.task_state, state);
  put64(g, t + layout.task_real_parent, parent ? parent : t);
  put64(g, t + layout.task_cred, cred);
  put64(g, t + layout.task_mm, mm);
  put64(g, t + layout.task_active_mm, mm);
  g_assert_cmpuint(strlen(comm), <, 16);
  memcpy(at(g, t + layout.task_comm, strlen(comm)), comm, strlen(comm));
  return t;
}

/* Link the list_heads at HEADS[0..N) into one circular list. */
static void
link_list(Guest *g, const guint64 *heads, guint n)
{
  for (guint i = 0; i < n; i++) {
    put64(g, heads[i] + layout.list_next, heads[(i + 1) % n]);
    put64(g, heads[i] + layout.list_prev, heads[(i + n - 1) % n]);
  }
}

static guint64
make_mm(Guest *g, guint64 pgd, guint64 brk, guint64 start_brk, guint64 start_stack)
{
  guint64 mm = kalloc(g, 0x100, 64);
  put64(g, mm + layout.mm_pgd, pgd);
  put64(g, mm + layout.mm_brk, brk);
  put64(g, mm + layout.mm_start_brk, start_brk);
  put64(g, mm + layout.mm_start_stack, start_stack);
  return mm;
}

static guint64
enode(guint64 node, guint type)
{
  return node | ((guint64)type << 3) | 4;
}

static guint64
make_node(Guest *g)
{
  return kalloc(g, layout.mnode_size, 256);
}

/* Slot I of NODE (maple_arange_64 if ARANGE, else maple_range_64 / leaf) and its pivot. */
static void
node_set(Guest *g, guint64 node, gboolean arange, guint i, guint64 pivot, guint64 slot)
{
  guint32 npivots = arange ? layout.ma64_npivots : layout.mr64_npivots;
  guint32 pivot_off = arange ? layout.ma64_pivot : layout.mr64_pivot;
  guint32 slot_off = arange ? layout.ma64_slot : layout.mr64_slot;
  if (i < npivots)
    put64(g, node + pivot_off + 8ull * i, pivot);
  put64(g, node + slot_off + 8ull * i, slot);
}

static guint64
make_vma(Guest *g, guint64 mm, const VmaWant *w, guint64 flags, guint64 file)
{
  guint64 vma = kalloc(g, 0xc0, 64);
  put64(g, vma + layout.vma_start, w->start);
  put64(g, vma + layout.vma_end, w->end);
  put64(g, vma + layout.vma_mm, mm);
  put64(g, vma + layout.vma_flags, flags);
  put64(g, vma + layout.vma_pgoff, w->offset >> 12);
  put64(g, vma + layout.vma_file, file);
  return vma;
}

static guint64
make_dentry(Guest *g, const char *name, guint64 parent)
{
  guint64 d = kalloc(g, 0x80, 64);
  put64(g, d + layout.dentry_parent, parent ? parent : d);
  put32(g, d + layout.dentry_name_len, (guint32)strlen(name));
  put64(g, d + layout.dentry_name_ptr, kstring(g, name));
  return d;
}

/* A struct mount with ROOT as its vfsmount's mnt_root; mounted on MOUNTPOINT in PARENT
 * (PARENT 0: the root of the namespace, its own parent). */
static guint64
make_mount(Guest *g, guint64 root, guint64 parent, guint64 mountpoint)
{
  guint64 m = kalloc(g, 0x80, 64);
  put64(g, m + layout.mount_parent, parent ? parent : m);
  put64(g, m + layout.mount_mountpoint, mountpoint ? mountpoint : root);
  put64(g, m + layout.mount_mnt + layout.vfsmount_root, root);
  return m;
}

/* ---- the standard guest --------------------------------------------------------------- */

static void
build_page_tables(Guest *g)
{
  guint pml4_index = (guint)((DIRECT_MAP >> 39) & 511);
  put_pa64(g, PML4_GPA + 8ull * pml4_index, PDPT_GPA | PTE_P | PTE_RW);
  put_pa64(g, PDPT_GPA, PD_GPA | PTE_P | PTE_RW);
  for (guint64 pa = 0; pa < RAM_SIZE; pa += MiB2)
    put_pa64(g, PD_GPA + 8 * (pa / MiB2), pa | PTE_P | PTE_RW | PTE_PS);
  /* PD entry RAM_SIZE / 2 MiB stays empty: UNMAPPED_KVA. */
  put_pa64(g, PD_GPA + 8 * (RAM_SIZE / MiB2 + 1), OUTSIDE_GPA | PTE_P | PTE_RW | PTE_PS);
}

/* Task 1's own page tables: USER_VA -> USER_PAGE_GPA (a 2 MiB page with a marker). */
static void
build_user_space(Guest *g)
{
  guint64 pdpt = kalloc(g, 4096, 4096), pd = kalloc(g, 4096, 4096);
  g->pgd1 = kalloc(g, 4096, 4096);
  put64(g, g->pgd1 + 8 * ((USER_VA >> 39) & 511), (pdpt - DIRECT_MAP) | PTE_P | PTE_RW | PTE_US);
  put64(g, pdpt + 8 * ((USER_VA >> 30) & 511), (pd - DIRECT_MAP) | PTE_P | PTE_RW | PTE_US);
  put64(g, pd + 8 * ((USER_VA >> 21) & 511), USER_PAGE_GPA | PTE_P | PTE_RW | PTE_US | PTE_PS);
  memcpy(at(g, KVA(USER_PAGE_GPA), 8), "userpage", 8);
}

static void
build_tasks(Guest *g)
{
  g->init_task = make_task(g, 0, 0, "swapper/0", PF_KTHREAD, 0, 0, make_cred(g, 0), 0);
  g->mm3 = make_mm(g, kalloc(g, 4096, 4096), 0, 0, 0);
  g->t1 = make_task(g, 1, 1, "systemd", 0, 1 /* S */, g->init_task, make_cred(g, 0), g->mm1);
  /* A kernel thread borrowing an mm still shows none. */
  g->t2 = make_task(g, 2, 2, "kthreadd", PF_KTHREAD, 1, g->init_task, make_cred(g, 0), g->mm3);
  guint64 cred1000 = make_cred(g, 1000);
  g->t3 = make_task(g, 3, 3, "sh", 0, 4 /* T */, g->t1, cred1000, g->mm3);
  g->t4 = make_task(g, 4, 3, "sh-worker", 0, 2 /* D */, g->t1, cred1000, g->mm3);

  const guint64 tasks[] = { g->init_task + layout.task_tasks, g->t1 + layout.task_tasks,
                            g->t2 + layout.task_tasks, g->t3 + layout.task_tasks };
  link_list(g, tasks, G_N_ELEMENTS(tasks));

  /* pid 3 has two threads on signal->thread_head; threads are not on the tasks list. */
  g->signal3 = kalloc(g, 0x40, 64);
  put64(g, g->t3 + layout.task_signal, g->signal3);
  put64(g, g->t4 + layout.task_signal, g->signal3);
  const guint64 threads[] = { g->signal3 + layout.signal_thread_head,
                              g->t3 + layout.task_thread_node, g->t4 + layout.task_thread_node };
  link_list(g, threads, G_N_ELEMENTS(threads));
}

/* pid 1's memory map: a root maple_arange_64 node over two leaves. */
static void
build_maps(Guest *g)
{
  /* /opt/x on the root mount. */
  g->d_root = make_dentry(g, "/", 0);
  g->d_opt = make_dentry(g, "opt", g->d_root);
  g->d_x = make_dentry(g, "x", g->d_opt);
  g->mnt = make_mount(g, g->d_root, 0, 0);
  g->file = kalloc(g, 0x40, 64);
  put64(g, g->file + layout.file_path_mnt, g->mnt + layout.mount_mnt);
  put64(g, g->file + layout.file_path_dentry, g->d_x);

  g->vdso_spec = kalloc(g, 0x40, 64);
  put64(g, g->vdso_spec + layout.special_name, kstring(g, "[vdso]"));

  guint64 mm = g->mm1;
  g->vma[V_FILE] = make_vma(g, mm, &vma_want[V_FILE], VM_READ | VM_EXEC, g->file);
  g->vma[V_HEAP] = make_vma(g, mm, &vma_want[V_HEAP], VM_READ | VM_WRITE, 0);
  g->vma[V_SHARED] = make_vma(g, mm, &vma_want[V_SHARED], VM_READ | VM_MAYSHARE, 0);
  g->vma[V_VDSO] = make_vma(g, mm, &vma_want[V_VDSO], VM_READ | VM_EXEC | VM_DONTEXPAND, 0);
  put64(g, g->vma[V_VDSO] + layout.vma_private, g->vdso_spec);
  g->vma[V_STACK] = make_vma(g, mm, &vma_want[V_STACK], VM_READ | VM_WRITE, 0);

  /* Leaf A covers [0, 0x0fffffff], leaf B the rest; gaps are empty slots. */
  g->leaf_a = make_node(g);
  node_set(g, g->leaf_a, FALSE, 0, vma_want[V_FILE].start - 1, 0);
  node_set(g, g->leaf_a, FALSE, 1, vma_want[V_FILE].end - 1, g->vma[V_FILE]);
  node_set(g, g->leaf_a, FALSE, 2, vma_want[V_HEAP].start - 1, 0);
  node_set(g, g->leaf_a, FALSE, 3, vma_want[V_HEAP].end - 1, g->vma[V_HEAP]);
  node_set(g, g->leaf_a, FALSE, 4, 0, 0);   /* pivot 0: up to the node's max */

  g->leaf_b = make_node(g);
  node_set(g, g->leaf_b, FALSE, 0, vma_want[V_SHARED].start - 1, 0);
  node_set(g, g->leaf_b, FALSE, 1, vma_want[V_SHARED].end - 1, g->vma[V_SHARED]);
  node_set(g, g->leaf_b, FALSE, 2, vma_want[V_VDSO].start - 1, 0);
  node_set(g, g->leaf_b, FALSE, 3, vma_want[V_VDSO].end - 1, g->vma[V_VDSO]);
  node_set(g, g->leaf_b, FALSE, 4, vma_want[V_STACK].start - 1, 0);
  node_set(g, g->leaf_b, FALSE, 5, vma_want[V_STACK].end - 1, g->vma[V_STACK]);
  node_set(g, g->leaf_b, FALSE, 6, 0, 0);

  g->root = make_node(g);
  node_set(g, g->root, TRUE, 0, 0x0fffffff, enode(g->leaf_a, MT_LEAF64));
  node_set(g, g->root, TRUE, 1, 0, enode(g->leaf_b, MT_LEAF64));
  put64(g, mm + layout.mm_mt + layout.mt_root, enode(g->root, MT_ARANGE64) | MT_ROOT_BIT);
}

static Guest *
guest_new(void)
{
  g_autoptr(Guest) g = g_new0(Guest, 1);
  g_autoptr(GError) error = NULL;
  static const HwRamRange ranges[] = { { 0, RAM_SIZE, 0 } };

  g->ram = g_malloc0(RAM_SIZE);
  g->mem = hw_physmem_new_from_data(g->ram, RAM_SIZE, ranges, G_N_ELEMENTS(ranges), &error);
  g_assert_no_error(error);
  g->next_gpa = ALLOC_START;
  build_page_tables(g);
  build_user_space(g);
  g->mm1 = make_mm(g, g->pgd1, vma_want[V_HEAP].end, vma_want[V_HEAP].start,
                   vma_want[V_STACK].end - 0x1b00);
  build_tasks(g);
  build_maps(g);

  g->lx = g_new0(HwLinux, 1);
  g->lx->mem = g->mem;
  g->lx->kmmu = hw_mmu_new_x86_64(g->mem, &(HwX86Paging){ .cr3 = PML4_GPA, .nxe = TRUE });
  g->lx->off = layout;
  g->lx->info.init_task_va = g->init_task;
  g_assert_true(hw_linux_offsets_check(&g->lx->off, &error));
  g_assert_no_error(error);
  return g_steal_pointer(&g);
}

/* Process PID as hw_linux_find_task gives it (which must succeed). */
static HwTask
find(Guest *g, gint32 pid)
{
  g_autoptr(GError) error = NULL;
  HwTask t;
  g_assert_true(hw_linux_find_task(g->lx, pid, &t, &error));
  g_assert_no_error(error);
  return t;
}

/* ---- offsets ---------------------------------------------------------------------------- */

typedef struct {
  const char *name;
  void (*spoil)(HwLinuxOffsets *o);
} OffsetsCase;

static void spoil_task_size_0(HwLinuxOffsets *o) { o->task_size = 0; }
static void spoil_task_size_huge(HwLinuxOffsets *o) { o->task_size = 64 * 1024 + 1; }
static void spoil_comm(HwLinuxOffsets *o) { o->task_comm = o->task_size - 8; }
static void spoil_tasks(HwLinuxOffsets *o) { o->task_tasks = o->task_size - 8; }
/* Offsets so large that adding the field size wraps 32 bits. */
static void spoil_comm_wraps(HwLinuxOffsets *o) { o->task_comm = 0xfffffff8u; }
static void spoil_tasks_wraps(HwLinuxOffsets *o) { o->task_tasks = 0xfffffff8u; }
static void spoil_pid(HwLinuxOffsets *o) { o->task_pid = o->task_size - 2; }
static void spoil_tgid(HwLinuxOffsets *o) { o->task_tgid = o->task_size; }
static void spoil_flags(HwLinuxOffsets *o) { o->task_flags = 0xffffff00u; }
static void spoil_state(HwLinuxOffsets *o) { o->task_state = o->task_size; }
static void spoil_exit_state(HwLinuxOffsets *o) { o->task_exit_state = o->task_size - 3; }
static void spoil_mm(HwLinuxOffsets *o) { o->task_mm = o->task_size - 4; }
static void spoil_parent(HwLinuxOffsets *o) { o->task_real_parent = o->task_size; }
static void spoil_cred(HwLinuxOffsets *o) { o->task_cred = 0xfffffffcu; }
static void spoil_mnode_0(HwLinuxOffsets *o) { o->mnode_size = 0; }
static void spoil_mnode_huge(HwLinuxOffsets *o) { o->mnode_size = 4097; }
static void spoil_mr64_nslots_0(HwLinuxOffsets *o) { o->mr64_nslots = 0; }
static void spoil_ma64_nslots_big(HwLinuxOffsets *o) { o->ma64_nslots = 65; }
static void spoil_mr64_npivots(HwLinuxOffsets *o) { o->mr64_npivots = o->mr64_nslots + 1; }
static void spoil_mr64_slot(HwLinuxOffsets *o) { o->mr64_slot = 136; }
static void spoil_ma64_slot(HwLinuxOffsets *o) { o->ma64_slot = 200; }
static void spoil_mr64_pivot(HwLinuxOffsets *o) { o->mr64_pivot = 200; }
static void spoil_ma64_pivot(HwLinuxOffsets *o) { o->ma64_pivot = 0xfffffff0u; }

static const OffsetsCase offsets_cases[] = {
  { "task-size-0", spoil_task_size_0 },
  { "task-size-huge", spoil_task_size_huge },
  { "comm-past-task", spoil_comm },
  { "tasks-past-task", spoil_tasks },
  { "comm-wraps", spoil_comm_wraps },
  { "tasks-wraps", spoil_tasks_wraps },
  { "pid-past-task", spoil_pid },
  { "tgid-past-task", spoil_tgid },
  { "flags-past-task", spoil_flags },
  { "state-past-task", spoil_state },
  { "exit-state-past-task", spoil_exit_state },
  { "mm-past-task", spoil_mm },
  { "real-parent-past-task", spoil_parent },
  { "cred-past-task", spoil_cred },
  { "mnode-size-0", spoil_mnode_0 },
  { "mnode-size-huge", spoil_mnode_huge },
  { "range64-no-slots", spoil_mr64_nslots_0 },
  { "arange64-too-many-slots", spoil_ma64_nslots_big },
  { "range64-more-pivots-than-slots", spoil_mr64_npivots },
  { "range64-slots-past-node", spoil_mr64_slot },
  { "arange64-slots-past-node", spoil_ma64_slot },
  { "range64-pivots-past-node", spoil_mr64_pivot },
  { "arange64-pivots-past-node", spoil_ma64_pivot },
};

static void
test_offsets_good(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_linux_offsets_check(&layout, &error));
  g_assert_no_error(error);
}

static void
test_offsets_bad(gconstpointer data)
{
  const OffsetsCase *c = data;
  g_autoptr(GError) error = NULL;
  HwLinuxOffsets o = layout;
  c->spoil(&o);
  g_assert_false(hw_linux_offsets_check(&o, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_BTF);
}

/* ---- tasks ------------------------------------------------------------------------------ */

typedef struct {
  gint32 pid, tgid, ppid;
  guint32 uid;
  char state;
  const char *comm;
  gboolean kernel_thread;
} TaskWant;

static const TaskWant task_want[] = {
  { 1, 1, 0, 0, 'S', "systemd", FALSE },
  { 2, 2, 0, 0, 'S', "kthreadd", TRUE },
  { 3, 3, 1, 1000, 'T', "sh", FALSE },
  { 4, 3, 1, 1000, 'D', "sh-worker", FALSE },
};

static void
check_task(Guest *g, const HwTask *t, const TaskWant *w)
{
  g_assert_cmpint(t->pid, ==, w->pid);
  g_assert_cmpint(t->tgid, ==, w->tgid);
  g_assert_cmpint(t->ppid, ==, w->ppid);
  g_assert_cmpuint(t->uid, ==, w->uid);
  g_assert_cmpint(t->state, ==, w->state);
  g_assert_cmpstr(t->comm, ==, w->comm);
  g_assert_cmpint(t->kernel_thread, ==, w->kernel_thread);
  const guint64 task_va[] = { 0, g->t1, g->t2, g->t3, g->t4 };
  g_assert_cmphex(t->task_va, ==, task_va[w->pid]);
  if (w->kernel_thread) {
    g_assert_cmphex(t->mm_va, ==, 0);
    g_assert_cmphex(t->pgd_gpa, ==, 0);
  } else if (w->pid == 1) {
    g_assert_cmphex(t->mm_va, ==, g->mm1);
    g_assert_cmphex(t->pgd_gpa, ==, g->pgd1 - DIRECT_MAP);
  } else {
    g_assert_cmphex(t->mm_va, ==, g->mm3);
    g_assert_cmphex(t->pgd_gpa, !=, 0);
  }
}

static void
test_tasks_list(void)
{
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  gboolean partial = TRUE;

  g_autoptr(GArray) tasks = hw_linux_list_tasks(g->lx, FALSE, &partial, &error);
  g_assert_no_error(error);
  g_assert_nonnull(tasks);
  g_assert_false(partial);
  /* init_task heads the list and is not shown (as in /proc); threads are left out. */
  g_assert_cmpuint(tasks->len, ==, 3);
  for (guint i = 0; i < tasks->len; i++)
    check_task(g, &g_array_index(tasks, HwTask, i), &task_want[i]);
}

static void
test_tasks_threads(void)
{
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  gboolean partial = TRUE;

  g_autoptr(GArray) tasks = hw_linux_list_tasks(g->lx, TRUE, &partial, &error);
  g_assert_no_error(error);
  g_assert_false(partial);
  g_assert_cmpuint(tasks->len, ==, G_N_ELEMENTS(task_want));
  for (guint i = 0; i < tasks->len; i++)
    check_task(g, &g_array_index(tasks, HwTask, i), &task_want[i]);
}

static void
test_tasks_find(void)
{
  g_autoptr(Guest) g = guest_new();
  HwTask t = find(g, 2);
  check_task(g, &t, &task_want[1]);
  t = find(g, 3);
  check_task(g, &t, &task_want[2]);

  /* pid 4 is a thread, pid 0 the idle task, 99 nobody: no process of that pid. */
  static const gint32 missing[] = { 4, 0, 99, -1 };
  for (guint i = 0; i < G_N_ELEMENTS(missing); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_false(hw_linux_find_task(g->lx, missing[i], &t, &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_NOT_FOUND);
  }
}

/* Task fields that point nowhere: the task is still listed with what could be read. */
static void
test_tasks_bad_fields(void)
{
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  gboolean partial = TRUE;

  put64(g, g->t3 + layout.task_real_parent, UNMAPPED_KVA);
  put64(g, g->t3 + layout.task_cred, 0x00007fff00001000ull);
  put64(g, g->t3 + layout.task_mm, OUTSIDE_KVA);
  memcpy(at(g, g->t3 + layout.task_comm, 16), "a\tb\x01\xff" "cdefghijklm", 16);
  put64(g, g->mm1 + layout.mm_pgd, UNMAPPED_KVA);

  g_autoptr(GArray) tasks = hw_linux_list_tasks(g->lx, FALSE, &partial, &error);
  g_assert_no_error(error);
  g_assert_false(partial);
  g_assert_cmpuint(tasks->len, ==, 3);
  const HwTask *t1 = &g_array_index(tasks, HwTask, 0);
  g_assert_cmphex(t1->mm_va, ==, g->mm1);
  g_assert_cmphex(t1->pgd_gpa, ==, 0);
  const HwTask *t3 = &g_array_index(tasks, HwTask, 2);
  g_assert_cmpint(t3->pid, ==, 3);
  g_assert_cmpint(t3->ppid, ==, 0);
  g_assert_cmpuint(t3->uid, ==, 0);
  g_assert_cmphex(t3->mm_va, ==, OUTSIDE_KVA);
  g_assert_cmphex(t3->pgd_gpa, ==, 0);
  /* 16 bytes without a NUL: cut at 16, non-printable bytes shown as '?'. */
  g_assert_cmpstr(t3->comm, ==, "a?b??cdefghijklm");
}

typedef struct {
  const char *name;
  void (*spoil)(Guest *g);
  guint n;
  gint32 pids[3];
} TaskListCase;

static void
set_next(Guest *g, guint64 task, guint64 next)
{
  put64(g, task + layout.task_tasks + layout.list_next, next);
}

static void spoil_loop(Guest *g) { set_next(g, g->t2, g->t1 + layout.task_tasks); }
static void spoil_self_loop(Guest *g) { set_next(g, g->t1, g->t1 + layout.task_tasks); }
static void spoil_outside(Guest *g) { set_next(g, g->t1, OUTSIDE_KVA + layout.task_tasks); }
static void spoil_unmapped(Guest *g) { set_next(g, g->t1, UNMAPPED_KVA + layout.task_tasks); }
static void spoil_user_ptr(Guest *g) { set_next(g, g->t1, 0x00007fff12340010ull); }
static void spoil_misaligned(Guest *g) { set_next(g, g->t1, g->t2 + layout.task_tasks + 4); }
static void spoil_null(Guest *g) { set_next(g, g->t1, 0); }
static void spoil_non_canonical(Guest *g) { set_next(g, g->t1, NON_CANONICAL_KVA); }
/* The task would run from 128 bytes before the end of the direct map into nothing. */
static void spoil_straddle(Guest *g)
{
  set_next(g, g->t1, KVA(RAM_SIZE) - 0x80 + layout.task_tasks);
}
static const TaskListCase task_list_cases[] = {
  { "loop-not-via-head", spoil_loop, 2, { 1, 2 } },
  { "self-loop", spoil_self_loop, 1, { 1 } },
  { "next-outside-ram", spoil_outside, 1, { 1 } },
  { "next-unmapped", spoil_unmapped, 1, { 1 } },
  { "next-user-pointer", spoil_user_ptr, 1, { 1 } },
  { "next-misaligned", spoil_misaligned, 1, { 1 } },
  { "next-null", spoil_null, 1, { 1 } },
  { "next-non-canonical", spoil_non_canonical, 1, { 1 } },
  { "task-past-end-of-ram", spoil_straddle, 1, { 1 } },
};

static void
test_tasks_hostile(gconstpointer data)
{
  const TaskListCase *c = data;
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;

  c->spoil(g);
  g_autoptr(GArray) tasks = hw_linux_list_tasks(g->lx, FALSE, &partial, &error);
  g_assert_no_error(error);
  g_assert_nonnull(tasks);
  g_assert_true(partial);
  g_assert_cmpuint(tasks->len, ==, c->n);
  for (guint i = 0; i < c->n; i++)
    g_assert_cmpint(g_array_index(tasks, HwTask, i).pid, ==, c->pids[i]);
  /* The NULL-error row: the same list for a caller that passes no GError. */
  g_autoptr(GArray) again = hw_linux_list_tasks(g->lx, FALSE, NULL, NULL);
  g_assert_nonnull(again);
  g_assert_cmpuint(again->len, ==, c->n);
}

/* More entries than MAX_TASKS (65536) without a loop: list_heads 8 bytes apart, each
 * pointing at the next; the overlapping "tasks" read as garbage but are readable. */
#define BOUND_ENTRIES 65540u

static void
test_tasks_bound(void)
{
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;
  guint64 base = KVA(SPARE_GPA);
  for (guint i = 0; i < BOUND_ENTRIES; i++)
    put64(g, base + 8ull * i, base + 8ull * (i + 1));
  put64(g, base + 8ull * BOUND_ENTRIES, g->init_task + layout.task_tasks);
  set_next(g, g->init_task, base);

  g_autoptr(GArray) tasks = hw_linux_list_tasks(g->lx, FALSE, &partial, &error);
  g_assert_no_error(error);
  g_assert_true(partial);
  g_assert_cmpuint(tasks->len, ==, 65536);
  g_assert_cmphex(g_array_index(tasks, HwTask, 65535).task_va, ==,
                  base + 8ull * 65535 - layout.task_tasks);
}

/* With threads, every process's signal->thread_head leads into one chain of 65540
 * threads: the result is bounded as a whole, not per process (which would be 2^32). */
static void
test_tasks_bound_threads(void)
{
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;
  /* Processes: list_heads 16 bytes apart from USER_PAGE_GPA + 64 KiB; the word after
   * each (list_prev) is what the task at that list_head has as signal. */
  guint64 procs = KVA(USER_PAGE_GPA + 0x10000), threads = KVA(SPARE_GPA);
  guint64 signal = kalloc(g, 0x40, 64);

  g->lx->off.task_signal = layout.task_tasks + 8;
  g_assert_true(hw_linux_offsets_check(&g->lx->off, &error));
  for (guint i = 0; i < BOUND_ENTRIES; i++) {
    put64(g, procs + 16ull * i, procs + 16ull * (i + 1));
    put64(g, procs + 16ull * i + 8, signal);
    put64(g, threads + 16ull * i, threads + 16ull * (i + 1));
  }
  put64(g, procs + 16ull * BOUND_ENTRIES, g->init_task + layout.task_tasks);
  set_next(g, g->init_task, procs);
  put64(g, signal + layout.signal_thread_head, threads);

  g_autoptr(GArray) tasks = hw_linux_list_tasks(g->lx, TRUE, &partial, &error);
  g_assert_no_error(error);
  g_assert_true(partial);
  g_assert_cmpuint(tasks->len, ==, 65536);
  g_assert_cmphex(g_array_index(tasks, HwTask, 0).task_va, ==, threads - layout.task_thread_node);
}

/* A thread list that cannot be read hides that process's threads, not later processes. */
static void
test_tasks_threads_unreadable(void)
{
  static const guint64 signals[] = { UNMAPPED_KVA, OUTSIDE_KVA, NON_CANONICAL_KVA };
  for (guint i = 0; i < G_N_ELEMENTS(signals); i++) {
    g_autoptr(Guest) g = guest_new();
    g_autoptr(GError) error = NULL;
    gboolean partial = FALSE;
    put64(g, g->t1 + layout.task_signal, signals[i]);
    g_autoptr(GArray) tasks = hw_linux_list_tasks(g->lx, TRUE, &partial, &error);
    g_assert_no_error(error);
    g_assert_true(partial);
    g_assert_cmpuint(tasks->len, ==, G_N_ELEMENTS(task_want));
    for (guint j = 0; j < tasks->len; j++)
      check_task(g, &g_array_index(tasks, HwTask, j), &task_want[j]);
  }
}

typedef struct {
  const char *name;
  guint64 init_task_va;
  gint code;
} InitCase;

static const InitCase init_cases[] = {
  { "unmapped", UNMAPPED_KVA, HW_ERROR_UNMAPPED },
  { "outside-ram", OUTSIDE_KVA, HW_ERROR_OUT_OF_RANGE },
  { "non-canonical", NON_CANONICAL_KVA, HW_ERROR_INVALID_ARGUMENT },
  { "user-address", 0x1000, HW_ERROR_UNMAPPED },
  { "past-end-of-ram", KVA(RAM_SIZE) - 0x80, HW_ERROR_UNMAPPED },
};

static void
test_tasks_bad_init(gconstpointer data)
{
  const InitCase *c = data;
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;
  HwTask t;

  g->lx->info.init_task_va = c->init_task_va;
  g_autoptr(GArray) tasks = hw_linux_list_tasks(g->lx, FALSE, &partial, &error);
  g_assert_null(tasks);
  g_assert_error(error, HW_ERROR, c->code);
  g_clear_error(&error);
  g_assert_false(hw_linux_find_task(g->lx, 1, &t, &error));
  g_assert_error(error, HW_ERROR, c->code);
}

/* ---- per-task address space ---------------------------------------------------------- */

#define REGS_LONG_MODE \
  "CR0=80050033 CR2=0000000000000000 CR3=0000000000001000 CR4=000006f0\n" \
  "EFER=0000000000000d01 RIP=ffffffff81000000 CPL=0\n"
#define REGS_NO_PAGING \
  "CR0=00000011 CR2=0000000000000000 CR3=0000000000000000 CR4=00000000\n" \
  "EFER=0000000000000000 RIP=000000000000fff0 CPL=0\n"

static HwRegs *
parse_regs(const char *text)
{
  g_autoptr(GError) error = NULL;
  HwRegs *regs = hw_regs_parse_x86_64(text, &error);
  g_assert_no_error(error);
  return regs;
}

static void
test_task_mmu(void)
{
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  g->lx->regs = parse_regs(REGS_LONG_MODE);

  HwTask t = find(g, 1);
  g_autoptr(HwMmu) mmu = hw_linux_task_mmu(g->lx, &t, &error);
  g_assert_no_error(error);
  g_assert_nonnull(mmu);
  g_assert_cmphex(hw_mmu_get_root(mmu), ==, g->pgd1 - DIRECT_MAP);
  g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, 4);
  char buf[8];
  g_assert_true(hw_mmu_read(mmu, USER_VA, buf, sizeof buf, &error));
  g_assert_no_error(error);
  g_assert_cmpmem(buf, sizeof buf, "userpage", 8);
  /* The user root has no kernel half. */
  g_assert_false(hw_mmu_read(mmu, g->t1, buf, sizeof buf, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_UNMAPPED);
}

static void
test_task_mmu_kernel_thread(void)
{
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  g->lx->regs = parse_regs(REGS_LONG_MODE);

  HwTask t = find(g, 2);
  g_assert_true(t.kernel_thread);
  g_autoptr(HwMmu) mmu = hw_linux_task_mmu(g->lx, &t, &error);
  g_assert_null(mmu);
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* A process's address space takes the kernel's paging mode, not a vCPU's registers of
 * the moment (a vCPU may be anywhere; the kernel's tables were validated). */
static void
test_task_mmu_kernel_mode(void)
{
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  g->lx->regs = parse_regs(REGS_NO_PAGING);

  HwTask t = find(g, 1);
  g_autoptr(HwMmu) mmu = hw_linux_task_mmu(g->lx, &t, &error);
  g_assert_no_error(error);
  g_assert_cmpint(hw_mmu_get_arch(mmu), ==, hw_mmu_get_arch(g->lx->kmmu));
  g_assert_cmpuint(hw_mmu_get_levels(mmu), ==, hw_mmu_get_levels(g->lx->kmmu));
  g_assert_cmphex(hw_mmu_get_root(mmu), ==, g->pgd1 - DIRECT_MAP);
}

/* ---- memory maps ------------------------------------------------------------------------ */

typedef GArray HwVmaArray;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwVmaArray, hw_vma_array_free)

static HwVmaArray *
list_vmas(Guest *g, gint32 pid, gboolean *partial)
{
  g_autoptr(GError) error = NULL;
  HwTask t = find(g, pid);
  *partial = !*partial;   /* must be set either way */
  HwVmaArray *vmas = hw_linux_list_vmas(g->lx, &t, partial, &error);
  g_assert_no_error(error);
  g_assert_nonnull(vmas);
  return vmas;
}

static void
check_vma(Guest *g, const HwVma *v, guint which, const char *path)
{
  const VmaWant *w = &vma_want[which];
  g_assert_cmphex(v->start, ==, w->start);
  g_assert_cmphex(v->end, ==, w->end);
  g_assert_cmpstr(v->perms, ==, w->perms);
  g_assert_cmphex(v->offset, ==, w->offset);
  g_assert_cmpstr(v->path, ==, path);
  g_assert_cmphex(v->vma_va, ==, g->vma[which]);
}

static void
test_maps_list(void)
{
  g_autoptr(Guest) g = guest_new();
  gboolean partial = TRUE;
  g_autoptr(HwVmaArray) vmas = list_vmas(g, 1, &partial);
  g_assert_false(partial);
  g_assert_cmpuint(vmas->len, ==, N_VMAS);
  for (guint i = 0; i < N_VMAS; i++)
    check_vma(g, &g_array_index(vmas, HwVma, i), i, vma_want[i].path);
}

/* Kernels before 6.1: the same VMAs on mm->mmap through vm_next, no maple tree. */
static Guest *
guest_new_vm_next_list(void)
{
  Guest *g = guest_new();
  g->lx->off.maps_kind = HW_LINUX_MAPS_LIST;
  put64(g, g->mm1 + layout.mm_mt + layout.mt_root, 0);
  put64(g, g->mm1 + layout.mm_mmap, g->vma[0]);
  for (guint i = 0; i < N_VMAS; i++)
    put64(g, g->vma[i] + layout.vma_next, i + 1 < N_VMAS ? g->vma[i + 1] : 0);
  return g;
}

static void
test_maps_vm_next(void)
{
  g_autoptr(Guest) g = guest_new_vm_next_list();
  g_autoptr(GError) error = NULL;
  g_assert_true(hw_linux_offsets_check(&g->lx->off, &error));
  gboolean partial = TRUE;
  g_autoptr(HwVmaArray) vmas = list_vmas(g, 1, &partial);
  g_assert_false(partial);
  g_assert_cmpuint(vmas->len, ==, N_VMAS);
  for (guint i = 0; i < N_VMAS; i++)
    check_vma(g, &g_array_index(vmas, HwVma, i), i, vma_want[i].path);
}

/* A vm_next list that loops back, or leaves RAM: the VMAs before it, marked partial. */
static void
test_maps_vm_next_hostile(void)
{
  const guint64 bad_next[] = { 0 /* filled below: back to the first VMA */, OUTSIDE_KVA,
                               UNMAPPED_KVA, 0x00007fff12340000ull };
  for (guint k = 0; k < G_N_ELEMENTS(bad_next); k++) {
    g_autoptr(Guest) g = guest_new_vm_next_list();
    put64(g, g->vma[2] + layout.vma_next, k == 0 ? g->vma[0] : bad_next[k]);
    gboolean partial = FALSE;
    g_autoptr(HwVmaArray) vmas = list_vmas(g, 1, &partial);
    g_assert_true(partial);
    g_assert_cmpuint(vmas->len, ==, 3);
    for (guint i = 0; i < 3; i++)
      check_vma(g, &g_array_index(vmas, HwVma, i), i, vma_want[i].path);
  }
}

static void
test_maps_kernel_thread(void)
{
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;
  HwTask t = find(g, 2);
  g_autoptr(HwVmaArray) vmas = hw_linux_list_vmas(g->lx, &t, &partial, &error);
  g_assert_null(vmas);
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

typedef struct {
  const char *name;
  guint64 mm_va;
  gint code;
} MmCase;

static const MmCase mm_cases[] = {
  { "no-mm", 0, HW_ERROR_INVALID_ARGUMENT },
  { "mm-unmapped", UNMAPPED_KVA, HW_ERROR_UNMAPPED },
  { "mm-outside-ram", OUTSIDE_KVA, HW_ERROR_OUT_OF_RANGE },
  { "mm-non-canonical", NON_CANONICAL_KVA, HW_ERROR_INVALID_ARGUMENT },
};

static void
test_maps_bad_mm(gconstpointer data)
{
  const MmCase *c = data;
  g_autoptr(Guest) g = guest_new();
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;
  HwTask t = find(g, 1);
  t.mm_va = c->mm_va;
  g_autoptr(HwVmaArray) vmas = hw_linux_list_vmas(g->lx, &t, &partial, &error);
  g_assert_null(vmas);
  g_assert_error(error, HW_ERROR, c->code);
}

/* A variant of pid 1's memory map: which of the standard VMAs are still listed, whether
 * the walk says it was partial, and one VMA whose path differs from the standard one. */
typedef struct {
  const char *name;
  void (*spoil)(Guest *g);
  guint keep;             /* bit per standard VMA */
  gboolean partial;
  guint path_vma;         /* this VMA's path is PATH */
  const char *path;       /* NULL: the standard path */
} MapsCase;

#define KEEP(v) (1u << (v))
#define KEEP_ALL ((1u << N_VMAS) - 1)
#define KEEP_A (KEEP(V_FILE) | KEEP(V_HEAP))
#define KEEP_B (KEEP(V_SHARED) | KEEP(V_VDSO) | KEEP(V_STACK))

static void root_child(Guest *g, guint64 slot) { node_set(g, g->root, TRUE, 1, 0, slot); }
static void child_outside(Guest *g) { root_child(g, enode(OUTSIDE_KVA, MT_LEAF64)); }
static void child_unmapped(Guest *g) { root_child(g, enode(UNMAPPED_KVA, MT_LEAF64)); }
static void child_user(Guest *g) { root_child(g, enode(0x12345600, MT_LEAF64)); }
static void child_non_canonical(Guest *g) { root_child(g, enode(NON_CANONICAL_KVA, MT_LEAF64)); }
static void child_dense(Guest *g) { root_child(g, enode(g->leaf_b, MT_DENSE)); }
static void child_bad_type(Guest *g) { root_child(g, enode(g->leaf_b, 9)); }
static void child_no_node_bit(Guest *g) { root_child(g, g->leaf_b | (MT_LEAF64 << 3)); }
static void self_cycle(Guest *g) { node_set(g, g->root, TRUE, 0, 0x0fffffff, enode(g->root, MT_ARANGE64)); }
static void two_node_cycle(Guest *g)
{
  guint64 n = make_node(g);
  node_set(g, n, FALSE, 0, 0x0fffffff, enode(g->root, MT_ARANGE64));
  node_set(g, g->root, TRUE, 0, 0x0fffffff, enode(n, MT_RANGE64));
}
/* 20 range64 nodes, each the only child of the one above: deeper than any real tree. */
static void too_deep(Guest *g)
{
  guint64 child = enode(g->leaf_a, MT_LEAF64);
  for (guint i = 0; i < 20; i++) {
    guint64 n = make_node(g);
    node_set(g, n, FALSE, 0, 0x0fffffff, child);
    child = enode(n, MT_RANGE64);
  }
  node_set(g, g->root, TRUE, 0, 0x0fffffff, child);
}
static void leaf_slot_value(Guest *g) { node_set(g, g->leaf_a, FALSE, 1, 0x400fff, 0x2a1); }
static void vma_unmapped(Guest *g) { node_set(g, g->leaf_a, FALSE, 1, 0x400fff, UNMAPPED_KVA); }
static void vma_outside(Guest *g)
{
  node_set(g, g->leaf_b, FALSE, 3, vma_want[V_VDSO].end - 1, OUTSIDE_KVA);
}
static void vma_foreign_mm(Guest *g) { put64(g, g->vma[V_HEAP] + layout.vma_mm, g->mm3); }
static void vma_start_off(Guest *g)
{
  put64(g, g->vma[V_SHARED] + layout.vma_start, vma_want[V_SHARED].start + 0x1000);
}
static void vma_end_off(Guest *g)
{
  put64(g, g->vma[V_STACK] + layout.vma_end, vma_want[V_STACK].end + 0x1000);
}
/* The slot and the VMA agree, but not on a page boundary. */
static void vma_unaligned(Guest *g)
{
  node_set(g, g->leaf_a, FALSE, 0, 0x4007ff, 0);
  put64(g, g->vma[V_FILE] + layout.vma_start, 0x400800);
}
/* A VMA in another's slot: its range does not match, so it is not listed twice. */
static void vma_wrong_slot(Guest *g)
{
  node_set(g, g->leaf_b, FALSE, 1, vma_want[V_SHARED].end - 1, g->vma[V_VDSO]);
}
static void root_lone_entry(Guest *g) { put64(g, g->mm1 + layout.mm_mt + layout.mt_root, g->vma[V_FILE]); }
static void root_small(Guest *g) { put64(g, g->mm1 + layout.mm_mt + layout.mt_root, MT_ROOT_BIT); }
static void root_dense(Guest *g)
{
  put64(g, g->mm1 + layout.mm_mt + layout.mt_root, enode(g->root, MT_DENSE) | MT_ROOT_BIT);
}
static void root_outside(Guest *g)
{
  put64(g, g->mm1 + layout.mm_mt + layout.mt_root, enode(OUTSIDE_KVA, MT_ARANGE64) | MT_ROOT_BIT);
}
static void root_user(Guest *g)
{
  put64(g, g->mm1 + layout.mm_mt + layout.mt_root, enode(0x12345600, MT_ARANGE64) | MT_ROOT_BIT);
}
static void root_empty(Guest *g) { put64(g, g->mm1 + layout.mm_mt + layout.mt_root, 0); }

static const MapsCase tree_cases[] = {
  { "child-outside-ram", child_outside, KEEP_A, TRUE, 0, NULL },
  { "child-unmapped", child_unmapped, KEEP_A, TRUE, 0, NULL },
  { "child-user-pointer", child_user, KEEP_A, TRUE, 0, NULL },
  { "child-non-canonical", child_non_canonical, KEEP_A, TRUE, 0, NULL },
  { "child-dense-node", child_dense, KEEP_A, TRUE, 0, NULL },
  { "child-unknown-type", child_bad_type, KEEP_A, TRUE, 0, NULL },
  { "child-without-node-bit", child_no_node_bit, KEEP_A, TRUE, 0, NULL },
  { "self-cycle", self_cycle, KEEP_B, TRUE, 0, NULL },
  { "two-node-cycle", two_node_cycle, KEEP_B, TRUE, 0, NULL },
  { "too-deep", too_deep, KEEP_B, TRUE, 0, NULL },
  { "leaf-slot-not-pointer", leaf_slot_value, KEEP_ALL & ~KEEP(V_FILE), TRUE, 0, NULL },
  { "vma-unmapped", vma_unmapped, KEEP_ALL & ~KEEP(V_FILE), TRUE, 0, NULL },
  { "vma-outside-ram", vma_outside, KEEP_ALL & ~KEEP(V_VDSO), TRUE, 0, NULL },
  { "vma-foreign-mm", vma_foreign_mm, KEEP_ALL & ~KEEP(V_HEAP), TRUE, 0, NULL },
  { "vma-start-not-slot", vma_start_off, KEEP_ALL & ~KEEP(V_SHARED), TRUE, 0, NULL },
  { "vma-end-not-slot", vma_end_off, KEEP_ALL & ~KEEP(V_STACK), TRUE, 0, NULL },
  { "vma-unaligned", vma_unaligned, KEEP_ALL & ~KEEP(V_FILE), TRUE, 0, NULL },
  { "vma-in-wrong-slot", vma_wrong_slot, KEEP_ALL & ~KEEP(V_SHARED), TRUE, 0, NULL },
  { "root-lone-entry", root_lone_entry, 0, TRUE, 0, NULL },
  { "root-small", root_small, 0, TRUE, 0, NULL },
  { "root-dense-node", root_dense, 0, TRUE, 0, NULL },
  { "root-outside-ram", root_outside, 0, TRUE, 0, NULL },
  { "root-user-pointer", root_user, 0, TRUE, 0, NULL },
  { "empty-tree", root_empty, 0, FALSE, 0, NULL },
};

static void dentry_loop(Guest *g) { put64(g, g->d_opt + layout.dentry_parent, g->d_x); }
static void dentry_parent_null(Guest *g) { put64(g, g->d_opt + layout.dentry_parent, 0); }
static void dentry_parent_unmapped(Guest *g)
{
  put64(g, g->d_opt + layout.dentry_parent, UNMAPPED_KVA);
}
/* The root mount claims a parent mount whose root leads back to it. */
static void mount_loop(Guest *g)
{
  guint64 r2 = make_dentry(g, "/", 0);
  guint64 m2 = make_mount(g, r2, g->mnt, g->d_root);
  put64(g, g->mnt + layout.mount_parent, m2);
  put64(g, g->mnt + layout.mount_mountpoint, r2);
}
static void set_name(Guest *g, guint64 dentry, guint32 len, guint64 name)
{
  put32(g, dentry + layout.dentry_name_len, len);
  put64(g, dentry + layout.dentry_name_ptr, name);
}
static guint64 long_name(Guest *g, gsize len)
{
  g_autofree char *s = g_strnfill(len, 'o');
  return kstring(g, s);
}
static void name_256(Guest *g) { set_name(g, g->d_opt, 256, long_name(g, 300)); }
static void name_255(Guest *g) { set_name(g, g->d_opt, 255, long_name(g, 255)); }
static void name_empty(Guest *g) { set_name(g, g->d_opt, 0, kstring(g, "opt")); }
static void name_unmapped(Guest *g) { set_name(g, g->d_opt, 3, UNMAPPED_KVA); }
static void name_user(Guest *g) { set_name(g, g->d_opt, 3, 0x1000); }
/* The name runs from the last bytes of RAM into nothing. */
static void name_past_ram(Guest *g) { set_name(g, g->d_opt, 16, KVA(RAM_SIZE) - 8); }
static void file_unmapped(Guest *g) { put64(g, g->vma[V_FILE] + layout.vma_file, UNMAPPED_KVA); }
static void file_no_mnt(Guest *g) { put64(g, g->file + layout.file_path_mnt, 0); }
static void mnt_unmapped(Guest *g)
{
  put64(g, g->file + layout.file_path_mnt, UNMAPPED_KVA + layout.mount_mnt);
}
/* /opt/y: y on a second mount whose root is mounted on /opt. */
static void mount_crossing(Guest *g)
{
  guint64 r2 = make_dentry(g, "/", 0);
  guint64 y = make_dentry(g, "y", r2);
  guint64 m2 = make_mount(g, r2, g->mnt, g->d_opt);
  put64(g, g->file + layout.file_path_mnt, m2 + layout.mount_mnt);
  put64(g, g->file + layout.file_path_dentry, y);
}
/* The file is the root directory of the namespace itself. */
static void file_is_root(Guest *g) { put64(g, g->file + layout.file_path_dentry, g->d_root); }
static void special_unbracketed(Guest *g)
{
  put64(g, g->vdso_spec + layout.special_name, kstring(g, "vdso"));
}
static void special_name_unmapped(Guest *g)
{
  put64(g, g->vdso_spec + layout.special_name, UNMAPPED_KVA);
}
static void special_private_unmapped(Guest *g)
{
  put64(g, g->vma[V_VDSO] + layout.vma_private, UNMAPPED_KVA);
}

static const MapsCase path_cases[] = {
  { "dentry-loop", dentry_loop, KEEP_ALL, TRUE, V_FILE, "?" },
  { "dentry-parent-null", dentry_parent_null, KEEP_ALL, TRUE, V_FILE, "?" },
  { "dentry-parent-unmapped", dentry_parent_unmapped, KEEP_ALL, TRUE, V_FILE, "?" },
  { "mount-loop", mount_loop, KEEP_ALL, TRUE, V_FILE, "?" },
  { "name-256", name_256, KEEP_ALL, TRUE, V_FILE, "?" },
  { "name-empty", name_empty, KEEP_ALL, TRUE, V_FILE, "?" },
  { "name-unmapped", name_unmapped, KEEP_ALL, TRUE, V_FILE, "?" },
  { "name-user-pointer", name_user, KEEP_ALL, TRUE, V_FILE, "?" },
  { "name-past-end-of-ram", name_past_ram, KEEP_ALL, TRUE, V_FILE, "?" },
  { "file-unmapped", file_unmapped, KEEP_ALL, TRUE, V_FILE, "?" },
  { "file-without-mount", file_no_mnt, KEEP_ALL, TRUE, V_FILE, "?" },
  { "mount-unmapped", mnt_unmapped, KEEP_ALL, TRUE, V_FILE, "?" },
  { "mount-crossing", mount_crossing, KEEP_ALL, FALSE, V_FILE, "/opt/y" },
  { "file-is-root", file_is_root, KEEP_ALL, FALSE, V_FILE, "/" },
  { "special-name-unbracketed", special_unbracketed, KEEP_ALL, FALSE, V_VDSO, "" },
  { "special-name-unmapped", special_name_unmapped, KEEP_ALL, FALSE, V_VDSO, "" },
  { "special-private-unmapped", special_private_unmapped, KEEP_ALL, FALSE, V_VDSO, "" },
};

static void
test_maps_case(gconstpointer data)
{
  const MapsCase *c = data;
  g_autoptr(Guest) g = guest_new();
  gboolean partial = !c->partial;

  c->spoil(g);
  g_autoptr(HwVmaArray) vmas = list_vmas(g, 1, &partial);
  g_assert_cmpint(partial, ==, c->partial);
  guint n = 0;
  for (guint i = 0; i < N_VMAS; i++) {
    if (!(c->keep & KEEP(i)))
      continue;
    g_assert_cmpuint(n, <, vmas->len);
    const char *path = c->path && c->path_vma == i ? c->path : vma_want[i].path;
    check_vma(g, &g_array_index(vmas, HwVma, n), i, path);
    n++;
  }
  g_assert_cmpuint(vmas->len, ==, n);
}

/* The longest name a dentry may have (NAME_MAX) is read in full. */
static void
test_maps_name_255(void)
{
  g_autoptr(Guest) g = guest_new();
  gboolean partial = TRUE;
  name_255(g);
  g_autoptr(HwVmaArray) vmas = list_vmas(g, 1, &partial);
  g_assert_false(partial);
  g_assert_cmpuint(vmas->len, ==, N_VMAS);
  g_autofree char *o255 = g_strnfill(255, 'o');
  g_autofree char *want = g_strdup_printf("/%s/x", o255);
  check_vma(g, &g_array_index(vmas, HwVma, V_FILE), V_FILE, want);
}

/* A path as deep as the walk allows is named; one deeper is not silently cut. */
static void
test_maps_deep_path(void)
{
  for (guint depth = 60; depth <= 70; depth += 10) {
    g_autoptr(Guest) g = guest_new();
    gboolean partial = TRUE;
    GString *want = g_string_new("");
    guint64 d = g->d_root;
    for (guint i = 0; i < depth; i++) {
      d = make_dentry(g, "d", d);
      g_string_append(want, "/d");
    }
    put64(g, g->file + layout.file_path_dentry, d);
    g_autoptr(HwVmaArray) vmas = list_vmas(g, 1, &partial);
    g_assert_cmpuint(vmas->len, ==, N_VMAS);
    const HwVma *v = &g_array_index(vmas, HwVma, V_FILE);
    if (depth < 64) {
      g_assert_false(partial);
      g_assert_cmpstr(v->path, ==, want->str);
    } else {
      g_assert_true(partial);
      g_assert_cmpstr(v->path, ==, "?");
    }
    g_string_free(want, TRUE);
  }
}

/* ---- the banner ----------------------------------------------------------------------- */

#define UTS_RELEASE "6.1.0-27-amd64"
#define UTS_VERSION "#1 SMP PREEMPT_DYNAMIC Debian 6.1.115-1 (2024-11-01)"
#define BANNER "Linux version " UTS_RELEASE " (debian-kernel@lists.debian.org) (gcc-12 " \
               "(Debian 12.2.0-14) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40) " UTS_VERSION
/* Look-alikes the image holds: a format string, another build's banner. */
#define TEMPLATE "Linux version %s (%s@%s) (%s) %s\n"
#define OTHER "Linux version 5.10.0-99-amd64 (nobody@example.org) (gcc) #1 SMP"

/* init_task's uts namespace says RELEASE and VERSION. */
static void
set_uts(Guest *g, const char *release, const char *version)
{
  guint64 nsproxy = kalloc(g, 0x40, 64), uts = kalloc(g, 0x100, 64);
  put64(g, g->init_task + layout.task_nsproxy, nsproxy);
  put64(g, nsproxy + layout.nsproxy_uts, uts);
  memcpy(at(g, uts + layout.uts_release, strlen(release)), release, strlen(release));
  memcpy(at(g, uts + layout.uts_version, strlen(version)), version, strlen(version));
}

static void
put_text(Guest *g, guint64 gpa, const char *text)
{
  memcpy(at(g, KVA(gpa), strlen(text)), text, strlen(text));
}

/* The line naming the uts release and version, past the look-alikes before it. */
static void
test_banner_found(void)
{
  g_autoptr(Guest) g = guest_new();
  set_uts(g, UTS_RELEASE, UTS_VERSION);
  put_text(g, SPARE_GPA, TEMPLATE);
  put_text(g, SPARE_GPA + 0x100, OTHER "\n");
  put_text(g, SPARE_GPA + 0x200, BANNER "\n");
  hw_linux_find_banner(g->lx);
  g_assert_cmpstr(g->lx->info.banner, ==, BANNER);
}

/* Without the uts strings the first line that looks like a banner is taken; without
 * any line, one is made from the uts strings; with neither, none. */
static void
test_banner_fallbacks(void)
{
  g_autoptr(Guest) g = guest_new();
  put_text(g, SPARE_GPA, TEMPLATE);
  put_text(g, SPARE_GPA + 0x100, OTHER "\n");
  put_text(g, SPARE_GPA + 0x200, BANNER "\n");
  hw_linux_find_banner(g->lx);
  g_assert_cmpstr(g->lx->info.banner, ==, OTHER);

  g_autoptr(Guest) g2 = guest_new();
  set_uts(g2, UTS_RELEASE, UTS_VERSION);
  put_text(g2, SPARE_GPA, OTHER "\n");
  hw_linux_find_banner(g2->lx);
  g_assert_cmpstr(g2->lx->info.banner, ==, "Linux version " UTS_RELEASE " " UTS_VERSION);

  g_autoptr(Guest) g3 = guest_new();
  put_text(g3, SPARE_GPA, TEMPLATE);
  hw_linux_find_banner(g3->lx);
  g_assert_null(g3->lx->info.banner);
}

/* Found with fuzz-discovery (its banner-at-end seed): a banner-like line running to
 * the very end of RAM had its "newline" read one byte past the RAM. The byte after this
 * RAM is a newline, so a read of it would take the line; with the line's own newline
 * inside RAM, it is taken. */
static void
test_banner_end_of_ram(void)
{
  g_autoptr(Guest) g = guest_new();
  static const HwRamRange range = { 0, RAM_SIZE, 0 };
  for (guint with_newline = 0; with_newline < 2; with_newline++) {
    g_autofree guint8 *ram = g_malloc(RAM_SIZE + 1);
    memcpy(ram, g->ram, RAM_SIZE);
    ram[RAM_SIZE] = '\n';
    const char *line = with_newline ? BANNER "\n" : BANNER;
    memcpy(ram + RAM_SIZE - strlen(line), line, strlen(line));
    g_autoptr(HwPhysMem) mem = hw_physmem_new_from_data(ram, RAM_SIZE + 1, &range, 1, NULL);
    g_assert_nonnull(mem);
    HwLinux lx = { 0 };
    lx.mem = mem;
    lx.kmmu = hw_mmu_new_x86_64(mem, &(HwX86Paging){ .cr3 = PML4_GPA, .nxe = TRUE });
    lx.off = layout;
    lx.info.init_task_va = g->init_task;
    hw_linux_find_banner(&lx);
    if (with_newline)
      g_assert_cmpstr(lx.info.banner, ==, BANNER);
    else
      g_assert_null(lx.info.banner);
    g_free(lx.info.banner);
    hw_mmu_free(lx.kmmu);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/linux/offsets/good", test_offsets_good);
  for (guint i = 0; i < G_N_ELEMENTS(offsets_cases); i++) {
    g_autofree char *path = g_strdup_printf("/linux/offsets/bad/%s", offsets_cases[i].name);
    g_test_add_data_func(path, &offsets_cases[i], test_offsets_bad);
  }

  g_test_add_func("/linux/tasks/list", test_tasks_list);
  g_test_add_func("/linux/tasks/threads", test_tasks_threads);
  g_test_add_func("/linux/tasks/find", test_tasks_find);
  g_test_add_func("/linux/tasks/bad-fields", test_tasks_bad_fields);
  for (guint i = 0; i < G_N_ELEMENTS(task_list_cases); i++) {
    g_autofree char *path = g_strdup_printf("/linux/tasks/hostile/%s", task_list_cases[i].name);
    g_test_add_data_func(path, &task_list_cases[i], test_tasks_hostile);
  }
  g_test_add_func("/linux/tasks/bound", test_tasks_bound);
  g_test_add_func("/linux/tasks/bound-threads", test_tasks_bound_threads);
  g_test_add_func("/linux/tasks/threads-unreadable", test_tasks_threads_unreadable);
  for (guint i = 0; i < G_N_ELEMENTS(init_cases); i++) {
    g_autofree char *path = g_strdup_printf("/linux/tasks/bad-init-task/%s", init_cases[i].name);
    g_test_add_data_func(path, &init_cases[i], test_tasks_bad_init);
  }

  g_test_add_func("/linux/task-mmu/user", test_task_mmu);
  g_test_add_func("/linux/task-mmu/kernel-thread", test_task_mmu_kernel_thread);
  g_test_add_func("/linux/task-mmu/kernel-mode", test_task_mmu_kernel_mode);

  g_test_add_func("/linux/maps/list", test_maps_list);
  g_test_add_func("/linux/maps/vm-next", test_maps_vm_next);
  g_test_add_func("/linux/maps/vm-next-hostile", test_maps_vm_next_hostile);
  g_test_add_func("/linux/maps/kernel-thread", test_maps_kernel_thread);
  for (guint i = 0; i < G_N_ELEMENTS(mm_cases); i++) {
    g_autofree char *path = g_strdup_printf("/linux/maps/bad-mm/%s", mm_cases[i].name);
    g_test_add_data_func(path, &mm_cases[i], test_maps_bad_mm);
  }
  for (guint i = 0; i < G_N_ELEMENTS(tree_cases); i++) {
    g_autofree char *path = g_strdup_printf("/linux/maps/tree/%s", tree_cases[i].name);
    g_test_add_data_func(path, &tree_cases[i], test_maps_case);
  }
  for (guint i = 0; i < G_N_ELEMENTS(path_cases); i++) {
    g_autofree char *path = g_strdup_printf("/linux/maps/path/%s", path_cases[i].name);
    g_test_add_data_func(path, &path_cases[i], test_maps_case);
  }
  g_test_add_func("/linux/maps/path/name-255", test_maps_name_255);
  g_test_add_func("/linux/maps/path/deep", test_maps_deep_path);

  g_test_add_func("/linux/banner/found", test_banner_found);
  g_test_add_func("/linux/banner/fallbacks", test_banner_fallbacks);
  g_test_add_func("/linux/banner/end-of-ram", test_banner_end_of_ram);
  return g_test_run();
}
