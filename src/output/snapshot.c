/* Snapshots: page hashes, metadata and process pages in one checksummed file (format in
 * docs/snapshots.md), and the diff of two. A loaded file is hostile input: every count
 * is checked against the file's size before anything is read. */
#include <haywire/snapshot.h>
#include <haywire/scan.h>
#include <haywire/error.h>
#include "output/snapshot-data.h"
#include "le-bytes.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#define PAGE HW_PAGE_SIZE
#define MAGIC "HWSNAP\r\n"
#define VERSION 2u                 /* 2 added the page data section; 1 is still read */
#define HEADER_BYTES_V1 32u
#define HEADER_BYTES 48u
#define MAX_PAGES (1ull << 28)     /* 1 TiB of RAM */
#define MAX_OWNERS (1ull << 28)
#define TABLES_LEVEL 3             /* hashes of holes and zeros compress to almost nothing */
#define MAX_RANGES 1024u
#define MAX_METADATA (16u << 20)
#define MAX_FILE (1ull << 40)
#define OWNER_BYTES 24u

struct _HwSnapshot {
  GArray *ranges;        /* HwRamRange (file_offset unused) */
  GPtrArray *hashes;     /* guint64[] per range */
  JsonObject *metadata;
  GArray *owners;        /* HwSnapshotOwner, sorted by gpa, pid, va */
  GBytes *data;          /* the page data section (--data), or NULL */
};

void
hw_snapshot_free(HwSnapshot *s)
{
  if (s == NULL)
    return;
  g_array_unref(s->ranges);
  if (s->hashes)
    g_ptr_array_unref(s->hashes);
  if (s->metadata)
    json_object_unref(s->metadata);
  g_array_unref(s->owners);
  if (s->data)
    g_bytes_unref(s->data);
  g_free(s);
}

static HwSnapshot *
snapshot_new(void)
{
  HwSnapshot *s = g_new0(HwSnapshot, 1);
  s->ranges = g_array_new(FALSE, FALSE, sizeof(HwRamRange));
  s->owners = g_array_new(FALSE, FALSE, sizeof(HwSnapshotOwner));
  return s;
}

static gint
compare_owner(gconstpointer a, gconstpointer b)
{
  const HwSnapshotOwner *x = a, *y = b;
  if (x->gpa != y->gpa)
    return x->gpa < y->gpa ? -1 : 1;
  if (x->pid != y->pid)
    return x->pid < y->pid ? -1 : 1;
  return x->va < y->va ? -1 : x->va > y->va;
}

static void
keep_owner(guint64 gpa, gint32 pid, guint64 va, gpointer data)
{
  HwSnapshotOwner o = { gpa, va, pid };
  g_array_append_val((GArray *)data, o);
}

HwSnapshot *
hw_snapshot_take(const HwPhysMem *mem, const HwOwnerMap *owners, JsonObject *metadata,
                 guint n_threads, GError **error)
{
  g_autoptr(HwSnapshot) s = snapshot_new();
  s->hashes = hw_scan_page_hashes(mem, n_threads, NULL, NULL, error);
  if (s->hashes == NULL)
    return NULL;
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);
  for (guint i = 0; i < n; i++) {
    HwRamRange x = { r[i].gpa, r[i].size, 0 };
    g_array_append_val(s->ranges, x);
  }
  s->metadata = metadata ? json_object_ref(metadata) : json_object_new();
  if (owners)
    hw_owner_map_foreach_process_page(owners, keep_owner, s->owners);
  g_array_sort(s->owners, compare_owner);
  return g_steal_pointer(&s);
}

static void
put64(GByteArray *b, guint64 v)
{
  v = GUINT64_TO_LE(v);
  g_byte_array_append(b, (const guint8 *)&v, 8);
}

static void
put32(GByteArray *b, guint32 v)
{
  v = GUINT32_TO_LE(v);
  g_byte_array_append(b, (const guint8 *)&v, 4);
}

