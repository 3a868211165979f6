/* The diff picture (hw_diff_draw): pages coloured by change on the overview's layout,
 * read back from its PNG file; bad input from a table.
 * HW_DIFF_SAMPLE=path.png keeps the sample picture for a person to look at. */
#include <haywire/haywire.h>
#include "../common/read-png.h"

#include <glib/gstdio.h>

/* Two ranges with a hole between: 10340 pages from 0 (a partial last row), 1536 at 4 GiB. */
#define NA (20 * 512 + 100)
#define NB (3 * 512)
static const HwRamRange ram[] = {
  { 0, NA * 4096ull, 0 },
  { 1ull << 32, NB * 4096ull, NA * 4096ull },
};
static const HwOverviewRange where[] = { { 0, NA, NULL }, { 1ull << 32, NB, NULL } };

/* The square of the page at GPA is all colour RGB, in the canvas and in its PNG file. */
static void
assert_square(const HwCanvas *c, const guint8 *png, guint64 gpa, guint32 rgb)
{
  guint x, y, side;
  g_assert_true(hw_overview_locate(where, G_N_ELEMENTS(where), gpa, &x, &y, &side));
  g_assert_cmpuint(side, ==, 2);
  for (guint dy = 0; dy < side; dy++)
    for (guint dx = 0; dx < side; dx++) {
      g_assert_cmphex(hw_test_rgb(c->rgba, c->width, x + dx, y + dy), ==, rgb);
      g_assert_cmphex(hw_test_rgb(png, c->width, x + dx, y + dy), ==, rgb);
    }
}

