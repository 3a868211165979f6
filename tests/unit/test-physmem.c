/* Guest-physical memory: range lookup over a buffer, range checks, a memory file that
 * shrinks under the mapping (SIGBUS guard), and RAM from several sources: memory files
 * and a process (this one, through /proc/self/mem). */
#include <haywire/physmem.h>
#include <haywire/error.h>

#include <glib/gstdio.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
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

/* ---- several sources --------------------------------------------------------------------- */

/* A fresh file in the temp directory, SIZE bytes of holes; *PATH names it (the caller
 * unlinks and frees it). Returns a writable fd. */
static int
tmp_sparse_file(gsize size, char **path)
{
  *path = g_build_filename(g_get_tmp_dir(), "haywire-physmem-XXXXXX", NULL);
  int fd = g_mkstemp(*path);
  g_assert_cmpint(fd, >=, 0);
  g_assert_no_errno(ftruncate(fd, (off_t)size));
  return fd;
}

/* Write LEN pattern bytes at OFF of FD (the pattern of the file offset). */
static void
write_pattern(int fd, gsize off, gsize len)
{
  g_autofree guint8 *data = g_malloc(len);
  for (gsize i = 0; i < len; i++)
    data[i] = pattern(off + i);
  g_assert_cmpint(pwrite(fd, data, len, (off_t)off), ==, (gssize)len);
}

static int
open_ro(const char *path)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  g_assert_cmpint(fd, >=, 0);
  return fd;
}

static void
assert_fd_closed(int fd)
{
  g_assert_cmpint(fcntl(fd, F_GETFD), ==, -1);
  g_assert_cmpint(errno, ==, EBADF);
}

/* The pattern of file offset FILE_OFF, LEN bytes, at GPA. */
static void
assert_pattern_at(const HwPhysMem *mem, guint64 gpa, gsize file_off, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc(len);
  g_assert_true(hw_physmem_read(mem, gpa, buf, len, &error));
  g_assert_no_error(error);
  for (gsize i = 0; i < len; i++)
    if (buf[i] != pattern(file_off + i))
      g_error("gpa 0x%" G_GINT64_MODIFIER "x: byte %#x, not %#x", gpa + i, buf[i],
              pattern(file_off + i));
}

static void
assert_zeros_at(const HwPhysMem *mem, guint64 gpa, gsize len)
{
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc(len);
  g_assert_true(hw_physmem_read(mem, gpa, buf, len, &error));
  g_assert_no_error(error);
  for (gsize i = 0; i < len; i++)
    g_assert_cmpuint(buf[i], ==, 0);
}

#define MiB (1u << 20)

/* Two memory files (A sparse, B all written), their pieces interleaved in gpa: reads
 * come from the right file, holes are found per file, and B shrinking is noticed. */
