/* Memory maps: walk the mm's maple tree (Linux 6.1+). Node pointers carry their type
 * in bits 3-6 and bit 2 set (bit 1 too for the root); the node sits at the pointer with
 * the low 8 bits cleared; every non-empty slot of an internal node is a child. The layout
 * of nodes (pivot and slot arrays) comes from BTF. A VMA in a leaf slot must span
 * exactly that slot's range [lo, hi] and point back at this mm, so stale or hostile
 * slots are dropped rather than reported. */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <string.h>

#define MAPLE_NODE_MASK 0xffull
#define MAPLE_TYPE_SHIFT 3
#define MAPLE_TYPE_MASK 0xfull
#define MAX_DEPTH 16
#define MAX_NODES 65536
#define MAX_VMAS 262144
#define MAX_PATH_DEPTH 64
#define MAX_NAME 255
#define TASK_SIZE_MAX (1ull << 56)

#define VM_READ 0x1ull
#define VM_WRITE 0x2ull
#define VM_EXEC 0x4ull
#define VM_MAYSHARE 0x80ull
#define VM_DONTEXPAND 0x40000ull

static void
clear_vma(gpointer p)
{
  g_free(((HwVma *)p)->path);
}

void
hw_vma_array_free(GArray *vmas)
{
  if (vmas != NULL)
    g_array_unref(vmas);
}

#define MAPLE_ENODE_NULL 0x4ull
#define MAPLE_ROOT_NODE 0x2ull

/* Is the tree's root pointer a node (rather than a lone entry)? */
static gboolean
is_root_node(guint64 entry)
{
  return (entry & 3) == MAPLE_ROOT_NODE && entry > 4096;
}

typedef struct {
  HwLinux *lx;
  guint64 mm;
  GArray *vma_ptrs;    /* guint64 VMA addresses, in tree order */
  guint nodes;
  gboolean partial;
} Walk;

static void
walk_node(Walk *w, guint64 enode, guint64 min, guint64 max, guint depth)
{
  const HwLinuxOffsets *o = &w->lx->off;
  guint64 type = (enode >> MAPLE_TYPE_SHIFT) & MAPLE_TYPE_MASK;
  guint64 node = enode & ~MAPLE_NODE_MASK;
  guint32 pivot_off, slot_off, npivots, nslots;
  gboolean leaf;

  if (depth > MAX_DEPTH || ++w->nodes > MAX_NODES || !hw_linux_is_kernel_ptr(node)) {
    w->partial = TRUE;
    return;
  }
  if (type == o->mtype_arange64) {
    pivot_off = o->ma64_pivot, slot_off = o->ma64_slot;
    npivots = o->ma64_npivots, nslots = o->ma64_nslots;
    leaf = FALSE;
  } else if (type == o->mtype_range64 || type == o->mtype_leaf64) {
    pivot_off = o->mr64_pivot, slot_off = o->mr64_slot;
    npivots = o->mr64_npivots, nslots = o->mr64_nslots;
    leaf = type == o->mtype_leaf64;
  } else {
    w->partial = TRUE;   /* dense nodes are not used for VMAs */
    return;
  }
  g_autofree guint8 *buf = g_malloc(o->mnode_size);
  if (!hw_linux_read(w->lx, node, buf, o->mnode_size, NULL)) {
    w->partial = TRUE;
    return;
  }
  guint64 lo = min;
  for (guint i = 0; i < nslots; i++) {
    guint64 piv = 0, slot;
    if (i < npivots)
      memcpy(&piv, buf + pivot_off + 8 * i, 8);
    /* A zero pivot after the first slot, or none left, means the slot runs to max. */
    guint64 hi = (i < npivots && (piv != 0 || i == 0) && piv <= max) ? piv : max;
    if (hi < lo)
      break;
    memcpy(&slot, buf + slot_off + 8 * i, 8);
    if (slot != 0) {
      if (!leaf && (slot & MAPLE_ENODE_NULL)) {
        walk_node(w, slot, lo, hi, depth + 1);
      } else if (leaf && hw_linux_is_kernel_ptr(slot) && w->vma_ptrs->len / 3 < MAX_VMAS) {
        guint64 rng[3] = { slot, lo, hi };
        g_array_append_vals(w->vma_ptrs, rng, 3);
      } else {
        w->partial = TRUE;
      }
    }
    if (hi >= max)
      break;
    lo = hi + 1;
  }
}

/* Kernels before 6.1: mm->mmap starts a list through vm_next, sorted by address.
 * Each entry is recorded with its own range, so the checks below still apply; a
 * loop or an out-of-order entry ends the walk. */
