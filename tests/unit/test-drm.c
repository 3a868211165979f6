/* The DRM walk over a made-up guest (drm-guest.h): from a process's open file to its
 * framebuffer, the plane that shows it and its pixels; and hostile variants: lists that
 * never come back, huge fd tables, pitches that do not fit, pages that are no struct
 * page, VRAM offsets past the VRAM. */
#include <haywire/haywire.h>
#include "drm-guest.h"

#define VA (DRM_DIRECT_MAP + DRM_TABLES)
#define PIXELS_GPA (DRM_TABLES + DRM_PIXELS)

static HwDrm *
walk(guint8 *img, DrmGuest *g, gboolean *partial, GError **error)
{
  g_assert_true(drm_guest_map(g, img, DRM_IMAGE_SIZE));
  return hw_linux_drm_walk(&g->lx, &drm_layout, partial, error);
}

static void
test_sample(void)
{
  g_autofree guint8 *img = g_malloc(DRM_IMAGE_SIZE);
  drm_guest_build(img, VA, PIXELS_GPA);
  DrmGuest g;
  gboolean partial = TRUE;
  g_autoptr(GError) error = NULL;
  g_autoptr(HwDrm) drm = walk(img, &g, &partial, &error);
  g_assert_no_error(error);
  g_assert_false(partial);
  guint n = 0;
  const HwDrmDevice *d = hw_drm_get_devices(drm, &n);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpstr(d[0].driver, ==, "fakedrm");
  g_assert_cmpint(d[0].minor, ==, 0);
  g_assert_cmphex(d[0].va, ==, VA + 0x500);
  const HwDrmFramebuffer *fb = hw_drm_get_framebuffers(drm, &n);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpuint(fb->id, ==, DRM_FB_ID);
  g_assert_cmpstr(fb->format, ==, "XR24");
  g_assert_cmpuint(fb->width, ==, 16);
  g_assert_cmpuint(fb->height, ==, 4);
  g_assert_cmpuint(fb->pitch, ==, 64);
  g_assert_cmpint(fb->pid, ==, DRM_PID);
  g_assert_cmpstr(fb->comm, ==, "hwgpu");
  g_assert_true(fb->primary);
  g_assert_cmpuint(fb->plane_id, ==, 31);
  g_assert_cmpuint(fb->crtc_id, ==, 33);
  g_assert_cmpuint(fb->src_w, ==, 16);
  g_assert_cmpint(fb->gem.backing, ==, HW_DRM_BACKING_PAGES);
  g_assert_false(fb->gem.partial);
  g_assert_cmpuint(fb->gem.extents->len, ==, 1);
  g_assert_cmphex(g_array_index(fb->gem.extents, HwDrmExtent, 0).gpa, ==, PIXELS_GPA);
  g_assert_true(hw_drm_get_screen(drm) == fb);
  const HwDrmObject *ob = hw_drm_get_objects(drm, &n);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmpuint(ob->handle, ==, 1);
  g_assert_cmpint(ob->pid, ==, DRM_PID);
  g_assert_cmpuint(ob->fb_id, ==, DRM_FB_ID);
  g_assert_cmphex(ob->gem.va, ==, VA + 0x900);
  g_assert_cmpint(ob->gem.backing, ==, HW_DRM_BACKING_PAGES);
  g_assert_true(hw_drm_find_framebuffer(drm, DRM_FB_ID) == fb);
  g_assert_null(hw_drm_find_framebuffer(drm, 5));
  g_autofree guint8 *px = NULL;
  gsize len = 0;
  g_assert_true(hw_drm_read_pixels(fb, g.mem, &px, &len, &partial, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(len, ==, 256);
  g_assert_false(partial);
  for (guint32 y = 0; y < 4; y++)
    for (guint32 x = 0; x < 16; x++) {
      guint32 v;
      memcpy(&v, px + y * 64 + x * 4, 4);
      g_assert_cmphex(v, ==, drm_pixel(x, y));
    }
  g_clear_pointer(&drm, hw_drm_free);
  drm_guest_unmap(&g);
}

typedef void (*Spoil)(guint8 *img);

/* The framebuffer list's entry points at itself: never back to the head. */
static void
spoil_fb_cycle(guint8 *img)
{
  drm_put64(img, 0x700 + drm_layout.fb_head, VA + 0x700 + drm_layout.fb_head);
}

/* An fd table that claims 2^31 fds. */
static void
spoil_max_fds(guint8 *img)
{
  drm_put32(img, 0x240 + drm_layout.fdt_max_fds, 0x80000000u);
}

/* A pitch narrower than a row. */
static void
spoil_pitch(guint8 *img)
{
  drm_put32(img, 0x700 + drm_layout.fb_pitches, 8);
}

/* A page pointer that is no struct page. */
static void
spoil_page(guint8 *img)
{
  drm_put64(img, 0xa00, DRM_VMEMMAP + 3);
}

/* A VRAM device whose buffer's TTM resource starts past the VRAM. */
static void
spoil_vram(guint8 *img)
{
  drm_put64(img, 0x500 + drm_layout.dev_vram_mm, VA + 0xe00);
  drm_put64(img, 0xe00 + drm_layout.vram_base, 0xfd000000);
  drm_put64(img, 0xe00 + drm_layout.vram_size, 1u << 20);
  drm_put64(img, 0x900 + drm_layout.bo_resource, VA + 0xe40);
  drm_put64(img, 0xe40 + drm_layout.res_start, 1u << 20);
  drm_put32(img, 0xe40 + drm_layout.res_mem_type, 2);
}

/* A GEM object size of 2^62. */
static void
spoil_size(guint8 *img)
{
  drm_put64(img, 0x900 + drm_layout.gem_size, 1ull << 62);
}

/* Every slot of the handles' XArray node points back at the node. */
static void
spoil_xa_self(guint8 *img)
{
  for (guint i = 0; i < 64; i++)
    drm_put64(img, DRM_XA_NODE + drm_layout.xa_node_slots + i * 8, (VA + DRM_XA_NODE) | 2);
}

/* The file is not a DRM device. */
static void
spoil_rdev(guint8 *img)
{
  drm_put32(img, 0x380 + drm_layout.inode_rdev, 4u << 20);
}

static const struct {
  const char *name;
  Spoil spoil;
  gboolean walk_ok, walk_partial, fb_partial, pixels_ok;
} hostile[] = {
  { "fb-list-cycle", spoil_fb_cycle, TRUE, TRUE, FALSE, TRUE },
  { "max-fds", spoil_max_fds, TRUE, TRUE, FALSE, TRUE },    /* the first fds still count */
  { "pitch", spoil_pitch, TRUE, FALSE, FALSE, FALSE },
  { "not-a-page", spoil_page, TRUE, FALSE, TRUE, FALSE },
  { "vram-past-end", spoil_vram, TRUE, FALSE, TRUE, FALSE },
  { "huge-object", spoil_size, TRUE, FALSE, TRUE, FALSE },
  { "not-drm", spoil_rdev, FALSE, FALSE, FALSE, FALSE },
  { "handles-self", spoil_xa_self, TRUE, TRUE, FALSE, TRUE },
};

static void
test_hostile(gconstpointer data)
{
  guint i = GPOINTER_TO_UINT(data);
  g_autofree guint8 *img = g_malloc(DRM_IMAGE_SIZE);
  drm_guest_build(img, VA, PIXELS_GPA);
  hostile[i].spoil(img);
  DrmGuest g;
  gboolean partial = FALSE;
  g_autoptr(GError) error = NULL;
  g_autoptr(HwDrm) drm = walk(img, &g, &partial, &error);
  if (!hostile[i].walk_ok) {
    g_assert_null(drm);
    g_assert_error(error, HW_ERROR, HW_ERROR_NOT_FOUND);
    drm_guest_unmap(&g);
    return;
  }
  g_assert_no_error(error);
  g_assert_cmpint(partial, ==, hostile[i].walk_partial);
  guint n = 0;
  const HwDrmFramebuffer *fb = hw_drm_get_framebuffers(drm, &n);
  g_assert_cmpuint(n, ==, 1);   /* a cycle adds nothing twice */
  g_assert_cmpint(fb->gem.partial, ==, hostile[i].fb_partial);
  if (fb->gem.partial)
    g_assert_cmpstr(fb->gem.note, !=, "");
  g_autofree guint8 *px = NULL;
  gsize len = 0;
  gboolean ok = hw_drm_read_pixels(fb, g.mem, &px, &len, &partial, &error);
  g_assert_cmpint(ok, ==, hostile[i].pixels_ok);
  if (!ok)
    g_assert_nonnull(error);
  g_clear_pointer(&drm, hw_drm_free);
  drm_guest_unmap(&g);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  /* HW_DRM_SEED=FILE: write the sample guest there (the fuzz target's seed). */
  const char *seed = g_getenv("HW_DRM_SEED");
  if (seed != NULL) {
    g_autofree guint8 *img = g_malloc(DRM_IMAGE_SIZE);
    drm_guest_build(img, VA, PIXELS_GPA);
    g_assert_true(g_file_set_contents(seed, (const char *)img, DRM_IMAGE_SIZE, NULL));
  }
  g_test_add_func("/os/drm/sample", test_sample);
  for (guint i = 0; i < G_N_ELEMENTS(hostile); i++) {
    g_autofree char *path = g_strdup_printf("/os/drm/hostile/%s", hostile[i].name);
    g_test_add_data_func(path, GUINT_TO_POINTER(i), test_hostile);
  }
  return g_test_run();
}
