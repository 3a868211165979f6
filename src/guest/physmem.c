/* Guest-physical memory from its sources: memory files mapped read-only (no copy), and
 * QEMU's process memory (/proc/PID/mem), copied into a private anonymous copy of each
 * range a chunk at a time, the first time a chunk is used. */
#include <haywire/physmem.h>
#include <haywire/error.h>
#include "guest/guard.h"

#include <gio/gio.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22   /* Linux 5.14+; older kernels fault the pages one by one */
#endif
#define WARM_CHUNK (2u << 20)   /* hw_physmem_prefault remembers what it did per 2 MiB */
#define FILL_CHUNK (256u << 10) /* a copied range is copied in per 256 KiB */
#define N_STRIPES 64u           /* locks for copying; a chunk's is picked by its index */
#define MAX_EINTR 100u          /* interrupted preads retried per chunk */

/* One source. Memory given by the caller, and our own anonymous memory, are FILE
 * sources without an fd. */
typedef struct {
  HwRamSourceKind kind;
  char *name;
  int fd;                 /* -1: none */
  const guint8 *base;     /* FILE: the whole file mapped, or the memory given; PROCESS: NULL */
  gsize size;             /* FILE: bytes at base */
  gboolean unmap;         /* base is our mapping */
  guint64 need;           /* FILE: the file size its ranges need */
  guint64 *warm;          /* our mapping: a bit per WARM_CHUNK of it, already prefaulted */
} Source;

/* One range of guest RAM as served. */
typedef struct {
  guint64 gpa, size;
  guint source;
  guint64 src_off;        /* FILE: offset in the file; PROCESS: QEMU's host virtual address */
  const guint8 *ptr;      /* the range's first byte: in the source's mapping, or its copy */
  guint8 *copy;           /* PROCESS: the copy (ptr, writable); NULL for FILE */
  gsize copy_size;        /* PROCESS: bytes of the copy's mapping (size, page-rounded) */
  guint64 n_chunks;       /* PROCESS: FILL_CHUNKs in the range */
  guint64 *filled;        /* PROCESS: a bit per chunk, copied (atomic) */
  guint64 *failed;        /* PROCESS: a bit per chunk, the copy failed and left zeros */
  const char *device;     /* a device region's name (in devices), NULL for RAM */
} Range;

/* One mapping of ours, for finding the range or source a pointer points into. */
typedef struct {
  guintptr start, end;
  gboolean is_range;      /* index names a Range (its copy), else a Source (its mapping) */
  guint index;
} Span;

/* What threads copying share. */
typedef struct {
  GMutex stripes[N_STRIPES];   /* held while a chunk is copied in */
  GMutex lock;                 /* the first failure: */
  gboolean failed;
  guint64 fail_gpa;
  int fail_errno;              /* 0: the process had no bytes there (short read) */
  guint fail_source;
} Copies;

struct _HwPhysMem {
  Source *sources;
  guint n_sources;
  Range *ranges;          /* sorted by gpa */
  guint n_ranges;
  GArray *ram_ranges;     /* HwRamRange, the same order, for hw_physmem_get_ranges */
  guint64 ram_size;
  Span *spans;            /* sorted by start */
  guint n_spans;
  Copies *copies;         /* NULL when no range is copied */
  gboolean ram_copies;    /* a RAM range (not only a device region) is copied */
  GArray *devices;        /* HwDeviceRegion, sorted by gpa */
  GStringChunk *names;    /* the device regions' names */
};

static void
sources_free(Source *src, guint n)
{
  for (guint i = 0; i < n; i++) {
    if (src[i].unmap)
      munmap((void *)src[i].base, src[i].size);
    if (src[i].fd >= 0)
      close(src[i].fd);
    g_free(src[i].name);
    g_free(src[i].warm);
  }
  g_free(src);
}

