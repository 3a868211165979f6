/* Tasks: walk init_task.tasks (bounded, cycle-safe), and threads through each
 * process's signal->thread_head. Every pointer is checked before it is followed. */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <string.h>

#define MAX_TASKS 65536
#define MAX_THREADS_PER_PROCESS 65536
#define TASK_REPORT 0x7fu
#define TASK_REPORT_IDLE 0x80u
#define TASK_IDLE 0x402u   /* TASK_UNINTERRUPTIBLE | TASK_NOLOAD */

/* /proc's state letter (fs/proc/array.c): the highest reported bit picks the letter. */
static char
state_letter(guint32 state, guint32 exit_state)
{
  static const char letters[] = "RSDTtXZPI";
  guint32 s = (state | exit_state) & TASK_REPORT;
  if (state == TASK_IDLE)
    s = TASK_REPORT_IDLE;
  guint idx = 0;
  while (s) {
    idx++;
    s >>= 1;
  }
  return idx < sizeof letters - 1 ? letters[idx] : '?';
}

/* Read the task at TASK_VA into OUT. */
static gboolean
read_task(HwLinux *lx, guint64 task_va, HwTask *out, GError **error)
{
  const HwLinuxOffsets *o = &lx->off;
  g_autofree guint8 *t = g_malloc(o->task_size);
  guint32 pid, tgid, flags, state, exit_state, uid = 0, ptgid = 0;
  guint64 mm, parent, cred;

  if (!hw_linux_read(lx, task_va, t, o->task_size, error)) {
    g_prefix_error(error, "task at 0x%" G_GINT64_MODIFIER "x: ", task_va);
    return FALSE;
  }
  memcpy(&pid, t + o->task_pid, 4);
  memcpy(&tgid, t + o->task_tgid, 4);
  memcpy(&flags, t + o->task_flags, 4);
  memcpy(&state, t + o->task_state, 4);
  memcpy(&exit_state, t + o->task_exit_state, 4);
  memcpy(&mm, t + o->task_mm, 8);
  memcpy(&parent, t + o->task_real_parent, 8);
  memcpy(&cred, t + o->task_cred, 8);

  memset(out, 0, sizeof *out);
  out->task_va = task_va;
  out->pid = (gint32)pid;
  out->tgid = (gint32)tgid;
  out->kernel_thread = (flags & HW_LINUX_PF_KTHREAD) != 0;
  out->state = state_letter(state, exit_state);
  memcpy(out->comm, t + o->task_comm, 16);
  out->comm[16] = '\0';
  for (guint i = 0; out->comm[i]; i++)
    if (!g_ascii_isprint(out->comm[i]))
      out->comm[i] = '?';
  /* init_task is its own parent; the parent pointer of a task never leads far. */
  if (hw_linux_is_kernel_ptr(parent) && parent != task_va)
    hw_linux_read_u32(lx, parent + o->task_tgid, &ptgid, NULL);
  out->ppid = pid == 0 ? 0 : (gint32)ptgid;
  if (hw_linux_is_kernel_ptr(cred))
    hw_linux_read_u32(lx, cred + o->cred_uid, &uid, NULL);
  out->uid = uid;
  if (hw_linux_is_kernel_ptr(mm) && !out->kernel_thread) {
    guint64 pgd;
    HwTranslation tr;
    out->mm_va = mm;
    if (hw_linux_read_u64(lx, mm + o->mm_pgd, &pgd, NULL) && hw_linux_is_kernel_ptr(pgd) &&
        hw_mmu_translate(lx->kmmu, pgd, &tr, NULL))
      out->pgd_gpa = tr.pa;
  }
  return TRUE;
}

/* Follow a circular list from HEAD_VA (a list_head); call FN on each entry's base
 * (entry list_head - LINK_OFF). Stops on a loop that does not come back to HEAD. */
typedef gboolean (*EntryFn)(HwLinux *lx, guint64 base, gpointer data, GError **error);

static gboolean
walk_list(HwLinux *lx, guint64 head_va, guint32 link_off, guint max, EntryFn fn, gpointer data,
          gboolean *partial, GError **error)
{
  /* Kernel pointers fit a gpointer on the 64-bit hosts we build for. */
  G_STATIC_ASSERT(sizeof(gpointer) == sizeof(guint64));
  g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  guint64 cur;

  if (!hw_linux_read_u64(lx, head_va + lx->off.list_next, &cur, error))
    return FALSE;
  for (guint n = 0; cur != head_va; n++) {
    if (n >= max || !hw_linux_is_kernel_ptr(cur) || cur < link_off ||
        /* a loop that does not pass through the head: stop instead of spinning */
        !g_hash_table_add(seen, (gpointer)(guintptr)cur)) {
      g_debug("list at 0x%" G_GINT64_MODIFIER "x stops at entry %u (0x%" G_GINT64_MODIFIER
              "x)", head_va, n, cur);
      *partial = TRUE;
      return TRUE;
    }
    GError *local = NULL;
    if (!fn(lx, cur - link_off, data, &local)) {
      g_debug("list entry: %s", local ? local->message : "?");
      g_clear_error(&local);
      *partial = TRUE;
      return TRUE;
    }
    guint64 next;
    if (!hw_linux_read_u64(lx, cur + lx->off.list_next, &next, NULL)) {
      *partial = TRUE;
      return TRUE;
    }
    cur = next;
  }
  return TRUE;
}