gboolean
hw_snapshot_add_data(HwSnapshot *s, const HwPhysMem *mem, guint n_threads, GError **error)
{
  g_clear_pointer(&s->data, g_bytes_unref);
  s->data = hw_snapshot_data_pack(mem, (const HwRamRange *)(void *)s->ranges->data,
                                  s->ranges->len, s->hashes, n_threads, error);
  return s->data != NULL;
}

gboolean
hw_snapshot_has_data(const HwSnapshot *s)
{
  return s->data != NULL;
}

/* The page hashes and the process pages, raw: the tables section before compression. */
static GByteArray *
encode_tables(const HwSnapshot *s)
{
  GByteArray *b = g_byte_array_new();
  for (guint i = 0; i < s->ranges->len; i++) {
    const guint64 *h = g_ptr_array_index(s->hashes, i);
    guint64 pages = g_array_index(s->ranges, HwRamRange, i).size / PAGE;
    for (guint64 p = 0; p < pages; p++)
      put64(b, h[p]);
  }
  for (guint i = 0; i < s->owners->len; i++) {
    const HwSnapshotOwner *o = &g_array_index(s->owners, HwSnapshotOwner, i);
    put64(b, o->gpa);
    put64(b, o->va);
    put32(b, (guint32)o->pid);
    put32(b, 0);
  }
  return b;
}

/* The file up to the page data: header, ranges, metadata, the tables in one zstd frame. */
static GByteArray *
encode_head(const HwSnapshot *s, GError **error)
{
  g_autoptr(JsonNode) root = json_node_new(JSON_NODE_OBJECT);
  json_node_set_object(root, s->metadata);
  g_autofree char *meta = json_to_string(root, FALSE);
  gsize meta_len = strlen(meta);
  g_autoptr(GByteArray) tables = encode_tables(s);
  gsize cap = ZSTD_compressBound(tables->len);
  g_autofree guint8 *packed = g_malloc(cap);
  gsize packed_len = ZSTD_compress(packed, cap, tables->data, tables->len, TABLES_LEVEL);
  if (ZSTD_isError(packed_len)) {
    g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "zstd could not compress the page hashes");
    return NULL;
  }
  GByteArray *b = g_byte_array_new();
  g_byte_array_append(b, (const guint8 *)MAGIC, 8);
  put32(b, VERSION);
  put32(b, s->ranges->len);
  put64(b, meta_len);
  put64(b, s->owners->len);
  put64(b, packed_len);
  put64(b, s->data ? g_bytes_get_size(s->data) : 0);
  for (guint i = 0; i < s->ranges->len; i++) {
    const HwRamRange *r = &g_array_index(s->ranges, HwRamRange, i);
    put64(b, r->gpa);
    put64(b, r->size);
  }
  g_byte_array_append(b, (const guint8 *)meta, (guint)meta_len);
  g_byte_array_append(b, packed, (guint)packed_len);
  return b;
}

static gboolean
write_all(int fd, const void *p, gsize n, XXH3_state_t *sum)
{
  if (sum)
    XXH3_64bits_update(sum, p, n);
  const guint8 *c = p;
  while (n > 0) {
    ssize_t w = write(fd, c, MIN(n, (gsize)1 << 30));
    if (w < 0 && errno == EINTR)
      continue;
    if (w == 0)
      errno = EIO;
    if (w <= 0)
      return FALSE;
    c += w;
    n -= (gsize)w;
  }
  return TRUE;
}

