/* haywire overview: all guest RAM as one picture, a pixel square per page, coloured
 * by what the page holds (zero, text, high entropy, image, page table, other data). */
#include "cli/cli.h"

#include <string.h>
#include <unistd.h>

#define MAX_TABLES (1u << 20)   /* page-table pages visited, over all address spaces */

typedef struct {
  const HwRamRange *ranges;
  guint n;
  GPtrArray *classes;
  GHashTable *seen;
} Marks;

static void
mark(Marks *m, guint64 gpa, guint64 len, HwPageClass cls)
{
  for (guint r = 0; r < m->n; r++) {
    const HwRamRange *range = &m->ranges[r];
    if (gpa >= range->gpa + range->size || gpa + len <= range->gpa)
      continue;
    guint64 from = MAX(gpa, range->gpa) - range->gpa;
    guint64 to = MIN(gpa + len, range->gpa + range->size) - range->gpa;
    guint8 *c = g_ptr_array_index(m->classes, r);
    for (guint64 p = from / 4096; p < (to + 4095) / 4096; p++)
      c[p] = (guint8)cls;
  }
}

static gboolean
mark_table(guint64 gpa, guint level, gpointer data)
{
  Marks *m = data;
  if (g_hash_table_contains(m->seen, &gpa))
    return FALSE;   /* shared (the kernel half): walked from another root already */
  g_hash_table_add(m->seen, g_memdup2(&gpa, sizeof gpa));
  mark(m, gpa, 4096, HW_PAGE_PAGETABLE);
  return TRUE;
}

/* Page-table pages of every process and of the kernel; FALSE if the guest's kernel
 * could not be found (the picture then has no page-table class). */
static gboolean
mark_page_tables(HwCli *cli, Marks *m, guint *n_spaces)
{
  g_autoptr(GError) error = NULL;
  HwLinux *lx = hw_cli_linux(cli, &error);
  if (lx == NULL) {
    g_debug("no page tables: %s", error->message);
    return FALSE;
  }
  guint64 budget = MAX_TABLES;
  budget -= hw_mmu_for_each_table(hw_linux_get_kernel_mmu(lx), mark_table, m, budget);
  g_autoptr(GArray) tasks = hw_linux_list_tasks(lx, FALSE, NULL, &error);
  for (guint i = 0; tasks && i < tasks->len && budget > 0; i++) {
    const HwTask *t = &g_array_index(tasks, HwTask, i);
    if (t->pgd_gpa == 0)
      continue;
    g_autoptr(HwMmu) mmu = hw_linux_task_mmu(lx, t, NULL);
    if (mmu) {
      budget -= hw_mmu_for_each_table(mmu, mark_table, m, budget);
      (*n_spaces)++;
    }
  }
  return TRUE;
}

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
  if (threads < 0 || threads > 256)
    return hw_cli_usage("overview", "bad --threads");

  if (!live && !hw_cli_pause(cli, &error))
    return hw_cli_fail(error);
  const char *state = live ? "live" : cli->we_paused ? "paused-by-haywire" : "already-paused";
  gint64 t0 = g_get_monotonic_time();
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  Marks m = { 0 };
  m.ranges = hw_physmem_get_ranges(mem, &m.n);
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  m.seen = seen;
  /* Progress on a terminal: classes first, then the image finders. */
  gboolean tty = !cli->json && isatty(STDERR_FILENO);
  g_autoptr(GPtrArray) classes = hw_scan_page_classes(mem, (guint)threads,
                                                      tty ? show_progress : NULL,
                                                      (gpointer)"classified", &error);
  g_autoptr(GArray) images = NULL;
  guint n_spaces = 0;
  gboolean tables = FALSE;
  if (classes) {
    m.classes = classes;
    images = hw_scan_phys(mem, NULL, (1u << HW_IMAGE_N_KINDS) - 1, (guint)threads,
                          tty ? show_progress : NULL, (gpointer)"scanned for images", NULL,
                          &error);
    tables = mark_page_tables(cli, &m, &n_spaces);
  }
  double paused_ms = (g_get_monotonic_time() - t0) / 1000.0;
  if (tty)
    fprintf(stderr, "\r\033[K");
  if (!hw_cli_release_after(cli, classes != NULL && images != NULL, &error))
    return hw_cli_fail(error);
  for (guint i = 0; i < images->len; i++) {
    const HwScanHit *h = &g_array_index(images, HwScanHit, i);
    mark(&m, h->gpa, MAX(h->image.size, 1), HW_PAGE_IMAGE);
  }

  guint64 counts[HW_PAGE_N_CLASSES] = { 0 }, total = 0;
  g_autofree HwOverviewRange *ranges = g_new0(HwOverviewRange, m.n);
  for (guint r = 0; r < m.n; r++) {
    const guint8 *c = g_ptr_array_index(classes, r);
    ranges[r] = (HwOverviewRange){ m.ranges[r].gpa, m.ranges[r].size / 4096, c };
    for (guint64 p = 0; p < ranges[r].n_pages; p++)
      counts[c[p] < HW_PAGE_N_CLASSES ? c[p] : HW_PAGE_DATA]++;
    total += ranges[r].n_pages;
  }
  g_autofree char *title = g_strdup_printf("guest RAM %" G_GUINT64_FORMAT " MiB, %s%s",
                                           total >> 8,
                                           live ? "live (may be torn)" : "one paused state",
                                           tables ? "" : ", page tables unknown");
  g_autoptr(HwCanvas) canvas = hw_overview_draw(ranges, m.n, title, &error);
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
    json_builder_add_int_value(b, images->len);
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
    fprintf(stderr, "; %u images; %s", images->len, state);
    if (!live)
      fprintf(stderr, " for %.1f ms", paused_ms);
    fprintf(stderr, "\n");
  }
  return HW_EXIT_OK;
}
