/* The guest's screen (or any framebuffer) as RGBA, for `screen`, `carve --gpu` and the
 * viewer. */
#include "cli/cli.h"

#include <string.h>

guint8 *
hw_cli_framebuffer_rgba(HwCli *cli, const HwDrmFramebuffer *fb, HwCliScreen *out,
                        GError **error)
{
  memset(out, 0, sizeof *out);
  g_autofree guint8 *pixels = NULL;
  gsize len = 0;
  gboolean partial = FALSE;
  if (!hw_drm_read_pixels(fb, hw_guest_get_physmem(cli->guest), &pixels, &len, &partial, error))
    return NULL;
  HwPixelFormat format;
  if (!hw_cli_drm_format(fb->fourcc, &format)) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                "framebuffer %u is in format %s, which haywire cannot decode yet", fb->id,
                fb->format);
    return NULL;
  }
  /* What the plane shows of it (all of it for a framebuffer no plane shows). */
  guint32 x = fb->src_x, y = fb->src_y, w = fb->src_w, h = fb->src_h;
  if (w == 0 || h == 0) {
    x = y = 0;
    w = fb->width;
    h = fb->height;
  }
  guint64 start = (guint64)y * fb->pitch + (guint64)x * fb->cpp;
  guint8 *rgba = hw_carve_pixels_to_rgba(format, w, h, fb->pitch, pixels + start, len - start,
                                         error);
  if (rgba == NULL)
    return NULL;
  out->fb_id = fb->id;
  out->crtc_id = fb->crtc_id;
  out->shown = fb->primary;
  g_strlcpy(out->format, fb->format, sizeof out->format);
  out->width = w;
  out->height = h;
  out->partial = partial;
  return rgba;
}

guint8 *
hw_cli_screen_rgba(HwCli *cli, guint32 fb_id, HwCliScreen *out, GError **error)
{
  memset(out, 0, sizeof *out);
  if (!hw_cli_pause(cli, error))
    return NULL;
  gboolean walk_partial = FALSE;
  g_autoptr(HwDrm) drm = hw_cli_drm(cli, &walk_partial, error);
  const HwDrmFramebuffer *fb = NULL;
  if (drm != NULL) {
    fb = fb_id ? hw_drm_find_framebuffer(drm, fb_id) : hw_drm_get_screen(drm);
    if (fb == NULL && fb_id)
      g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND,
                  "no framebuffer %u (see 'haywire gpu')", fb_id);
    else if (fb == NULL)
      g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND,
                  "no CRTC of the guest is showing a framebuffer (see 'haywire gpu')");
  }
  g_autofree guint8 *rgba = fb ? hw_cli_framebuffer_rgba(cli, fb, out, error) : NULL;
  if (!hw_cli_release_after(cli, rgba != NULL, error))
    return NULL;
  out->partial |= walk_partial;
  return g_steal_pointer(&rgba);
}