void
hw_physmem_free(HwPhysMem *mem)
{
  if (mem == NULL)
    return;
  for (guint i = 0; i < mem->n_ranges; i++) {
    Range *r = &mem->ranges[i];
    if (r->copy != NULL)
      munmap(r->copy, r->copy_size);
    g_free(r->filled);
    g_free(r->failed);
  }
  g_free(mem->ranges);
  sources_free(mem->sources, mem->n_sources);
  if (mem->ram_ranges != NULL)
    g_array_unref(mem->ram_ranges);
  g_free(mem->spans);
  if (mem->devices != NULL)
    g_array_unref(mem->devices);
  if (mem->names != NULL)
    g_string_chunk_free(mem->names);
  if (mem->copies != NULL) {
    for (guint i = 0; i < N_STRIPES; i++)
      g_mutex_clear(&mem->copies->stripes[i]);
    g_mutex_clear(&mem->copies->lock);
    g_free(mem->copies);
  }
  g_free(mem);
}

static int
compare_piece(const void *a, const void *b)
{
  const HwRamPiece *pa = a, *pb = b;
  return pa->gpa < pb->gpa ? -1 : pa->gpa > pb->gpa;
}

static int
compare_span(const void *a, const void *b)
{
  const Span *sa = a, *sb = b;
  return sa->start < sb->start ? -1 : sa->start > sb->start;
}

/* A piece and, for a device region, its name. */
typedef struct {
  HwRamPiece piece;
  const char *device;
} Taken;

static int
compare_taken(const void *a, const void *b)
{
  return compare_piece(&((const Taken *)a)->piece, &((const Taken *)b)->piece);
}

/* Check the PIECES and DEVICES against the SOURCES and fill MEM's ranges from them,
 * sorted. */
static gboolean
take_pieces(HwPhysMem *mem, const HwRamPiece *pieces, guint n_pieces,
            const HwDevicePiece *devices, guint n_devices, GError **error)
{
  if (n_pieces == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE, "no RAM ranges to map");
    return FALSE;
  }
  guint n = n_pieces + n_devices;
  g_autofree Taken *sorted = g_new0(Taken, n);
  mem->names = g_string_chunk_new(256);
  for (guint i = 0; i < n_pieces; i++)
    sorted[i].piece = pieces[i];
  for (guint i = 0; i < n_devices; i++) {
    sorted[n_pieces + i].piece = devices[i].piece;
    sorted[n_pieces + i].device = g_string_chunk_insert_const(
        mem->names, devices[i].name ? devices[i].name : "device");
    if (devices[i].piece.source < mem->n_sources &&
        mem->sources[devices[i].piece.source].kind != HW_RAM_SOURCE_PROCESS) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "device region %s is not served from a process", sorted[n_pieces + i].device);
      return FALSE;
    }
  }
  qsort(sorted, n, sizeof *sorted, compare_taken);
  mem->ranges = g_new0(Range, n);
  mem->n_ranges = n;
  mem->devices = g_array_new(FALSE, FALSE, sizeof(HwDeviceRegion));
  for (guint i = 0; i < n; i++) {
    const HwRamPiece *p = &sorted[i].piece;
    if (p->source >= mem->n_sources) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "RAM range at 0x%" G_GINT64_MODIFIER "x names source %u of %u", p->gpa,
                  p->source, mem->n_sources);
      return FALSE;
    }
    if (p->size == 0 || p->gpa + p->size < p->gpa) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "RAM range at 0x%" G_GINT64_MODIFIER "x has a bad size", p->gpa);
      return FALSE;
    }
    Source *src = &mem->sources[p->source];
    if (src->kind == HW_RAM_SOURCE_FILE &&
        (p->offset > src->size || p->size > src->size - p->offset)) {
      g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                  "RAM range 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER
                  "x lies beyond %s (%" G_GSIZE_FORMAT " bytes)", p->gpa, p->size, src->name,
                  src->size);
      return FALSE;
    }
    /* pread takes a signed offset; the copy is one mapping. */
    if (src->kind == HW_RAM_SOURCE_PROCESS &&
        (p->offset > (guint64)G_MAXINT64 || p->size > (guint64)G_MAXINT64 - p->offset ||
         p->size > G_MAXSIZE - (1u << 20))) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "RAM range 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER
                  "x: host address 0x%" G_GINT64_MODIFIER "x out of reach in %s", p->gpa,
                  p->size, p->offset, src->name);
      return FALSE;
    }
    if (i > 0 && sorted[i - 1].piece.gpa + sorted[i - 1].piece.size > p->gpa) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                  "RAM ranges overlap at 0x%" G_GINT64_MODIFIER "x", p->gpa);
      return FALSE;
    }
    Range *r = &mem->ranges[i];
    r->gpa = p->gpa;
    r->size = p->size;
    r->source = p->source;
    r->src_off = p->offset;
    r->device = sorted[i].device;
    if (src->kind == HW_RAM_SOURCE_FILE)
      src->need = MAX(src->need, p->offset + p->size);
    if (r->device == NULL) {
      mem->ram_size += p->size;
    } else {
      HwDeviceRegion d = { r->gpa, r->size, r->device, r->src_off };
      g_array_append_val(mem->devices, d);
    }
  }
  return TRUE;
}

