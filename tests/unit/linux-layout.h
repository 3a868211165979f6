/* A synthetic but self-consistent kernel struct layout for tests and fuzz targets that
 * build Linux memory by hand (tests/unit/test-linux.c, fuzz/fuzz-linux.c). */
#pragma once

#include "os/linux/linux-private.h"

#define MT_LEAF64 1u
#define MT_RANGE64 2u
#define MT_ARANGE64 3u
#define MT_ROOT_BIT 0x2ull

/* The made-up layout. maple_range_64: parent, 15 pivots, 16 slots in 256 bytes;
 * maple_arange_64: parent, 9 pivots, 10 slots, 10 gaps, meta (as in Linux 6.x). */
static const HwLinuxOffsets layout G_GNUC_UNUSED = {
  .maps_kind = HW_LINUX_MAPS_MAPLE,
  .task_size = 0x100,
  .task_state = 0x00, .task_flags = 0x04, .task_tasks = 0x10, .task_mm = 0x20,
  .task_active_mm = 0x28, .task_exit_state = 0x30, .task_pid = 0x34, .task_tgid = 0x38,
  .task_real_parent = 0x40, .task_thread_node = 0x50, .task_cred = 0x60, .task_comm = 0x68,
  .task_nsproxy = 0x78, .task_signal = 0x80,
  .nsproxy_uts = 0x08, .uts_release = 0x45, .uts_version = 0x86,
  .signal_thread_head = 0x10,
  .cred_uid = 0x04,
  .list_next = 0x00, .list_prev = 0x08,
  .mm_pgd = 0x10, .mm_brk = 0x20, .mm_start_brk = 0x28, .mm_start_stack = 0x30,
  .mm_mt = 0x40,
  .mt_root = 0x08, .mm_mmap = 0x50, .vma_next = 0x88,
  .mnode_size = 256,
  .mr64_pivot = 8, .mr64_slot = 128, .mr64_npivots = 15, .mr64_nslots = 16,
  .ma64_pivot = 8, .ma64_slot = 80, .ma64_npivots = 9, .ma64_nslots = 10,
  .mtype_leaf64 = MT_LEAF64, .mtype_range64 = MT_RANGE64, .mtype_arange64 = MT_ARANGE64,
  .vma_start = 0x00, .vma_end = 0x08, .vma_mm = 0x10, .vma_flags = 0x20, .vma_pgoff = 0x70,
  .vma_file = 0x78, .vma_private = 0x80,
  .file_path_mnt = 0x10, .file_path_dentry = 0x18,
  .dentry_parent = 0x18, .dentry_name_len = 0x24, .dentry_name_ptr = 0x28,
  .mount_parent = 0x10, .mount_mountpoint = 0x18, .mount_mnt = 0x20, .vfsmount_root = 0x00,
  .special_name = 0x00,
};