typedef struct {
  GArray *tasks;
  gboolean threads;
  gboolean *partial;
} ListCtx;

/* One bound on the whole result: with threads, per-list bounds alone would allow
 * MAX_TASKS processes times MAX_THREADS_PER_PROCESS threads. */
static gboolean
check_total(ListCtx *ctx, GError **error)
{
  if (ctx->tasks->len >= MAX_TASKS) {
    g_set_error(error, HW_ERROR, HW_ERROR_LIMIT, "more than %u tasks", MAX_TASKS);
    return FALSE;
  }
  return TRUE;
}

static gboolean
add_thread(HwLinux *lx, guint64 task_va, gpointer data, GError **error)
{
  ListCtx *ctx = data;
  HwTask t;
  if (!check_total(ctx, error) || !read_task(lx, task_va, &t, error))
    return FALSE;
  g_array_append_val(ctx->tasks, t);
  return TRUE;
}

static gboolean
add_process(HwLinux *lx, guint64 task_va, gpointer data, GError **error)
{
  ListCtx *ctx = data;
  HwTask t;
  guint64 signal;
  if (!check_total(ctx, error) || !read_task(lx, task_va, &t, error))
    return FALSE;
  if (!ctx->threads || !hw_linux_read_u64(lx, task_va + lx->off.task_signal, &signal, NULL) ||
      !hw_linux_is_kernel_ptr(signal)) {
    g_array_append_val(ctx->tasks, t);
    return TRUE;
  }
  /* Every thread of the group, the leader included, hangs off signal->thread_head. */
  GError *local = NULL;
  if (!walk_list(lx, signal + lx->off.signal_thread_head, lx->off.task_thread_node,
                 MAX_THREADS_PER_PROCESS, add_thread, ctx, ctx->partial, &local)) {
    /* The thread list is unreadable, not this task's link to the next process:
     * list the leader alone and go on. */
    g_debug("threads of task 0x%" G_GINT64_MODIFIER "x: %s", task_va,
            local ? local->message : "?");
    g_clear_error(&local);
    *ctx->partial = TRUE;
    g_array_append_val(ctx->tasks, t);
  }
  return TRUE;
}

GArray *
hw_linux_list_tasks(HwLinux *lx, gboolean threads, gboolean *partial, GError **error)
{
  g_autoptr(GArray) tasks = g_array_new(FALSE, FALSE, sizeof(HwTask));
  gboolean part = FALSE;
  ListCtx ctx = { tasks, threads, &part };
  HwTask init;

  /* init_task (pid 0, the idle task) heads the list; /proc does not show it. */
  if (!read_task(lx, lx->info.init_task_va, &init, error))
    return NULL;
  if (!walk_list(lx, lx->info.init_task_va + lx->off.task_tasks, lx->off.task_tasks, MAX_TASKS,
                 add_process, &ctx, &part, error))
    return NULL;
  if (partial)
    *partial = part;
  return g_steal_pointer(&tasks);
}

gboolean
hw_linux_find_task(HwLinux *lx, gint32 pid, HwTask *out, GError **error)
{
  gboolean partial = FALSE;
  g_autoptr(GArray) tasks = hw_linux_list_tasks(lx, FALSE, &partial, error);
  if (tasks == NULL)
    return FALSE;
  for (guint i = 0; i < tasks->len; i++) {
    HwTask *t = &g_array_index(tasks, HwTask, i);
    if (t->tgid == pid && t->pid == pid) {
      *out = *t;
      return TRUE;
    }
  }
  g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND, "no process with pid %d%s", pid,
              partial ? " (the task list was only partly readable)" : "");
  return FALSE;
}

HwMmu *
hw_linux_vcpu_mmu(HwLinux *lx, const HwRegs *regs, GError **error)
{
  HwMmu *mmu = hw_mmu_new_from_regs(lx->mem, regs, error);
  if (mmu == NULL || !hw_mmu_has_separate_kernel_root(mmu))
    return mmu;   /* x86-64: CR3 serves both halves (PTI is retried by the walker) */
  HwMmu *k = hw_mmu_copy_with_kernel_root(mmu, lx->info.kernel_pgd_gpa);
  hw_mmu_free(mmu);
  return k;
}

HwMmu *
hw_linux_task_mmu(HwLinux *lx, const HwTask *t, GError **error)
{
  if (t->pgd_gpa == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "pid %d (%s) has no user address space (kernel thread)", t->pid, t->comm);
    return NULL;
  }
  return hw_mmu_copy_with_root(lx->kmmu, t->pgd_gpa);
}
