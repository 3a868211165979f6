/* Guest-physical memory served from a read-only mapping of the memory-backend-file. */
#include <haywire/physmem.h>
#include <haywire/error.h>
#include "guest/guard.h"

#include <gio/gio.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22   /* Linux 5.14+; older kernels fault the pages one by one */
#endif
#define WARM_CHUNK (2u << 20)   /* hw_physmem_prefault remembers what it did per 2 MiB */

struct _HwPhysMem {
  const guint8 *base;   /* start of the file's bytes */
  gsize size;           /* bytes mapped */
  gboolean mapped;      /* base came from mmap */
  int fd;               /* the memory file, for finding holes; -1 if none */
  GArray *ranges;       /* HwRamRange, sorted by gpa */
  guint64 ram_size;
  guint64 *warm;        /* a bit per WARM_CHUNK of the mapping: already prefaulted */
};

static gint
compare_range(gconstpointer a, gconstpointer b)
{
  const HwRamRange *ra = a, *rb = b;
  return ra->gpa < rb->gpa ? -1 : ra->gpa > rb->gpa;
}

static HwPhysMem *
physmem_new(const guint8 *base, gsize size, const HwRamRange *ranges, guint n_ranges,
            GError **error)
{
  g_autoptr(GArray) sorted = g_array_sized_new(FALSE, FALSE, sizeof(HwRamRange), n_ranges);
  guint64 total = 0;

  if (n_ranges == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE, "no RAM ranges to map");
    return NULL;
  }
  g_array_append_vals(sorted, ranges, n_ranges);
  g_array_sort(sorted, compare_range);
  for (guint i = 0; i < sorted->len; i++) {
    const HwRamRange *r = &g_array_index(sorted, HwRamRange, i);
    if (r->size == 0 || r->gpa + r->size < r->gpa) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "RAM range at 0x%" G_GINT64_MODIFIER "x has a bad size", r->gpa);
      return NULL;
    }
    if (r->file_offset > size || r->size > size - r->file_offset) {
      g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                  "RAM range 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER
                  "x lies beyond the memory file (%" G_GSIZE_FORMAT " bytes)",
                  r->gpa, r->size, size);
      return NULL;
    }
    if (i > 0) {
      const HwRamRange *p = &g_array_index(sorted, HwRamRange, i - 1);
      if (p->gpa + p->size > r->gpa) {
        g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                    "RAM ranges overlap at 0x%" G_GINT64_MODIFIER "x", r->gpa);
        return NULL;
      }
    }
    total += r->size;
  }

  HwPhysMem *mem = g_new0(HwPhysMem, 1);
  mem->base = base;
  mem->size = size;
  mem->ranges = g_steal_pointer(&sorted);
  mem->ram_size = total;
  mem->fd = -1;
  mem->warm = g_new0(guint64, size / WARM_CHUNK / 64 + 1);
  return mem;
}

HwPhysMem *
hw_physmem_new_from_data(const guint8 *data, gsize size, const HwRamRange *ranges,
                         guint n_ranges, GError **error)
{
  return physmem_new(data, size, ranges, n_ranges, error);
}

GMappedFile *
hw_physmem_map_file(const char *path, GError **error)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int e = errno;
  const char *why = NULL;
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) != 0)
    e = errno;
  else if (fd >= 0 && S_ISDIR(st.st_mode))
    e = EISDIR;
  else if (fd >= 0 && !S_ISREG(st.st_mode))
    why = "not a regular file";
  else if (fd >= 0)
    e = 0;
  if (fd < 0 || e != 0 || why != NULL) {
    if (fd >= 0)
      close(fd);
    g_set_error(error, G_IO_ERROR, why ? G_IO_ERROR_NOT_REGULAR_FILE : g_io_error_from_errno(e),
                "cannot open %s: %s", path, why ? why : g_strerror(e));
    return NULL;
  }
  GError *local = NULL;
  GMappedFile *f = g_mapped_file_new_from_fd(fd, FALSE, &local);
  close(fd);
  if (f == NULL) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot map %s: %s", path, local->message);
    g_error_free(local);
  }
  return f;
}

