/* The RAM map from `info mtree -f`: captured QEMU 7.2 output and hostile text. */
#include <haywire/physmem.h>
#include <haywire/error.h>

#include <string.h>

#include "test-data.h"

static void
assert_ranges(const GArray *got, const HwRamRange *want, guint n_want)
{
  g_assert_nonnull(got);
  g_assert_cmpuint(got->len, ==, n_want);
  for (guint i = 0; i < n_want; i++) {
    const HwRamRange *r = &g_array_index(got, HwRamRange, i);
    g_assert_cmphex(r->gpa, ==, want[i].gpa);
    g_assert_cmphex(r->size, ==, want[i].size);
    g_assert_cmphex(r->file_offset, ==, want[i].file_offset);
  }
}

/* ---- captured output -------------------------------------------------------------------- */

typedef struct {
  const char *file;
  const char *region;
  HwRamRange ranges[4];
  guint n_ranges;
} CapturedCase;

static const CapturedCase captured_cases[] = {
  /* 512 MiB below 4 GiB: the five pieces (ram, PAM rom shadows, ram) merge into one. */
  { "mtree-q35-512m.txt", "ram0", { { 0, 0x20000000, 0 } }, 1 },
  { "mtree-la57.txt", "ram0", { { 0, 0x20000000, 0 } }, 1 },
  /* 4 GiB: 2 GiB below the PCI hole, the rest above 4 GiB at file offset 2 GiB. The
   * "memory" view is not the first flat view; the SMM view before it is ignored. */
  { "mtree-q35-4g.txt", "ram0",
    { { 0, 0x80000000, 0 }, { 0x100000000, 0x80000000, 0x80000000 } }, 2 },
  /* Any RAM-like region can be asked for: the BIOS ROM. */
  { "mtree-q35-512m.txt", "pc.bios", { { 0xfffc0000, 0x40000, 0 } }, 1 },
};

static void
test_captured(gconstpointer data)
{
  const CapturedCase *c = data;
  g_autofree char *text = hw_test_load_data(c->file);
  g_autoptr(GError) error = NULL;

  g_autoptr(GArray) ranges = hw_ram_map_parse_mtree(text, c->region, &error);
  g_assert_no_error(error);
  assert_ranges(ranges, c->ranges, c->n_ranges);

  /* The same text with bare \n line ends gives the same map. */
  g_auto(GStrv) parts = g_strsplit(text, "\r\n", -1);
  g_autofree char *lf = g_strjoinv("\n", parts);
  g_assert_null(strchr(lf, '\r'));
  g_autoptr(GArray) ranges_lf = hw_ram_map_parse_mtree(lf, c->region, &error);
  g_assert_no_error(error);
  assert_ranges(ranges_lf, c->ranges, c->n_ranges);
}

/* ---- merging ---------------------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *lines;      /* range lines of the "memory" view */
  HwRamRange ranges[3];
  guint n_ranges;
} MergeCase;

static const MergeCase merge_cases[] = {
  { "contiguous",
    "  0000000000000000-0000000000000fff (prio 0, ram): ram0 @0000000000010000\n"
    "  0000000000001000-0000000000001fff (prio 0, rom): ram0 @0000000000011000\n"
    "  0000000000002000-0000000000002fff (prio 0, romd): ram0 @0000000000012000\n",
    { { 0, 0x3000, 0x10000 } }, 1 },
  /* Next to each other in the address space but not in the file: two ranges. */
  { "file-offset-jump",
    "  0000000000000000-0000000000000fff (prio 0, ram): ram0\n"
    "  0000000000001000-0000000000001fff (prio 0, ram): ram0 @0000000000003000\n",
    { { 0, 0x1000, 0 }, { 0x1000, 0x1000, 0x3000 } }, 2 },
  { "file-offset-backwards",
    "  0000000000000000-0000000000000fff (prio 0, ram): ram0 @0000000000001000\n"
    "  0000000000001000-0000000000001fff (prio 0, ram): ram0 @0000000000000000\n",
    { { 0, 0x1000, 0x1000 }, { 0x1000, 0x1000, 0 } }, 2 },
  /* Next to each other in the file but not in the address space: two ranges. */
  { "address-gap",
    "  0000000000000000-0000000000000fff (prio 0, ram): ram0\n"
    "  0000000000002000-0000000000002fff (prio 0, ram): ram0 @0000000000001000\n",
    { { 0, 0x1000, 0 }, { 0x2000, 0x1000, 0x1000 } }, 2 },
  /* Another region in between: ours has a hole there. */
  { "other-region-between",
    "  0000000000000000-0000000000000fff (prio 0, ram): ram0\n"
    "  0000000000001000-0000000000001fff (prio 1, ram): vga.vram\n"
    "  0000000000002000-0000000000002fff (prio 0, ram): ram0 @0000000000002000\n",
    { { 0, 0x1000, 0 }, { 0x2000, 0x1000, 0x2000 } }, 2 },
};

