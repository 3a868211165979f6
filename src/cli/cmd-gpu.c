/* haywire gpu: the guest's DRM devices and framebuffers, what each plane shows, who holds
 * each buffer and where its pixels are (VRAM or guest RAM pages). */
#include "cli/cli.h"

#include <haywire/drm.h>

gboolean
hw_cli_drm_format(guint32 fourcc, HwPixelFormat *format)
{
  /* DRM's fourccs name the bits of a little-endian word, high to low. */
  static const struct {
    const char *code;
    HwPixelFormat format;
  } known[] = {
    { "XR24", HW_PIXEL_XRGB8888 }, { "AR24", HW_PIXEL_BGRA8888 },
    { "XB24", HW_PIXEL_RGBA8888 }, { "AB24", HW_PIXEL_RGBA8888 },
    { "RG24", HW_PIXEL_BGR888 }, { "BG24", HW_PIXEL_RGB888 },
    { "RG16", HW_PIXEL_RGB565 }, { "R8  ", HW_PIXEL_GRAY8 },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(known); i++) {
    const char *c = known[i].code;
    guint32 v = (guint32)c[0] | (guint32)c[1] << 8 | (guint32)c[2] << 16 | (guint32)c[3] << 24;
    if (v == fourcc) {
      *format = known[i].format;
      return TRUE;
    }
  }
  return FALSE;
}

HwDrm *
hw_cli_drm(HwCli *cli, gboolean *partial, GError **error)
{
  HwLinux *lx = hw_cli_linux(cli, error);
  return lx ? hw_linux_drm_open(lx, partial, error) : NULL;
}

static const char *
backing_name(HwDrmBacking b)
{
  return b == HW_DRM_BACKING_VRAM ? "vram" : b == HW_DRM_BACKING_PAGES ? "pages" : "unknown";
}

/* The members of a GEM object: gem_object, size, backing, extents, partial, note. */
static void
json_gem(JsonBuilder *b, const HwDrmGem *gem)
{
  hw_cli_json_hex(b, "gem_object", gem->va);
  hw_cli_json_hex(b, "size", gem->size);
  json_builder_set_member_name(b, "backing");
  json_builder_add_string_value(b, backing_name(gem->backing));
  json_builder_set_member_name(b, "extents");
  json_builder_begin_array(b);
  for (guint i = 0; i < gem->extents->len; i++) {
    const HwDrmExtent *e = &g_array_index(gem->extents, HwDrmExtent, i);
    json_builder_begin_object(b);
    hw_cli_json_hex(b, "gpa", e->gpa);
    hw_cli_json_hex(b, "size", e->size);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "partial");
  json_builder_add_boolean_value(b, gem->partial);
  json_builder_set_member_name(b, "note");
  if (gem->note[0])
    json_builder_add_string_value(b, gem->note);
  else
    json_builder_add_null_value(b);
}

/* Where a GEM object's pixels are, in words. */
static char *
gem_where(const HwDrmGem *gem)
{
  const HwDrmExtent *e0 = gem->extents->len ? &g_array_index(gem->extents, HwDrmExtent, 0)
                                            : NULL;
  const char *part = gem->partial && gem->backing != HW_DRM_BACKING_UNKNOWN ? " (partial)" : "";
  if (gem->backing == HW_DRM_BACKING_VRAM && e0)
    return g_strdup_printf("vram at 0x%" G_GINT64_MODIFIER "x%s", e0->gpa, part);
  if (gem->backing == HW_DRM_BACKING_PAGES)
    return g_strdup_printf("%u RAM extents from 0x%" G_GINT64_MODIFIER "x%s", gem->extents->len,
                           e0 ? e0->gpa : 0, part);
  return g_strdup_printf("unknown (%s)", gem->note);
}

static void
json_framebuffer(JsonBuilder *b, const HwDrmFramebuffer *fb)
{
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "id");
  json_builder_add_int_value(b, fb->id);
  json_builder_set_member_name(b, "device");
  json_builder_add_int_value(b, fb->device);
  json_builder_set_member_name(b, "format");
  json_builder_add_string_value(b, fb->format);
  HwPixelFormat pf;
  if (hw_cli_drm_format(fb->fourcc, &pf)) {   /* haywire's name for it, where it has one */
    json_builder_set_member_name(b, "pixel_format");
    json_builder_add_string_value(b, hw_pixel_format_name(pf));
  }
  json_builder_set_member_name(b, "width");
  json_builder_add_int_value(b, fb->width);
  json_builder_set_member_name(b, "height");
  json_builder_add_int_value(b, fb->height);
  json_builder_set_member_name(b, "pitch");
  json_builder_add_int_value(b, fb->pitch);
  json_builder_set_member_name(b, "offset");
  json_builder_add_int_value(b, fb->offset);
  hw_cli_json_hex(b, "modifier", fb->modifier);
  json_builder_set_member_name(b, "pid");
  json_builder_add_int_value(b, fb->pid);
  json_builder_set_member_name(b, "comm");
  json_builder_add_string_value(b, fb->comm);
  json_builder_set_member_name(b, "plane");
  json_builder_add_int_value(b, fb->plane_id);
  json_builder_set_member_name(b, "crtc");
  json_builder_add_int_value(b, fb->crtc_id);
  json_builder_set_member_name(b, "on_screen");
  json_builder_add_boolean_value(b, fb->primary);
  hw_cli_json_hex(b, "framebuffer", fb->va);
  json_gem(b, &fb->gem);
  json_builder_end_object(b);
}

