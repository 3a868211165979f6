/* Struct offsets from the guest kernel's BTF: one table says what we need and where
 * it goes, so nothing about any kernel build's layout is hard-coded. */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <stddef.h>
#include <string.h>

typedef enum { WANT_OFFSET, WANT_SIZE, WANT_NELEMS, WANT_ENUM } Want;

typedef struct {
  Want want;
  const char *type;     /* struct name, or enumerator name for WANT_ENUM */
  const char *member;   /* member path */
  gsize field;          /* offsetof(HwLinuxOffsets, ...) */
} OffsetSpec;

#define O(t, m, f) { WANT_OFFSET, t, m, offsetof(HwLinuxOffsets, f) }
#define S(t, f) { WANT_SIZE, t, NULL, offsetof(HwLinuxOffsets, f) }
#define N(t, m, f) { WANT_NELEMS, t, m, offsetof(HwLinuxOffsets, f) }
#define E(e, f) { WANT_ENUM, e, NULL, offsetof(HwLinuxOffsets, f) }

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
  O("mm_struct", "mm_mt", mm_mt),
  O("mm_struct", "brk", mm_brk),
  O("mm_struct", "start_brk", mm_start_brk),
  O("mm_struct", "start_stack", mm_start_stack),
  O("mm_struct", "context.vdso", mm_vdso),
  O("maple_tree", "ma_root", mt_root),
  S("maple_node", mnode_size),
  O("maple_range_64", "pivot", mr64_pivot),
  O("maple_range_64", "slot", mr64_slot),
  N("maple_range_64", "pivot", mr64_npivots),
  N("maple_range_64", "slot", mr64_nslots),
  O("maple_arange_64", "pivot", ma64_pivot),
  O("maple_arange_64", "slot", ma64_slot),
  N("maple_arange_64", "pivot", ma64_npivots),
  N("maple_arange_64", "slot", ma64_nslots),
  E("maple_leaf_64", mtype_leaf64),
  E("maple_range_64", mtype_range64),
  E("maple_arange_64", mtype_arange64),
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

gboolean
hw_linux_offsets_load(const HwBtf *btf, HwLinuxOffsets *off, GError **error)
{
  memset(off, 0, sizeof *off);
  for (gsize i = 0; i < G_N_ELEMENTS(specs); i++) {
    const OffsetSpec *s = &specs[i];
    guint32 *dst = (guint32 *)(void *)((guint8 *)off + s->field);
    HwBtfMember m;
    guint64 size;
    gint64 value;
    gboolean ok = FALSE;
    switch (s->want) {
    case WANT_OFFSET:
      if ((ok = hw_btf_find_member(btf, s->type, s->member, &m, error)))
        *dst = m.offset;
      break;
    case WANT_NELEMS:
      if ((ok = hw_btf_find_member(btf, s->type, s->member, &m, error)))
        *dst = m.nelems;
      break;
    case WANT_SIZE:
      if ((ok = hw_btf_struct_size(btf, s->type, &size, error)))
        *dst = (guint32)MIN(size, G_MAXUINT32);
      break;
    case WANT_ENUM:
      if ((ok = hw_btf_enum_value(btf, s->type, &value, error)))
        *dst = (guint32)value;
      break;
    }
    if (!ok) {
      g_prefix_error(error, "kernel BTF: ");
      return FALSE;
    }
  }
  return hw_linux_offsets_check(off, error);
}

gboolean
hw_linux_offsets_check(const HwLinuxOffsets *off, GError **error)
{
  /* Sanity limits: these come from guest data and sized reads depend on them. */
  if (off->task_size == 0 || off->task_size > 64 * 1024 || off->mnode_size == 0 ||
      off->mnode_size > 4096 || off->mr64_nslots == 0 || off->mr64_nslots > 64 ||
      off->ma64_nslots == 0 || off->ma64_nslots > 64 ||
      off->mr64_npivots >= off->mr64_nslots + 1 || off->ma64_npivots >= off->ma64_nslots + 1 ||
      off->mr64_slot + 8ull * off->mr64_nslots > off->mnode_size ||
      off->ma64_slot + 8ull * off->ma64_nslots > off->mnode_size ||
      off->mr64_pivot + 8ull * off->mr64_npivots > off->mnode_size ||
      off->ma64_pivot + 8ull * off->ma64_npivots > off->mnode_size ||
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
  for (gsize i = 0; i < G_N_ELEMENTS(specs); i++) {
    const guint32 *v = (const guint32 *)(const void *)((const guint8 *)off + specs[i].field);
    g_string_append_printf(out, "%s=%u\n", spec_name(&specs[i], name, sizeof name), *v);
  }
}

gboolean
hw_linux_offsets_read(HwLinuxOffsets *off, const char *name, guint64 value)
{
  char buf[128];
  for (gsize i = 0; i < G_N_ELEMENTS(specs); i++) {
    if (strcmp(spec_name(&specs[i], buf, sizeof buf), name) == 0) {
      *(guint32 *)(void *)((guint8 *)off + specs[i].field) = (guint32)value;
      return TRUE;
    }
  }
  return FALSE;
}