static void
test_diff_draw(void)
{
  /* Not in gpa order: the lookup must not depend on it. */
  const HwPageDiff pages[] = {
    { 5 * 4096, HW_PAGE_CHANGED },
    { (3 * 512 + 7) * 4096, HW_PAGE_CHANGED },
    { (NA - 1) * 4096ull, HW_PAGE_CHANGED },               /* last page of the partial row */
    { 1ull << 32, HW_PAGE_APPEARED },                      /* first page of the second range */
    { (1ull << 32) + (NB - 1) * 4096ull, HW_PAGE_VANISHED },
    { 600 * 4096, HW_PAGE_APPEARED },
    { 601 * 4096, HW_PAGE_VANISHED },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwCanvas) c = hw_diff_draw(ram, G_N_ELEMENTS(ram), pages, G_N_ELEMENTS(pages),
                                       "a.snap -> b.snap", &error);
  g_assert_no_error(error);
  g_assert_nonnull(c);

  /* The overview's layout: the same size as the overview of the same ranges. */
  g_autofree guint8 *zeros_a = g_malloc0(NA), *zeros_b = g_malloc0(NB);
  const HwOverviewRange classes[] = { { 0, NA, zeros_a }, { 1ull << 32, NB, zeros_b } };
  g_autoptr(HwCanvas) o = hw_overview_draw(classes, 2, "x", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(c->width, ==, o->width);
  g_assert_cmpuint(c->height, ==, o->height);

  /* Through a PNG file and back. */
  g_autofree char *dir = g_dir_make_tmp("hw-diff-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "diff.png", NULL);
  g_assert_true(hw_canvas_write_png(c, path, &error));
  g_assert_no_error(error);
  guint w, h;
  g_autofree guint8 *png = hw_test_read_png(path, &w, &h);
  g_assert_cmpuint(w, ==, c->width);
  g_assert_cmpuint(h, ==, c->height);

  /* Four colours, distinct, none the background's. */
  for (guint k = 0; k <= HW_DIFF_UNCHANGED; k++) {
    g_assert_cmphex(hw_diff_colour(k), !=, hw_test_rgb(c->rgba, c->width, 0, 0));
    for (guint j = 0; j < k; j++)
      g_assert_cmphex(hw_diff_colour(j), !=, hw_diff_colour(k));
  }
  g_assert_cmphex(hw_diff_colour(99), ==, hw_diff_colour(HW_DIFF_UNCHANGED));

  for (gsize i = 0; i < G_N_ELEMENTS(pages); i++)
    assert_square(c, png, pages[i].gpa, hw_diff_colour(pages[i].change));
  /* Unchanged pages: beside the changed ones, in both ranges, an unaligned address. */
  const guint64 unchanged[] = { 0, 4 * 4096, 6 * 4096 + 123, 602 * 4096, (NA - 2) * 4096ull,
                                (1ull << 32) + 4096, (1ull << 32) + (NB - 2) * 4096ull };
  for (gsize i = 0; i < G_N_ELEMENTS(unchanged); i++)
    assert_square(c, png, unchanged[i], hw_diff_colour(HW_DIFF_UNCHANGED));

  /* Every page's square: only the 7 listed are not dim. */
  guint lit = 0, last_y = 0;
  for (guint r = 0; r < G_N_ELEMENTS(where); r++)
    for (guint64 p = 0; p < where[r].n_pages; p++) {
      guint x, y, side;
      g_assert_true(hw_overview_locate(where, 2, where[r].gpa + p * 4096, &x, &y, &side));
      lit += hw_test_rgb(c->rgba, c->width, x, y) != hw_diff_colour(HW_DIFF_UNCHANGED);
      last_y = MAX(last_y, y + side);
    }
  g_assert_cmpuint(lit, ==, G_N_ELEMENTS(pages));
  /* The legend below the pages: a swatch of each colour. */
  for (guint k = 0; k <= HW_DIFF_UNCHANGED; k++)
    g_assert_cmpuint(hw_test_count_colour(c, 0, last_y, c->width, c->height, hw_diff_colour(k)), >=,
                     16 * 16);

  g_unlink(path);
  g_rmdir(dir);
}

/* No pages differ: every square dim; no pages at all is no error either. */
static void
test_diff_empty(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(HwCanvas) c = hw_diff_draw(ram, 1, NULL, 0, NULL, &error);
  g_assert_no_error(error);
  guint x, y, side, lit = 0;
  for (guint64 p = 0; p < NA; p++) {
    g_assert_true(hw_overview_locate(where, 1, p * 4096, &x, &y, &side));
    lit += hw_test_rgb(c->rgba, c->width, x, y) != hw_diff_colour(HW_DIFF_UNCHANGED);
  }
  g_assert_cmpuint(lit, ==, 0);
  /* The legend lists every entry, zero or not: the changed colour is its swatch alone. */
  g_assert_cmpuint(hw_test_count_colour(c, 0, y + side, c->width, c->height,
                                hw_diff_colour(HW_PAGE_CHANGED)), ==, 16 * 16);
}

/* A picture of a realistic diff: 512 MiB, a few runs of each change. */
static void
test_diff_sample(void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed(7);
  const HwRamRange sample[] = { { 0, 384ull << 20, 0 }, { 1ull << 32, 128ull << 20, 0 } };
  g_autoptr(GArray) pages = g_array_new(FALSE, FALSE, sizeof(HwPageDiff));
  for (guint r = 0; r < 2; r++)
    for (guint64 p = 0; p < sample[r].size / 4096; p++) {
      double u = g_rand_double(rand);
      if (u < 0.02) {
        HwPageDiff d = { sample[r].gpa + p * 4096, u < 0.012 ? HW_PAGE_CHANGED
                                                   : u < 0.017 ? HW_PAGE_APPEARED
                                                               : HW_PAGE_VANISHED };
        g_array_append_val(pages, d);
      }
    }
  g_autoptr(GError) error = NULL;
  g_autoptr(HwCanvas) c = hw_diff_draw(sample, 2, (const HwPageDiff *) pages->data, pages->len,
                                       "before.snap -> now", &error);
  g_assert_no_error(error);
  const char *keep = g_getenv("HW_DIFF_SAMPLE");
  if (keep != NULL) {
    g_assert_true(hw_canvas_write_png(c, keep, &error));
    g_assert_no_error(error);
  }
}

static void
test_diff_errors(void)
{
  const HwPageDiff inside = { 4096, HW_PAGE_CHANGED };
  const struct {
    const char *what;
    const HwRamRange *ranges;
    guint n_ranges;
    HwPageDiff page;      /* the one page, or none if gpa is G_MAXUINT64 */
    gboolean null_pages;
    gint code;
  } cases[] = {
    { "no ranges", ram, 0, inside, FALSE, HW_ERROR_INVALID_ARGUMENT },
    { "NULL ranges", NULL, 2, inside, FALSE, HW_ERROR_INVALID_ARGUMENT },
    { "NULL pages", ram, 2, inside, TRUE, HW_ERROR_INVALID_ARGUMENT },
    { "in the hole", ram, 2, { NA * 4096ull, HW_PAGE_CHANGED }, FALSE,
      HW_ERROR_INVALID_ARGUMENT },
    { "past the end", ram, 2, { (1ull << 32) + NB * 4096ull, HW_PAGE_APPEARED }, FALSE,
      HW_ERROR_INVALID_ARGUMENT },
    { "second range only", ram + 1, 1, inside, FALSE, HW_ERROR_INVALID_ARGUMENT },
    { "top of the address space", ram, 2, { G_MAXUINT64 - 10, HW_PAGE_VANISHED }, FALSE,
      HW_ERROR_INVALID_ARGUMENT },
    { "unknown change", ram, 2, { 4096, (HwPageChange) 3 }, FALSE, HW_ERROR_INVALID_ARGUMENT },
    { "unknown change (negative)", ram, 2, { 4096, (HwPageChange) -1 }, FALSE,
      HW_ERROR_INVALID_ARGUMENT },
    { "range wraps", (const HwRamRange[]) { { G_MAXUINT64 - 4095, 8192, 0 } }, 1, inside,
      FALSE, HW_ERROR_INVALID_ARGUMENT },
    { "64 GiB", (const HwRamRange[]) { { 0, 64ull << 30, 0 } }, 1, inside, FALSE,
      HW_ERROR_LIMIT },
    { "rows fit, legend does not", (const HwRamRange[]) { { 0, 16300ull << 21, 0 } }, 1,
      inside, FALSE, HW_ERROR_LIMIT },
  };
  for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_test_message("case %" G_GSIZE_FORMAT ": %s", i, cases[i].what);
    g_assert_null(hw_diff_draw(cases[i].ranges, cases[i].n_ranges,
                               cases[i].null_pages ? NULL : &cases[i].page, 1, "x", &error));
    g_assert_error(error, HW_ERROR, cases[i].code);
  }
  /* A bad page after good ones is still found; NULL error is allowed. */
  const HwPageDiff two[] = { inside, { NA * 4096ull, HW_PAGE_CHANGED } };
  g_assert_null(hw_diff_draw(ram, 2, two, 2, NULL, NULL));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/output/diff-picture/draw", test_diff_draw);
  g_test_add_func("/output/diff-picture/empty", test_diff_empty);
  g_test_add_func("/output/diff-picture/sample", test_diff_sample);
  g_test_add_func("/output/diff-picture/errors", test_diff_errors);
  return g_test_run();
}
