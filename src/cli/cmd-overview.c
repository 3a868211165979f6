/* haywire overview: all guest RAM as one picture, a pixel square per page, coloured
 * by what the page holds (zero, text, high entropy, image, page table, other data). */
#include "cli/cli.h"

#include <string.h>
#include <unistd.h>

static void
show_progress(guint64 done, guint64 total, gpointer what)
{
  fprintf(stderr, "\r%s %" G_GUINT64_FORMAT " / %" G_GUINT64_FORMAT " MiB", (const char *)what,
          done >> 20, total >> 20);
}

static const char *class_names[HW_PAGE_N_CLASSES] = {
  "zero", "data", "text", "high-entropy", "image", "page-table",
};

int
hw_cmd_overview(HwCli *cli, int argc, char **argv)
{
  int rc, threads = 0;
  gboolean live = FALSE;
  g_autofree char *out_path = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "the PNG file to write (required)",
      "FILE.png" },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest (the picture may be "
      "torn)", NULL },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "threads (default: one per core)", "N" },
    { NULL }
  };
  if (!hw_cli_parse("overview", NULL, "Draw all guest RAM as one picture: each 4 KiB page is "
                    "a small square, 512 pages (2 MiB) per row, coloured by what it holds: "
                    "zero, text, high entropy (compressed or encrypted), an image found by "
                    "the finders, a page table of the kernel or a process, or other data.",
                    entries, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("overview", "unexpected argument '%s'", argv[1]);
  if (out_path == NULL)
    return hw_cli_usage("overview", "give the output file with -o FILE.png");
  if (threads < 0 || threads > HW_SCAN_MAX_THREADS)
    return hw_cli_usage("overview", "bad --threads");

  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  const char *state = hw_cli_state(cli, live);
  gint64 t0 = g_get_monotonic_time();
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  /* Without a kernel model the picture has no page-table class. */
  g_autoptr(GError) lx_error = NULL;
  HwLinux *lx = hw_cli_linux(cli, &lx_error);
  if (lx == NULL)
    g_debug("no page tables: %s", lx_error->message);
  gboolean tty = !cli->json && isatty(STDERR_FILENO);
  HwOverviewPages pages;
  gboolean ok = hw_overview_collect(mem, lx, (guint)threads, tty ? show_progress : NULL,
                                    (gpointer)"scanned", &pages, &error);
  double paused_ms = (g_get_monotonic_time() - t0) / 1000.0;
  if (tty)
    fprintf(stderr, "\r\033[K");
  if (!hw_cli_release_after(cli, ok, &error)) {
    hw_overview_pages_clear(&pages);
    return hw_cli_fail(error);
  }
  guint n;
  const HwRamRange *ram = hw_physmem_get_ranges(mem, &n);
  GPtrArray *classes = pages.classes;
  gboolean tables = pages.tables_known;
  guint n_spaces = pages.n_spaces, n_images = pages.n_images;

  guint64 counts[HW_PAGE_N_CLASSES] = { 0 }, total = 0;
  g_autofree HwOverviewRange *ranges = g_new0(HwOverviewRange, n);
  for (guint r = 0; r < n; r++) {
    const guint8 *c = g_ptr_array_index(classes, r);
    ranges[r] = (HwOverviewRange){ ram[r].gpa, ram[r].size / HW_PAGE_SIZE, c };
    for (guint64 p = 0; p < ranges[r].n_pages; p++)
      counts[c[p] < HW_PAGE_N_CLASSES ? c[p] : HW_PAGE_DATA]++;
    total += ranges[r].n_pages;
  }
  g_autofree char *title = g_strdup_printf("guest RAM %" G_GUINT64_FORMAT " MiB, %s%s",
                                           total >> 8,
                                           live ? "live (may be torn)" : "one paused state",
                                           tables ? "" : ", page tables unknown");
  g_autoptr(HwCanvas) canvas = hw_overview_draw(ranges, n, title, &error);
  hw_overview_pages_clear(&pages);
  if (canvas == NULL || !hw_canvas_write_png(canvas, out_path, &error))
    return hw_cli_fail(error);

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "file");
    json_builder_add_string_value(b, out_path);
    json_builder_set_member_name(b, "width");
    json_builder_add_int_value(b, canvas->width);
    json_builder_set_member_name(b, "height");
    json_builder_add_int_value(b, canvas->height);
    json_builder_set_member_name(b, "pages");
    json_builder_add_int_value(b, (gint64)total);
    json_builder_set_member_name(b, "classes");
    json_builder_begin_object(b);
    for (guint k = 0; k < HW_PAGE_N_CLASSES; k++) {
      json_builder_set_member_name(b, class_names[k]);
      json_builder_add_int_value(b, (gint64)counts[k]);
    }
    json_builder_end_object(b);
    json_builder_set_member_name(b, "images");
    json_builder_add_int_value(b, n_images);
    json_builder_set_member_name(b, "address_spaces");
    json_builder_add_int_value(b, n_spaces);
    json_builder_set_member_name(b, "page_tables_known");
    json_builder_add_boolean_value(b, tables);
    json_builder_set_member_name(b, "state");
    json_builder_add_string_value(b, state);
    json_builder_set_member_name(b, "paused_ms");
    json_builder_add_double_value(b, live ? 0 : paused_ms);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else {
    fprintf(stderr, "wrote %s (%ux%u): %" G_GUINT64_FORMAT " pages;", out_path, canvas->width,
            canvas->height, total);
    for (guint k = 0; k < HW_PAGE_N_CLASSES; k++)
      fprintf(stderr, " %s %" G_GUINT64_FORMAT, class_names[k], counts[k]);
    fprintf(stderr, "; %u images; %s", n_images, state);
    if (!live)
      fprintf(stderr, " for %.1f ms", paused_ms);
    fprintf(stderr, "\n");
  }
  return HW_EXIT_OK;
}