/* Map what is to be mapped, reserve the copies, and index the mappings by address. */
static gboolean
map_all(HwPhysMem *mem, GError **error)
{
  gsize page = (gsize)sysconf(_SC_PAGESIZE);
  guint n_copies = 0;
  for (guint i = 0; i < mem->n_sources; i++) {
    Source *s = &mem->sources[i];
    if (s->kind != HW_RAM_SOURCE_FILE)
      continue;
    if (s->base == NULL && s->fd >= 0) {
      void *base = mmap(NULL, s->size, PROT_READ, MAP_SHARED, s->fd, 0);
      if (base == MAP_FAILED) {
        int e = errno;
        g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE, "cannot map memory file %s: %s",
                    s->name, g_strerror(e));
        return FALSE;
      }
      s->base = base;
      s->unmap = TRUE;
      hw_guard_install();
    }
    if (s->unmap)
      s->warm = g_new0(guint64, s->size / WARM_CHUNK / 64 + 1);
  }
  for (guint i = 0; i < mem->n_ranges; i++) {
    Range *r = &mem->ranges[i];
    const Source *s = &mem->sources[r->source];
    if (s->kind == HW_RAM_SOURCE_FILE) {
      r->ptr = s->base + r->src_off;
      continue;
    }
    /* Untouched pages of the copy stay the kernel's zero page: they cost nothing. */
    gsize size = ((gsize)r->size + page - 1) / page * page;
    void *copy = mmap(NULL, size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (copy == MAP_FAILED) {
      int e = errno;
      g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "cannot reserve %" G_GSIZE_FORMAT
                  " bytes for a copy of guest RAM at 0x%" G_GINT64_MODIFIER "x: %s", size,
                  r->gpa, g_strerror(e));
      return FALSE;
    }
    r->ptr = r->copy = copy;
    r->copy_size = size;
    r->n_chunks = (r->size + FILL_CHUNK - 1) / FILL_CHUNK;
    r->filled = g_new0(guint64, r->n_chunks / 64 + 1);
    r->failed = g_new0(guint64, r->n_chunks / 64 + 1);
    n_copies++;
    if (r->device == NULL)
      mem->ram_copies = TRUE;
  }
  if (n_copies > 0) {
    mem->copies = g_new0(Copies, 1);
    for (guint i = 0; i < N_STRIPES; i++)
      g_mutex_init(&mem->copies->stripes[i]);
    g_mutex_init(&mem->copies->lock);
  }

  mem->spans = g_new0(Span, mem->n_sources + mem->n_ranges);
  for (guint i = 0; i < mem->n_sources; i++)
    if (mem->sources[i].unmap)
      mem->spans[mem->n_spans++] = (Span){ (guintptr)mem->sources[i].base,
                                           (guintptr)mem->sources[i].base + mem->sources[i].size,
                                           FALSE, i };
  for (guint i = 0; i < mem->n_ranges; i++)
    if (mem->ranges[i].copy != NULL)
      mem->spans[mem->n_spans++] = (Span){ (guintptr)mem->ranges[i].copy,
                                           (guintptr)mem->ranges[i].copy + mem->ranges[i].size,
                                           TRUE, i };
  qsort(mem->spans, mem->n_spans, sizeof *mem->spans, compare_span);
  return TRUE;
}

