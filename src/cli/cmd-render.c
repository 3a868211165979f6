/* haywire render: guest memory drawn as pixels of a chosen format, to a PNG file.
 * Unreadable parts (unmapped pages, holes between RAM ranges) are hatched. */
#include "cli/memory-view.h"

int
hw_cmd_render(HwCli *cli, int argc, char **argv)
{
  int rc, cpu = 0, pid = 0, width = 0, height = 256, stride = 0, scale = 1;
  gboolean phys = FALSE, live = FALSE, keep_alpha = FALSE;
  g_autofree char *format = NULL, *out_path = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "width", 'w', 0, G_OPTION_ARG_INT, &width, "pixels per row (required)", "W" },
    { "height", 0, 0, G_OPTION_ARG_INT, &height, "rows (default 256)", "H" },
    { "stride", 's', 0, G_OPTION_ARG_INT, &stride, "bytes from one row to the next (default: "
      "the width's bytes)", "S" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format, "rgb888, bgr888, rgba8888, bgra8888, "
      "xrgb8888, rgb565, gray8 or 1-bit (required)", "FMT" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "the PNG file to write (required)",
      "FILE.png" },
    { "scale", 0, 0, G_OPTION_ARG_INT, &scale, "draw each pixel as an NxN square (1-16)", "N" },
    { "phys", 'p', 0, G_OPTION_ARG_NONE, &phys, "ADDR is a guest-physical address", NULL },
    { "pid", 'P', 0, G_OPTION_ARG_INT, &pid, "ADDR is in the address space of Linux process "
      "PID", "PID" },
    { "cpu", 'c', 0, G_OPTION_ARG_INT, &cpu, "translate through vCPU N's page tables "
      "(default 0)", "N" },
    { "keep-alpha", 0, 0, G_OPTION_ARG_NONE, &keep_alpha, "write the alpha bytes of rgba8888/"
      "bgra8888 as they are (default: opaque, so zero memory shows black)", NULL },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest while reading", NULL },
    { NULL }
  };
  if (!hw_cli_parse("render", "ADDR", "Draw guest memory at ADDR (virtual, or --phys) as a "
                    "picture: W pixels per row in format FMT, rows STRIDE bytes apart. Pages "
                    "that cannot be read are hatched.", entries, &argc, &argv, &rc))
    return rc;
  if (argc != 2)
    return hw_cli_usage("render", argc < 2 ? "need ADDR" : "unexpected argument '%s'",
                        argv[argc < 2 ? 0 : 2]);
  HwPixelFormat f;
  if (format == NULL)
    return hw_cli_usage("render", "give the pixel format with --format FMT");
  if (!hw_pixel_format_parse(format, &f))
    return hw_cli_usage("render", "unknown pixel format '%s' (rgb888, bgr888, rgba8888, "
                        "bgra8888, xrgb8888, rgb565, gray8, 1-bit)", format);
  if (out_path == NULL)
    return hw_cli_usage("render", "give the output file with -o FILE.png");
  if (width <= 0 || height <= 0 || scale <= 0 || pid < 0 || stride < 0 || cpu < 0)
    return hw_cli_usage("render", "--width, --height and --scale must be positive, --pid, "
                        "--stride and --cpu not negative");
  HwMemoryView view = {
    .layout = { .format = f, .width = (guint32)width, .height = (guint32)height,
                .stride = (guint64)stride, .scale = (guint32)scale, .keep_alpha = keep_alpha },
    .phys = phys, .pid = pid, .cpu = cpu, .live = live,
  };
  if (!hw_cli_parse_u64(argv[1], FALSE, &view.addr, &error))
    return hw_cli_fail(error);
  guint64 total;
  if (!hw_memory_view_check(&view, &total, &error))
    return hw_cli_usage("render", "%s", error->message);
  stride = (int)view.layout.stride;

  guint32 out_w, out_h;
  guint64 unreadable = 0;
  const char *state = NULL;
  g_autofree guint8 *rgba = hw_memory_view_draw(cli, &view, &out_w, &out_h, &unreadable,
                                                &state, &error);
  if (rgba == NULL)
    return hw_cli_fail(error);
  if (!hw_png_write_rgba(out_path, out_w, out_h, rgba, (gsize)out_w * 4, &error))
    return hw_cli_fail(error);

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, out_path);
    hw_cli_json_hex(b, "addr", view.addr);
    json_builder_set_member_name(b, "phys");
    json_builder_add_boolean_value(b, phys);
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, width);
    json_builder_set_member_name(b, "height");
    json_builder_add_int_value(b, height);
    json_builder_set_member_name(b, "stride");
    json_builder_add_int_value(b, stride);
    json_builder_set_member_name(b, "format");
    json_builder_add_string_value(b, hw_pixel_format_name(f));
    json_builder_set_member_name(b, "unreadable_bytes");
    json_builder_add_int_value(b, (gint64)unreadable);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, state);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    fprintf(stderr, "wrote %s: %ux%u, %s, %" G_GUINT64_FORMAT " bytes of memory",
            out_path, out_w, out_h, hw_pixel_format_name(f), total);
    if (unreadable)
      fprintf(stderr, " (%" G_GUINT64_FORMAT " unreadable, hatched)", unreadable);
    fprintf(stderr, "\n");
  }
  return HW_EXIT_OK;
}
