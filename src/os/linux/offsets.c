/* Struct offsets from the guest kernel's BTF: one table says what we need and where
 * it goes, so nothing about any kernel build's layout is hard-coded. */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <stddef.h>
#include <string.h>

typedef enum { WANT_OFFSET, WANT_SIZE, WANT_NELEMS, WANT_ENUM } Want;

/* Which specs are needed: always, or only for one way of keeping VMAs. */
typedef enum { NEED_ALWAYS, NEED_MAPLE, NEED_LIST } Need;

typedef struct {
  Need need;
  Want want;
  const char *type;     /* struct name, or enumerator name for WANT_ENUM */
  const char *member;   /* member path */
  gsize field;          /* offsetof(HwLinuxOffsets, ...) */
} OffsetSpec;

#define O(t, m, f) { NEED_ALWAYS, WANT_OFFSET, t, m, offsetof(HwLinuxOffsets, f) }
#define S(t, f) { NEED_ALWAYS, WANT_SIZE, t, NULL, offsetof(HwLinuxOffsets, f) }
#define MO(t, m, f) { NEED_MAPLE, WANT_OFFSET, t, m, offsetof(HwLinuxOffsets, f) }
#define MS(t, f) { NEED_MAPLE, WANT_SIZE, t, NULL, offsetof(HwLinuxOffsets, f) }
#define MN(t, m, f) { NEED_MAPLE, WANT_NELEMS, t, m, offsetof(HwLinuxOffsets, f) }
#define ME(e, f) { NEED_MAPLE, WANT_ENUM, e, NULL, offsetof(HwLinuxOffsets, f) }
#define LO(t, m, f) { NEED_LIST, WANT_OFFSET, t, m, offsetof(HwLinuxOffsets, f) }

static const OffsetSpec specs[] = {
  S("task_struct", task_size),
  O("task_struct", "tasks", task_tasks),
  O("task_struct", "pid", task_pid),
  O("task_struct", "tgid", task_tgid),
  O("task_struct", "comm", task_comm),
  O("task_struct", "mm", task_mm),
  O("task_struct", "active_mm", task_active_mm),
  O("task_struct", "real_parent", task_real_parent),
  O("task_struct", "cred", task_cred),
  O("task_struct", "__state", task_state),
  O("task_struct", "exit_state", task_exit_state),
  O("task_struct", "flags", task_flags),
  O("task_struct", "signal", task_signal),
  O("task_struct", "thread_node", task_thread_node),
  O("task_struct", "nsproxy", task_nsproxy),
  O("nsproxy", "uts_ns", nsproxy_uts),
  O("uts_namespace", "name.release", uts_release),
  O("uts_namespace", "name.version", uts_version),
  O("signal_struct", "thread_head", signal_thread_head),
  O("cred", "uid", cred_uid),
  O("list_head", "next", list_next),
  O("list_head", "prev", list_prev),
  O("mm_struct", "pgd", mm_pgd),
  MO("mm_struct", "mm_mt", mm_mt),
  O("mm_struct", "brk", mm_brk),
  O("mm_struct", "start_brk", mm_start_brk),
  O("mm_struct", "start_stack", mm_start_stack),
  MO("maple_tree", "ma_root", mt_root),
  MS("maple_node", mnode_size),
  MO("maple_range_64", "pivot", mr64_pivot),
  MO("maple_range_64", "slot", mr64_slot),
  MN("maple_range_64", "pivot", mr64_npivots),
  MN("maple_range_64", "slot", mr64_nslots),
  MO("maple_arange_64", "pivot", ma64_pivot),
  MO("maple_arange_64", "slot", ma64_slot),
  MN("maple_arange_64", "pivot", ma64_npivots),
  MN("maple_arange_64", "slot", ma64_nslots),
  ME("maple_leaf_64", mtype_leaf64),
  ME("maple_range_64", mtype_range64),
  ME("maple_arange_64", mtype_arange64),
  LO("mm_struct", "mmap", mm_mmap),
  LO("vm_area_struct", "vm_next", vma_next),
  O("vm_area_struct", "vm_start", vma_start),
  O("vm_area_struct", "vm_end", vma_end),
  O("vm_area_struct", "vm_flags", vma_flags),
  O("vm_area_struct", "vm_pgoff", vma_pgoff),
  O("vm_area_struct", "vm_file", vma_file),
  O("vm_area_struct", "vm_mm", vma_mm),
  O("vm_area_struct", "vm_private_data", vma_private),
  O("file", "f_path.mnt", file_path_mnt),
  O("file", "f_path.dentry", file_path_dentry),
  O("dentry", "d_parent", dentry_parent),
  O("dentry", "d_name.len", dentry_name_len),
  O("dentry", "d_name.name", dentry_name_ptr),
  O("mount", "mnt", mount_mnt),
  O("mount", "mnt_parent", mount_parent),
  O("mount", "mnt_mountpoint", mount_mountpoint),
  O("vfsmount", "mnt_root", vfsmount_root),
  O("vm_special_mapping", "name", special_name),
};

static const char *
spec_name(const OffsetSpec *s, char *buf, gsize len)
{
  static const char *const prefix[] = { "off", "size", "nelems", "enum" };
  g_snprintf(buf, len, "%s.%s%s%s", prefix[s->want], s->type, s->member ? "." : "",
             s->member ? s->member : "");
  return buf;
}