/* Serve PIECES from SOURCES (taken: freed on failure too). FILE sources come with their
 * size, and their base unless they are to be mapped from their fd. */
static HwPhysMem *
physmem_new(Source *sources, guint n_sources, const HwRamPiece *pieces, guint n_pieces,
            const HwDevicePiece *devices, guint n_devices, GError **error)
{
  g_autoptr(HwPhysMem) mem = g_new0(HwPhysMem, 1);
  mem->sources = sources;
  mem->n_sources = n_sources;
  if (!take_pieces(mem, pieces, n_pieces, devices, n_devices, error) || !map_all(mem, error))
    return NULL;
  mem->ram_ranges = g_array_sized_new(FALSE, FALSE, sizeof(HwRamRange), mem->n_ranges);
  for (guint i = 0; i < mem->n_ranges; i++) {
    const Range *r = &mem->ranges[i];
    if (r->device != NULL)
      continue;
    HwRamRange rr = { r->gpa, r->size, r->copy == NULL ? r->src_off : 0 };
    g_array_append_val(mem->ram_ranges, rr);
  }
  return g_steal_pointer(&mem);
}

/* RANGES as pieces of source 0; the caller frees them. */
static HwRamPiece *
pieces_of(const HwRamRange *ranges, guint n_ranges)
{
  HwRamPiece *pieces = g_new0(HwRamPiece, MAX(n_ranges, 1));
  for (guint i = 0; i < n_ranges; i++)
    pieces[i] = (HwRamPiece){ ranges[i].gpa, ranges[i].size, 0, ranges[i].file_offset };
  return pieces;
}

HwPhysMem *
hw_physmem_new_from_data(const guint8 *data, gsize size, const HwRamRange *ranges,
                         guint n_ranges, GError **error)
{
  Source *src = g_new0(Source, 1);
  src->kind = HW_RAM_SOURCE_FILE;
  src->name = g_strdup("the memory given");
  src->fd = -1;
  src->base = data;
  src->size = size;
  g_autofree HwRamPiece *pieces = pieces_of(ranges, n_ranges);
  return physmem_new(src, 1, pieces, n_ranges, NULL, 0, error);
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
  g_autofree HwRamPiece *pieces = pieces_of(ranges, n_ranges);
  guint64 total = 0;
  for (guint i = 0; i < n_ranges; i++) {
    pieces[i].offset = total;
    if (ranges[i].size > G_MAXUINT64 - total) {
      g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "RAM ranges too large");
      return NULL;
    }
    total += ranges[i].size;
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
  Source *src = g_new0(Source, 1);
  src->kind = HW_RAM_SOURCE_FILE;
  src->name = g_strdup("anonymous memory");
  src->fd = -1;
  src->base = base;
  src->size = (gsize)total;
  src->unmap = TRUE;
  HwPhysMem *mem = physmem_new(src, 1, pieces, n_ranges, NULL, 0, error);
  if (mem != NULL)
    *image = base;
  return mem;
}

HwPhysMem *
hw_physmem_open_sources(const HwRamSource *sources, guint n_sources, const HwRamPiece *pieces,
                        guint n_pieces, GError **error)
{
  return hw_physmem_open_with_devices(sources, n_sources, pieces, n_pieces, NULL, 0, error);
}