static void
walk_list(Walk *w, guint64 first)
{
  const HwLinuxOffsets *o = &w->lx->off;
  guint64 prev_end = 0;
  for (guint64 va = first; va != 0; ) {
    guint64 start, end, next;
    if (w->vma_ptrs->len / 3 >= MAX_VMAS || !hw_linux_is_kernel_ptr(va) ||
        !hw_linux_read_u64(w->lx, va + o->vma_start, &start, NULL) ||
        !hw_linux_read_u64(w->lx, va + o->vma_end, &end, NULL) ||
        !hw_linux_read_u64(w->lx, va + o->vma_next, &next, NULL) ||
        start < prev_end || end <= start) {
      w->partial = TRUE;
      return;
    }
    guint64 rng[3] = { va, start, end - 1 };
    g_array_append_vals(w->vma_ptrs, rng, 3);
    prev_end = end;
    va = next;
  }
}

/* The path of (MNT, DENTRY) up to the root, crossing mounts. */
static char *
dentry_path(HwLinux *lx, guint64 vfsmnt, guint64 dentry)
{
  const HwLinuxOffsets *o = &lx->off;
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
  guint64 mnt = vfsmnt - o->mount_mnt;   /* struct mount around the vfsmount */

  guint depth;
  for (depth = 0; depth < MAX_PATH_DEPTH; depth++) {
    guint64 mnt_root = 0, parent = 0;
    if (!hw_linux_read_u64(lx, vfsmnt + o->vfsmount_root, &mnt_root, NULL))
      return NULL;
    if (dentry == mnt_root) {
      guint64 mparent = 0, mountpoint = 0;
      if (!hw_linux_read_u64(lx, mnt + o->mount_parent, &mparent, NULL) ||
          !hw_linux_read_u64(lx, mnt + o->mount_mountpoint, &mountpoint, NULL))
        return NULL;
      if (mparent == mnt || !hw_linux_is_kernel_ptr(mparent))
        break;   /* the root of the namespace */
      dentry = mountpoint;
      mnt = mparent;
      vfsmnt = mnt + o->mount_mnt;
      continue;
    }
    if (!hw_linux_read_u64(lx, dentry + o->dentry_parent, &parent, NULL) ||
        !hw_linux_is_kernel_ptr(parent))
      return NULL;
    guint32 len = 0;
    guint64 name = 0;
    if (!hw_linux_read_u32(lx, dentry + o->dentry_name_len, &len, NULL) ||
        !hw_linux_read_u64(lx, dentry + o->dentry_name_ptr, &name, NULL) || len == 0 ||
        len > MAX_NAME || name < 0xff00000000000000ull)
      return NULL;
    g_autofree char *s = g_malloc0(len + 1);
    if (!hw_linux_read(lx, name, s, len, NULL))
      return NULL;
    g_ptr_array_add(parts, g_steal_pointer(&s));
    if (parent == dentry)
      break;   /* a dentry that is its own parent: a root not reached through mounts */
    dentry = parent;
  }
  if (depth == MAX_PATH_DEPTH)
    return NULL;   /* no root within the bound (a dentry or mount loop): no made-up path */
  if (parts->len == 0)
    return g_strdup("/");
  GString *path = g_string_new("");
  for (guint i = parts->len; i > 0; i--)
    g_string_append_printf(path, "/%s", (const char *)g_ptr_array_index(parts, i - 1));
  return g_string_free(path, FALSE);
}

/* The name /proc/PID/maps shows for a VMA without a file. */
static char *
special_name(HwLinux *lx, const HwVma *v, guint64 flags, guint64 priv, const guint64 mmv[4])
{
  const guint64 brk = mmv[0], start_brk = mmv[1], start_stack = mmv[2];
  if ((flags & VM_DONTEXPAND) && hw_linux_is_kernel_ptr(priv)) {
    /* A special mapping ([vdso], [vvar]): vm_private_data is its vm_special_mapping. */
    guint64 name_ptr;
    if (hw_linux_read_u64(lx, priv + lx->off.special_name, &name_ptr, NULL) &&
        name_ptr >= 0xff00000000000000ull) {
      g_autofree char *s = hw_linux_read_string(lx, name_ptr, 32, NULL);
      if (s && s[0] == '[' && s[strlen(s) - 1] == ']')
        return g_steal_pointer(&s);
    }
  }
  if (v->start <= brk && v->end >= start_brk)
    return g_strdup("[heap]");
  if (v->start <= start_stack && v->end >= start_stack)
    return g_strdup("[stack]");
  return g_strdup("");
}

static gint
compare_vma(gconstpointer a, gconstpointer b)
{
  const HwVma *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}

