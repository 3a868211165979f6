/* The pages of a `--data` snapshot: data pages (neither zeros nor holes), in gpa order,
 * HW_SNAPSHOT_BLOCK_PAGES to a zstd frame, frames compressed and restored on every core.
 * A restored page must match its hash, so a frame that decodes to something else is
 * caught even where the file checksum was forged. */
#include "output/snapshot-data.h"
#include <haywire/scan.h>
#include <haywire/error.h>
#include "le-bytes.h"

#include <string.h>
#include <zstd.h>

#define PAGE HW_PAGE_SIZE
#define LEVEL 1              /* zstd's fastest standard level: a snapshot is taken paused */
#define HEAD_BYTES 16u       /* block pages (4), zero (4), frame count (8) */

/* One data page: where it is in the guest, in the restored image, and its hash. */
typedef struct {
  guint64 gpa;
  guint64 off;
  guint64 hash;
} DataPage;

static GArray *
list_data_pages(const HwRamRange *ranges, guint n_ranges, GPtrArray *hashes)
{
  GArray *pages = g_array_new(FALSE, FALSE, sizeof(DataPage));
  guint64 off = 0;
  for (guint i = 0; i < n_ranges && i < hashes->len; i++) {
    const guint64 *h = g_ptr_array_index(hashes, i);
    for (guint64 p = 0; p < ranges[i].size / PAGE; p++, off += PAGE)
      if (hw_page_hash_is_data(h[p])) {
        DataPage d = { ranges[i].gpa + p * PAGE, off, h[p] };
        g_array_append_val(pages, d);
      }
  }
  return pages;
}

typedef struct {
  const HwPhysMem *mem;      /* pack: read from here */
  guint8 *image;             /* unpack: restore into here */
  const DataPage *pages;
  guint64 n_pages, n_blocks;
  GBytes **frames;           /* pack: one per block */
  const guint8 *section;     /* unpack: the frames, at frame_off[k] */
  const guint64 *frame_off, *frame_len;
  gint next;                 /* the next block to take */
  const char *why;           /* the first failure */
  gboolean gone;             /* pack: the memory vanished */
} Job;

static void
fail(Job *job, const char *why)
{
  g_atomic_pointer_compare_and_exchange(&job->why, NULL, why);
}

static gint64
take_block(Job *job)
{
  gint k = g_atomic_int_add(&job->next, 1);
  return g_atomic_pointer_get(&job->why) == NULL && (guint64)k < job->n_blocks ? k : -1;
}

static guint64
block_pages(const Job *job, guint64 k)
{
  return MIN(job->n_pages - k * HW_SNAPSHOT_BLOCK_PAGES, (guint64)HW_SNAPSHOT_BLOCK_PAGES);
}

static gpointer
pack_worker(gpointer data)
{
  Job *job = data;
  ZSTD_CCtx *cctx = ZSTD_createCCtx();
  gsize raw_cap = (gsize)HW_SNAPSHOT_BLOCK_PAGES * PAGE, out_cap = ZSTD_compressBound(raw_cap);
  guint8 *raw = g_malloc(raw_cap), *out = g_malloc(out_cap);
  gint64 k;
  while (cctx != NULL && (k = take_block(job)) >= 0) {
    guint64 n = block_pages(job, (guint64)k);
    const DataPage *pg = job->pages + (guint64)k * HW_SNAPSHOT_BLOCK_PAGES;
    for (guint64 j = 0; j < n; j++) {
      if (!hw_physmem_read(job->mem, pg[j].gpa, raw + j * PAGE, PAGE, NULL)) {
        job->gone = TRUE;
        fail(job, "guest memory vanished while its pages were read");
      } else if (hw_scan_page_hash(raw + j * PAGE) != pg[j].hash) {
        /* Caught now, not when the file is read: the guest ran after the hashing. */
        fail(job, "a page changed after it was hashed (did the guest run?)");
      }
    }
    gsize len = ZSTD_compressCCtx(cctx, out, out_cap, raw, (gsize)(n * PAGE), LEVEL);
    if (ZSTD_isError(len))
      fail(job, "zstd could not compress the pages");
    else
      job->frames[k] = g_bytes_new(out, len);
  }
  if (cctx == NULL)
    fail(job, "zstd could not start");
  ZSTD_freeCCtx(cctx);
  g_free(raw);
  g_free(out);
  return NULL;
}

static gpointer
unpack_worker(gpointer data)
{
  Job *job = data;
  ZSTD_DCtx *dctx = ZSTD_createDCtx();
  gsize cap = (gsize)HW_SNAPSHOT_BLOCK_PAGES * PAGE;
  guint8 *raw = g_malloc(cap);
  gint64 k;
  while (dctx != NULL && (k = take_block(job)) >= 0) {
    guint64 n = block_pages(job, (guint64)k);
    const DataPage *pg = job->pages + (guint64)k * HW_SNAPSHOT_BLOCK_PAGES;
    gsize len = ZSTD_decompressDCtx(dctx, raw, cap, job->section + job->frame_off[k],
                                    (gsize)job->frame_len[k]);
    if (ZSTD_isError(len) || len != n * PAGE) {
      fail(job, "a block of page data does not decompress to its pages");
      break;
    }
    for (guint64 j = 0; j < n; j++) {
      if (hw_scan_page_hash(raw + j * PAGE) != pg[j].hash) {
        fail(job, "a page of its data does not match the page's hash");
        break;
      }
      memcpy(job->image + pg[j].off, raw + j * PAGE, PAGE);
    }
  }
  if (dctx == NULL)
    fail(job, "zstd could not start");
  ZSTD_freeDCtx(dctx);
  g_free(raw);
  return NULL;
}