HwPhysMem *
hw_physmem_open_with_devices(const HwRamSource *sources, guint n_sources,
                             const HwRamPiece *pieces, guint n_pieces,
                             const HwDevicePiece *devices, guint n_devices, GError **error)
{
  g_autoptr(GError) local = NULL;
  Source *src = g_new0(Source, MAX(n_sources, 1));
  /* Take every fd before anything can fail, so that all of them are closed on failure. */
  for (guint i = 0; i < n_sources; i++) {
    src[i].kind = sources[i].kind;
    src[i].name = g_strdup(sources[i].name != NULL ? sources[i].name : "(unnamed source)");
    src[i].fd = sources[i].fd;
    for (guint j = 0; j < i && src[i].fd >= 0; j++)
      if (src[j].fd == src[i].fd) {
        src[i].fd = -1;   /* closed once, as source j */
        if (local == NULL)
          g_set_error(&local, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                      "sources %s and %s are the same fd %d", src[j].name, src[i].name,
                      src[j].fd);
      }
  }
  for (guint i = 0; i < n_sources && local == NULL; i++) {
    struct stat st;
    if (src[i].kind != HW_RAM_SOURCE_FILE && src[i].kind != HW_RAM_SOURCE_PROCESS)
      g_set_error(&local, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "source %s has no known kind",
                  src[i].name);
    else if (src[i].fd < 0 || fstat(src[i].fd, &st) != 0)
      g_set_error(&local, HW_ERROR, HW_ERROR_INVALID_ARGUMENT, "source %s has no open fd",
                  src[i].name);
    else if (src[i].kind == HW_RAM_SOURCE_PROCESS)
      continue;
    else if (!S_ISREG(st.st_mode) || st.st_size <= 0)
      g_set_error(&local, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                  "memory file %s is not a non-empty regular file", src[i].name);
    else if ((guint64)st.st_size > G_MAXSIZE)
      g_set_error(&local, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                  "memory file %s is too large to map here", src[i].name);
    else
      src[i].size = (gsize)st.st_size;
  }
  if (local != NULL) {
    sources_free(src, n_sources);
    g_propagate_error(error, g_steal_pointer(&local));
    return NULL;
  }
  return physmem_new(src, n_sources, pieces, n_pieces, devices, n_devices, error);
}

HwPhysMem *
hw_physmem_open(const char *path, const HwRamRange *ranges, guint n_ranges, GError **error)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE, "cannot open memory file %s: %s",
                path, g_strerror(e));
    return NULL;
  }
  const HwRamSource source = { HW_RAM_SOURCE_FILE, fd, path };
  g_autofree HwRamPiece *pieces = pieces_of(ranges, n_ranges);
  return hw_physmem_open_sources(&source, 1, pieces, n_ranges, error);
}

const HwRamRange *
hw_physmem_get_ranges(const HwPhysMem *mem, guint *n_ranges)
{
  *n_ranges = mem->ram_ranges->len;
  return (const HwRamRange *)(gconstpointer)mem->ram_ranges->data;
}

guint64
hw_physmem_get_ram_size(const HwPhysMem *mem)
{
  return mem->ram_size;
}

gboolean
hw_physmem_copies(const HwPhysMem *mem)
{
  return mem->ram_copies;
}

const HwDeviceRegion *
hw_physmem_get_devices(const HwPhysMem *mem, guint *n_devices)
{
  *n_devices = mem->devices ? mem->devices->len : 0;
  return mem->devices ? (const HwDeviceRegion *)(gconstpointer)mem->devices->data : NULL;
}

/* The range holding all LEN bytes at GPA, or NULL. */
static const Range *
find_range(const HwPhysMem *mem, guint64 gpa, guint64 len)
{
  const Range *r = mem->ranges;
  guint lo = 0, hi = mem->n_ranges;

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
  return &r[lo];
}

/* The mapping of ours P points into, or NULL. */
static const Span *
find_span(const HwPhysMem *mem, const guint8 *p)
{
  guintptr at = (guintptr)p;
  guint lo = 0, hi = mem->n_spans;
  while (lo < hi) {   /* the first span ending after P */
    guint mid = lo + (hi - lo) / 2;
    if (mem->spans[mid].end <= at)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo == mem->n_spans || at < mem->spans[lo].start)
    return NULL;
  return &mem->spans[lo];
}

gboolean
hw_physmem_get_source(const HwPhysMem *mem, guint64 gpa, HwRamSourceKind *kind,
                      const char **name)
{
  const Range *r = find_range(mem, gpa, 1);
  if (r == NULL)
    return FALSE;
  if (kind != NULL)
    *kind = mem->sources[r->source].kind;
  if (name != NULL)
    *name = mem->sources[r->source].name;
  return TRUE;
}

/* ---- copying from a process ---------------------------------------------------------- */

