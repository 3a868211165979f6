/* haywire render: guest memory drawn as pixels of a chosen format, to a PNG file.
 * Unreadable parts (unmapped pages, holes between RAM ranges) are hatched. */
#include "cli/cli.h"

/* Where render reads from: through MMU, or guest-physical (holes read as zeros without
 * touching the mapping). The memory vanishing (QEMU exited) fails the render; other
 * unreadable bytes are hatched. */
typedef struct {
  const HwMmu *mmu;
  const HwExtents *holes;
  const HwPhysMem *mem;
  GError *gone;         /* set once the memory vanished: nothing more is read */
} Source;

static gboolean
source_read(gpointer ctx, guint64 addr, void *buf, gsize len)
{
  Source *s = ctx;
  g_autoptr(GError) e = NULL;
  if (s->gone != NULL)
    return FALSE;
  gboolean got = s->mmu ? hw_mmu_read(s->mmu, addr, buf, len, &e)
                        : hw_extents_read(s->holes, s->mem, addr, buf, len, &e);
  if (!got && g_error_matches(e, HW_ERROR, HW_ERROR_GONE))
    s->gone = g_steal_pointer(&e);
  return got;
}

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
  if (width <= 0 || height <= 0 || (guint)width > HW_RENDER_MAX_SIDE ||
      (guint)height > HW_RENDER_MAX_SIDE)
    return hw_cli_usage("render", "--width and --height must be between 1 and %u",
                        HW_RENDER_MAX_SIDE);
  if (scale < 1 || (guint)scale > HW_RENDER_MAX_SCALE ||
      (guint)(width * scale) > HW_RENDER_MAX_SIDE || (guint)(height * scale) > HW_RENDER_MAX_SIDE)
    return hw_cli_usage("render", "--scale must be 1-%u and the picture at most %u pixels a "
                        "side", HW_RENDER_MAX_SCALE, HW_RENDER_MAX_SIDE);
  if (phys && pid)
    return hw_cli_usage("render", "--phys and --pid exclude each other");
  if (pid < 0 || stride < 0)
    return hw_cli_usage("render", "bad --pid or --stride");
  guint64 row_bytes = hw_carve_row_bytes(f, (guint32)width);
  if (stride == 0)
    stride = (int)row_bytes;
  if ((guint64)stride < row_bytes)
    return hw_cli_usage("render", "--stride %d is less than a row of %d pixels (%" G_GUINT64_FORMAT
                        " bytes)", stride, width, row_bytes);
  HwRenderLayout layout = { .format = f, .width = (guint32)width, .height = (guint32)height,
                            .stride = (guint64)stride, .scale = (guint32)scale,
                            .keep_alpha = keep_alpha };
  guint64 total;
  if (!hw_carve_pixels_check(f, layout.width, layout.height, layout.stride, &total, &error)) {
    if (g_error_matches(error, HW_ERROR, HW_ERROR_LIMIT))
      return hw_cli_usage("render", "the picture covers more than %uM of memory",
                          HW_CARVE_MAX_BYTES >> 20);
    return hw_cli_usage("render", "%s", error->message);
  }
  guint64 addr;
  if (!hw_cli_parse_u64(argv[1], FALSE, &addr, &error))
    return hw_cli_fail(error);
  if (addr + total - 1 < addr)
    return hw_cli_usage("render", "ADDR + the picture's bytes wrap around");

  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  const char *state = hw_cli_state(cli, live);
  g_autoptr(HwMmu) mmu = phys ? NULL : hw_cli_mmu(cli, cpu, NULL, pid, &error);
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  g_autoptr(HwExtents) holes = phys ? hw_physmem_get_extents(mem) : NULL;
  Source src = { .mmu = mmu, .holes = holes, .mem = mem };
  HwReader reader = { .read = source_read, .ctx = &src };
  gboolean ok = phys || mmu != NULL;
  g_autoptr(HwRenderMemory) pic = ok ? hw_render_memory_read(&reader, addr, total, &error)
                                     : NULL;
  if (ok && pic == NULL)
    ok = FALSE;
  if (src.gone != NULL) {
    g_clear_error(&error);
    g_propagate_error(&error, g_steal_pointer(&src.gone));
    ok = FALSE;
  }
  if (!hw_cli_release_after(cli, ok, &error))
    return hw_cli_fail(error);

  guint32 out_w, out_h;
  g_autofree guint8 *rgba = hw_render_draw(pic, &layout, &out_w, &out_h, &error);
  if (rgba == NULL)
    return hw_cli_fail(error);
  if (!hw_png_write_rgba(out_path, out_w, out_h, rgba, (gsize)out_w * 4, &error))
    return hw_cli_fail(error);
  guint64 unreadable = hw_render_memory_get_unreadable(pic);

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, out_path);
    hw_cli_json_hex(b, "addr", addr);
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
