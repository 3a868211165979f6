/* Inside the Linux layer: the struct offsets taken from BTF, and the HwLinux handle. */
#pragma once

#include <haywire/linux.h>

/* task_struct.flags bit of kernel threads (kernel ABI, not a struct offset). */
#define HW_LINUX_PF_KTHREAD 0x00200000u

/* How a kernel keeps an mm's VMAs: a maple tree (6.1+) or the older vm_next list. */
#define HW_LINUX_MAPS_MAPLE 1u
#define HW_LINUX_MAPS_LIST 2u

/* Every offset the Linux layer uses, in bytes, all read from the guest kernel's BTF. */
typedef struct {
  guint32 maps_kind;      /* HW_LINUX_MAPS_*: which of the two groups below BTF has */
  guint32 task_size, task_tasks, task_pid, task_tgid, task_comm, task_mm, task_active_mm,
          task_real_parent, task_cred, task_state, task_exit_state, task_flags, task_signal,
          task_thread_node;
  guint32 task_nsproxy, nsproxy_uts, uts_release, uts_version;
  guint32 signal_thread_head;
  guint32 cred_uid;
  guint32 list_next, list_prev;
  guint32 mm_pgd, mm_mt, mm_brk, mm_start_brk, mm_start_stack;
  guint32 mt_root;
  guint32 mm_mmap, vma_next;   /* the vm_next list (kernels before 6.1) */
  guint32 mnode_size;
  guint32 mr64_pivot, mr64_slot, mr64_npivots, mr64_nslots;
  guint32 ma64_pivot, ma64_slot, ma64_npivots, ma64_nslots;
  guint32 mtype_leaf64, mtype_range64, mtype_arange64;
  guint32 vma_start, vma_end, vma_flags, vma_pgoff, vma_file, vma_mm, vma_private;
  guint32 file_path_mnt, file_path_dentry;
  guint32 dentry_parent, dentry_name_len, dentry_name_ptr;
  guint32 mount_mnt, mount_parent, mount_mountpoint, vfsmount_root;
  guint32 special_name;
} HwLinuxOffsets;

/* What the Linux layer knows per architecture: where the kernel image is and how its
 * layout is described. Adding an arch means one more of these. */
typedef struct {
  HwArch arch;
  /* Find the kernel image: text_gpa, and text_va when the page tables tell it at once
   * (x86-64 maps _text in a fixed window). Uses lx->kmmu. */
  gboolean (*find_image)(HwLinux *lx, GError **error);
  /* After init_task is known: fill in what find_image left (AArch64: text_va, from
   * init_task's place in the image). */
  gboolean (*finish_image)(HwLinux *lx, GError **error);
  /* text_va minus the address _text has without KASLR. */
  gint64 (*kaslr_slide)(const HwLinux *lx);
  /* For a recording whose registers do not locate the page tables (an AArch64 dump has
   * no TTBRs or TCR): add them to lx->regs from what the kernel keeps in RAM. NULL: the
   * registers always do. */
  gboolean (*recover_paging)(HwLinux *lx, GError **error);
} HwLinuxArch;

extern const HwLinuxArch hw_linux_arch_x86_64;
extern const HwLinuxArch hw_linux_arch_aarch64;

struct _HwLinux {
  const HwLinuxArch *arch;
  HwGuest *guest;
  const HwPhysMem *mem;
  HwRegs *regs;            /* vCPU 0: paging mode */
  HwMmu *kmmu;             /* the kernel's address space (its kernel half on init_mm.pgd) */
  HwBtf *btf;              /* loaded on demand when discovery came from the cache */
  HwLinuxOffsets off;
  HwLinuxInfo info;
  guint64 vmemmap;         /* the struct page array (page-frames.c), 0 until needed */
  guint32 page_struct_size;
};

/* Every offset the DRM walk (drm.c) uses, from BTF; the GEM kinds a guest lacks are
 * marked absent. */
typedef struct {
  guint32 task_files, files_fdt, fdt_max_fds, fdt_fd, file_inode, file_private, inode_rdev;
  guint32 dfile_minor, dfile_fbs, minor_index, minor_dev;
  guint32 dev_driver, dev_vram_mm, dev_fb_list, dev_plane_list, driver_name;
  guint32 vram_base, vram_size;
  guint32 fb_head, fb_id, fb_comm, fb_format, fb_pitches, fb_offsets, fb_modifier, fb_width,
          fb_height, fb_filp_head, fb_obj;
  guint32 format_format, format_cpp;
  guint32 plane_head, plane_id, plane_type, plane_state;
  guint32 pstate_crtc, pstate_fb, pstate_src_x, pstate_src_y, pstate_src_w, pstate_src_h;
  guint32 crtc_id, crtc_state, cstate_active;
  guint32 gem_size;
  gboolean have_shmem;
  guint32 shmem_base, shmem_pages;
  gboolean have_ttm;
  guint32 gbo_bo, bo_base, bo_resource, bo_ttm, res_start, res_mem_type, tt_pages, tt_num_pages;
  gint64 plane_primary;
  /* The GEM handles of a client: drm_file.object_idr, an IDR (an XArray). */
  guint32 dfile_object_idr, idr_rt, idr_base, xa_head, xa_node_shift, xa_node_slots;
  guint32 xa_chunk;       /* slots per XArray node */
} HwDrmLayout;