static void
test_merge(gconstpointer data)
{
  const MergeCase *c = data;
  g_autofree char *text = g_strconcat("FlatView #0\n AS \"memory\", root: system\n"
                                      " Root memory region: system\n", c->lines, NULL);
  g_autoptr(GError) error = NULL;

  g_autoptr(GArray) ranges = hw_ram_map_parse_mtree(text, "ram0", &error);
  g_assert_no_error(error);
  assert_ranges(ranges, c->ranges, c->n_ranges);
}

/* ---- texts that give no map ------------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *file;       /* captured file, or NULL to use TEXT */
  const char *text;
  const char *region;
  gint code;              /* HwError */
} BadTextCase;

#define IO_VIEW                                                                            \
  "FlatView #0\n"                                                                         \
  " AS \"I/O\", root: io\n"                                                               \
  " Root memory region: io\n"                                                             \
  "  0000000000000000-0000000000000007 (prio 0, i/o): dma-chan\n"

static const BadTextCase bad_text_cases[] = {
  { "empty", NULL, "", "ram0", HW_ERROR_PROTOCOL },
  { "blank-lines", NULL, "\r\n\r\n\n", "ram0", HW_ERROR_PROTOCOL },
  { "garbage", NULL, "unknown command: 'info mtree'\r\n", "ram0", HW_ERROR_PROTOCOL },
  { "io-view-only", NULL, IO_VIEW, "ram0", HW_ERROR_PROTOCOL },
  /* The SMM view's root is the "memory" region, but it is not the AS "memory". */
  { "smm-view-only", NULL,
    "FlatView #1\r\n"
    " AS \"cpu-smm-0\", root: memory\r\n"
    " Root memory region: memory\r\n"
    "  0000000000000000-000000001fffffff (prio 0, ram): ram0\r\n",
    "ram0", HW_ERROR_PROTOCOL },
  { "other-as-name", NULL,
    "FlatView #0\n"
    " AS \"memoryx\", root: system\n"
    "  0000000000000000-000000001fffffff (prio 0, ram): ram0\n",
    "ram0", HW_ERROR_PROTOCOL },
  { "region-absent", "mtree-q35-4g.txt", NULL, "pc.ram", HW_ERROR_NO_MEMORY_FILE },
  { "region-prefix", "mtree-q35-4g.txt", NULL, "ram", HW_ERROR_NO_MEMORY_FILE },
  { "region-longer", "mtree-q35-4g.txt", NULL, "ram00", HW_ERROR_NO_MEMORY_FILE },
  { "region-is-io", "mtree-q35-4g.txt", NULL, "ahci", HW_ERROR_NO_MEMORY_FILE },
  /* The region is RAM only in a view after "memory": not ours. */
  { "region-in-later-view", NULL,
    "FlatView #0\n"
    " AS \"memory\", root: system\n"
    " Root memory region: system\n"
    "  00000000fffc0000-00000000ffffffff (prio 0, rom): pc.bios\n"
    "\n"
    "FlatView #1\n"
    " AS \"cpu-smm-0\", root: memory\n"
    "  0000000000000000-000000001fffffff (prio 0, ram): ram0\n",
    "ram0", HW_ERROR_NO_MEMORY_FILE },
  { "memory-view-empty", NULL,
    "FlatView #0\n"
    " AS \"memory\", root: system\n"
    " Root memory region: (none)\n"
    "  No rendered FlatView\n",
    "ram0", HW_ERROR_NO_MEMORY_FILE },
};

static void
test_bad_text(gconstpointer data)
{
  const BadTextCase *c = data;
  g_autofree char *text = c->file ? hw_test_load_data(c->file) : g_strdup(c->text);
  g_autoptr(GError) error = NULL;

  g_autoptr(GArray) ranges = hw_ram_map_parse_mtree(text, c->region, &error);
  g_assert_null(ranges);
  g_assert_error(error, HW_ERROR, c->code);
}

/* ---- hostile lines are skipped ---------------------------------------------------------- */

typedef struct {
  const char *name;
  const char *line;
} HostileCase;