gboolean
hw_snapshot_save(const HwSnapshot *s, const char *path, GError **error)
{
  g_autoptr(GByteArray) head = encode_head(s, error);
  if (head == NULL)
    return FALSE;
  /* Written beside its final name and renamed over it: never half a snapshot. */
  g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", path);
  int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot create %s: %s", tmp,
                g_strerror(e));
    return FALSE;
  }
  XXH3_state_t *sum = XXH3_createState();
  XXH3_64bits_reset(sum);
  gboolean ok = write_all(fd, head->data, head->len, sum);
  if (ok && s->data)
    ok = write_all(fd, g_bytes_get_data(s->data, NULL), g_bytes_get_size(s->data), sum);
  guint64 trailer = GUINT64_TO_LE((guint64)XXH3_64bits_digest(sum));
  XXH3_freeState(sum);
  ok = ok && write_all(fd, &trailer, 8, NULL) && fsync(fd) == 0;   /* on disk before the rename */
  int e = errno;
  if (close(fd) != 0 && ok) {
    ok = FALSE;
    e = errno;
  }
  if (ok && g_rename(tmp, path) != 0) {
    ok = FALSE;
    e = errno;
  }
  if (!ok) {
    g_unlink(tmp);
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "cannot write %s: %s", path,
                g_strerror(e));
  }
  return ok;
}

static HwSnapshot *
refuse(GError **error, const char *path, const char *why)
{
  g_set_error(error, HW_ERROR, HW_ERROR_FAILED, "%s is not a usable snapshot: %s", path, why);
  return NULL;
}

static HwSnapshot *parse(const guint8 *d, gsize size, GBytes *whole, const char *path,
                         GError **error);

HwSnapshot *
hw_snapshot_load(const char *path, GError **error)
{
  g_autoptr(GMappedFile) f = hw_physmem_map_file(path, error);
  if (f == NULL)
    return NULL;
  /* The page data stays in the mapping: a --data snapshot may be large. */
  g_autoptr(GBytes) whole = g_mapped_file_get_bytes(f);
  return parse(g_bytes_get_data(whole, NULL), g_bytes_get_size(whole), whole, path, error);
}

HwSnapshot *
hw_snapshot_parse(const guint8 *d, gsize size, const char *path, GError **error)
{
  return parse(d, size, NULL, path, error);
}

/* Inflate the zstd frame of LEN bytes at SRC to exactly WANT bytes (caller frees), or a
 * reason. The output grows with what the frame really holds, not with what the header
 * claims. */
static guint8 *
inflate_tables(const guint8 *src, gsize len, gsize want, const char **why)
{
  ZSTD_DCtx *dctx = ZSTD_createDCtx();
  gsize cap = MIN(want, (gsize)1 << 20);
  guint8 *buf = g_malloc(MAX(cap, (gsize)1));
  ZSTD_inBuffer in = { src, len, 0 };
  gsize have = 0;
  *why = dctx ? NULL : "zstd could not start";
  while (*why == NULL) {
    if (have == cap && cap < want) {
      cap = MIN(want, cap * 2);
      buf = g_realloc(buf, cap);
    }
    ZSTD_outBuffer out = { buf, cap, have };
    gsize in_before = in.pos;
    gsize r = ZSTD_decompressStream(dctx, &out, &in);
    gboolean progress = out.pos > have || in.pos > in_before;
    have = out.pos;
    if (ZSTD_isError(r))
      *why = "its page hashes do not decompress";
    else if (r == 0)
      break;   /* the frame is complete */
    else if (have == want && cap == want && out.pos == out.size)
      *why = "its page hashes hold more than its header says";
    else if (in.pos == in.size && have < cap)
      *why = "its page hashes are cut short";
    else if (!progress)
      *why = "its page hashes do not decompress";
  }
  if (*why == NULL && (have != want || in.pos != in.size))
    *why = have != want ? "its page hashes do not fit its RAM map" : "its page hashes are "
                                                                    "followed by stray bytes";
  ZSTD_freeDCtx(dctx);
  if (*why != NULL)
    g_clear_pointer(&buf, g_free);
  return buf;
}