static gboolean
bit_get(const guint64 *bits, guint64 i)
{
  return (__atomic_load_n(&bits[i / 64], __ATOMIC_ACQUIRE) >> (i % 64)) & 1;
}

static void
bit_set(guint64 *bits, guint64 i)
{
  __atomic_fetch_or(&bits[i / 64], 1ull << (i % 64), __ATOMIC_RELEASE);
}

/* Read LEN bytes at POS of FD into BUF; the bytes read, fewer with *ERR (0: none there)
 * when the read failed. */
static gsize
pread_full(int fd, guint8 *buf, gsize len, guint64 pos, int *err)
{
  gsize got = 0;
  guint interrupted = 0;
  *err = 0;
  while (got < len) {
    ssize_t n = pread(fd, buf + got, len - got, (off_t)(pos + got));
    if (n < 0 && errno == EINTR && interrupted++ < MAX_EINTR)
      continue;
    if (n <= 0) {
      *err = n < 0 ? errno : 0;
      break;
    }
    got += (gsize)n;   /* each pass advances, fails, or uses up an interruption */
  }
  return got;
}

/* Copy chunk C of range R in, unless another thread did while we waited. Only our own
 * anonymous memory is written (pread fails, it cannot SIGBUS), so a guard around the
 * caller never jumps out while a lock is held. */
static void
fill_chunk(const HwPhysMem *mem, const Range *r, guint64 c)
{
  GMutex *lock = &mem->copies->stripes[(c + (guint64)(r - mem->ranges) * 7) % N_STRIPES];
  g_mutex_lock(lock);
  if (!bit_get(r->filled, c)) {
    guint64 at = c * FILL_CHUNK;
    gsize want = (gsize)MIN((guint64)FILL_CHUNK, r->size - at);
    int e;
    gsize got = pread_full(mem->sources[r->source].fd, r->copy + at, want, r->src_off + at, &e);
    if (got < want) {
      memset(r->copy + at + got, 0, want - got);
      bit_set(r->failed, c);
      Copies *cp = mem->copies;
      g_mutex_lock(&cp->lock);
      if (!cp->failed && r->device == NULL) {   /* a device's failure is its reads' */
        cp->failed = TRUE;
        cp->fail_gpa = r->gpa + at + got;
        cp->fail_errno = e;
        cp->fail_source = r->source;
      }
      g_mutex_unlock(&cp->lock);
    }
    bit_set(r->filled, c);   /* after the bytes and the failed bit */
  }
  g_mutex_unlock(lock);
}

/* Make sure the LEN bytes at OFF of range R are there (copied in if R is a copy). */
static void
fill(const HwPhysMem *mem, const Range *r, guint64 off, guint64 len)
{
  if (r->copy == NULL || len == 0)
    return;
  for (guint64 c = off / FILL_CHUNK; c <= (off + len - 1) / FILL_CHUNK; c++)
    if (!bit_get(r->filled, c))
      fill_chunk(mem, r, c);
}

/* Whether copying any of the LEN bytes at OFF of range R (filled) failed. */
static gboolean
fill_failed(const Range *r, guint64 off, guint64 len)
{
  if (r->copy == NULL || len == 0)
    return FALSE;
  for (guint64 c = off / FILL_CHUNK; c <= (off + len - 1) / FILL_CHUNK; c++)
    if (bit_get(r->failed, c))
      return TRUE;
  return FALSE;
}

void
hw_physmem_forget(HwPhysMem *mem)
{
  if (mem->copies == NULL)
    return;
  for (guint i = 0; i < mem->n_ranges; i++) {
    Range *r = &mem->ranges[i];
    if (r->copy == NULL)
      continue;
    memset(r->filled, 0, (gsize)(r->n_chunks / 64 + 1) * sizeof *r->filled);
    memset(r->failed, 0, (gsize)(r->n_chunks / 64 + 1) * sizeof *r->failed);
    /* Back to the zero page: the memory goes back to the system. */
    madvise(r->copy, r->copy_size, MADV_DONTNEED);
  }
  g_mutex_lock(&mem->copies->lock);
  mem->copies->failed = FALSE;
  g_mutex_unlock(&mem->copies->lock);
}

