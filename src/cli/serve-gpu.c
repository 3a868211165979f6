/* The viewer's Screen view: the guest's DRM objects (/api/gpu, what `gpu --json` says)
 * and the screen or any framebuffer as RGBA (/api/screen), read from guest memory with
 * the guest paused meanwhile. */
#include "cli/serve.h"
#include "cli/serve-params.h"

static void
on_gpu(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
       gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  gboolean partial = FALSE;
  if (!hw_cli_pause(s->cli, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  g_autoptr(HwDrm) drm = hw_cli_drm(s->cli, &partial, &error);
  if (!hw_cli_release_after(s->cli, drm != NULL, &error)) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  JsonBuilder *b = hw_serve_begin_answer(s);
  json_builder_set_member_name(b, "partial");
  json_builder_add_boolean_value(b, partial);
  hw_cli_json_drm(b, drm);
  hw_serve_end_answer(msg, b);
}

/* The screen (fb absent or 0) or framebuffer FB, as RGBA with its size, and which
 * framebuffer it is in X-Haywire-Framebuffer (and X-Haywire-Crtc when shown). */
static void
on_screen(SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
          gpointer data)
{
  HwServe *s = data;
  (void)server, (void)path;
  if (!hw_serve_authorized(s, msg, query) || !hw_serve_method_is(msg, "GET"))
    return;
  g_autoptr(GError) error = NULL;
  guint64 fb = 0;
  HwCliScreen sc;
  guint8 *rgba = hw_serve_param_u64(query, "fb", 0, G_MAXUINT32, &fb, &error)
                   ? hw_cli_screen_rgba(s->cli, (guint32)fb, &sc, &error) : NULL;
  if (rgba == NULL) {
    hw_serve_reply_gerror(msg, error);
    return;
  }
  SoupMessageHeaders *hd = soup_server_message_get_response_headers(msg);
  char text[32];
  g_snprintf(text, sizeof text, "%u", sc.fb_id);
  soup_message_headers_replace(hd, "X-Haywire-Framebuffer", text);
  g_snprintf(text, sizeof text, "%u", sc.shown ? sc.crtc_id : 0);
  soup_message_headers_replace(hd, "X-Haywire-Crtc", text);
  soup_message_headers_replace(hd, "X-Haywire-Format", sc.format);
  soup_message_headers_replace(hd, "X-Haywire-Partial", sc.partial ? "1" : "0");
  hw_serve_reply_rgba(s, msg, rgba, sc.width, sc.height, hw_cli_state(s->cli, FALSE));
}

void
hw_serve_add_gpu(HwServe *s)
{
  soup_server_add_handler(s->server, "/api/gpu", on_gpu, s, NULL);
  soup_server_add_handler(s->server, "/api/screen", on_screen, s, NULL);
}