static const HostileCase hostile_cases[] = {
  { "overlong-start",
    "  00000000000000000000000000200000-00000000002fffff (prio 0, ram): ram0 @0000000000200000" },
  { "overlong-last",
    "  0000000000200000-000000000000000000000000002fffff (prio 0, ram): ram0 @0000000000200000" },
  { "overlong-offset",
    "  0000000000200000-00000000002fffff (prio 0, ram): ram0 @000000000000000000000000200000" },
  { "overflowing-hex",
    "  0000000000200000-fffffffffffffffffffff (prio 0, ram): ram0 @0000000000200000" },
  { "last-below-start",
    "  0000000000300000-00000000002fffff (prio 0, ram): ram0 @0000000000200000" },
  { "missing-close-paren",
    "  0000000000200000-00000000002fffff (prio 0, ram: ram0 @0000000000200000" },
  { "missing-open-paren",
    "  0000000000200000-00000000002fffff prio 0, ram): ram0 @0000000000200000" },
  { "missing-dash",
    "  0000000000200000 00000000002fffff (prio 0, ram): ram0 @0000000000200000" },
  { "missing-last",
    "  0000000000200000- (prio 0, ram): ram0 @0000000000200000" },
  { "signed-start",
    "  -000000000200000-00000000002fffff (prio 0, ram): ram0 @0000000000200000" },
  { "empty-offset",
    "  0000000000200000-00000000002fffff (prio 0, ram): ram0 @" },
  { "bad-offset",
    "  0000000000200000-00000000002fffff (prio 0, ram): ram0 @zz" },
  { "whole-address-space",
    "  0000000000000000-ffffffffffffffff (prio 0, ram): ram0" },
  { "end-wraps-to-zero",
    "  fffffffffffff000-ffffffffffffffff (prio 0, ram): ram0 @0000000000200000" },
  { "offset-wraps",
    "  0000000000200000-00000000002fffff (prio 0, ram): ram0 @ffffffffffff0000" },
  { "offset-end-wraps-to-zero",
    "  0000000000200000-00000000002fffff (prio 0, ram): ram0 @fffffffffff00000" },
  { "io-type",
    "  0000000000200000-00000000002fffff (prio 0, i/o): ram0 @0000000000200000" },
  { "no-type",
    "  0000000000200000-00000000002fffff (): ram0 @0000000000200000" },
  { "name-glued-to-offset",
    "  0000000000200000-00000000002fffff (prio 0, ram): ram0@0000000000200000" },
  { "no-name",
    "  0000000000200000-00000000002fffff (prio 0, ram): " },
  { "only-spaces", "                " },
  { "truncated", "  0000000000200000" },
};

/* One good range, then the hostile line, then another good range that would merge
 * with the first if the hostile line were taken as a gap filler. */
static void
test_hostile_line(gconstpointer data)
{
  const HostileCase *c = data;
  g_autofree char *text = g_strdup_printf(
    "FlatView #0\r\n"
    " AS \"memory\", root: system\r\n"
    " Root memory region: system\r\n"
    "  0000000000000000-00000000001fffff (prio 0, ram): ram0\r\n"
    "%s\r\n"
    "  0000000100000000-00000001000fffff (prio 0, ram): ram0 @0000000000400000\r\n"
    "\r\n"
    "FlatView #1\r\n"
    " AS \"I/O\", root: io\r\n",
    c->line);
  static const HwRamRange want[] = {
    { 0, 0x200000, 0 },
    { 0x100000000, 0x100000, 0x400000 },
  };
  g_autoptr(GError) error = NULL;

  g_autoptr(GArray) ranges = hw_ram_map_parse_mtree(text, "ram0", &error);
  g_assert_no_error(error);
  assert_ranges(ranges, want, G_N_ELEMENTS(want));
}

/* A very long line and many lines are parsed without trouble. (Kept moderate: under
 * ASan, g_strsplit's strstr is quadratic in the text size.) */
static void
test_long_input(void)
{
  const guint n_lines = 3000;
  g_autoptr(GString) text = g_string_new("FlatView #0\n AS \"memory\", root: system\n");
  g_string_append(text, "  ");
  for (guint i = 0; i < 1u << 20; i++)
    g_string_append_c(text, '0');
  g_string_append(text, "-0000000000000fff (prio 0, ram): ram0\n");
  for (guint i = 0; i < n_lines; i++)
    g_string_append_printf(text, "  %016x-%016x (prio 0, ram): ram0 @%016x\n",
                           i * 0x1000u, i * 0x1000u + 0xfffu, i * 0x1000u);
  g_autoptr(GError) error = NULL;

  g_autoptr(GArray) ranges = hw_ram_map_parse_mtree(text->str, "ram0", &error);
  g_assert_no_error(error);
  /* The long line is skipped; the contiguous lines merge into one range. */
  const HwRamRange want = { 0, n_lines * 0x1000ull, 0 };
  assert_ranges(ranges, &want, 1);
}

/* ---- device regions ---------------------------------------------------------------- */

/* bochs-display's VRAM at its BAR and the BIOS ROM, not the RAM backend (with its PAM
 * ROM shadows, which are ram0 too). */