/* ERROR is never NULL here: the loop below tests *err. */
static gboolean
load_offsets(const HwBtf *btf, HwLinuxOffsets *off, GError **error)
{
  g_autoptr(GError) maple_error = NULL, list_error = NULL;
  memset(off, 0, sizeof *off);
  for (gsize i = 0; i < G_N_ELEMENTS(specs); i++) {
    const OffsetSpec *s = &specs[i];
    GError **err = s->need == NEED_MAPLE ? &maple_error
                 : s->need == NEED_LIST ? &list_error : error;
    if (*err != NULL && s->need != NEED_ALWAYS)
      continue;   /* that group is already missing */
    guint32 *dst = (guint32 *)(void *)((guint8 *)off + s->field);
    HwBtfMember m;
    guint64 size;
    gint64 value;
    gboolean ok = FALSE;
    switch (s->want) {
    case WANT_OFFSET:
      if ((ok = hw_btf_find_member(btf, s->type, s->member, &m, err)))
        *dst = m.offset;
      break;
    case WANT_NELEMS:
      if ((ok = hw_btf_find_member(btf, s->type, s->member, &m, err)))
        *dst = m.nelems;
      break;
    case WANT_SIZE:
      if ((ok = hw_btf_struct_size(btf, s->type, &size, err)))
        *dst = (guint32)MIN(size, G_MAXUINT32);
      break;
    case WANT_ENUM:
      if ((ok = hw_btf_enum_value(btf, s->type, &value, err)))
        *dst = (guint32)value;
      break;
    }
    if (!ok && s->need == NEED_ALWAYS) {
      g_prefix_error(error, "kernel BTF: ");
      return FALSE;
    }
  }
  /* Linux 6.1 replaced the vm_next list by the maple tree: either will do. */
  if (maple_error == NULL)
    off->maps_kind = HW_LINUX_MAPS_MAPLE;
  else if (list_error == NULL)
    off->maps_kind = HW_LINUX_MAPS_LIST;
  else {
    g_propagate_prefixed_error(error, g_steal_pointer(&maple_error),
                               "kernel BTF has neither a maple tree nor a vm_next list: ");
    return FALSE;
  }
  return hw_linux_offsets_check(off, error);
}

gboolean
hw_linux_offsets_load(const HwBtf *btf, HwLinuxOffsets *off, GError **error)
{
  g_autoptr(GError) local = NULL;   /* callers may pass ERROR == NULL */
  if (load_offsets(btf, off, &local))
    return TRUE;
  g_propagate_error(error, g_steal_pointer(&local));
  return FALSE;
}

gboolean
hw_linux_offsets_check(const HwLinuxOffsets *off, GError **error)
{
  /* Sanity limits: these come from guest data and sized reads depend on them. */
  gboolean maple = off->maps_kind == HW_LINUX_MAPS_MAPLE;
  if (off->maps_kind != HW_LINUX_MAPS_MAPLE && off->maps_kind != HW_LINUX_MAPS_LIST) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "kernel BTF: unknown way of keeping VMAs");
    return FALSE;
  }
  gboolean maple_bad = maple &&
      (off->mnode_size == 0 || off->mnode_size > 4096 || off->mr64_nslots == 0 ||
       off->mr64_nslots > 64 || off->ma64_nslots == 0 || off->ma64_nslots > 64 ||
       off->mr64_npivots >= off->mr64_nslots + 1 || off->ma64_npivots >= off->ma64_nslots + 1 ||
       off->mr64_slot + 8ull * off->mr64_nslots > off->mnode_size ||
       off->ma64_slot + 8ull * off->ma64_nslots > off->mnode_size ||
       off->mr64_pivot + 8ull * off->mr64_npivots > off->mnode_size ||
       off->ma64_pivot + 8ull * off->ma64_npivots > off->mnode_size);
  if (maple_bad || off->task_size == 0 || off->task_size > 64 * 1024 ||
      off->task_comm + 16ull > off->task_size || off->task_tasks + 16ull > off->task_size ||
      /* every other field read_task copies out of its task_size buffer */
      off->task_pid + 4ull > off->task_size || off->task_tgid + 4ull > off->task_size ||
      off->task_flags + 4ull > off->task_size || off->task_state + 4ull > off->task_size ||
      off->task_exit_state + 4ull > off->task_size || off->task_mm + 8ull > off->task_size ||
      off->task_real_parent + 8ull > off->task_size || off->task_cred + 8ull > off->task_size) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "kernel BTF: implausible struct layout");
    return FALSE;
  }
  return TRUE;
}

void
hw_linux_offsets_write(const HwLinuxOffsets *off, GString *out)
{
  char name[128];
  g_string_append_printf(out, "maps_kind=%u\n", off->maps_kind);
  for (gsize i = 0; i < G_N_ELEMENTS(specs); i++) {
    const guint32 *v = (const guint32 *)(const void *)((const guint8 *)off + specs[i].field);
    g_string_append_printf(out, "%s=%u\n", spec_name(&specs[i], name, sizeof name), *v);
  }
}

gboolean
hw_linux_offsets_read(HwLinuxOffsets *off, const char *name, guint64 value)
{
  char buf[128];
  if (strcmp(name, "maps_kind") == 0) {
    off->maps_kind = (guint32)value;
    return TRUE;
  }
  for (gsize i = 0; i < G_N_ELEMENTS(specs); i++) {
    if (strcmp(spec_name(&specs[i], buf, sizeof buf), name) == 0) {
      *(guint32 *)(void *)((guint8 *)off + specs[i].field) = (guint32)value;
      return TRUE;
    }
  }
  return FALSE;
}