/* WHOLE (may be NULL) holds D's bytes: the page data is then not copied. */
static HwSnapshot *
parse(const guint8 *d, gsize size, GBytes *whole, const char *path, GError **error)
{
  if (d == NULL || size < HEADER_BYTES_V1 + 8 || memcmp(d, MAGIC, 8) != 0)
    return refuse(error, path, "no snapshot header");
  guint32 version = hw_le32(d + 8);
  guint64 header = version == 1 ? HEADER_BYTES_V1 : HEADER_BYTES;
  if (version != 1 && version != VERSION)
    return refuse(error, path, "a format version this haywire does not know");
  if (size < header + 8)
    return refuse(error, path, "no snapshot header");
  if (size > MAX_FILE)
    return refuse(error, path, "larger than any snapshot haywire writes");
  if (hw_le64(d + size - 8) != XXH3_64bits(d, size - 8))
    return refuse(error, path, "damaged or truncated (checksum mismatch)");
  guint32 n_ranges = hw_le32(d + 12);
  guint64 meta_len = hw_le64(d + 16), n_owners = hw_le64(d + 24);
  guint64 packed_len = version == 1 ? 0 : hw_le64(d + 32);
  guint64 data_len = version == 1 ? 0 : hw_le64(d + 40);
  guint64 end = size - 8, pos = header;
  if (n_ranges == 0 || n_ranges > MAX_RANGES || meta_len > MAX_METADATA ||
      n_owners > MAX_OWNERS || data_len > end - pos)
    return refuse(error, path, "counts out of bounds");
  end -= data_len;   /* the page data comes last */
  if ((guint64)n_ranges * 16 > end - pos)
    return refuse(error, path, "counts out of bounds");
  g_autoptr(HwSnapshot) s = snapshot_new();
  guint64 pages = 0;
  for (guint32 i = 0; i < n_ranges; i++, pos += 16) {
    HwRamRange r = { hw_le64(d + pos), hw_le64(d + pos + 8), 0 };
    const HwRamRange *prev = i ? &g_array_index(s->ranges, HwRamRange, i - 1) : NULL;
    if (r.size == 0 || r.gpa % PAGE || r.size % PAGE || r.gpa + r.size < r.gpa ||
        (prev && r.gpa < prev->gpa + prev->size) || r.size / PAGE > MAX_PAGES)
      return refuse(error, path, "a bad RAM range");
    g_array_append_val(s->ranges, r);
    pages += r.size / PAGE;
    if (pages > MAX_PAGES)
      return refuse(error, path, "more RAM than any snapshot haywire writes");
  }
  /* The tables: raw in version 1, one zstd frame in version 2. */
  /* Even 4096 processes mapping every page make no more records than this: a bound on
   * what a small file may claim to inflate to. */
  if (n_owners > pages * 4096)
    return refuse(error, path, "more process pages than its RAM can have");
  guint64 tables_len = pages * 8 + n_owners * OWNER_BYTES;
  guint64 stored = version == 1 ? tables_len : packed_len;
  if (meta_len > end - pos || stored != end - pos - meta_len)
    return refuse(error, path, "sections do not add up to the file's size");
  g_autoptr(JsonParser) parser = json_parser_new_immutable();
  g_autofree char *meta = g_strndup((const char *)d + pos, meta_len);
  if (!json_parser_load_from_data(parser, meta, (gssize)meta_len, NULL) ||
      json_parser_get_root(parser) == NULL || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    return refuse(error, path, "its metadata is not a JSON object");
  s->metadata = json_object_ref(json_node_get_object(json_parser_get_root(parser)));
  pos += meta_len;
  g_autofree guint8 *inflated = NULL;
  const guint8 *t = d + pos;
  if (version != 1) {
    const char *why;
    if ((inflated = inflate_tables(d + pos, (gsize)packed_len, (gsize)tables_len, &why)) == NULL)
      return refuse(error, path, why);
    t = inflated;
  }
  pos += stored;
  s->hashes = g_ptr_array_new_with_free_func(g_free);
  for (guint32 i = 0; i < n_ranges; i++) {
    guint64 n = g_array_index(s->ranges, HwRamRange, i).size / PAGE;
    guint64 *h = g_new(guint64, n);
    for (guint64 p = 0; p < n; p++, t += 8)
      h[p] = hw_le64(t);
    g_ptr_array_add(s->hashes, h);
  }
  g_array_set_size(s->owners, (guint)n_owners);
  gboolean sorted = TRUE;
  for (guint64 i = 0; i < n_owners; i++, t += OWNER_BYTES) {
    HwSnapshotOwner *o = &g_array_index(s->owners, HwSnapshotOwner, i);
    *o = (HwSnapshotOwner){ hw_le64(t), hw_le64(t + 8), (gint32)hw_le32(t + 16) };
    sorted = sorted && (i == 0 || compare_owner(o - 1, o) <= 0);
  }
  /* Written sorted: only a file from elsewhere needs the sort. */
  if (!sorted)
    g_array_sort(s->owners, compare_owner);
  if (data_len > 0) {
    s->data = whole ? g_bytes_new_from_bytes(whole, pos, data_len) : g_bytes_new(d + pos, data_len);
    guint64 n_data = 0;
    for (guint i = 0; i < n_ranges; i++) {
      const guint64 *h = g_ptr_array_index(s->hashes, i);
      for (guint64 p = 0; p < g_array_index(s->ranges, HwRamRange, i).size / PAGE; p++)
        n_data += hw_page_hash_is_data(h[p]);
    }
    const char *why;
    if (!hw_snapshot_data_check(s->data, n_data, &why))
      return refuse(error, path, why);
  }
  return g_steal_pointer(&s);
}

HwPhysMem *
hw_snapshot_restore_memory(const HwSnapshot *s, const char *name, guint n_threads,
                           GError **error)
{
  if (s->data == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "%s holds page hashes only, not the "
                "pages: save it with `snapshot save --data` to read it without the VM", name);
    return NULL;
  }
  guint8 *image;
  g_autoptr(HwPhysMem) mem = hw_physmem_new_anonymous(
      (const HwRamRange *)(void *)s->ranges->data, s->ranges->len, &image, error);
  if (mem == NULL)
    return NULL;
  const char *why;
  if (!hw_snapshot_data_unpack(s->data, (const HwRamRange *)(void *)s->ranges->data,
                               s->ranges->len, s->hashes, image, n_threads, &why)) {
    refuse(error, name, why);
    return NULL;
  }
  return g_steal_pointer(&mem);
}