static void
run_workers(Job *job, GThreadFunc fn, guint n_threads)
{
  if (n_threads == 0)
    n_threads = g_get_num_processors();
  n_threads = (guint)MIN((guint64)MAX(n_threads, 1u), MAX(job->n_blocks, (guint64)1));
  g_autoptr(GPtrArray) threads = g_ptr_array_new();
  for (guint t = 1; t < n_threads; t++)
    g_ptr_array_add(threads, g_thread_new("hw-snapshot", fn, job));
  fn(job);
  for (guint t = 0; t < threads->len; t++)
    g_thread_join(g_ptr_array_index(threads, t));
}

static void
put(GByteArray *b, const void *p, gsize n)
{
  g_byte_array_append(b, p, (guint)n);
}

GBytes *
hw_snapshot_data_pack(const HwPhysMem *mem, const HwRamRange *ranges, guint n_ranges,
                      GPtrArray *hashes, guint n_threads, GError **error)
{
  g_autoptr(GArray) pages = list_data_pages(ranges, n_ranges, hashes);
  Job job = { .mem = mem, .pages = (const DataPage *)(void *)pages->data,
              .n_pages = pages->len };
  job.n_blocks = (job.n_pages + HW_SNAPSHOT_BLOCK_PAGES - 1) / HW_SNAPSHOT_BLOCK_PAGES;
  job.frames = g_new0(GBytes *, job.n_blocks + 1);
  run_workers(&job, pack_worker, n_threads);
  GByteArray *b = NULL;
  if (job.why == NULL) {
    guint64 total = HEAD_BYTES + 8 * job.n_blocks;
    for (guint64 k = 0; k < job.n_blocks; k++)
      total += g_bytes_get_size(job.frames[k]);
    if (total > G_MAXUINT - 64)
      job.why = "the page data would exceed 4 GiB compressed";
    else
      b = g_byte_array_sized_new((guint)total);
  }
  if (b != NULL) {
    guint32 head[2] = { GUINT32_TO_LE(HW_SNAPSHOT_BLOCK_PAGES), 0 };
    guint64 nb = GUINT64_TO_LE(job.n_blocks);
    put(b, head, 8);
    put(b, &nb, 8);
    for (guint64 k = 0; k < job.n_blocks; k++) {
      guint64 len = GUINT64_TO_LE((guint64)g_bytes_get_size(job.frames[k]));
      put(b, &len, 8);
    }
    for (guint64 k = 0; k < job.n_blocks; k++)
      put(b, g_bytes_get_data(job.frames[k], NULL), g_bytes_get_size(job.frames[k]));
  }
  for (guint64 k = 0; k < job.n_blocks; k++)
    if (job.frames[k])
      g_bytes_unref(job.frames[k]);
  g_free(job.frames);
  if (b == NULL) {
    g_set_error(error, HW_ERROR, job.gone ? HW_ERROR_GONE : HW_ERROR_FAILED,
                "cannot store the pages: %s", job.why);
    return NULL;
  }
  return g_byte_array_free_to_bytes(b);
}

/* The frame table of SECTION: offsets and lengths (caller frees both), or a reason. */
static const char *
read_table(GBytes *section, guint64 n_data, guint64 **off, guint64 **len, guint64 *n_blocks)
{
  gsize size;
  const guint8 *d = g_bytes_get_data(section, &size);
  if (size < HEAD_BYTES)
    return "its page data is cut short";
  if (hw_le32(d) != HW_SNAPSHOT_BLOCK_PAGES || hw_le32(d + 4) != 0 || hw_le64(d + 8) !=
      (n_data + HW_SNAPSHOT_BLOCK_PAGES - 1) / HW_SNAPSHOT_BLOCK_PAGES)
    return "its page data does not fit its page hashes";
  guint64 k = hw_le64(d + 8), pos = HEAD_BYTES + 8 * k;
  if (k > (size - HEAD_BYTES) / 8)
    return "its page data's frame table is cut short";
  *off = g_new(guint64, k + 1);
  *len = g_new(guint64, k + 1);
  for (guint64 i = 0; i < k; i++) {
    guint64 l = hw_le64(d + HEAD_BYTES + 8 * i);
    if (l == 0 || l > size - pos) {
      g_clear_pointer(off, g_free);
      g_clear_pointer(len, g_free);
      return "a frame of its page data runs past the section";
    }
    (*off)[i] = pos;
    (*len)[i] = l;
    pos += l;
  }
  if (pos != size) {
    g_clear_pointer(off, g_free);
    g_clear_pointer(len, g_free);
    return "its page data's frames do not add up to the section";
  }
  *n_blocks = k;
  return NULL;
}

gboolean
hw_snapshot_data_check(GBytes *section, guint64 n_data, const char **why)
{
  g_autofree guint64 *off = NULL, *len = NULL;
  guint64 k;
  *why = read_table(section, n_data, &off, &len, &k);
  return *why == NULL;
}

gboolean
hw_snapshot_data_unpack(GBytes *section, const HwRamRange *ranges, guint n_ranges,
                        GPtrArray *hashes, guint8 *image, guint n_threads, const char **why)
{
  g_autoptr(GArray) pages = list_data_pages(ranges, n_ranges, hashes);
  g_autofree guint64 *off = NULL, *len = NULL;
  Job job = { .image = image, .pages = (const DataPage *)(void *)pages->data,
              .n_pages = pages->len, .section = g_bytes_get_data(section, NULL) };
  if ((*why = read_table(section, job.n_pages, &off, &len, &job.n_blocks)) != NULL)
    return FALSE;
  job.frame_off = off;
  job.frame_len = len;
  run_workers(&job, unpack_worker, n_threads);
  *why = job.why;
  return job.why == NULL;
}