static void
test_sources_two_files(void)
{
  g_autofree char *path_a = NULL, *path_b = NULL;
  int wa = tmp_sparse_file(2 * MiB, &path_a), wb = tmp_sparse_file(1 * MiB, &path_b);
  write_pattern(wa, 512 << 10, 4096);               /* A: a page in each half */
  write_pattern(wa, MiB + (512 << 10), 2 * 4096);
  write_pattern(wb, 0, 1 * MiB);                    /* B: all of it */
  const HwRamSource sources[] = {
    { HW_RAM_SOURCE_FILE, open_ro(path_a), path_a },
    { HW_RAM_SOURCE_FILE, open_ro(path_b), path_b },
  };
  const HwRamPiece pieces[] = {   /* out of order */
    { 0x300000, 512 << 10, 1, 0 },             /* B, first half */
    { 0x0, 1 * MiB, 0, 0 },                    /* A, first half */
    { 0x100000, 512 << 10, 1, 512 << 10 },     /* B, second half */
    { 0x200000, 1 * MiB, 0, 1 * MiB },         /* A, second half */
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_open_sources(sources, G_N_ELEMENTS(sources), pieces,
                                                     G_N_ELEMENTS(pieces), &error);
  g_assert_no_error(error);
  g_assert_nonnull(mem);
  g_assert_false(hw_physmem_copies(mem));
  g_assert_cmphex(hw_physmem_get_ram_size(mem), ==, 3 * MiB);

  guint n = 0;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  static const HwRamRange want[] = {
    { 0x0, 1 * MiB, 0 }, { 0x100000, 512 << 10, 512 << 10 },
    { 0x200000, 1 * MiB, 1 * MiB }, { 0x300000, 512 << 10, 0 },
  };
  g_assert_cmpuint(n, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < n; i++) {
    g_assert_cmphex(r[i].gpa, ==, want[i].gpa);
    g_assert_cmphex(r[i].size, ==, want[i].size);
    g_assert_cmphex(r[i].file_offset, ==, want[i].file_offset);
  }
  HwRamSourceKind kind = HW_RAM_SOURCE_PROCESS;
  const char *name = NULL;
  g_assert_true(hw_physmem_get_source(mem, 0x100123, &kind, &name));
  g_assert_cmpint(kind, ==, HW_RAM_SOURCE_FILE);
  g_assert_cmpstr(name, ==, path_b);
  g_assert_true(hw_physmem_get_source(mem, 0x2fffff, &kind, &name));
  g_assert_cmpstr(name, ==, path_a);
  g_assert_false(hw_physmem_get_source(mem, 0x380000, &kind, &name));

  /* Reads from both files, each from its own offset. */
  assert_pattern_at(mem, 0x80000, 512 << 10, 4096);
  assert_pattern_at(mem, 0x280000, MiB + (512 << 10), 2 * 4096);
  assert_pattern_at(mem, 0x100000, 512 << 10, 512 << 10);
  assert_pattern_at(mem, 0x300000, 0, 512 << 10);
  assert_pattern_at(mem, 0x17fff8, MiB - 8, 8);
  assert_zeros_at(mem, 0x0, 4096);
  assert_zeros_at(mem, 0x2ff000, 4096);
  g_assert_true(hw_physmem_ptr(mem, 0x300000, 8) ==
                hw_physmem_ptr(mem, 0x100000, 8) - (512 << 10));   /* one mapping of B */
  guint8 two[2];
  g_assert_false(hw_physmem_read(mem, 0xfffff, two, 2, &error));   /* A into B */
  g_assert_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE);
  g_clear_error(&error);

  /* Holes, each range in its own file. Accept any granularity of hole tracking that
   * skips the start and covers the write. */
  guint64 ds = 0, de = 0;
  g_assert_true(hw_physmem_next_data(mem, 0, 1 * MiB, &ds, &de));
  g_assert_cmphex(ds, >, 0);
  g_assert_cmphex(ds, <=, 512 << 10);
  g_assert_cmphex(de, >=, (512 << 10) + 4096);
  g_assert_cmphex(de, <=, 1 * MiB);
  g_assert_false(de < 1 * MiB && hw_physmem_next_data(mem, de, 1 * MiB, &ds, &de));
  g_assert_true(hw_physmem_next_data(mem, 0x200000, 0x300000, &ds, &de));
  g_assert_cmphex(ds, >, 0x200000);
  g_assert_cmphex(ds, <=, 0x280000);
  g_assert_cmphex(de, >=, 0x282000);
  g_assert_true(hw_physmem_next_data(mem, 0x100000, 0x180000, &ds, &de));
  g_assert_cmphex(ds, ==, 0x100000);
  g_assert_cmphex(de, ==, 0x180000);
  g_assert_true(hw_physmem_next_data(mem, 0x300000, 0x380000, &ds, &de));
  g_assert_cmphex(ds, ==, 0x300000);
  g_assert_cmphex(de, ==, 0x380000);
  g_autoptr(HwExtents) x = hw_physmem_get_extents(mem);
  g_assert_true(hw_extents_next(x, 0x100000, 0x380000, &ds, &de));
  g_assert_cmphex(ds, ==, 0x100000);
  g_assert_cmphex(de, ==, 0x180000);
  /* The same from a window's extents (page by page): the writes found, nothing
   * outside the window. (Holes exactly: test_window_extents, on tmpfs.) */
  g_autoptr(HwExtents) w = hw_physmem_get_extents_in(mem, 0x1000, 0x37f000);
  g_assert_true(hw_extents_next(w, 0, 1 * MiB, &ds, &de));
  g_assert_cmphex(ds, >=, 0x1000);
  g_assert_cmphex(ds, <=, 512 << 10);
  g_assert_cmphex(de, >=, (512 << 10) + 4096);
  g_assert_cmphex(de, <=, 1 * MiB);
  g_assert_true(hw_extents_next(w, 0x200000, 0x300000, &ds, &de));
  g_assert_cmphex(ds, <=, 0x280000);   /* (pages read ahead into the cache count too) */
  g_assert_true(hw_extents_next(w, 0x300000, 0x380000, &ds, &de));
  g_assert_cmphex(ds, ==, 0x300000);
  g_assert_cmphex(de, ==, 0x380000);
  g_autoptr(HwExtents) small = hw_physmem_get_extents_in(mem, 0x100800, 0x1000);
  g_assert_true(hw_extents_next(small, 0, 0x380000, &ds, &de));
  g_assert_cmphex(ds, ==, 0x100000);
  g_assert_cmphex(de, ==, 0x102000);
  g_assert_false(hw_extents_next(small, 0x102000, 0x380000, &ds, &de));
  guint8 got[16];
  g_assert_true(hw_extents_read(small, mem, 0x100800, got, sizeof got, &error));
  g_assert_cmpmem(got, sizeof got, hw_physmem_ptr(mem, 0x100800, 16), 16);

  /* Prefault in each mapping, then read again. */
  hw_physmem_prefault(mem, hw_physmem_ptr(mem, 0x100000, 512 << 10), 512 << 10);
  hw_physmem_prefault(mem, hw_physmem_ptr(mem, 0x280000, 8192), 8192);
  assert_pattern_at(mem, 0x100000, 512 << 10, 4096);
  g_assert_true(hw_physmem_check(mem, &error));
  g_assert_no_error(error);

  /* B shrinks below what its pieces need: check names it; A still reads, B's upper
   * half is gone. */
  g_assert_no_errno(ftruncate(wb, 256 << 10));
  g_assert_false(hw_physmem_check(mem, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_assert_nonnull(strstr(error->message, path_b));
  g_clear_error(&error);
  assert_pattern_at(mem, 0x80000, 512 << 10, 4096);
  g_autofree guint8 *buf = g_malloc(4096);
  g_assert_false(hw_physmem_read(mem, 0x100000, buf, 4096, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);

  close(wa);
  close(wb);
  g_unlink(path_a);
  g_unlink(path_b);
}

/* A window's extents on a memfd (tmpfs, as QEMU's memory-backend-file in /dev/shm):
 * exactly the pages written, each hole page not data, the bytes read back. */
static void
test_window_extents(void)
{
  int fd = memfd_create("haywire-window", MFD_CLOEXEC);
  g_assert_cmpint(fd, >=, 0);
  g_assert_no_errno(ftruncate(fd, 1 * MiB));
  write_pattern(fd, 512 << 10, 4096);
  write_pattern(fd, (768 << 10) + 100, 10);   /* inside one page */
  const HwRamSource sources[] = { { HW_RAM_SOURCE_FILE, fd, "memfd" } };
  const HwRamPiece pieces[] = { { 0x100000, 1 * MiB, 0, 0 } };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_open_sources(sources, 1, pieces, 1, &error);
  g_assert_no_error(error);
  g_autoptr(HwExtents) w = hw_physmem_get_extents_in(mem, 0x100000 + (256 << 10), 768 << 10);
  guint64 ds = 0, de = 0;
  g_assert_true(hw_extents_next(w, 0, G_MAXUINT64, &ds, &de));
  g_assert_cmphex(ds, ==, 0x100000 + (512 << 10));
  g_assert_cmphex(de, ==, 0x100000 + (512 << 10) + 4096);
  g_assert_true(hw_extents_next(w, de, G_MAXUINT64, &ds, &de));
  g_assert_cmphex(ds, ==, 0x100000 + (768 << 10));
  g_assert_cmphex(de, ==, 0x100000 + (768 << 10) + 4096);
  g_assert_false(hw_extents_next(w, de, G_MAXUINT64, &ds, &de));
  /* Read through them: the pattern where written, zeros in the holes. */
  g_autofree guint8 *buf = g_malloc(768 << 10);
  g_assert_true(hw_extents_read(w, mem, 0x100000 + (256 << 10), buf, 768 << 10, &error));
  for (gsize i = 0; i < (768 << 10); i++) {
    gsize off = (256 << 10) + i;
    gboolean written = (off >= (512 << 10) && off < (512 << 10) + 4096) ||
                       (off >= (768 << 10) + 100 && off < (768 << 10) + 110);
    g_assert_cmpuint(buf[i], ==, written ? pattern(off) : 0);
  }
  /* Outside RAM: nothing, no crash. */
  g_autoptr(HwExtents) none = hw_physmem_get_extents_in(mem, 0x10000000, 8192);
  g_assert_false(hw_extents_next(none, 0, G_MAXUINT64, &ds, &de));
}

#define PROC_SIZE (6 * MiB + 0x123)   /* not a whole number of chunks or pages */
#define PROC_GPA 0x100000000ull

typedef struct {
  const HwPhysMem *mem;
  const guint8 *want;
  guint index;
  gboolean ok;
} ProcReader;

/* Every byte of the range, in pieces that straddle chunk boundaries, in an order of
 * the thread's own. */
static gpointer
read_proc_in_thread(gpointer p)
{
  ProcReader *t = p;
  const gsize step = 3001 + t->index * 4096, n = PROC_SIZE / step + 1;
  t->ok = TRUE;
  for (gsize k = 0; k < n && t->ok; k++) {
    gsize i = t->index % 2 ? n - 1 - k : k, off = i * step, len = MIN(step, PROC_SIZE - off);
    const guint8 *q = hw_physmem_ptr(t->mem, PROC_GPA + off, len);
    t->ok = q != NULL && memcmp(q, t->want + off, len) == 0;
  }
  return NULL;
}

static HwPhysMem *
open_proc(const HwRamPiece *pieces, guint n_pieces, GError **error)
{
  const HwRamSource source = {
    HW_RAM_SOURCE_PROCESS, open("/proc/self/mem", O_RDONLY | O_CLOEXEC), "/proc/self/mem"
  };
  g_assert_cmpint(source.fd, >=, 0);
  return hw_physmem_open_sources(&source, 1, pieces, n_pieces, error);
}

/* Device regions beside RAM (VRAM at a BAR): read like RAM, refreshed by forget, not RAM
 * (not in the ranges, the RAM size or "copies"), and a failed copy of one fails its
 * reads but not the check of RAM. */
static void
test_sources_devices(void)
{
  g_autofree guint8 *ram = g_malloc(2 * MiB);
  g_autofree guint8 *vram = g_malloc(1 * MiB);
  for (gsize i = 0; i < 2 * MiB; i++)
    ram[i] = pattern(i);
  memset(vram, 0x5a, 1 * MiB);
  const HwRamSource source = {
    HW_RAM_SOURCE_PROCESS, open("/proc/self/mem", O_RDONLY | O_CLOEXEC), "/proc/self/mem"
  };
  g_assert_cmpint(source.fd, >=, 0);
  const HwRamPiece pieces[] = { { 0x0, 2 * MiB, 0, (guint64)(guintptr)ram } };
  const HwDevicePiece devices[] = {
    { { 0xfd000000, 1 * MiB, 0, (guint64)(guintptr)vram }, "vga.vram" },
    { { 0xfe000000, 4096, 0, 4096 }, "gone" },   /* page 1 of this process: unmapped */
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_open_with_devices(&source, 1, pieces, 1, devices, 2,
                                                           &error);
  g_assert_no_error(error);
  guint n = 0;
  hw_physmem_get_ranges(mem, &n);
  g_assert_cmpuint(n, ==, 1);
  g_assert_cmphex(hw_physmem_get_ram_size(mem), ==, 2 * MiB);
  const HwDeviceRegion *d = hw_physmem_get_devices(mem, &n);
  g_assert_cmpuint(n, ==, 2);
  g_assert_cmpstr(d[0].name, ==, "vga.vram");
  g_assert_cmphex(d[0].gpa, ==, 0xfd000000);
  g_assert_cmphex(d[0].hva, ==, (guint64)(guintptr)vram);
  guint8 buf[16];
  g_assert_true(hw_physmem_read(mem, 0xfd000000 + 1000, buf, sizeof buf, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(buf[0], ==, 0x5a);
  vram[1000] = 0x11;
  hw_physmem_forget(mem);
  g_assert_true(hw_physmem_read(mem, 0xfd000000 + 1000, buf, 1, &error));
  g_assert_cmpuint(buf[0], ==, 0x11);
  g_assert_false(hw_physmem_read(mem, 0xfe000000, buf, 1, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_clear_error(&error);
  g_assert_true(hw_physmem_check(mem, &error));
  g_assert_no_error(error);
  assert_pattern_at(mem, 0x0, 0, 2 * MiB);
  /* The extents of all memory count the device regions as data. */
  g_autoptr(HwExtents) x = hw_physmem_get_extents(mem);
  guint64 ds = 0, de = 0;
  g_assert_true(hw_extents_next(x, 0xfd000000, 0xfd000000 + 1 * MiB, &ds, &de));
  g_assert_cmphex(ds, ==, 0xfd000000);
  g_assert_cmphex(de, ==, 0xfd000000 + 1 * MiB);
  memset(buf, 0, sizeof buf);
  g_assert_true(hw_extents_read(x, mem, 0xfd000000 + 1000, buf, 1, &error));
  g_assert_cmpuint(buf[0], ==, 0x11);

  /* A device region over RAM, or from a memory file, is refused. */
  const HwDevicePiece over[] = { { { 1 * MiB, 4096, 0, (guint64)(guintptr)vram }, "over" } };
  const HwRamSource again = {
    HW_RAM_SOURCE_PROCESS, open("/proc/self/mem", O_RDONLY | O_CLOEXEC), "/proc/self/mem"
  };
  g_assert_null(hw_physmem_open_with_devices(&again, 1, pieces, 1, over, 1, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT);
}

/* Guest RAM copied from a process (this one): the bytes are copied on first use, stay
 * as copied until forgotten, and come right with four threads filling at once. */
static void
test_sources_process(void)
{
  g_autofree guint8 *ram = g_malloc(PROC_SIZE);
  for (gsize i = 0; i < PROC_SIZE; i++)
    ram[i] = pattern(i);
  const HwRamPiece pieces[] = {
    { PROC_GPA, PROC_SIZE, 0, (guint64)(guintptr)ram },
    { 0x0, 1 * MiB, 0, (guint64)(guintptr)(ram + 2 * MiB) },   /* the same bytes again */
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = open_proc(pieces, G_N_ELEMENTS(pieces), &error);
  g_assert_no_error(error);
  g_assert_nonnull(mem);
  g_assert_true(hw_physmem_copies(mem));
  HwRamSourceKind kind = HW_RAM_SOURCE_FILE;
  const char *name = NULL;
  g_assert_true(hw_physmem_get_source(mem, PROC_GPA + PROC_SIZE - 1, &kind, &name));
  g_assert_cmpint(kind, ==, HW_RAM_SOURCE_PROCESS);
  g_assert_cmpstr(name, ==, "/proc/self/mem");
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  g_assert_cmpuint(n, ==, 2);
  g_assert_cmphex(r[1].gpa, ==, PROC_GPA);
  g_assert_cmphex(r[1].file_offset, ==, 0);
  guint64 ds, de;
  g_assert_true(hw_physmem_next_data(mem, PROC_GPA + 5, PROC_GPA + PROC_SIZE, &ds, &de));
  g_assert_cmphex(ds, ==, PROC_GPA + 5);
  g_assert_cmphex(de, ==, PROC_GPA + PROC_SIZE);

  /* What a page-table walker does: 8 bytes at a time, pointer straight from ptr. */
  guint64 q, want;
  memcpy(&q, hw_physmem_ptr(mem, PROC_GPA + 0x41000, 8), 8);
  memcpy(&want, ram + 0x41000, 8);
  g_assert_cmphex(q, ==, want);
  assert_pattern_at(mem, PROC_GPA, 0, PROC_SIZE);
  assert_pattern_at(mem, 0x3fff8, 2 * MiB + 0x3fff8, 16);
  g_assert_null(hw_physmem_ptr(mem, PROC_GPA + PROC_SIZE - 4, 8));

  /* The process writes: what was copied stays, until forgotten. */
  for (gsize i = 0; i < PROC_SIZE; i++)
    ram[i] ^= 0xff;
  assert_pattern_at(mem, PROC_GPA + 3 * MiB, 3 * MiB, 1 * MiB);
  assert_pattern_at(mem, 0x0, 2 * MiB, 4096);
  hw_physmem_forget(mem);
  const guint8 *p = hw_physmem_ptr(mem, PROC_GPA, PROC_SIZE);
  g_assert_nonnull(p);
  g_assert_cmpmem(p, PROC_SIZE, ram, PROC_SIZE);
  g_assert_cmpmem(hw_physmem_ptr(mem, 0x0, 1 * MiB), 1 * MiB, ram + 2 * MiB, 1 * MiB);

  /* Prefault copies in: after it, a change in the process is not seen. */
  hw_physmem_forget(mem);
  p = hw_physmem_ptr(mem, PROC_GPA, 8);
  hw_physmem_prefault(mem, p, PROC_SIZE);
  for (gsize i = 0; i < PROC_SIZE; i++)
    ram[i] ^= 0xff;
  g_autofree guint8 *flipped = g_malloc(PROC_SIZE);
  for (gsize i = 0; i < PROC_SIZE; i++)
    flipped[i] = ram[i] ^ 0xff;
  g_assert_cmpmem(hw_physmem_ptr(mem, PROC_GPA + 5 * MiB, 4096), 4096, flipped + 5 * MiB, 4096);

  /* Four threads fill the same chunks at once. */
  hw_physmem_forget(mem);
  ProcReader t[4];
  GThread *threads[4];
  for (guint i = 0; i < G_N_ELEMENTS(t); i++) {
    t[i] = (ProcReader){ mem, ram, i, FALSE };
    threads[i] = g_thread_new("proc-reader", read_proc_in_thread, &t[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS(t); i++) {
    g_thread_join(threads[i]);
    g_assert_true(t[i].ok);
  }
  g_assert_true(hw_physmem_check(mem, &error));
  g_assert_no_error(error);

  guint8 buf[8];
  g_assert_false(hw_physmem_read(mem, PROC_GPA - 1, buf, 2, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE);
}

/* Process memory that is not there: zeros, HW_ERROR_GONE from reads and check, never a
 * crash; the rest of the range, and other ranges, still read. */
static void
test_sources_process_unmapped(void)
{
  /* A file mapping whose second half lies past the end of the file: the process cannot
   * read it (its own access would be a SIGBUS), and nothing else can move in there. */
  g_autofree char *path = NULL;
  int wfd = tmp_sparse_file(512 << 10, &path);
  write_pattern(wfd, 0, 512 << 10);
  guint8 *half = mmap(NULL, 1 * MiB, PROT_READ, MAP_SHARED, wfd, 0);
  g_assert_true(half != MAP_FAILED);
  g_autofree guint8 *ram = make_data(1 * MiB);
  const HwRamPiece pieces[] = {
    { 0x0, 1 * MiB, 0, 0x1000 },                         /* nothing there */
    { 0x100000, 1 * MiB, 0, (guint64)(guintptr)half },  /* half there */
    { 0x200000, 1 * MiB, 0, (guint64)(guintptr)ram },   /* all there */
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = open_proc(pieces, G_N_ELEMENTS(pieces), &error);
  g_assert_no_error(error);

  const guint8 *p = hw_physmem_ptr(mem, 0x0, 4096);
  g_assert_nonnull(p);
  for (guint i = 0; i < 4096; i++)
    g_assert_cmpuint(p[i], ==, 0);
  guint8 buf[16];
  g_assert_false(hw_physmem_read(mem, 0x10, buf, sizeof buf, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_clear_error(&error);
  g_assert_false(hw_physmem_check(mem, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_assert_nonnull(strstr(error->message, "/proc/self/mem"));
  g_clear_error(&error);
  assert_pattern_at(mem, 0x200000, 0, 1 * MiB);

  /* The half that is there reads; the half past the file's end does not. */
  assert_pattern_at(mem, 0x100000, 0, 512 << 10);
  g_assert_false(hw_physmem_read(mem, 0x100000 + (512 << 10), buf, sizeof buf, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_clear_error(&error);
  g_assert_false(hw_physmem_read(mem, 0x100000 + (512 << 10) - 8, buf, sizeof buf, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_clear_error(&error);
  assert_pattern_at(mem, 0x100000 + (512 << 10) - 8, (512 << 10) - 8, 8);

  /* Failures are forgotten with the copies, and found again. */
  const HwRamPiece second[] = { { 0x0, 1 * MiB, 0, (guint64)(guintptr)half } };
  g_autoptr(HwPhysMem) m2 = open_proc(second, 1, &error);
  g_assert_no_error(error);
  g_assert_true(hw_physmem_check(m2, &error));
  g_assert_nonnull(hw_physmem_ptr(m2, 0x0, 1 * MiB));
  g_assert_false(hw_physmem_check(m2, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_clear_error(&error);
  hw_physmem_forget(m2);
  g_assert_true(hw_physmem_check(m2, &error));
  g_assert_no_error(error);
  assert_pattern_at(m2, 0x0, 0, 4096);
  g_assert_true(hw_physmem_check(m2, &error));
  g_assert_no_error(error);
  g_assert_false(hw_physmem_read(m2, 0xfff00, buf, sizeof buf, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);
  g_clear_error(&error);
  g_assert_false(hw_physmem_check(m2, &error));
  g_assert_error(error, HW_ERROR, HW_ERROR_GONE);

  munmap(half, 1 * MiB);
  close(wfd);
  g_unlink(path);
}

/* ---- source sets that are refused ---------------------------------------------------------- */

typedef enum {
  FD_FILE,       /* a 64 KiB file */
  FD_EMPTY,      /* an empty file */
  FD_PROC,       /* /proc/self/mem */
  FD_DEV_NULL,   /* not a regular file */
  FD_NONE,       /* -1 */
  FD_AS_FIRST,   /* the first source's fd again */
} FdOf;

typedef struct {
  const char *name;
  struct { HwRamSourceKind kind; FdOf fd; } sources[2];
  guint n_sources;
  HwRamPiece pieces[3];
  guint n_pieces;
  gint code;              /* HwError */
} BadSourcesCase;

static const BadSourcesCase bad_sources[] = {
  { "no-pieces", { { HW_RAM_SOURCE_FILE, FD_FILE }, { HW_RAM_SOURCE_PROCESS, FD_PROC } }, 2,
    { { 0 } }, 0, HW_ERROR_NO_MEMORY_FILE },
  { "zero-size", { { HW_RAM_SOURCE_PROCESS, FD_PROC } }, 1, { { 0x1000, 0, 0, 0x1000 } }, 1,
    HW_ERROR_INVALID_ARGUMENT },
  { "overlap-across-sources",
    { { HW_RAM_SOURCE_FILE, FD_FILE }, { HW_RAM_SOURCE_PROCESS, FD_PROC } }, 2,
    { { 0x0, 0x2000, 0, 0 }, { 0x1000, 0x1000, 1, 0x10000 } }, 2, HW_ERROR_INVALID_ARGUMENT },
  { "overlap-unsorted",
    { { HW_RAM_SOURCE_FILE, FD_FILE }, { HW_RAM_SOURCE_PROCESS, FD_PROC } }, 2,
    { { 0x5000, 0x1000, 1, 0x10000 }, { 0x0, 0x1000, 0, 0 }, { 0x4000, 0x1001, 0, 0 } }, 3,
    HW_ERROR_INVALID_ARGUMENT },
  { "source-out-of-range",
    { { HW_RAM_SOURCE_FILE, FD_FILE }, { HW_RAM_SOURCE_PROCESS, FD_PROC } }, 2,
    { { 0x0, 0x1000, 0, 0 }, { 0x1000, 0x1000, 2, 0 } }, 2, HW_ERROR_INVALID_ARGUMENT },
  { "no-sources", { { 0 } }, 0, { { 0x0, 0x1000, 0, 0 } }, 1, HW_ERROR_INVALID_ARGUMENT },
  { "file-piece-beyond-file", { { HW_RAM_SOURCE_FILE, FD_FILE } }, 1,
    { { 0x0, 0x2000, 0, 0xf000 } }, 1, HW_ERROR_NO_MEMORY_FILE },
  { "file-offset-beyond-file", { { HW_RAM_SOURCE_FILE, FD_FILE } }, 1,
    { { 0x0, 0x1000, 0, 0x20000 } }, 1, HW_ERROR_NO_MEMORY_FILE },
  { "file-offset-wraps", { { HW_RAM_SOURCE_FILE, FD_FILE } }, 1,
    { { 0x0, 0x2000, 0, G_MAXUINT64 - 0xfff } }, 1, HW_ERROR_NO_MEMORY_FILE },
  { "gpa-wraps", { { HW_RAM_SOURCE_PROCESS, FD_PROC } }, 1,
    { { G_MAXUINT64 - 0xfff, 0x2000, 0, 0x10000 } }, 1, HW_ERROR_INVALID_ARGUMENT },
  { "host-address-wraps", { { HW_RAM_SOURCE_PROCESS, FD_PROC } }, 1,
    { { 0x0, 0x2000, 0, G_MAXUINT64 - 0xfff } }, 1, HW_ERROR_INVALID_ARGUMENT },
  { "host-address-negative", { { HW_RAM_SOURCE_PROCESS, FD_PROC } }, 1,
    { { 0x0, 0x1000, 0, 1ull << 63 } }, 1, HW_ERROR_INVALID_ARGUMENT },
  { "empty-file", { { HW_RAM_SOURCE_FILE, FD_EMPTY } }, 1, { { 0x0, 0x1000, 0, 0 } }, 1,
    HW_ERROR_NO_MEMORY_FILE },
  { "not-a-file", { { HW_RAM_SOURCE_FILE, FD_DEV_NULL } }, 1, { { 0x0, 0x1000, 0, 0 } }, 1,
    HW_ERROR_NO_MEMORY_FILE },
  { "no-fd", { { HW_RAM_SOURCE_FILE, FD_FILE }, { HW_RAM_SOURCE_PROCESS, FD_NONE } }, 2,
    { { 0x0, 0x1000, 0, 0 } }, 1, HW_ERROR_INVALID_ARGUMENT },
  { "same-fd-twice", { { HW_RAM_SOURCE_FILE, FD_FILE }, { HW_RAM_SOURCE_FILE, FD_AS_FIRST } },
    2, { { 0x0, 0x1000, 0, 0 }, { 0x1000, 0x1000, 1, 0x1000 } }, 2, HW_ERROR_INVALID_ARGUMENT },
  { "unknown-kind", { { HW_RAM_SOURCE_FILE, FD_FILE }, { (HwRamSourceKind)7, FD_PROC } }, 2,
    { { 0x0, 0x1000, 0, 0 } }, 1, HW_ERROR_INVALID_ARGUMENT },
};

/* Each fails with its code, and every fd handed over is closed. */
static void
test_bad_sources(gconstpointer p)
{
  const BadSourcesCase *c = p;
  g_autofree char *path = NULL, *empty = NULL;
  int wfd = tmp_sparse_file(0x10000, &path), efd = tmp_sparse_file(0, &empty);
  HwRamSource sources[2];
  for (guint i = 0; i < c->n_sources; i++) {
    int fd = -1;
    switch (c->sources[i].fd) {
    case FD_FILE: fd = open_ro(path); break;
    case FD_EMPTY: fd = open_ro(empty); break;
    case FD_PROC: fd = open_ro("/proc/self/mem"); break;
    case FD_DEV_NULL: fd = open_ro("/dev/null"); break;
    case FD_NONE: fd = -1; break;
    case FD_AS_FIRST: fd = sources[0].fd; break;
    }
    sources[i] = (HwRamSource){ c->sources[i].kind, fd, c->name };
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(HwPhysMem) mem = hw_physmem_open_sources(sources, c->n_sources, c->pieces,
                                                     c->n_pieces, &error);
  g_assert_null(mem);
  g_assert_error(error, HW_ERROR, c->code);
  for (guint i = 0; i < c->n_sources; i++)
    if (sources[i].fd >= 0)
      assert_fd_closed(sources[i].fd);
  close(wfd);
  close(efd);
  g_unlink(path);
  g_unlink(empty);
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
  g_test_add_func("/guest/physmem/sources/two-files", test_sources_two_files);
  g_test_add_func("/guest/physmem/window-extents", test_window_extents);
  g_test_add_func("/guest/physmem/sources/process", test_sources_process);
  g_test_add_func("/guest/physmem/sources/devices", test_sources_devices);
  g_test_add_func("/guest/physmem/sources/process-unmapped", test_sources_process_unmapped);
  for (guint i = 0; i < G_N_ELEMENTS(bad_sources); i++) {
    g_autofree char *path = g_strdup_printf("/guest/physmem/sources/bad/%s", bad_sources[i].name);
    g_test_add_data_func(path, &bad_sources[i], test_bad_sources);
  }
  return g_test_run();
}