/* ---- reading ------------------------------------------------------------------------- */

const guint8 *
hw_physmem_ptr(const HwPhysMem *mem, guint64 gpa, gsize len)
{
  const Range *r = find_range(mem, gpa, len);
  if (r == NULL)
    return NULL;
  fill(mem, r, gpa - r->gpa, len);
  return r->ptr + (gpa - r->gpa);
}

void
hw_physmem_prefault(const HwPhysMem *mem, const guint8 *p, gsize len)
{
  const Span *s = find_span(mem, p);
  if (s == NULL || len == 0 || len > s->end - (guintptr)p)
    return;
  gsize off = (gsize)((guintptr)p - s->start);
  if (s->is_range) {
    fill(mem, &mem->ranges[s->index], off, len);
    return;
  }
  const Source *src = &mem->sources[s->index];
  gsize first = off / WARM_CHUNK, last = (off + len - 1) / WARM_CHUNK;
  gboolean cold = FALSE;
  for (gsize c = first; c <= last && !cold; c++)
    cold = !(__atomic_load_n(&src->warm[c / 64], __ATOMIC_RELAXED) & (1ull << (c % 64)));
  if (!cold)
    return;
  gsize page = (gsize)sysconf(_SC_PAGESIZE), lead = off % page;
  madvise((void *)(p - lead), len + lead, MADV_POPULATE_READ);
  /* Only the chunks this call covered whole are warm now. */
  for (gsize c = first; c <= last; c++)
    if ((guint64)c * WARM_CHUNK >= off && (guint64)(c + 1) * WARM_CHUNK <= off + len)
      __atomic_fetch_or(&src->warm[c / 64], 1ull << (c % 64), __ATOMIC_RELAXED);
}

gboolean
hw_physmem_next_data(const HwPhysMem *mem, guint64 gpa, guint64 end, guint64 *data_start,
                     guint64 *data_end)
{
  const Range *r = gpa < end ? find_range(mem, gpa, end - gpa) : NULL;
  if (r == NULL)
    return FALSE;
  const Source *src = &mem->sources[r->source];
  if (src->kind != HW_RAM_SOURCE_FILE || src->fd < 0) {
    *data_start = gpa;
    *data_end = end;
    return TRUE;
  }
  off_t file_off = (off_t)(r->src_off + (gpa - r->gpa));
  off_t file_end = file_off + (off_t)(end - gpa);
  off_t d = lseek(src->fd, file_off, SEEK_DATA);
  if (d < 0) {
    if (errno == ENXIO)
      return FALSE;   /* only a hole up to the end of the file */
    d = file_off;     /* no SEEK_DATA here: treat everything as data */
  }
  if (d >= file_end)
    return FALSE;
  off_t h = lseek(src->fd, d, SEEK_HOLE);
  if (h < 0 || h > file_end)
    h = file_end;
  *data_start = gpa + (guint64)(d - file_off);
  *data_end = gpa + (guint64)(h - file_off);
  return TRUE;
}

