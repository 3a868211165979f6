/* haywire screen: what the guest displays, as a PNG, from guest memory alone: the
 * framebuffer on the primary plane of the active CRTC (or the one --fb names), its
 * pixels read where the DRM objects say they are, its format decoded. */
#include "cli/cli.h"

#include <haywire/drm.h>

int
hw_cmd_screen(HwCli *cli, int argc, char **argv)
{
  int rc;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  gint fb_id = 0;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "the PNG file to write (default screen.png)",
      "FILE.png" },
    { "fb", 0, 0, G_OPTION_ARG_INT, &fb_id, "this framebuffer (an id from 'haywire gpu'), "
      "shown or not", "ID" },
    { NULL }
  };
  if (!hw_cli_parse("screen", NULL, "Write what the guest displays as a PNG: the framebuffer "
                    "its active CRTC scans out, read from guest memory (VRAM or RAM) and "
                    "decoded from its DRM format, without asking QEMU for a screendump.",
                    entries, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("screen", "unexpected argument '%s'", argv[1]);
  if (fb_id < 0)
    return hw_cli_usage("screen", "--fb takes a framebuffer id (1 or more)");
  const char *path = out ? out : "screen.png";
  if (!hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  gboolean walk_partial = FALSE, pixels_partial = FALSE;
  g_autoptr(HwDrm) drm = hw_cli_drm(cli, &walk_partial, &error);
  const HwDrmFramebuffer *fb = NULL;
  g_autofree guint8 *pixels = NULL;
  gsize len = 0;
  if (drm != NULL) {
    fb = fb_id ? hw_drm_find_framebuffer(drm, (guint32)fb_id) : hw_drm_get_screen(drm);
    if (fb == NULL && fb_id)
      g_set_error(&error, HW_ERROR, HW_ERROR_NOT_FOUND,
                  "no framebuffer %d (see 'haywire gpu')", fb_id);
    else if (fb == NULL)
      g_set_error(&error, HW_ERROR, HW_ERROR_NOT_FOUND,
                  "no CRTC of the guest is showing a framebuffer (see 'haywire gpu')");
  }
  gboolean ok = fb != NULL && hw_drm_read_pixels(fb, hw_guest_get_physmem(cli->guest), &pixels,
                                                 &len, &pixels_partial, &error);
  if (!hw_cli_release_after(cli, ok, &error))
    return hw_cli_fail(error);
  HwPixelFormat format;
  if (!hw_cli_drm_format(fb->fourcc, &format)) {
    fprintf(stderr, "haywire: framebuffer %u is in format %s, which haywire cannot decode yet\n",
            fb->id, fb->format);
    return HW_EXIT_ERROR;
  }
  /* What the plane shows of it (all of it for a framebuffer no plane shows). */
  guint32 x = fb->src_x, y = fb->src_y, w = fb->src_w, h = fb->src_h;
  if (w == 0 || h == 0) {
    x = y = 0;
    w = fb->width;
    h = fb->height;
  }
  guint64 start = (guint64)y * fb->pitch + (guint64)x * fb->cpp;
  g_autofree guint8 *rgba = hw_carve_pixels_to_rgba(format, w, h, fb->pitch, pixels + start,
                                                    len - start, &error);
  if (rgba == NULL || !hw_png_write_rgba(path, w, h, rgba, (gsize)w * 4, &error))
    return hw_cli_fail(error);
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "framebuffer");
    json_builder_add_int_value(b, fb->id);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, fb->format);
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, w);
    json_builder_set_member_name(b, "height");
    json_builder_add_int_value(b, h);
    json_builder_set_member_name(b, "crtc");
    json_builder_add_int_value(b, fb->crtc_id);
    json_builder_set_member_name(b, "partial");
    json_builder_add_boolean_value(b, pixels_partial || walk_partial);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    g_autofree char *shown = fb->primary ? g_strdup_printf(" on crtc %u", fb->crtc_id)
                                         : g_strdup(" (not shown)");
    printf("wrote %s: %ux%u, framebuffer %u (%s)%s%s\n", path, w, h, fb->id, fb->format, shown,
           pixels_partial ? ", partial: unreadable pixels are black" : "");
  }
  return HW_EXIT_OK;
}
