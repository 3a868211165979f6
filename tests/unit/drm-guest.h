/* A made-up DRM guest for tests and fuzzing (tests/unit/test-drm.c, fuzz/fuzz-drm.c): one
 * process with /dev/dri/card0 open, its device, a 16x4 XRGB8888 framebuffer shown on a
 * primary plane, in one shmem page. Struct layouts are invented (HwDrmLayout) on top of
 * the tasks' made-up layout (linux-layout.h). The image is mapped at the kernel's direct
 * map: offsets below are from its first byte, which is init_task. */
#pragma once

#include "linux-layout.h"

#include <string.h>

#define DRM_IMAGE_SIZE 0x2000u
#define DRM_VMEMMAP 0xffffea0000000000ull
#define DRM_PIXELS 0x1000u         /* the framebuffer's page */
#define DRM_FB_ID 77u
#define DRM_PID 42
#define DRM_XA_NODE 0x1400u        /* the handles' XArray node */

static const HwDrmLayout drm_layout G_GNUC_UNUSED = {
  .task_files = 0x90, .files_fdt = 0x08, .fdt_max_fds = 0x00, .fdt_fd = 0x08,
  .file_inode = 0x08, .file_private = 0x10, .inode_rdev = 0x00,
  .dfile_minor = 0x00, .dfile_fbs = 0x10, .minor_index = 0x00, .minor_dev = 0x08,
  .dev_driver = 0x00, .dev_vram_mm = 0x08, .dev_fb_list = 0x10, .dev_plane_list = 0x20,
  .driver_name = 0x00, .vram_base = 0x00, .vram_size = 0x08,
  .fb_head = 0x00, .fb_id = 0x10, .fb_comm = 0x14, .fb_format = 0x28, .fb_pitches = 0x30,
  .fb_offsets = 0x40, .fb_modifier = 0x50, .fb_width = 0x58, .fb_height = 0x5c,
  .fb_filp_head = 0x60, .fb_obj = 0x70,
  .format_format = 0x00, .format_cpp = 0x04,
  .plane_head = 0x00, .plane_id = 0x10, .plane_type = 0x14, .plane_state = 0x18,
  .pstate_crtc = 0x00, .pstate_fb = 0x08, .pstate_src_x = 0x10, .pstate_src_y = 0x14,
  .pstate_src_w = 0x18, .pstate_src_h = 0x1c,
  .crtc_id = 0x00, .crtc_state = 0x08, .cstate_active = 0x00,
  .gem_size = 0x00,
  .have_shmem = TRUE, .shmem_base = 0x00, .shmem_pages = 0x20,
  .have_ttm = TRUE, .gbo_bo = 0x00, .bo_base = 0x00, .bo_resource = 0x28, .bo_ttm = 0x30,
  .res_start = 0x00, .res_mem_type = 0x08, .tt_pages = 0x00, .tt_num_pages = 0x08,
  .plane_primary = 1,
  .dfile_object_idr = 0x20, .idr_rt = 0x00, .idr_base = 0x18, .xa_head = 0x08,
  .xa_node_shift = 0x00, .xa_node_slots = 0x28, .xa_chunk = 64,
};

static void
drm_put64(guint8 *img, guint32 off, guint64 v)
{
  memcpy(img + off, &v, 8);
}

static void
drm_put32(guint8 *img, guint32 off, guint32 v)
{
  memcpy(img + off, &v, 4);
}

/* Two list_heads at A and B (image offsets) linked into one circle. */
static void
drm_link2(guint8 *img, guint64 va, guint32 a, guint32 b)
{
  drm_put64(img, a, va + b);
  drm_put64(img, a + 8, va + b);
  drm_put64(img, b, va + a);
  drm_put64(img, b + 8, va + a);
}

/* The pixel at X, Y of the framebuffer. */
static guint32 G_GNUC_UNUSED
drm_pixel(guint32 x, guint32 y)
{
  return (x * 16) << 16 | (y * 64) << 8 | (x ^ y);
}

/* Build the guest into IMG (DRM_IMAGE_SIZE bytes) mapped at VA, whose pixels page lies at
 * guest-physical PIXELS_GPA (vmemmap at DRM_VMEMMAP, 64-byte struct pages). */
