/* Guest-physical memory: range lookup over a buffer, range checks, and a memory file
 * that shrinks under the mapping (SIGBUS guard). */
#include <haywire/physmem.h>
#include <haywire/error.h>

#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define DATA_SIZE 0x10000

/* Byte at file offset OFF of the synthetic memory file. */
static guint8
pattern(gsize off)
{
  return (guint8)((off * 7 + (off >> 8) * 13 + 3) & 0xff);
}

static guint8 *
make_data(gsize size)
{
  guint8 *data = g_malloc(size);
  for (gsize i = 0; i < size; i++)
    data[i] = pattern(i);
  return data;
}

/* Two ranges with a gap between, the second lower in the file; given out of order. */
static const HwRamRange two_ranges[] = {
  { 0x10000, 0x2000, 0x1000 },   /* B */
  { 0x1000, 0x4000, 0x8000 },    /* A */
};

static HwPhysMem *
make_two_range_mem(guint8 **data)
{
  g_autoptr(GError) error = NULL;
  *data = make_data(DATA_SIZE);
  HwPhysMem *mem = hw_physmem_new_from_data(*data, DATA_SIZE, two_ranges,
                                            G_N_ELEMENTS(two_ranges), &error);
  g_assert_no_error(error);
  g_assert_nonnull(mem);
  return mem;
}

static void
test_ranges(void)
{
  g_autofree guint8 *data = NULL;
  g_autoptr(HwPhysMem) mem = make_two_range_mem(&data);
  guint n = 0;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);

  g_assert_cmpuint(n, ==, 2);
  g_assert_cmphex(r[0].gpa, ==, 0x1000);
  g_assert_cmphex(r[0].size, ==, 0x4000);
  g_assert_cmphex(r[0].file_offset, ==, 0x8000);
  g_assert_cmphex(r[1].gpa, ==, 0x10000);
  g_assert_cmphex(r[1].size, ==, 0x2000);
  g_assert_cmphex(r[1].file_offset, ==, 0x1000);
  g_assert_cmphex(hw_physmem_get_ram_size(mem), ==, 0x6000);
}

typedef struct {
  const char *name;
  guint64 gpa;
  gsize len;
  gsize file_off;          /* where the bytes come from */
} GoodReadCase;

static const GoodReadCase good_reads[] = {
  { "first-byte-of-a", 0x1000, 1, 0x8000 },
  { "inside-a", 0x2345, 0x100, 0x9345 },
  { "all-of-a", 0x1000, 0x4000, 0x8000 },
  { "last-byte-of-a", 0x4fff, 1, 0xbfff },
  { "first-byte-of-b", 0x10000, 1, 0x1000 },
  { "all-of-b", 0x10000, 0x2000, 0x1000 },
  { "last-qword-of-b", 0x11ff8, 8, 0x2ff8 },
};

static void
test_good_read(gconstpointer p)
{
  const GoodReadCase *c = p;
  g_autofree guint8 *data = NULL;
  g_autoptr(HwPhysMem) mem = make_two_range_mem(&data);
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc0(c->len);

  g_assert_true(hw_physmem_read(mem, c->gpa, buf, c->len, &error));
  g_assert_no_error(error);
  g_assert_cmpmem(buf, c->len, data + c->file_off, c->len);
  g_assert_true(hw_physmem_ptr(mem, c->gpa, c->len) == data + c->file_off);
}

typedef struct {
  const char *name;
  guint64 gpa;
  gsize len;
} BadReadCase;

/* All fail with HW_ERROR_OUT_OF_RANGE and leave the buffer alone. */
static const BadReadCase bad_reads[] = {
  { "below-first-range", 0x0, 1 },
  { "into-a-from-below", 0xfff, 2 },
  { "crossing-end-of-a", 0x4ff0, 0x20 },
  { "one-past-a", 0x5000, 1 },
  { "in-the-gap", 0x8000, 8 },
  { "gap-into-b", 0xfff8, 0x10 },
  { "a-through-gap-into-b", 0x1000, 0x11000 },
  { "crossing-end-of-b", 0x11fff, 2 },
  { "beyond-last-range", 0x12000, 1 },
  { "far-beyond", 0x100000000ull, 0x1000 },
  { "top-of-address-space", G_MAXUINT64, 1 },
  { "length-wraps", 0x1000, G_MAXSIZE },
  { "length-wraps-from-b", 0x11fff, G_MAXSIZE - 0x10 },
};