void
hw_cli_json_drm(JsonBuilder *b, const HwDrm *drm)
{
  guint nd = 0, nf = 0, no = 0;
  const HwDrmDevice *d = hw_drm_get_devices(drm, &nd);
  const HwDrmFramebuffer *fb = hw_drm_get_framebuffers(drm, &nf);
  const HwDrmObject *ob = hw_drm_get_objects(drm, &no);
  json_builder_set_member_name(b, "devices");
  json_builder_begin_array(b);
  for (guint i = 0; i < nd; i++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "driver");
    json_builder_add_string_value(b, d[i].driver);
    json_builder_set_member_name(b, "minor");
    json_builder_add_int_value(b, d[i].minor);
    hw_cli_json_hex(b, "device", d[i].va);
    hw_cli_json_hex(b, "vram_gpa", d[i].vram_gpa);
    hw_cli_json_hex(b, "vram_size", d[i].vram_size);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "framebuffers");
  json_builder_begin_array(b);
  for (guint i = 0; i < nf; i++)
    json_framebuffer(b, &fb[i]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "objects");
  json_builder_begin_array(b);
  for (guint i = 0; i < no; i++) {
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, ob[i].pid);
    json_builder_set_member_name(b, "handle");
    json_builder_add_int_value(b, ob[i].handle);
    json_builder_set_member_name(b, "device");
    json_builder_add_int_value(b, ob[i].device);
    json_builder_set_member_name(b, "fb");
    json_builder_add_int_value(b, ob[i].fb_id);
    json_gem(b, &ob[i].gem);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

int
hw_cmd_gpu(HwCli *cli, int argc, char **argv)
{
  int rc;
  g_autoptr(GError) error = NULL;
  if (!hw_cli_parse("gpu", NULL, "List the guest's DRM devices (the ones processes hold open) "
                    "and their framebuffers: format, size, pitch, the plane and CRTC that "
                    "show each, the process that holds it, and where its pixels are (the "
                    "device's VRAM, or guest RAM pages). From the kernel's and the DRM "
                    "modules' BTF in guest RAM; no profile needed.", NULL, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("gpu", "unexpected argument '%s'", argv[1]);
  if (!hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  gboolean partial = FALSE;
  g_autoptr(HwDrm) drm = hw_cli_drm(cli, &partial, &error);
  if (!hw_cli_release_after(cli, drm != NULL, &error))
    return hw_cli_fail(error);
  guint nd = 0, nf = 0, no = 0;
  const HwDrmDevice *d = hw_drm_get_devices(drm, &nd);
  const HwDrmFramebuffer *fb = hw_drm_get_framebuffers(drm, &nf);
  const HwDrmObject *ob = hw_drm_get_objects(drm, &no);
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
    json_builder_set_member_name(b, "partial");
    json_builder_add_boolean_value(b, partial);
    hw_cli_json_drm(b, drm);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
    return HW_EXIT_OK;
  }
  for (guint i = 0; i < nd; i++) {
    printf("card%d: %s", d[i].minor, d[i].driver[0] ? d[i].driver : "?");
    if (d[i].vram_size)
      printf(", %" G_GUINT64_FORMAT " MiB VRAM at 0x%" G_GINT64_MODIFIER "x",
             d[i].vram_size >> 20, d[i].vram_gpa);
    printf("\n");
  }
  printf("%5s %-5s %5s %-11s %6s %-22s %-8s %s\n", "FB", "CARD", "FMT", "SIZE", "PITCH",
         "OWNER", "SHOWN", "PIXELS");
  for (guint i = 0; i < nf; i++) {
    g_autofree char *size = g_strdup_printf("%ux%u", fb[i].width, fb[i].height);
    g_autofree char *owner = fb[i].pid >= 0 ? g_strdup_printf("%d (%s)", fb[i].pid, fb[i].comm)
                                            : g_strdup_printf("- (%s)", fb[i].comm);
    g_autofree char *shown = fb[i].primary ? g_strdup_printf("crtc %u", fb[i].crtc_id)
                             : fb[i].plane_id ? g_strdup_printf("plane %u", fb[i].plane_id)
                                              : g_strdup("no");
    g_autofree char *where = gem_where(&fb[i].gem);
    printf("%5u card%-1d %5s %-11s %6u %-22s %-8s %s\n", fb[i].id, d[fb[i].device].minor,
           fb[i].format, size, fb[i].pitch, owner, shown, where);
  }
  if (no > 0)
    printf("\n%7s %6s %-5s %10s %5s %s\n", "PID", "HANDLE", "CARD", "SIZE", "FB", "PIXELS");
  for (guint i = 0; i < no; i++) {
    g_autofree char *fbid = ob[i].fb_id ? g_strdup_printf("%u", ob[i].fb_id) : g_strdup("-");
    g_autofree char *where = gem_where(&ob[i].gem);
    printf("%7d %6u card%-1d %10" G_GUINT64_FORMAT " %5s %s\n", ob[i].pid, ob[i].handle,
           d[ob[i].device].minor, ob[i].gem.size, fbid, where);
  }
  if (partial)
    fprintf(stderr, "haywire: warning: some DRM objects were unreadable\n");
  return HW_EXIT_OK;
}