static void G_GNUC_UNUSED
drm_guest_build(guint8 *img, guint64 va, guint64 pixels_gpa)
{
  memset(img, 0, DRM_IMAGE_SIZE);
  const HwDrmLayout *d = &drm_layout;
  /* init_task at 0 and one process at 0x100 on the tasks list. */
  drm_put32(img, 0x000 + layout.task_flags, HW_LINUX_PF_KTHREAD);
  drm_put64(img, 0x000 + layout.task_real_parent, va);
  drm_put32(img, 0x100 + layout.task_pid, DRM_PID);
  drm_put32(img, 0x100 + layout.task_tgid, DRM_PID);
  drm_put64(img, 0x100 + layout.task_real_parent, va);
  drm_put64(img, 0x100 + layout.task_mm, va + 0x1800);
  memcpy(img + 0x100 + layout.task_comm, "hwgpu", 5);
  drm_link2(img, va, 0x000 + layout.task_tasks, 0x100 + layout.task_tasks);
  /* Its files: fd 3 is the card. */
  drm_put64(img, 0x100 + d->task_files, va + 0x200);
  drm_put64(img, 0x200 + d->files_fdt, va + 0x240);
  drm_put32(img, 0x240 + d->fdt_max_fds, 4);
  drm_put64(img, 0x240 + d->fdt_fd, va + 0x280);
  drm_put64(img, 0x280 + 3 * 8, va + 0x300);
  drm_put64(img, 0x300 + d->file_inode, va + 0x380);
  drm_put64(img, 0x300 + d->file_private, va + 0x400);
  drm_put32(img, 0x380 + d->inode_rdev, 226u << 20);
  /* The drm_file, its minor and device, the driver's name. */
  drm_put64(img, 0x400 + d->dfile_minor, va + 0x480);
  drm_put64(img, 0x480 + d->minor_dev, va + 0x500);
  drm_put64(img, 0x500 + d->dev_driver, va + 0x600);
  drm_put64(img, 0x600 + d->driver_name, va + 0x640);
  memcpy(img + 0x640, "fakedrm", 8);
  /* The framebuffer at 0x700: on the device's list and the file's. */
  drm_link2(img, va, 0x500 + d->dev_fb_list, 0x700 + d->fb_head);
  drm_link2(img, va, 0x400 + d->dfile_fbs, 0x700 + d->fb_filp_head);
  drm_put32(img, 0x700 + d->fb_id, DRM_FB_ID);
  memcpy(img + 0x700 + d->fb_comm, "hwgpu", 5);
  drm_put64(img, 0x700 + d->fb_format, va + 0x800);
  drm_put32(img, 0x700 + d->fb_pitches, 64);
  drm_put32(img, 0x700 + d->fb_width, 16);
  drm_put32(img, 0x700 + d->fb_height, 4);
  drm_put64(img, 0x700 + d->fb_obj, va + 0x900);
  memcpy(img + 0x800 + d->format_format, "XR24", 4);
  img[0x800 + d->format_cpp] = 4;
  /* Its GEM object: one shmem page. */
  drm_put64(img, 0x900 + d->gem_size, 4096);
  drm_put64(img, 0x900 + d->shmem_pages, va + 0xa00);
  drm_put64(img, 0xa00, DRM_VMEMMAP + pixels_gpa / 4096 * 64);
  /* Handle 1 of the client (IDR base 1, index 0 in a one-level XArray) is the object. */
  drm_put64(img, 0x400 + d->dfile_object_idr + d->idr_rt + d->xa_head, (va + DRM_XA_NODE) | 2);
  drm_put32(img, 0x400 + d->dfile_object_idr + d->idr_base, 1);
  drm_put64(img, DRM_XA_NODE + d->xa_node_slots, va + 0x900);
  /* The primary plane at 0xb00 shows it on CRTC 33 (active). */
  drm_link2(img, va, 0x500 + d->dev_plane_list, 0xb00 + d->plane_head);
  drm_put32(img, 0xb00 + d->plane_id, 31);
  drm_put32(img, 0xb00 + d->plane_type, 1);
  drm_put64(img, 0xb00 + d->plane_state, va + 0xc00);
  drm_put64(img, 0xc00 + d->pstate_crtc, va + 0xd00);
  drm_put64(img, 0xc00 + d->pstate_fb, va + 0x700);
  drm_put32(img, 0xc00 + d->pstate_src_w, 16u << 16);
  drm_put32(img, 0xc00 + d->pstate_src_h, 4u << 16);
  drm_put32(img, 0xd00 + d->crtc_id, 33);
  drm_put64(img, 0xd00 + d->crtc_state, va + 0xd80);
  img[0xd80 + d->cstate_active] = 1;
  for (guint32 y = 0; y < 4; y++)
    for (guint32 x = 0; x < 16; x++)
      drm_put32(img, DRM_PIXELS + y * 64 + x * 4, drm_pixel(x, y));
}

#define DRM_DIRECT_MAP 0xffff888000000000ull
#define DRM_TABLES 0x2000u   /* PML4 at 0, PDPT at 0x1000 (a 1 GiB page at gpa 0); the image after */

/* RAM for IMG (SIZE bytes, copied) mapped at the direct map after the page tables, and
 * the Linux model over it (*LX filled; free with drm_guest_unmap). The image's first byte
 * is init_task at DRM_DIRECT_MAP + DRM_TABLES. */
typedef struct {
  guint8 *ram;
  HwPhysMem *mem;
  HwLinux lx;
} DrmGuest;

static gboolean G_GNUC_UNUSED
drm_guest_map(DrmGuest *g, const guint8 *img, gsize size)
{
  gsize ram_size = (DRM_TABLES + size + 4095) & ~(gsize)4095;
  g->ram = g_malloc0(ram_size);
  guint64 pml4e = 0x1000 | 3, pdpte = 0 | 3 | (1ull << 7);
  memcpy(g->ram + ((DRM_DIRECT_MAP >> 39) & 511) * 8, &pml4e, 8);
  memcpy(g->ram + 0x1000 + ((DRM_DIRECT_MAP >> 30) & 511) * 8, &pdpte, 8);
  memcpy(g->ram + DRM_TABLES, img, size);
  HwRamRange range = { 0, ram_size, 0 };
  g->mem = hw_physmem_new_from_data(g->ram, ram_size, &range, 1, NULL);
  if (g->mem == NULL)
    return FALSE;
  HwX86Paging paging = { .cr3 = 0, .la57 = FALSE, .nxe = TRUE };
  memset(&g->lx, 0, sizeof g->lx);
  g->lx.arch = &hw_linux_arch_x86_64;
  g->lx.mem = g->mem;
  g->lx.kmmu = hw_mmu_new_x86_64(g->mem, &paging);
  g->lx.off = layout;
  g->lx.info.init_task_va = DRM_DIRECT_MAP + DRM_TABLES;
  g->lx.info.init_task_gpa = DRM_TABLES;
  g->lx.info.page_size = 4096;
  g->lx.vmemmap = DRM_VMEMMAP;
  g->lx.page_struct_size = 64;
  return TRUE;
}

static void G_GNUC_UNUSED
drm_guest_unmap(DrmGuest *g)
{
  hw_mmu_free(g->lx.kmmu);
  hw_physmem_free(g->mem);
  g_free(g->ram);
}