HwPhysMem *
hw_physmem_new_anonymous(const HwRamRange *ranges, guint n_ranges, guint8 **image,
                         GError **error)
{
  g_autoptr(GArray) laid = g_array_sized_new(FALSE, FALSE, sizeof(HwRamRange), n_ranges);
  guint64 total = 0;
  for (guint i = 0; i < n_ranges; i++) {
    HwRamRange r = ranges[i];
    r.file_offset = total;
    if (r.size > G_MAXUINT64 - total) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "RAM ranges too large");
      return NULL;
    }
    total += r.size;
    g_array_append_val(laid, r);
  }
  if (total == 0 || total > G_MAXSIZE) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, total ? "more RAM than this "
                "machine can address" : "no RAM ranges");
    return NULL;
  }
  /* Untouched pages stay the kernel's shared zero page: a sparse image costs nothing. */
  void *base = mmap(NULL, (size_t)total, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) {
    int e = errno;
    g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "cannot reserve %" G_GUINT64_FORMAT
                " bytes for guest RAM: %s", total, g_strerror(e));
    return NULL;
  }
  HwPhysMem *mem = physmem_new(base, (gsize)total, (const HwRamRange *)(void *)laid->data,
                               laid->len, error);
  if (mem == NULL) {
    munmap(base, (size_t)total);
    return NULL;
  }
  mem->mapped = TRUE;
  *image = base;
  return mem;
}

HwPhysMem *
hw_physmem_open(const char *path, const HwRamRange *ranges, guint n_ranges, GError **error)
{
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE, "cannot open memory file %s: %s",
                path, g_strerror(e));
    return NULL;
  }
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) {
    close(fd);
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                "memory file %s is not a non-empty regular file", path);
    return NULL;
  }
  void *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
  int e = errno;
  if (base == MAP_FAILED) {
    close(fd);
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE, "cannot map memory file %s: %s",
                path, g_strerror(e));
    return NULL;
  }
  HwPhysMem *mem = physmem_new(base, (gsize)st.st_size, ranges, n_ranges, error);
  if (mem == NULL) {
    munmap(base, (size_t)st.st_size);
    close(fd);
    return NULL;
  }
  mem->mapped = TRUE;
  mem->fd = fd;
  hw_guard_install();
  return mem;
}

void
hw_physmem_free(HwPhysMem *mem)
{
  if (mem == NULL)
    return;
  if (mem->mapped)
    munmap((void *)mem->base, mem->size);
  if (mem->fd >= 0)
    close(mem->fd);
  g_array_unref(mem->ranges);
  g_free(mem->warm);
  g_free(mem);
}

const HwRamRange *
hw_physmem_get_ranges(const HwPhysMem *mem, guint *n_ranges)
{
  *n_ranges = mem->ranges->len;
  return (const HwRamRange *)(gconstpointer)mem->ranges->data;
}

guint64
hw_physmem_get_ram_size(const HwPhysMem *mem)
{
  return mem->ram_size;
}

const guint8 *
hw_physmem_ptr(const HwPhysMem *mem, guint64 gpa, gsize len)
{
  const HwRamRange *r = (const HwRamRange *)(gconstpointer)mem->ranges->data;
  guint lo = 0, hi = mem->ranges->len;

  /* Binary search for the last range starting at or below gpa. */
  while (hi - lo > 1) {
    guint mid = (lo + hi) / 2;
    if (r[mid].gpa <= gpa)
      lo = mid;
    else
      hi = mid;
  }
  if (gpa < r[lo].gpa)
    return NULL;
  guint64 off = gpa - r[lo].gpa;
  if (off >= r[lo].size || len > r[lo].size - off)
    return NULL;
  return mem->base + r[lo].file_offset + off;
}