static void
test_bad_read(gconstpointer p)
{
  const BadReadCase *c = p;
  g_autofree guint8 *data = NULL;
  g_autoptr(HwPhysMem) mem = make_two_range_mem(&data);
  g_autoptr(GError) error = NULL;
  guint8 buf[64];

  memset(buf, 0xa5, sizeof buf);
  g_assert_false(hw_physmem_read(mem, c->gpa, buf, c->len, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE);
  g_assert_null(hw_physmem_ptr(mem, c->gpa, c->len));
  for (guint i = 0; i < sizeof buf; i++)
    g_assert_cmpuint(buf[i], ==, 0xa5);
}

/* ---- range sets that are refused ---------------------------------------------------------- */

typedef struct {
  const char *name;
  gsize data_size;
  HwRamRange ranges[3];
  guint n_ranges;
  gint code;              /* HwError */
} BadRangesCase;

static const BadRangesCase bad_ranges[] = {
  { "none", DATA_SIZE, { { 0 } }, 0, HW_ERROR_NO_MEMORY_FILE },
  { "zero-size", DATA_SIZE, { { 0x1000, 0, 0 } }, 1, HW_ERROR_INVALID_ARGUMENT },
  { "zero-size-second", DATA_SIZE, { { 0, 0x1000, 0 }, { 0x2000, 0, 0x1000 } }, 2,
    HW_ERROR_INVALID_ARGUMENT },
  { "gpa-wraps", DATA_SIZE, { { G_MAXUINT64 - 0xfff, 0x2000, 0 } }, 1,
    HW_ERROR_INVALID_ARGUMENT },
  { "beyond-data", DATA_SIZE, { { 0, DATA_SIZE + 1, 0 } }, 1, HW_ERROR_NO_MEMORY_FILE },
  { "end-beyond-data", DATA_SIZE, { { 0, 0x1000, DATA_SIZE - 0xfff } }, 1,
    HW_ERROR_NO_MEMORY_FILE },
  { "offset-beyond-data", DATA_SIZE, { { 0, 1, DATA_SIZE + 0x1000 } }, 1,
    HW_ERROR_NO_MEMORY_FILE },
  { "offset-wraps", DATA_SIZE, { { 0, 0x2000, G_MAXUINT64 - 0xfff } }, 1,
    HW_ERROR_NO_MEMORY_FILE },
  { "second-beyond-data", DATA_SIZE, { { 0, 0x1000, 0 }, { 0x100000, 0x1000, DATA_SIZE } }, 2,
    HW_ERROR_NO_MEMORY_FILE },
  { "empty-data", 0, { { 0, 0x1000, 0 } }, 1, HW_ERROR_NO_MEMORY_FILE },
  { "overlapping", DATA_SIZE, { { 0, 0x2000, 0 }, { 0x1fff, 0x1000, 0x4000 } }, 2,
    HW_ERROR_INVALID_ARGUMENT },
  { "overlapping-unsorted", DATA_SIZE, { { 0x1000, 0x1000, 0 }, { 0, 0x1001, 0x4000 } }, 2,
    HW_ERROR_INVALID_ARGUMENT },
  { "identical", DATA_SIZE, { { 0, 0x1000, 0 }, { 0, 0x1000, 0 } }, 2,
    HW_ERROR_INVALID_ARGUMENT },
  { "nested", DATA_SIZE, { { 0, 0x8000, 0 }, { 0x5000, 0x8000, 0 }, { 0x1000, 0x1000, 0 } }, 3,
    HW_ERROR_INVALID_ARGUMENT },
};

static void
test_bad_ranges(gconstpointer p)
{
  const BadRangesCase *c = p;
  g_autofree guint8 *data = make_data(MAX(c->data_size, 1));
  g_autoptr(GError) error = NULL;

  g_autoptr(HwPhysMem) mem = hw_physmem_new_from_data(data, c->data_size, c->ranges,
                                                      c->n_ranges, &error);
  g_assert_null(mem);
  g_assert_error(error, HW_ERROR, c->code);
}

/* Ranges that touch, and a range that ends exactly at the end of the data, are fine. */
static void
test_touching_ranges(void)
{
  static const HwRamRange ranges[] = {
    { 0x0, 0x1000, DATA_SIZE - 0x2000 },
    { 0x1000, 0x1000, DATA_SIZE - 0x1000 },
  };
  g_autofree guint8 *data = make_data(DATA_SIZE);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_new_from_data(data, DATA_SIZE, ranges,
                                                      G_N_ELEMENTS(ranges), &error);
  g_assert_no_error(error);
  guint8 buf[2];
  /* Two ranges side by side are still two ranges: a read may not span them. */
  g_assert_false(hw_physmem_read(mem, 0xfff, buf, 2, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE);
  g_clear_error(&error);
  g_assert_true(hw_physmem_read(mem, 0x1fff, buf, 1, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(buf[0], ==, pattern(DATA_SIZE - 1));
}

/* ---- a real memory file ----------------------------------------------------------------- */

#define FILE_SIZE (1u << 20)

typedef struct {
  char *dir;
  char *path;
} TmpFile;

static void
tmp_file_free(TmpFile *t)
{
  if (t->path != NULL)
    g_unlink(t->path);
  if (t->dir != NULL)
    g_rmdir(t->dir);
  g_free(t->path);
  g_free(t->dir);
  g_free(t);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TmpFile, tmp_file_free)

/* A fresh directory with a file NAME of SIZE pattern bytes (no file if SIZE is -1). */
static TmpFile *
tmp_file_new(const char *name, gssize size)
{
  g_autoptr(TmpFile) t = g_new0(TmpFile, 1);
  g_autoptr(GError) error = NULL;
  t->dir = g_dir_make_tmp("haywire-physmem-XXXXXX", &error);
  g_assert_no_error(error);
  t->path = g_build_filename(t->dir, name, NULL);
  if (size >= 0) {
    g_autofree guint8 *data = make_data(MAX(size, 1));
    g_assert_true(g_file_set_contents(t->path, (const char *)data, size, &error));
    g_assert_no_error(error);
  }
  return g_steal_pointer(&t);
}

static void
truncate_file(const char *path, off_t size)
{
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  g_assert_cmpint(fd, >=, 0);
  g_assert_no_errno(ftruncate(fd, size));
  close(fd);
}

typedef struct {
  const HwPhysMem *mem;
  guint64 gpa;
  GError *error;
  gboolean ok;
} ThreadRead;

static gpointer
read_in_thread(gpointer p)
{
  ThreadRead *r = p;
  guint8 buf[4096];
  r->ok = hw_physmem_read(r->mem, r->gpa, buf, sizeof buf, &r->error);
  return NULL;
}

/* QEMU exits and its memory file shrinks under our mapping: reads fail with
 * HW_ERROR_GONE instead of killing us with SIGBUS, again and again, on any thread. */
static void
test_file_gone(void)
{
  static const HwRamRange ranges[] = {
    { 0, FILE_SIZE / 2, 0 },
    { 0x100000000ull, FILE_SIZE / 2, FILE_SIZE / 2 },
  };
  g_autoptr(TmpFile) t = tmp_file_new("guest-ram", FILE_SIZE);
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_open(t->path, ranges, G_N_ELEMENTS(ranges), &error);
  g_assert_no_error(error);
  g_assert_nonnull(mem);
  g_assert_cmphex(hw_physmem_get_ram_size(mem), ==, FILE_SIZE);

  g_autofree guint8 *buf = g_malloc(FILE_SIZE / 2);
  g_assert_true(hw_physmem_read(mem, 0x100000000ull + 0x1234, buf, 0x100, &error));
  g_assert_no_error(error);
  for (gsize i = 0; i < 0x100; i++)
    g_assert_cmpuint(buf[i], ==, pattern(FILE_SIZE / 2 + 0x1234 + i));

  /* Half of it goes: the upper range is gone, the lower one still reads. */
  truncate_file(t->path, FILE_SIZE / 2);
  g_assert_false(hw_physmem_read(mem, 0x100000000ull, buf, 0x1000, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_clear_error(&error);
  g_assert_true(hw_physmem_read(mem, 0x1000, buf, 0x1000, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(buf[0], ==, pattern(0x1000));

  /* All of it goes. */
  truncate_file(t->path, 0);
  for (guint i = 0; i < 3; i++) {
    g_assert_false(hw_physmem_read(mem, 0, buf, FILE_SIZE / 2, &error));
    g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
    g_clear_error(&error);
  }

  ThreadRead r = { mem, 0x2000, NULL, TRUE };
  g_thread_join(g_thread_new("reader", read_in_thread, &r));
  g_assert_false(r.ok);
  g_assert_error(r.error, HW_ERROR, HW_ERROR_GONE);
  g_clear_error(&r.error);

  /* Out-of-range stays out-of-range: the range check comes first. */
  g_assert_false(hw_physmem_read(mem, 0x80000000ull, buf, 1, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE);
}

typedef struct {
  const char *name;
  gssize file_size;       /* -1: no file at all */
  HwRamRange range;
  gint code;              /* HwError */
} BadOpenCase;

static const BadOpenCase bad_opens[] = {
  { "missing", -1, { 0, 0x1000, 0 }, HW_ERROR_NO_MEMORY_FILE },
  { "empty", 0, { 0, 0x1000, 0 }, HW_ERROR_NO_MEMORY_FILE },
  { "range-beyond-file", 0x1000, { 0, 0x2000, 0 }, HW_ERROR_NO_MEMORY_FILE },
  { "offset-beyond-file", 0x1000, { 0, 0x1000, 0x1000 }, HW_ERROR_NO_MEMORY_FILE },
  { "zero-size-range", 0x1000, { 0, 0, 0 }, HW_ERROR_INVALID_ARGUMENT },
};

static void
test_bad_open(gconstpointer p)
{
  const BadOpenCase *c = p;
  g_autoptr(TmpFile) t = tmp_file_new("guest-ram", c->file_size);
  g_autoptr(GError) error = NULL;

  g_autoptr(HwPhysMem) mem = hw_physmem_open(t->path, &c->range, 1, &error);
  g_assert_null(mem);
  g_assert_error(error, HW_ERROR, c->code);
}

/* Not a regular file: a directory, a character device. */
static void
test_open_not_a_file(void)
{
  static const HwRamRange range = { 0, 0x1000, 0 };
  g_autoptr(TmpFile) t = tmp_file_new("unused", -1);
  const char *paths[] = { t->dir, "/dev/null" };

  for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(HwPhysMem) mem = hw_physmem_open(paths[i], &range, 1, &error);
    g_assert_null(mem);
    g_assert_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);

  g_test_add_func("/guest/physmem/ranges", test_ranges);
  for (guint i = 0; i < G_N_ELEMENTS(good_reads); i++) {
    g_autofree char *path = g_strdup_printf("/guest/physmem/read/%s", good_reads[i].name);
    g_test_add_data_func(path, &good_reads[i], test_good_read);
  }
  for (guint i = 0; i < G_N_ELEMENTS(bad_reads); i++) {
    g_autofree char *path = g_strdup_printf("/guest/physmem/bad-read/%s", bad_reads[i].name);
    g_test_add_data_func(path, &bad_reads[i], test_bad_read);
  }
  g_test_add_func("/guest/physmem/touching-ranges", test_touching_ranges);
  for (guint i = 0; i < G_N_ELEMENTS(bad_ranges); i++) {
    g_autofree char *path = g_strdup_printf("/guest/physmem/bad-ranges/%s", bad_ranges[i].name);
    g_test_add_data_func(path, &bad_ranges[i], test_bad_ranges);
  }
  g_test_add_func("/guest/physmem/file/gone", test_file_gone);
  for (guint i = 0; i < G_N_ELEMENTS(bad_opens); i++) {
    g_autofree char *path = g_strdup_printf("/guest/physmem/file/%s", bad_opens[i].name);
    g_test_add_data_func(path, &bad_opens[i], test_bad_open);
  }
  g_test_add_func("/guest/physmem/file/not-a-file", test_open_not_a_file);
  return g_test_run();
}