/* The DRM walk with LAYOUT given, not taken from BTF (for fuzzing over made-up
 * structs); as hw_linux_drm_open otherwise. */
typedef struct _HwDrm HwDrm;
HwDrm *hw_linux_drm_walk(HwLinux *lx, const HwDrmLayout *layout, gboolean *partial,
                         GError **error);

/* The split BTF of every loaded module whose copy the kernel keeps in RAM (HwBtf*, on
 * top of lx's BTF, which must outlive them); the caller owns the array. */
GPtrArray *hw_linux_find_module_btfs(HwLinux *lx, GError **error);
/* The physical address of the page that the struct page at PAGE_VA describes. */
gboolean hw_linux_page_to_gpa(HwLinux *lx, guint64 page_va, guint64 *gpa, GError **error);

/* Fill OFF from BTF; fails naming the first missing struct or member. */
gboolean hw_linux_offsets_load(const HwBtf *btf, HwLinuxOffsets *off, GError **error);
/* Check OFF for a plausible layout (after loading it from BTF or the cache). */
gboolean hw_linux_offsets_check(const HwLinuxOffsets *off, GError **error);
/* Serialise / parse offsets as "name=value" lines (for the cache). */
void hw_linux_offsets_write(const HwLinuxOffsets *off, GString *out);
gboolean hw_linux_offsets_read(HwLinuxOffsets *off, const char *name, guint64 value);

/* Kernel-virtual reads through the kernel's page tables. */
gboolean hw_linux_read(const HwLinux *lx, guint64 va, void *buf, gsize len, GError **error);
gboolean hw_linux_read_u64(const HwLinux *lx, guint64 va, guint64 *out, GError **error);
gboolean hw_linux_read_u32(const HwLinux *lx, guint64 va, guint32 *out, GError **error);
/* A NUL-terminated string of at most MAX bytes at VA (truncated, never unbounded). */
char *hw_linux_read_string(const HwLinux *lx, guint64 va, gsize max, GError **error);
/* Plausible kernel pointer (upper half, 8-byte aligned). */
gboolean hw_linux_is_kernel_ptr(guint64 va);

/* Called for each hit of a RAM search at GPA (P: AVAIL bytes readable from there, in
 * the guarded access: no allocations kept across it); TRUE stops the search. */
typedef gboolean (*HwLinuxHitFn)(HwLinux *lx, guint64 gpa, const guint8 *p, gsize avail,
                                 gpointer data);
/* Search guest RAM in [LO, HI) for NEEDLE at multiples of ALIGN; guarded against SIGBUS. */
gboolean hw_linux_search_ram(HwLinux *lx, guint64 lo, guint64 hi, const void *needle,
                             gsize nlen, gsize align, HwLinuxHitFn fn, gpointer data,
                             GError **error);
/* Candidates for the kernel's vmcoreinfo text in RAM ("KEY=value" lines: symbols,
 * offsets, sizes), for a recording without the registers that say where the page
 * tables are: the texts at page starts that begin with OSRELEASE=, in gpa order, at
 * most 16 (a new array of strings, caller frees; may be empty). */
GPtrArray *hw_linux_find_vmcoreinfo(HwLinux *lx);
/* The value of KEY in vmcoreinfo TEXT as a number (hex after "0x" or for SYMBOL()
 * keys, else decimal); FALSE when absent or malformed. */
gboolean hw_linux_vmcoreinfo_number(const char *text, const char *key, guint64 *out);

/* The two steps of a cold discovery that hw_linux_open runs, reachable on their own for
 * the fuzz targets. From LX->kmmu's kernel-root candidates, the one from which init_task
 * validates: finds the image, BTF (not when LX->btf is already set) and init_task. */
gboolean hw_linux_discover(HwLinux *lx, GError **error);
/* The banner into LX->info.banner (owned by LX): the first "Linux version" line near the
 * image (naming init_task's uts release and version, when those can be read), else one
 * made from them; left NULL when there is neither. */
void hw_linux_find_banner(HwLinux *lx);
/* Check that the discovery result in LX still describes the running kernel. */
gboolean hw_linux_validate(HwLinux *lx, GError **error);
/* Cache of the discovery result, per guest boot. */
gboolean hw_linux_cache_load(HwLinux *lx, const char *cache_dir, GError **error);
void hw_linux_cache_store(HwLinux *lx, const char *cache_dir);
