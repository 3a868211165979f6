/* haywire screen: what the guest displays, as a PNG, from guest memory alone: the
 * framebuffer on the primary plane of the active CRTC (or the one --fb names), its
 * pixels read where the DRM objects say they are, its format decoded. */
#include "cli/cli.h"

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
  HwCliScreen sc;
  g_autofree guint8 *rgba = hw_cli_screen_rgba(cli, (guint32)fb_id, &sc, &error);
  if (rgba == NULL || !hw_png_write_rgba(path, sc.width, sc.height, rgba, (gsize)sc.width * 4,
                                         &error))
    return hw_cli_fail(error);
  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "framebuffer");
    json_builder_add_int_value(b, sc.fb_id);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, sc.format);
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, sc.width);
    json_builder_set_member_name(b, "height");
    json_builder_add_int_value(b, sc.height);
    json_builder_set_member_name(b, "crtc");
    json_builder_add_int_value(b, sc.shown ? sc.crtc_id : 0);
    json_builder_set_member_name(b, "partial");
    json_builder_add_boolean_value(b, sc.partial);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    g_autofree char *shown = sc.shown ? g_strdup_printf(" on crtc %u", sc.crtc_id)
                                      : g_strdup(" (not shown)");
    printf("wrote %s: %ux%u, framebuffer %u (%s)%s%s\n", path, sc.width, sc.height, sc.fb_id,
           sc.format, shown, sc.partial ? ", partial: unreadable pixels are black" : "");
  }
  return HW_EXIT_OK;
}