GArray *
hw_linux_list_vmas(HwLinux *lx, const HwTask *t, gboolean *partial, GError **error)
{
  const HwLinuxOffsets *o = &lx->off;
  guint64 root, mmv[4] = { 0 };
  if (t->mm_va == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "pid %d (%s) has no memory map (kernel thread)", t->pid, t->comm);
    return NULL;
  }
  gboolean maple = o->maps_kind == HW_LINUX_MAPS_MAPLE;
  if (!hw_linux_read_u64(lx, t->mm_va + (maple ? o->mm_mt + o->mt_root : o->mm_mmap), &root,
                         error) ||
      !hw_linux_read_u64(lx, t->mm_va + o->mm_brk, &mmv[0], error) ||
      !hw_linux_read_u64(lx, t->mm_va + o->mm_start_brk, &mmv[1], error) ||
      !hw_linux_read_u64(lx, t->mm_va + o->mm_start_stack, &mmv[2], error)) {
    g_prefix_error(error, "pid %d: mm_struct: ", t->pid);
    return NULL;
  }
  Walk w = { lx, t->mm_va, g_array_new(FALSE, FALSE, sizeof(guint64)), 0, FALSE };
  if (!maple)
    walk_list(&w, root);   /* strictly increasing starts: no loop can repeat */
  else if (is_root_node(root))
    walk_node(&w, root, 0, G_MAXUINT64, 0);
  else if (root != 0)
    w.partial = TRUE;   /* a lone entry at index 0 is never a VMA */

  GArray *vmas = g_array_new(FALSE, FALSE, sizeof(HwVma));
  g_array_set_clear_func(vmas, clear_vma);   /* the paths go with the array */
  for (guint i = 0; i + 2 < w.vma_ptrs->len; i += 3) {
    guint64 va = g_array_index(w.vma_ptrs, guint64, i);
    guint64 lo = g_array_index(w.vma_ptrs, guint64, i + 1);
    guint64 hi = g_array_index(w.vma_ptrs, guint64, i + 2);
    guint64 start = 0, end = 0, flags = 0, pgoff = 0, file = 0, mm = 0, priv = 0;
    if (!hw_linux_read_u64(lx, va + o->vma_start, &start, NULL) ||
        !hw_linux_read_u64(lx, va + o->vma_end, &end, NULL) ||
        !hw_linux_read_u64(lx, va + o->vma_flags, &flags, NULL) ||
        !hw_linux_read_u64(lx, va + o->vma_pgoff, &pgoff, NULL) ||
        !hw_linux_read_u64(lx, va + o->vma_file, &file, NULL) ||
        !hw_linux_read_u64(lx, va + o->vma_mm, &mm, NULL) ||
        !hw_linux_read_u64(lx, va + o->vma_private, &priv, NULL) ||
        mm != t->mm_va || start != lo || end == 0 || end - 1 != hi || start >= end ||
        (start | end) & 0xfff || end > TASK_SIZE_MAX) {
      g_debug("dropping VMA 0x%" G_GINT64_MODIFIER "x in slot [0x%" G_GINT64_MODIFIER "x, 0x%"
              G_GINT64_MODIFIER "x]: start 0x%" G_GINT64_MODIFIER "x end 0x%" G_GINT64_MODIFIER
              "x mm 0x%" G_GINT64_MODIFIER "x", va, lo, hi, start, end, mm);
      w.partial = TRUE;
      continue;
    }
    HwVma v = { .start = start, .end = end, .vma_va = va };
    v.perms[0] = flags & VM_READ ? 'r' : '-';
    v.perms[1] = flags & VM_WRITE ? 'w' : '-';
    v.perms[2] = flags & VM_EXEC ? 'x' : '-';
    v.perms[3] = flags & VM_MAYSHARE ? 's' : 'p';
    if (file != 0 && hw_linux_is_kernel_ptr(file)) {
      guint64 mnt = 0, dentry = 0;
      /* vm_pgoff counts the kernel's pages (16 KiB on arm64-16k). */
      v.offset = pgoff * (lx->info.page_size ? lx->info.page_size : 4096);
      if (hw_linux_read_u64(lx, file + o->file_path_mnt, &mnt, NULL) &&
          hw_linux_read_u64(lx, file + o->file_path_dentry, &dentry, NULL) &&
          hw_linux_is_kernel_ptr(mnt) && hw_linux_is_kernel_ptr(dentry))
        v.path = dentry_path(lx, mnt, dentry);
      if (v.path == NULL) {
        v.path = g_strdup("?");
        w.partial = TRUE;
      }
    } else {
      v.path = special_name(lx, &v, flags, priv, mmv);
    }
    g_array_append_val(vmas, v);
  }
  g_array_unref(w.vma_ptrs);
  g_array_sort(vmas, compare_vma);
  if (partial)
    *partial = w.partial;
  return vmas;
}
