/* haywire render: guest memory drawn as pixels of a chosen format, to a PNG file.
 * Unreadable parts (unmapped pages, holes between RAM ranges) are hatched. */
#include "cli/cli.h"

#include <string.h>

#define MAX_SIDE 16384u
#define MAX_BYTES (256u << 20)
#define PAGE 4096u

/* Diagonal hatching for bytes that could not be read. */
static void
hatch(guint8 *px, guint x, guint y)
{
  gboolean stripe = ((x + y) / 4) % 2 == 0;
  px[0] = stripe ? 0x60 : 0x30, px[1] = stripe ? 0x20 : 0x18, px[2] = stripe ? 0x40 : 0x28;
  px[3] = 255;
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
  if (width <= 0 || height <= 0 || (guint)width > MAX_SIDE || (guint)height > MAX_SIDE)
    return hw_cli_usage("render", "--width and --height must be between 1 and %u", MAX_SIDE);
  if (scale < 1 || scale > 16 || (guint)(width * scale) > MAX_SIDE ||
      (guint)(height * scale) > MAX_SIDE)
    return hw_cli_usage("render", "--scale must be 1-16 and the picture at most %u pixels a "
                        "side", MAX_SIDE);
  if (phys && pid)
    return hw_cli_usage("render", "--phys and --pid exclude each other");
  if (pid < 0 || stride < 0)
    return hw_cli_usage("render", "bad --pid or --stride");
  guint bits = hw_pixel_format_bits(f);
  guint64 row_bytes = ((guint64)width * bits + 7) / 8;
  if (stride == 0)
    stride = (int)row_bytes;
  if ((guint64)stride < row_bytes)
    return hw_cli_usage("render", "--stride %d is less than a row of %d pixels (%" G_GUINT64_FORMAT
                        " bytes)", stride, width, row_bytes);
  guint64 total = (guint64)stride * (guint64)(height - 1) + row_bytes;
  if (total > MAX_BYTES)
    return hw_cli_usage("render", "the picture covers more than 256M of memory");
  guint64 addr;
  if (!hw_cli_parse_u64(argv[1], FALSE, &addr, &error))
    return hw_cli_fail(error);
  if (addr + total - 1 < addr)
    return hw_cli_usage("render", "ADDR + the picture's bytes wrap around");

  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  const char *state = live ? "live" : cli->we_paused ? "paused-by-haywire" : "already-paused";
  g_autoptr(HwMmu) mmu = phys ? NULL : hw_cli_mmu(cli, cpu, NULL, pid, &error);
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  g_autoptr(HwDataMap) holes = phys ? hw_physmem_map_data(mem) : NULL;
  g_autofree guint8 *data = g_malloc0(total);
  /* One flag per page-sized piece (pieces end at page boundaries of ADDR's space). */
  guint64 first_page = addr / PAGE, n_pieces = (addr + total - 1) / PAGE - first_page + 1;
  g_autofree guint8 *readable = g_malloc0(n_pieces);
  guint64 unreadable = 0;
  gboolean ok = phys || mmu != NULL;
  for (guint64 p = 0; ok && p < n_pieces; p++) {
    guint64 start = MAX(addr, (first_page + p) * PAGE);
    guint64 end = MIN(addr + total, (first_page + p + 1) * PAGE);
    gsize n = (gsize)(end - start);
    g_autoptr(GError) e = NULL;
    gboolean got = phys ? hw_data_map_read(holes, mem, start, data + (start - addr), n, &e)
                        : hw_mmu_read(mmu, start, data + (start - addr), n, &e);
    if (got) {
      readable[p] = 1;
    } else if (g_error_matches(e, HW_ERROR, HW_ERROR_GONE)) {
      g_propagate_error(&error, g_steal_pointer(&e));
      ok = FALSE;
    } else {
      unreadable += n;
    }
  }
  if (!hw_cli_release_after(cli, ok, &error))
    return hw_cli_fail(error);

  guint out_w = (guint)(width * scale), out_h = (guint)(height * scale);
  g_autofree guint8 *rgba = g_malloc((gsize)out_w * out_h * 4);
  g_autofree guint8 *row = g_malloc((gsize)width * 4);
  for (guint y = 0; y < (guint)height; y++) {
    guint64 row_off = (guint64)y * (guint64)stride;
    hw_pixels_to_rgba(f, data + row_off, 0, (guint)width, row);
    for (guint x = 0; x < (guint)width; x++) {
      if (!keep_alpha)
        row[4 * x + 3] = 255;
      guint64 byte = row_off + (guint64)x * bits / 8;
      if (!readable[(addr + byte) / PAGE - first_page])
        hatch(row + 4 * x, x, y);
    }
    for (guint sy = 0; sy < (guint)scale; sy++) {
      guint8 *dst = rgba + ((gsize)y * scale + sy) * out_w * 4;
      for (guint x = 0; x < (guint)width; x++)
        for (guint sx = 0; sx < (guint)scale; sx++)
          memcpy(dst + ((gsize)x * scale + sx) * 4, row + 4 * x, 4);
    }
  }
  if (!hw_png_write_rgba(out_path, out_w, out_h, rgba, (gsize)out_w * 4, &error))
    return hw_cli_fail(error);

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