const HwRamRange *
hw_snapshot_get_ranges(const HwSnapshot *s, guint *n)
{
  *n = s->ranges->len;
  return (const HwRamRange *)(const void *)s->ranges->data;
}

const guint64 *
hw_snapshot_get_hashes(const HwSnapshot *s, guint i)
{
  return i < s->hashes->len ? g_ptr_array_index(s->hashes, i) : NULL;
}

JsonObject *
hw_snapshot_get_metadata(const HwSnapshot *s)
{
  return s->metadata;
}

GArray *
hw_snapshot_owners(const HwSnapshot *s, guint64 gpa)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(HwSnapshotOwner));
  guint64 page = gpa & ~(guint64)(PAGE - 1);
  /* Binary search for the first entry of the page. */
  guint lo = 0, hi = s->owners->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (g_array_index(s->owners, HwSnapshotOwner, mid).gpa < page)
      lo = mid + 1;
    else
      hi = mid;
  }
  for (guint i = lo; i < s->owners->len; i++) {
    const HwSnapshotOwner *o = &g_array_index(s->owners, HwSnapshotOwner, i);
    if (o->gpa != page)
      break;
    g_array_append_vals(out, o, 1);
  }
  return out;
}

GArray *
hw_snapshot_diff(const HwSnapshot *a, const HwSnapshot *b, GError **error)
{
  if (a->ranges->len != b->ranges->len ||
      memcmp(a->ranges->data, b->ranges->data, a->ranges->len * sizeof(HwRamRange)) != 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "the snapshots have different RAM maps (another VM, or RAM added)");
    return NULL;
  }
  GArray *out = g_array_new(FALSE, FALSE, sizeof(HwPageDiff));
  for (guint i = 0; i < a->ranges->len; i++) {
    const HwRamRange *r = &g_array_index(a->ranges, HwRamRange, i);
    const guint64 *x = g_ptr_array_index(a->hashes, i), *y = g_ptr_array_index(b->hashes, i);
    for (guint64 p = 0; p < r->size / PAGE; p++) {
      if (x[p] == y[p] || (!hw_page_hash_is_data(x[p]) && !hw_page_hash_is_data(y[p])))
        continue;
      HwPageDiff d = { r->gpa + p * PAGE, !hw_page_hash_is_data(x[p]) ? HW_PAGE_APPEARED
                                          : !hw_page_hash_is_data(y[p]) ? HW_PAGE_VANISHED
                                                           : HW_PAGE_CHANGED };
      g_array_append_val(out, d);
    }
  }
  return out;
}