static void
test_devices_captured(void)
{
  g_autofree char *text = hw_test_load_data("mtree-q35-bochs.txt");
  static const char *const backends[] = { "ram0", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) d = hw_ram_map_parse_devices(text, backends, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(d->len, ==, 2);
  const HwDevicePiece *v = &g_array_index(d, HwDevicePiece, 0);
  g_assert_cmpstr(v->name, ==, "bochs-display-vram");
  g_assert_cmphex(v->piece.gpa, ==, 0xfd000000);
  g_assert_cmphex(v->piece.size, ==, 16u << 20);
  const HwDevicePiece *b = &g_array_index(d, HwDevicePiece, 1);
  g_assert_cmpstr(b->name, ==, "pc.bios");
  g_assert_cmphex(b->piece.gpa, ==, 0xfffc0000);
  g_assert_cmphex(b->piece.size, ==, 0x40000);
  /* Without the backend named, its ranges count as device memory too. */
  g_autoptr(GArray) all = hw_ram_map_parse_devices(text, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(all->len, >, 2);
  /* The RAM-only capture has the BIOS only. */
  g_autofree char *plain = hw_test_load_data("mtree-q35-512m.txt");
  g_autoptr(GArray) p = hw_ram_map_parse_devices(plain, backends, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(p->len, ==, 1);
  g_assert_cmpstr(g_array_index(p, HwDevicePiece, 0).name, ==, "pc.bios");
}

/* Hostile text: no memory view is an error; I/O lines, nameless ranges and wraps are
 * skipped; a flood stops at 64 regions; names are copied, not pointers into the text. */
static void
test_devices_hostile(void)
{
  g_autoptr(GError) error = NULL;
  g_assert_null(hw_ram_map_parse_devices("FlatView #0\n AS \"I/O\", root: io\n", NULL, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_PROTOCOL);
  g_clear_error(&error);
  g_autoptr(GString) t = g_string_new("FlatView #0\n AS \"memory\", root: system\n"
                                      "  0000000000000000-0000000000000fff (prio 0, i/o): vga\n"
                                      "  0000000000001000-0000000000001fff (prio 0, ram): \n"
                                      "  ffffffffffff0000-ffffffffffffffff (prio 0, ram): top\n"
                                      "  0000000000003000-0000000000002fff (prio 0, ram): back\n");
  for (guint i = 0; i < 100; i++)
    g_string_append_printf(t, "  %016x-%016x (prio 0, rom): rom%u @0000000000000010\n",
                           0x100000u + i * 0x1000u, 0x100fffu + i * 0x1000u, i);
  GArray *d = hw_ram_map_parse_devices(t->str, NULL, &error);
  g_assert_no_error(error);
  g_string_free(g_steal_pointer(&t), TRUE);
  g_assert_cmpuint(d->len, ==, 64);
  const HwDevicePiece *first = &g_array_index(d, HwDevicePiece, 0);
  g_assert_cmpstr(first->name, ==, "rom0");
  g_assert_cmphex(first->piece.offset, ==, 0x10);
  g_assert_cmpstr(g_array_index(d, HwDevicePiece, 63).name, ==, "rom63");
  g_array_unref(d);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  for (guint i = 0; i < G_N_ELEMENTS(captured_cases); i++) {
    const CapturedCase *c = &captured_cases[i];
    g_autofree char *base = g_strndup(c->file, strlen(c->file) - strlen(".txt"));
    g_autofree char *path = g_strdup_printf("/guest/ram-map/%s/%s", base, c->region);
    g_test_add_data_func(path, c, test_captured);
  }
  for (guint i = 0; i < G_N_ELEMENTS(merge_cases); i++) {
    g_autofree char *path = g_strdup_printf("/guest/ram-map/merge/%s", merge_cases[i].name);
    g_test_add_data_func(path, &merge_cases[i], test_merge);
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad_text_cases); i++) {
    g_autofree char *path = g_strdup_printf("/guest/ram-map/bad/%s", bad_text_cases[i].name);
    g_test_add_data_func(path, &bad_text_cases[i], test_bad_text);
  }
  for (guint i = 0; i < G_N_ELEMENTS(hostile_cases); i++) {
    g_autofree char *path = g_strdup_printf("/guest/ram-map/hostile/%s", hostile_cases[i].name);
    g_test_add_data_func(path, &hostile_cases[i], test_hostile_line);
  }
  g_test_add_func("/guest/ram-map/long-input", test_long_input);
  g_test_add_func("/guest/ram-map/devices/captured", test_devices_captured);
  g_test_add_func("/guest/ram-map/devices/hostile", test_devices_hostile);
  return g_test_run();
}