guint
hw_physmem_data_pages(const HwPhysMem *mem, guint64 gpa, guint n_pages, guint8 *data)
{
  if (gpa % 4096 || n_pages == 0)
    return 0;
  const Range *r = find_range(mem, gpa, 4096);
  if (r == NULL)
    return 0;
  guint n = (guint)MIN((guint64)n_pages, (r->gpa + r->size - gpa) / 4096);
  const Source *src = &mem->sources[r->source];
  const guint8 *p = r->ptr + (gpa - r->gpa);
  if (src->kind != HW_RAM_SOURCE_FILE || src->fd < 0 || (guintptr)p % 4096 ||
      mincore((void *)p, (gsize)n * 4096, data) != 0) {
    memset(data, 1, n);   /* a copy, memory given, or mincore refused: all data */
    return n;
  }
  /* In the page cache: written. Not in it: a hole, or swapped out, which SEEK_DATA
   * (quick over holes, unlike SEEK_HOLE over data) tells apart. */
  off_t file_off = (off_t)(r->src_off + (gpa - r->gpa));
  for (guint i = 0; i < n;) {
    if (data[i] & 1) {
      data[i++] = 1;
      continue;
    }
    off_t at = file_off + (off_t)i * 4096, d = lseek(src->fd, at, SEEK_DATA);
    if (d == at || (d < 0 && errno != ENXIO)) {
      data[i++] = 1;   /* swapped out (or no SEEK_DATA: data, to be safe) */
      continue;
    }
    /* A hole up to the next data (none: to the end), which no cached page is in. */
    guint64 to = d < 0 ? n : MIN((guint64)n, (guint64)(d - file_off) / 4096);
    guint end = (guint)MAX(to, (guint64)i + 1);
    for (; i < end; i++)
      data[i] = 0;
  }
  return n;
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
  for (guint i = 0; i < mem->n_sources; i++) {
    const Source *s = &mem->sources[i];
    struct stat st;
    if (s->kind != HW_RAM_SOURCE_FILE || s->fd < 0)
      continue;   /* memory given by the caller: nothing can shrink it */
    if (fstat(s->fd, &st) == 0 && (guint64)st.st_size >= s->need)
      continue;
    g_set_error(error, HW_ERROR, HW_ERROR_GONE, "memory file %s shrank under the mapping "
                "(truncated or replaced?)", s->name);
    return FALSE;
  }
  for (guint i = 0; i < mem->n_ranges; i++) {
    const Range *r = &mem->ranges[i];
    guint8 byte;
    int e;
    if (r->copy == NULL || r->device != NULL ||
        pread_full(mem->sources[r->source].fd, &byte, 1, r->src_off, &e) == 1)
      continue;
    g_set_error(error, HW_ERROR, HW_ERROR_GONE, "cannot read guest RAM at 0x%" G_GINT64_MODIFIER
                "x from %s: %s (did QEMU exit?)", r->gpa, mem->sources[r->source].name,
                e != 0 ? g_strerror(e) : "nothing there");
    return FALSE;
  }
  if (mem->copies == NULL)
    return TRUE;
  Copies *cp = mem->copies;
  g_mutex_lock(&cp->lock);
  gboolean failed = cp->failed;
  guint64 gpa = cp->fail_gpa;
  int e = cp->fail_errno;
  guint source = cp->fail_source;
  g_mutex_unlock(&cp->lock);
  if (!failed)
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_GONE, "copying guest RAM at 0x%" G_GINT64_MODIFIER
              "x from %s failed: %s (did QEMU exit or unmap it?)", gpa,
              mem->sources[source].name, e != 0 ? g_strerror(e) : "nothing there");
  return FALSE;
}

gboolean
hw_physmem_access(const HwPhysMem *mem, guint64 gpa, gsize len, HwPhysMemFunc fn,
                  gpointer data, GError **error)
{
  const Range *r = find_range(mem, gpa, len);
  if (r == NULL) {
    if (find_range(mem, gpa, 1) != NULL)
      g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE,
                  "read of %" G_GSIZE_FORMAT " bytes at 0x%" G_GINT64_MODIFIER
                  "x crosses the end of a RAM region", len, gpa);
    else
      g_set_error(error, HW_ERROR, HW_ERROR_OUT_OF_RANGE,
                  "physical address 0x%" G_GINT64_MODIFIER "x is not in guest RAM", gpa);
    return FALSE;
  }
  guint64 off = gpa - r->gpa;
  fill(mem, r, off, len);
  if (fill_failed(r, off, len)) {
    g_set_error(error, HW_ERROR, HW_ERROR_GONE, "guest memory at 0x%" G_GINT64_MODIFIER
                "x could not be copied from %s (did QEMU exit?)", gpa,
                mem->sources[r->source].name);
    return FALSE;
  }
  Access a = { fn, r->ptr + off, len, data };
  if (hw_guarded(run_access, &a))
    return TRUE;
  g_set_error(error, HW_ERROR, HW_ERROR_GONE, "guest memory at 0x%" G_GINT64_MODIFIER
              "x vanished from %s (did QEMU exit?)", gpa, mem->sources[r->source].name);
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