const char *
hw_page_change_name(HwPageChange change)
{
  switch (change) {
  case HW_PAGE_CHANGED: return "changed";
  case HW_PAGE_APPEARED: return "appeared";
  case HW_PAGE_VANISHED: return "vanished";
  }
  return "?";
}

/* The registers the metadata records for one vCPU ({"CR3": "0x...", ...}), or NULL. */
static HwRegs *
regs_from_json(HwArch arch, JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
    return NULL;
  JsonObject *o = json_node_get_object(node);
  g_autoptr(GList) names = json_object_get_members(o);
  if (names == NULL)
    return NULL;
  HwRegs *regs = hw_regs_new(arch);
  for (GList *l = names; l != NULL; l = l->next) {
    JsonNode *v = json_object_get_member(o, l->data);
    const char *text = JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) == G_TYPE_STRING
                           ? json_node_get_string(v) : NULL;
    guint64 value;
    if (text && g_str_has_prefix(text, "0x") &&
        g_ascii_string_to_unsigned(text + 2, 16, 0, G_MAXUINT64, &value, NULL))
      hw_regs_set(regs, l->data, value);
  }
  return regs;
}

HwGuest *
hw_snapshot_open_guest(const HwSnapshot *s, const char *name, guint n_threads, GError **error)
{
  JsonObject *m = s->metadata;
  const char *arch_name = json_object_has_member(m, "arch") &&
                                  JSON_NODE_HOLDS_VALUE(json_object_get_member(m, "arch"))
                              ? json_object_get_string_member(m, "arch") : NULL;
  HwArch arch = arch_name ? hw_arch_from_name(arch_name) : HW_ARCH_UNKNOWN;
  if (arch == HW_ARCH_UNKNOWN) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED, "%s does not say which architecture "
                "its guest is (or it is one haywire does not know)", name);
    return NULL;
  }
  HwPhysMem *mem = hw_snapshot_restore_memory(s, name, n_threads, error);
  if (mem == NULL)
    return NULL;
  g_autoptr(GPtrArray) regs = g_ptr_array_new_with_free_func((GDestroyNotify)hw_regs_free);
  JsonNode *vcpus = json_object_get_member(m, "vcpus");
  JsonArray *list = vcpus && JSON_NODE_HOLDS_ARRAY(vcpus) ? json_node_get_array(vcpus) : NULL;
  for (guint i = 0; list && i < json_array_get_length(list) && i < 4096; i++)
    g_ptr_array_add(regs, regs_from_json(arch, json_array_get_element(list, i)));
  JsonNode *ep = json_object_get_member(m, "epoch");
  guint64 epoch = ep && JSON_NODE_HOLDS_VALUE(ep) && json_node_get_value_type(ep) == G_TYPE_INT64
                      ? (guint64)MAX(json_node_get_int(ep), 0) : 0;
  g_autofree char *origin = g_strdup_printf("snapshot %s", name);
  return hw_guest_new_offline(arch, mem, regs, origin, epoch);
}