void
hw_physmem_prefault(const HwPhysMem *mem, const guint8 *p, gsize len)
{
  if (!mem->mapped || len == 0 || p < mem->base || len > mem->size ||
      (gsize)(p - mem->base) > mem->size - len)
    return;
  gsize off = (gsize)(p - mem->base), first = off / WARM_CHUNK;
  gsize last = (off + len - 1) / WARM_CHUNK;
  gboolean cold = FALSE;
  for (gsize c = first; c <= last && !cold; c++)
    cold = !(__atomic_load_n(&mem->warm[c / 64], __ATOMIC_RELAXED) & (1ull << (c % 64)));
  if (!cold)
    return;
  gsize page = (gsize)sysconf(_SC_PAGESIZE), lead = off % page;
  madvise((void *)(p - lead), len + lead, MADV_POPULATE_READ);
  /* Only the chunks this call covered whole are warm now. */
  for (gsize c = first; c <= last; c++)
    if ((guint64)c * WARM_CHUNK >= off && (guint64)(c + 1) * WARM_CHUNK <= off + len)
      __atomic_fetch_or(&mem->warm[c / 64], 1ull << (c % 64), __ATOMIC_RELAXED);
}

gboolean
hw_physmem_next_data(const HwPhysMem *mem, guint64 gpa, guint64 end, guint64 *data_start,
                     guint64 *data_end)
{
  const guint8 *p = gpa < end ? hw_physmem_ptr(mem, gpa, end - gpa) : NULL;
  if (p == NULL)
    return FALSE;
  if (mem->fd < 0) {
    *data_start = gpa;
    *data_end = end;
    return TRUE;
  }
  off_t file_off = (off_t)(p - mem->base);
  off_t file_end = file_off + (off_t)(end - gpa);
  off_t d = lseek(mem->fd, file_off, SEEK_DATA);
  if (d < 0) {
    if (errno == ENXIO)
      return FALSE;   /* only a hole up to the end of the file */
    d = file_off;     /* no SEEK_DATA here: treat everything as data */
  }
  if (d >= file_end)
    return FALSE;
  off_t h = lseek(mem->fd, d, SEEK_HOLE);
  if (h < 0 || h > file_end)
    h = file_end;
  *data_start = gpa + (guint64)(d - file_off);
  *data_end = gpa + (guint64)(h - file_off);
  return TRUE;
}

typedef struct {
  HwPhysMemFunc fn;
  const guint8 *p;
  gsize len;
  gpointer data;
} Access;

static void
run_access(gpointer data)
{
  Access *a = data;
  a->fn(a->p, a->len, a->data);
}

gboolean
hw_physmem_check(const HwPhysMem *mem, GError **error)
{
  struct stat st;
  if (mem->fd < 0)
    return TRUE;   /* memory given by the caller: nothing can shrink it */
  if (fstat(mem->fd, &st) == 0 && (guint64)st.st_size >= mem->size)
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_GONE, "the memory file shrank under the mapping "
              "(truncated or replaced?)");
  return FALSE;
}

gboolean
hw_physmem_access(const HwPhysMem *mem, guint64 gpa, gsize len, HwPhysMemFunc fn,
                  gpointer data, GError **error)
{
  Access a = { fn, hw_physmem_ptr(mem, gpa, len), len, data };
  if (a.p == NULL) {
    if (hw_physmem_ptr(mem, gpa, 1) != NULL)
      g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE,
                  "read of %" G_GSIZE_FORMAT " bytes at 0x%" G_GINT64_MODIFIER
                  "x crosses the end of a RAM region", len, gpa);
    else
      g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE,
                  "physical address 0x%" G_GINT64_MODIFIER "x is not in guest RAM", gpa);
    return FALSE;
  }
  if (hw_guarded(run_access, &a))
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_GONE,
              "guest memory at 0x%" G_GINT64_MODIFIER "x vanished (did QEMU exit?)", gpa);
  return FALSE;
}

static void
copy_out(const guint8 *p, gsize len, gpointer buf)
{
  memcpy(buf, p, len);
}

gboolean
hw_physmem_read(const HwPhysMem *mem, guint64 gpa, void *buf, gsize len, GError **error)
{
  return hw_physmem_access(mem, gpa, len, copy_out, buf, error);
}
