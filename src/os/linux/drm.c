/* The guest's DRM objects, from the processes' open files down to the pixels.
 *
 * No symbol is needed: every process's fd table (task->files->fdt->fd[]) gives the open
 * files; one whose inode is a DRM character device (major 226) has a drm_file as its
 * private data, whose minor leads to the drm_device. The device lists its framebuffers
 * (mode_config.fb_list) and planes (mode_config.plane_list); a plane's state names the
 * framebuffer it scans out and its CRTC. A framebuffer's GEM object is a TTM buffer in
 * the device's VRAM (drivers with drm_vram_mm: bochs) or in system pages, or a shmem
 * object with a page array (virtio-gpu). DRM's types come from the modules' BTF copies
 * the kernel keeps in RAM (module-btf.c). Guest data is hostile: every list is bounded
 * and every count clamped. */
#include <haywire/drm.h>
#include <haywire/error.h>
#include "os/linux/linux-private.h"

#include <string.h>

#define DRM_MAJOR 226u
#define MAX_FDS 65536u
#define MAX_DEVICES 64u
#define MAX_ALL_HANDLES (1u << 18)       /* GEM handles over all clients */
#define MAX_OBJECT_BYTES (1ull << 30)   /* a framebuffer's GEM object, at most */
#define TTM_PL_SYSTEM 0u                 /* include/drm/ttm/ttm_placement.h */
#define TTM_PL_VRAM 2u

struct _HwDrm {
  HwLinux *lx;
  GPtrArray *btfs;         /* the modules' split BTF */
  HwDrmLayout off;
  GArray *devices;         /* HwDrmDevice */
  GArray *fbs;             /* HwDrmFramebuffer */
  GArray *objects;         /* HwDrmObject */
  gboolean partial;
};

/* ---- types -------------------------------------------------------------------------- */

/* Offset of PATH in struct NAME from the kernel's BTF or the first module's that has it. */
static gboolean
offset_of(HwDrm *drm, const char *name, const char *path, guint32 *out, GError **error)
{
  const HwBtf *base = hw_linux_get_btf(drm->lx, error);
  if (base == NULL)
    return FALSE;
  HwBtfMember m;
  if (hw_btf_find_struct(base, name) != 0)
    return hw_btf_find_member(base, name, path, &m, error) && (*out = m.offset, TRUE);
  for (guint i = 0; i < drm->btfs->len; i++) {
    const HwBtf *b = drm->btfs->pdata[i];
    if (hw_btf_find_struct(b, name) != 0)
      return hw_btf_find_member(b, name, path, &m, error) && (*out = m.offset, TRUE);
  }
  g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND,
              "no struct %s in the kernel's or its modules' BTF", name);
  return FALSE;
}

typedef struct {
  const char *type, *path;
  guint32 *out;
} Want;

static gboolean
offsets_take(HwDrm *drm, const Want *w, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (!offset_of(drm, w[i].type, w[i].path, w[i].out, error))
      return FALSE;
  return TRUE;
}

static gboolean
load_offsets(HwDrm *drm, GError **error)
{
  HwDrmLayout *o = &drm->off;
  const Want need[] = {
    { "task_struct", "files", &o->task_files }, { "files_struct", "fdt", &o->files_fdt },
    { "fdtable", "max_fds", &o->fdt_max_fds }, { "fdtable", "fd", &o->fdt_fd },
    { "file", "f_inode", &o->file_inode }, { "file", "private_data", &o->file_private },
    { "inode", "i_rdev", &o->inode_rdev },
    { "drm_file", "minor", &o->dfile_minor }, { "drm_file", "fbs", &o->dfile_fbs },
    { "drm_minor", "index", &o->minor_index }, { "drm_minor", "dev", &o->minor_dev },
    { "drm_device", "driver", &o->dev_driver }, { "drm_device", "vram_mm", &o->dev_vram_mm },
    { "drm_device", "mode_config.fb_list", &o->dev_fb_list },
    { "drm_device", "mode_config.plane_list", &o->dev_plane_list },
    { "drm_driver", "name", &o->driver_name },
    { "drm_vram_mm", "vram_base", &o->vram_base }, { "drm_vram_mm", "vram_size", &o->vram_size },
    { "drm_framebuffer", "head", &o->fb_head }, { "drm_framebuffer", "base.id", &o->fb_id },
    { "drm_framebuffer", "comm", &o->fb_comm }, { "drm_framebuffer", "format", &o->fb_format },
    { "drm_framebuffer", "pitches", &o->fb_pitches },
    { "drm_framebuffer", "offsets", &o->fb_offsets },
    { "drm_framebuffer", "modifier", &o->fb_modifier },
    { "drm_framebuffer", "width", &o->fb_width }, { "drm_framebuffer", "height", &o->fb_height },
    { "drm_framebuffer", "filp_head", &o->fb_filp_head }, { "drm_framebuffer", "obj", &o->fb_obj },
    { "drm_format_info", "format", &o->format_format },
    { "drm_format_info", "cpp", &o->format_cpp },
    { "drm_plane", "head", &o->plane_head }, { "drm_plane", "base.id", &o->plane_id },
    { "drm_plane", "type", &o->plane_type }, { "drm_plane", "state", &o->plane_state },
    { "drm_plane_state", "crtc", &o->pstate_crtc }, { "drm_plane_state", "fb", &o->pstate_fb },
    { "drm_plane_state", "src_x", &o->pstate_src_x },
    { "drm_plane_state", "src_y", &o->pstate_src_y },
    { "drm_plane_state", "src_w", &o->pstate_src_w },
    { "drm_plane_state", "src_h", &o->pstate_src_h },
    { "drm_crtc", "base.id", &o->crtc_id }, { "drm_crtc", "state", &o->crtc_state },
    { "drm_crtc_state", "active", &o->cstate_active },
    { "drm_gem_object", "size", &o->gem_size },
    { "drm_file", "object_idr", &o->dfile_object_idr }, { "idr", "idr_rt", &o->idr_rt },
    { "idr", "idr_base", &o->idr_base }, { "xarray", "xa_head", &o->xa_head },
    { "xa_node", "shift", &o->xa_node_shift }, { "xa_node", "slots", &o->xa_node_slots },
  };
  if (!offsets_take(drm, need, G_N_ELEMENTS(need), error))
    return FALSE;
  /* How many slots a node has (XA_CHUNK_SIZE: 64, or 16 on small kernels). */
  const HwBtf *base = hw_linux_get_btf(drm->lx, error);
  HwBtfMember slots;
  if (base == NULL || !hw_btf_find_member(base, "xa_node", "slots", &slots, error))
    return FALSE;
  if (slots.nelems == 0 || slots.nelems > 256 || (slots.nelems & (slots.nelems - 1)) != 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_BTF, "xa_node with %u slots", slots.nelems);
    return FALSE;
  }
  o->xa_chunk = slots.nelems;
  /* The two kinds of GEM object this knows; a driver with neither leaves them unknown. */
  const Want shmem[] = {
    { "drm_gem_shmem_object", "base", &o->shmem_base },
    { "drm_gem_shmem_object", "pages", &o->shmem_pages },
  };
  o->have_shmem = offsets_take(drm, shmem, G_N_ELEMENTS(shmem), NULL);
  const Want ttm[] = {
    { "drm_gem_vram_object", "bo", &o->gbo_bo }, { "ttm_buffer_object", "base", &o->bo_base },
    { "ttm_buffer_object", "resource", &o->bo_resource },
    { "ttm_buffer_object", "ttm", &o->bo_ttm }, { "ttm_resource", "start", &o->res_start },
    { "ttm_resource", "mem_type", &o->res_mem_type }, { "ttm_tt", "pages", &o->tt_pages },
    { "ttm_tt", "num_pages", &o->tt_num_pages },
  };
  o->have_ttm = offsets_take(drm, ttm, G_N_ELEMENTS(ttm), NULL);
  o->plane_primary = 1;   /* DRM_PLANE_TYPE_PRIMARY, when the enum is not in BTF */
  for (guint i = 0; i < drm->btfs->len; i++)
    if (hw_btf_enum_value(drm->btfs->pdata[i], "DRM_PLANE_TYPE_PRIMARY", &o->plane_primary,
                          NULL))
      break;
  return TRUE;
}

/* ---- reading ------------------------------------------------------------------------ */

static gboolean
rd64(HwDrm *drm, guint64 va, guint64 *out)
{
  return hw_linux_read_u64(drm->lx, va, out, NULL);
}

static gboolean
rd32(HwDrm *drm, guint64 va, guint32 *out)
{
  return hw_linux_read_u32(drm->lx, va, out, NULL);
}

/* Call FN on each entry of the list headed at HEAD (entries MEMBER_OFF into their
 * struct), at most HW_DRM_MAX_OBJECTS; a list that does not come back is partial. */
typedef void (*EntryFn)(HwDrm *drm, guint64 entry, gpointer data);
static void
each_entry(HwDrm *drm, guint64 head, guint32 member_off, EntryFn fn, gpointer data)
{
  guint64 node = 0;
  if (!rd64(drm, head, &node)) {
    drm->partial = TRUE;
    return;
  }
  g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint n = 0; node != head; n++) {
    if (n == HW_DRM_MAX_OBJECTS || !hw_linux_is_kernel_ptr(node) || node < member_off ||
        !g_hash_table_add(seen, GSIZE_TO_POINTER((gsize)node))) {
      drm->partial = TRUE;   /* too long, a bad pointer, or a cycle not through HEAD */
      return;
    }
    fn(drm, node - member_off, data);
    if (!rd64(drm, node, &node)) {
      drm->partial = TRUE;
      return;
    }
  }
}

/* ---- devices and their open files ------------------------------------------------------ */

/* The index of the device at DEV_VA, added if new (G_MAXUINT past MAX_DEVICES). */
static guint
add_device(HwDrm *drm, guint64 dev_va, gint32 minor)
{
  for (guint i = 0; i < drm->devices->len; i++)
    if (g_array_index(drm->devices, HwDrmDevice, i).va == dev_va) {
      HwDrmDevice *d = &g_array_index(drm->devices, HwDrmDevice, i);
      if (d->minor < 0 || (minor >= 0 && minor < d->minor))
        d->minor = minor;   /* the card, not its render node */
      return i;
    }
  if (drm->devices->len == MAX_DEVICES)
    return G_MAXUINT;
  HwDrmDevice d = { dev_va, "", minor, 0, 0 };
  const HwDrmLayout *o = &drm->off;
  guint64 driver = 0, name = 0, vram = 0;
  if (rd64(drm, dev_va + o->dev_driver, &driver) && hw_linux_is_kernel_ptr(driver) &&
      rd64(drm, driver + o->driver_name, &name)) {
    g_autofree char *s = hw_linux_read_string(drm->lx, name, sizeof d.driver - 1, NULL);
    if (s)
      g_strlcpy(d.driver, s, sizeof d.driver);
  }
  if (rd64(drm, dev_va + o->dev_vram_mm, &vram) && hw_linux_is_kernel_ptr(vram)) {
    rd64(drm, vram + o->vram_base, &d.vram_gpa);
    rd64(drm, vram + o->vram_size, &d.vram_size);
  }
  g_array_append_val(drm->devices, d);
  return drm->devices->len - 1;
}

/* Framebuffer va -> pid of the process whose DRM file holds it. */
typedef struct {
  GHashTable *owner;
  gint32 pid;
} Owners;

static void
note_owner(HwDrm *drm, guint64 fb, gpointer data)
{
  (void)drm;
  Owners *w = data;
  g_hash_table_insert(w->owner, GSIZE_TO_POINTER((gsize)fb), GINT_TO_POINTER(w->pid));
}

/* ---- a client's GEM handles: an XArray ------------------------------------------------- */

#define XA_MAX_DEPTH 12u     /* 64-bit indices, 6 bits a level */
#define XA_MAX_NODES 4096u

typedef struct {
  HwDrm *drm;
  guint device;
  gint32 pid;
  guint64 base;            /* idr_base: the handle of index 0 */
  guint nodes, entries;
} Handles;

static void find_backing(HwDrm *drm, HwDrmGem *gem, const HwDrmDevice *d);

static void
add_handle(Handles *h, guint64 index, guint64 obj)
{
  HwDrm *drm = h->drm;
  if (h->entries++ >= HW_DRM_MAX_HANDLES || drm->objects->len >= MAX_ALL_HANDLES ||
      !hw_linux_is_kernel_ptr(obj)) {
    drm->partial = TRUE;
    return;
  }
  HwDrmObject o = { h->device, h->pid, (guint32)(index + h->base), 0, { 0 } };
  o.gem.va = obj;
  o.gem.extents = g_array_new(FALSE, FALSE, sizeof(HwDrmExtent));
  if (rd64(drm, obj + drm->off.gem_size, &o.gem.size) && o.gem.size <= MAX_OBJECT_BYTES) {
    find_backing(drm, &o.gem, &g_array_index(drm->devices, HwDrmDevice, h->device));
  } else {
    o.gem.partial = TRUE;
    g_snprintf(o.gem.note, sizeof o.gem.note, "no readable size");
  }
  g_array_append_val(drm->objects, o);
}

/* The entries under ENTRY (a node, or a pointer at INDEX), DEPTH levels down. */
static void
walk_xa(Handles *h, guint64 entry, guint64 index, guint depth)
{
  HwDrm *drm = h->drm;
  if (entry == 0 || (entry & 1))
    return;                       /* empty, or a value entry: not a pointer */
  if ((entry & 3) != 2) {
    add_handle(h, index, entry);
    return;
  }
  if (entry <= 4096)
    return;                       /* sibling, retry or zero entry */
  guint64 node = entry - 2;
  guint8 shift = 0;
  if (depth >= XA_MAX_DEPTH || h->nodes++ >= XA_MAX_NODES ||
      !hw_linux_read(drm->lx, node + drm->off.xa_node_shift, &shift, 1, NULL) || shift > 63 ||
      shift % (guint)g_bit_nth_lsf(drm->off.xa_chunk, -1) != 0) {
    drm->partial = TRUE;
    return;
  }
  guint n = drm->off.xa_chunk;
  g_autofree guint64 *slots = g_new(guint64, n);
  if (!hw_linux_read(drm->lx, node + drm->off.xa_node_slots, slots, (gsize)n * 8, NULL)) {
    drm->partial = TRUE;
    return;
  }
  for (guint i = 0; i < n; i++)
    if (slots[i] != 0)
      walk_xa(h, slots[i], index + ((guint64)i << shift), depth + 1);
}

/* The GEM handles of the drm_file at PRIV, held by process PID, on device D. */
static void
scan_handles(HwDrm *drm, guint64 priv, guint device, gint32 pid)
{
  const HwDrmLayout *o = &drm->off;
  guint64 idr = priv + o->dfile_object_idr, head = 0;
  guint32 base = 0;
  if (o->xa_chunk == 0 || !rd64(drm, idr + o->idr_rt + o->xa_head, &head) ||
      !rd32(drm, idr + o->idr_base, &base)) {
    drm->partial = TRUE;
    return;
  }
  Handles h = { drm, device, pid, base, 0, 0 };
  walk_xa(&h, head, 0, 0);
}

/* The DRM files process T has open: their devices, and which framebuffers they hold. */
static void
scan_files(HwDrm *drm, const HwTask *t, GHashTable *owner, GHashTable *files_seen)
{
  const HwDrmLayout *o = &drm->off;
  guint64 files = 0, fdt = 0, fds = 0;
  guint32 max = 0;
  if (!rd64(drm, t->task_va + o->task_files, &files) || !hw_linux_is_kernel_ptr(files))
    return;
  /* Threads of one process, and processes made with CLONE_FILES, share the table. */
  if (g_hash_table_contains(files_seen, GSIZE_TO_POINTER((gsize)files)))
    return;
  g_hash_table_add(files_seen, GSIZE_TO_POINTER((gsize)files));
  if (!rd64(drm, files + o->files_fdt, &fdt) || !hw_linux_is_kernel_ptr(fdt) ||
      !rd32(drm, fdt + o->fdt_max_fds, &max) || !rd64(drm, fdt + o->fdt_fd, &fds) ||
      !hw_linux_is_kernel_ptr(fds)) {
    drm->partial = TRUE;
    return;
  }
  /* In chunks: a table that claims more fds than it holds still gives its first ones. */
  enum { CHUNK = 512 };
  guint n = MIN(max, MAX_FDS);
  guint64 table[CHUNK];
  for (guint i = 0; i < n; i++) {
    if (i % CHUNK == 0 &&
        !hw_linux_read(drm->lx, fds + (guint64)i * 8, table, (gsize)MIN(CHUNK, n - i) * 8, NULL)) {
      drm->partial = TRUE;
      return;
    }
    guint64 file = table[i % CHUNK], inode = 0, priv = 0, minor = 0, dev = 0;
    guint32 rdev = 0, index = 0;
    if (file == 0 || !hw_linux_is_kernel_ptr(file) ||
        !rd64(drm, file + o->file_inode, &inode) || !hw_linux_is_kernel_ptr(inode) ||
        !rd32(drm, inode + o->inode_rdev, &rdev) || rdev >> 20 != DRM_MAJOR)
      continue;
    if (!rd64(drm, file + o->file_private, &priv) || !hw_linux_is_kernel_ptr(priv) ||
        !rd64(drm, priv + o->dfile_minor, &minor) || !hw_linux_is_kernel_ptr(minor) ||
        !rd64(drm, minor + o->minor_dev, &dev) || !hw_linux_is_kernel_ptr(dev)) {
      drm->partial = TRUE;
      continue;
    }
    rd32(drm, minor + o->minor_index, &index);
    guint device = add_device(drm, dev, index < 64 ? (gint32)index : -1);
    if (device == G_MAXUINT) {
      drm->partial = TRUE;   /* more devices than any machine has: forged */
      continue;
    }
    Owners w = { owner, t->tgid };
    each_entry(drm, priv + o->dfile_fbs, o->fb_filp_head, note_owner, &w);
    scan_handles(drm, priv, device, t->tgid);
  }
}

/* ---- framebuffers ---------------------------------------------------------------------- */

static void
add_extent(GArray *extents, guint64 gpa, guint64 size)
{
  if (extents->len > 0) {
    HwDrmExtent *last = &g_array_index(extents, HwDrmExtent, extents->len - 1);
    if (last->gpa + last->size == gpa) {
      last->size += size;
      return;
    }
  }
  HwDrmExtent e = { gpa, size };
  g_array_append_val(extents, e);
}

/* The extents of a page array (struct page **) of N pages. */
static gboolean
pages_extents(HwDrm *drm, HwDrmGem *gem, guint64 pages, guint64 n)
{
  guint64 psize = hw_linux_get_info(drm->lx)->page_size;
  if (!hw_linux_is_kernel_ptr(pages) || n == 0 || n > MAX_OBJECT_BYTES / psize) {
    g_snprintf(gem->note, sizeof gem->note, "its pages are not populated");
    return FALSE;
  }
  g_autofree guint64 *array = g_new(guint64, n);
  if (!hw_linux_read(drm->lx, pages, array, n * 8, NULL)) {
    g_snprintf(gem->note, sizeof gem->note, "its page array is unreadable");
    return FALSE;
  }
  for (guint64 i = 0; i < n; i++) {
    guint64 gpa = 0;
    g_autoptr(GError) error = NULL;
    if (!hw_linux_page_to_gpa(drm->lx, array[i], &gpa, &error)) {
      g_snprintf(gem->note, sizeof gem->note, "page %" G_GUINT64_FORMAT ": %s", i,
                 error->message);
      g_array_set_size(gem->extents, 0);
      return FALSE;
    }
    add_extent(gem->extents, gpa, psize);
  }
  gem->backing = HW_DRM_BACKING_PAGES;
  return TRUE;
}

/* Where GEM (its va and size known) lies, for a device D. */
static void
find_backing(HwDrm *drm, HwDrmGem *gem, const HwDrmDevice *d)
{
  const HwDrmLayout *o = &drm->off;
  guint64 psize = hw_linux_get_info(drm->lx)->page_size;
  gboolean ok = FALSE;
  if (d->vram_size != 0 && o->have_ttm) {
    /* drm_gem_vram_object: the GEM object is its TTM buffer's. */
    guint64 bo = gem->va - o->bo_base, res = 0, start = 0;
    guint32 mem_type = 0;
    if (rd64(drm, bo + o->bo_resource, &res) && hw_linux_is_kernel_ptr(res) &&
        rd64(drm, res + o->res_start, &start) && rd32(drm, res + o->res_mem_type, &mem_type)) {
      if (mem_type == TTM_PL_VRAM && start < d->vram_size / psize &&
          gem->size <= d->vram_size - start * psize) {
        add_extent(gem->extents, d->vram_gpa + start * psize, gem->size);
        gem->backing = HW_DRM_BACKING_VRAM;
        ok = TRUE;
      } else if (mem_type == TTM_PL_SYSTEM) {
        guint64 tt = 0, pages = 0;
        guint32 n = 0;
        ok = rd64(drm, bo + o->bo_ttm, &tt) && hw_linux_is_kernel_ptr(tt) &&
             rd64(drm, tt + o->tt_pages, &pages) && rd32(drm, tt + o->tt_num_pages, &n) &&
             pages_extents(drm, gem, pages, n);
      } else {
        g_snprintf(gem->note, sizeof gem->note, "in TTM memory type %u", mem_type);
      }
    } else {
      g_snprintf(gem->note, sizeof gem->note, "its TTM resource is unreadable");
    }
  } else if (o->have_shmem) {
    guint64 shmem = gem->va - o->shmem_base, pages = 0;
    ok = rd64(drm, shmem + o->shmem_pages, &pages) &&
         pages_extents(drm, gem, pages, (gem->size + psize - 1) / psize);
  } else {
    g_snprintf(gem->note, sizeof gem->note, "a GEM object of a kind haywire does not know");
  }
  guint64 covered = 0;
  for (guint i = 0; i < gem->extents->len; i++)
    covered += g_array_index(gem->extents, HwDrmExtent, i).size;
  gem->partial = !ok || covered < gem->size;
}

typedef struct {
  guint device;
  GHashTable *owner;
  GHashTable *objects;     /* GEM object va -> index + 1 in drm->objects */
} FbCtx;

/* The client's handle of the GEM object at VA on CTX's device, or NULL. */
static const HwDrmObject *
held_object(HwDrm *drm, const FbCtx *ctx, guint64 va)
{
  guint i = GPOINTER_TO_UINT(g_hash_table_lookup(ctx->objects, GSIZE_TO_POINTER((gsize)va)));
  if (i == 0)
    return NULL;
  const HwDrmObject *ob = &g_array_index(drm->objects, HwDrmObject, i - 1);
  return ob->device == ctx->device ? ob : NULL;
}

/* GEM's backing copied from OB, the same object as a client's handle (worked out once). */
static void
copy_backing(HwDrmGem *gem, const HwDrmGem *ob)
{
  GArray *extents = gem->extents;
  g_array_append_vals(extents, ob->extents->data, ob->extents->len);
  *gem = *ob;
  gem->extents = extents;
}

static void
add_framebuffer(HwDrm *drm, guint64 va, gpointer data)
{
  FbCtx *ctx = data;
  const HwDrmLayout *o = &drm->off;
  HwDrmFramebuffer fb = { 0 };
  fb.device = ctx->device;
  fb.va = va;
  fb.pid = -1;
  fb.gem.extents = g_array_new(FALSE, FALSE, sizeof(HwDrmExtent));
  guint64 format = 0;
  guint32 cpp = 0;
  char comm[16] = { 0 };
  if (!rd32(drm, va + o->fb_id, &fb.id) || !rd32(drm, va + o->fb_width, &fb.width) ||
      !rd32(drm, va + o->fb_height, &fb.height) || !rd32(drm, va + o->fb_pitches, &fb.pitch) ||
      !rd32(drm, va + o->fb_offsets, &fb.offset) ||
      !rd64(drm, va + o->fb_modifier, &fb.modifier) || !rd64(drm, va + o->fb_obj, &fb.gem.va) ||
      !rd64(drm, va + o->fb_format, &format) || !hw_linux_is_kernel_ptr(format) ||
      !rd32(drm, format + o->format_format, &fb.fourcc) ||
      !hw_linux_read(drm->lx, format + o->format_cpp, &cpp, 1, NULL)) {
    drm->partial = TRUE;
    g_array_unref(fb.gem.extents);
    return;
  }
  fb.cpp = cpp & 0xff;
  for (guint i = 0; i < 4; i++) {
    char c = (char)((fb.fourcc >> (8 * i)) & 0xff);
    fb.format[i] = g_ascii_isprint(c) ? c : '?';
  }
  if (hw_linux_read(drm->lx, va + o->fb_comm, comm, sizeof comm - 1, NULL))
    for (guint i = 0; i < sizeof comm && comm[i]; i++)
      fb.comm[i] = g_ascii_isprint(comm[i]) ? comm[i] : '?';
  gpointer pid;
  if (g_hash_table_lookup_extended(ctx->owner, GSIZE_TO_POINTER((gsize)va), NULL, &pid))
    fb.pid = GPOINTER_TO_INT(pid);
  fb.src_w = fb.width;
  fb.src_h = fb.height;
  const HwDrmObject *held = held_object(drm, ctx, fb.gem.va);
  if (held != NULL) {
    copy_backing(&fb.gem, &held->gem);
  } else if (hw_linux_is_kernel_ptr(fb.gem.va) &&
             rd64(drm, fb.gem.va + o->gem_size, &fb.gem.size) && fb.gem.size <= MAX_OBJECT_BYTES) {
    find_backing(drm, &fb.gem, &g_array_index(drm->devices, HwDrmDevice, ctx->device));
  } else {
    fb.gem.partial = TRUE;
    g_snprintf(fb.gem.note, sizeof fb.gem.note, "no readable GEM object");
  }
  g_array_append_val(drm->fbs, fb);
}

/* What plane P of a device shows, marked on its framebuffer. */
static void
add_plane(HwDrm *drm, guint64 p, gpointer data)
{
  (void)data;
  const HwDrmLayout *o = &drm->off;
  guint64 state = 0, fb_va = 0, crtc = 0, cstate = 0;
  guint32 id = 0, type = 0, crtc_id = 0, sx = 0, sy = 0, sw = 0, sh = 0;
  guint8 active = 0;
  if (!rd32(drm, p + o->plane_id, &id) || !rd32(drm, p + o->plane_type, &type) ||
      !rd64(drm, p + o->plane_state, &state) || !hw_linux_is_kernel_ptr(state) ||
      !rd64(drm, state + o->pstate_fb, &fb_va) || fb_va == 0)
    return;
  rd64(drm, state + o->pstate_crtc, &crtc);
  rd32(drm, state + o->pstate_src_x, &sx);
  rd32(drm, state + o->pstate_src_y, &sy);
  rd32(drm, state + o->pstate_src_w, &sw);
  rd32(drm, state + o->pstate_src_h, &sh);
  if (hw_linux_is_kernel_ptr(crtc)) {
    rd32(drm, crtc + o->crtc_id, &crtc_id);
    if (rd64(drm, crtc + o->crtc_state, &cstate) && hw_linux_is_kernel_ptr(cstate))
      hw_linux_read(drm->lx, cstate + o->cstate_active, &active, 1, NULL);
  }
  for (guint i = 0; i < drm->fbs->len; i++) {
    HwDrmFramebuffer *fb = &g_array_index(drm->fbs, HwDrmFramebuffer, i);
    if (fb->va != fb_va || fb->primary)
      continue;   /* a primary plane's claim stands */
    fb->plane_id = id;
    fb->crtc_id = crtc_id;
    fb->primary = type == o->plane_primary && crtc_id != 0 && active;
    /* The source rectangle is 16.16 fixed point, inside the framebuffer. */
    fb->src_x = MIN(sx >> 16, fb->width);
    fb->src_y = MIN(sy >> 16, fb->height);
    fb->src_w = MIN(sw >> 16, fb->width - fb->src_x);
    fb->src_h = MIN(sh >> 16, fb->height - fb->src_y);
  }
}

/* ---- the walk ---------------------------------------------------------------------------- */

static void
clear_fb(gpointer p)
{
  HwDrmFramebuffer *fb = p;
  if (fb->gem.extents)
    g_array_unref(fb->gem.extents);
}

static void
clear_object(gpointer p)
{
  HwDrmObject *o = p;
  if (o->gem.extents)
    g_array_unref(o->gem.extents);
}

void
hw_drm_free(HwDrm *drm)
{
  if (drm == NULL)
    return;
  if (drm->fbs)
    g_array_unref(drm->fbs);
  if (drm->objects)
    g_array_unref(drm->objects);
  if (drm->devices)
    g_array_unref(drm->devices);
  if (drm->btfs)
    g_ptr_array_unref(drm->btfs);
  g_free(drm);
}

static HwDrm *
drm_new(HwLinux *lx)
{
  HwDrm *drm = g_new0(HwDrm, 1);
  drm->lx = lx;
  drm->devices = g_array_new(FALSE, FALSE, sizeof(HwDrmDevice));
  drm->fbs = g_array_new(FALSE, FALSE, sizeof(HwDrmFramebuffer));
  g_array_set_clear_func(drm->fbs, clear_fb);
  drm->objects = g_array_new(FALSE, FALSE, sizeof(HwDrmObject));
  g_array_set_clear_func(drm->objects, clear_object);
  return drm;
}

static gboolean walk(HwDrm *drm, gboolean *partial, GError **error);

HwDrm *
hw_linux_drm_open(HwLinux *lx, gboolean *partial, GError **error)
{
  g_autoptr(HwDrm) drm = drm_new(lx);
  drm->btfs = hw_linux_find_module_btfs(lx, error);
  if (drm->btfs == NULL)
    return NULL;
  g_autoptr(GError) why = NULL;
  if (!load_offsets(drm, &why)) {
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND,
                "no DRM in this guest (%s: is a DRM driver loaded?)", why->message);
    return NULL;
  }
  return walk(drm, partial, error) ? g_steal_pointer(&drm) : NULL;
}

HwDrm *
hw_linux_drm_walk(HwLinux *lx, const HwDrmLayout *layout, gboolean *partial, GError **error)
{
  g_autoptr(HwDrm) drm = drm_new(lx);
  drm->off = *layout;
  return walk(drm, partial, error) ? g_steal_pointer(&drm) : NULL;
}

/* From the processes' open files to the devices, their framebuffers and planes. */
static gboolean
walk(HwDrm *drm, gboolean *partial, GError **error)
{
  HwLinux *lx = drm->lx;
  gboolean tasks_partial = FALSE;
  g_autoptr(GArray) tasks = hw_linux_list_tasks(lx, FALSE, &tasks_partial, error);
  if (tasks == NULL)
    return FALSE;
  drm->partial = tasks_partial;
  g_autoptr(GHashTable) owner = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_autoptr(GHashTable) files_seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < tasks->len; i++) {
    const HwTask *t = &g_array_index(tasks, HwTask, i);
    if (!t->kernel_thread)
      scan_files(drm, t, owner, files_seen);
  }
  if (drm->devices->len == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_NOT_FOUND,
                "no process of the guest has a DRM device open (/dev/dri/*)");
    return FALSE;
  }
  /* A framebuffer's GEM object is often a client's handle too: its backing is known. */
  g_autoptr(GHashTable) objects = g_hash_table_new(g_direct_hash, g_direct_equal);
  for (guint i = 0; i < drm->objects->len; i++)
    g_hash_table_insert(objects,
                        GSIZE_TO_POINTER((gsize)g_array_index(drm->objects, HwDrmObject, i).gem.va),
                        GUINT_TO_POINTER(i + 1));
  for (guint d = 0; d < drm->devices->len; d++) {
    guint64 dev = g_array_index(drm->devices, HwDrmDevice, d).va;
    FbCtx ctx = { d, owner, objects };
    guint first = drm->fbs->len;
    each_entry(drm, dev + drm->off.dev_fb_list, drm->off.fb_head, add_framebuffer, &ctx);
    if (drm->fbs->len > first)
      each_entry(drm, dev + drm->off.dev_plane_list, drm->off.plane_head, add_plane, NULL);
  }
  /* Which handles are framebuffers. */
  for (guint i = 0; i < drm->objects->len; i++) {
    HwDrmObject *ob = &g_array_index(drm->objects, HwDrmObject, i);
    for (guint j = 0; j < drm->fbs->len && ob->fb_id == 0; j++)
      if (g_array_index(drm->fbs, HwDrmFramebuffer, j).gem.va == ob->gem.va)
        ob->fb_id = g_array_index(drm->fbs, HwDrmFramebuffer, j).id;
  }
  if (partial)
    *partial = drm->partial;
  return TRUE;
}

const HwDrmDevice *
hw_drm_get_devices(const HwDrm *drm, guint *n_devices)
{
  *n_devices = drm->devices->len;
  return (const HwDrmDevice *)(gconstpointer)drm->devices->data;
}

const HwDrmFramebuffer *
hw_drm_get_framebuffers(const HwDrm *drm, guint *n_framebuffers)
{
  *n_framebuffers = drm->fbs->len;
  return (const HwDrmFramebuffer *)(gconstpointer)drm->fbs->data;
}

const HwDrmObject *
hw_drm_get_objects(const HwDrm *drm, guint *n_objects)
{
  *n_objects = drm->objects->len;
  return (const HwDrmObject *)(gconstpointer)drm->objects->data;
}

const HwDrmFramebuffer *
hw_drm_get_screen(const HwDrm *drm)
{
  for (guint i = 0; i < drm->fbs->len; i++)
    if (g_array_index(drm->fbs, HwDrmFramebuffer, i).primary)
      return &g_array_index(drm->fbs, HwDrmFramebuffer, i);
  return NULL;
}

const HwDrmFramebuffer *
hw_drm_find_framebuffer(const HwDrm *drm, guint32 id)
{
  for (guint i = 0; i < drm->fbs->len; i++)
    if (g_array_index(drm->fbs, HwDrmFramebuffer, i).id == id)
      return &g_array_index(drm->fbs, HwDrmFramebuffer, i);
  return NULL;
}

gboolean
hw_drm_read_pixels(const HwDrmFramebuffer *fb, const HwPhysMem *mem, guint8 **pixels,
                   gsize *len, gboolean *partial, GError **error)
{
  guint64 want = (guint64)fb->pitch * fb->height;
  if (fb->width == 0 || fb->height == 0 || fb->cpp == 0 || want == 0 ||
      (guint64)fb->width * fb->cpp > fb->pitch || want > MAX_OBJECT_BYTES ||
      fb->offset > fb->gem.size || want > fb->gem.size - fb->offset) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "framebuffer %u: %ux%u, pitch %u at offset %u do not fit its %" G_GUINT64_FORMAT
                "-byte buffer", fb->id, fb->width, fb->height, fb->pitch, fb->offset,
                fb->gem.size);
    return FALSE;
  }
  g_autofree guint8 *out = g_malloc0(want);
  guint64 read = 0, pos = 0;   /* pos: byte of the object at the extent's start */
  for (guint i = 0; i < fb->gem.extents->len; i++) {
    const HwDrmExtent *e = &g_array_index(fb->gem.extents, HwDrmExtent, i);
    guint64 lo = MAX(pos, (guint64)fb->offset), hi = MIN(pos + e->size, fb->offset + want);
    if (lo < hi && hw_physmem_read(mem, e->gpa + (lo - pos), out + (lo - fb->offset),
                                   hi - lo, NULL))
      read += hi - lo;
    pos += e->size;
  }
  if (read == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_UNMAPPED,
                "framebuffer %u: none of its pixels can be read%s%s", fb->id,
                fb->gem.note[0] ? ": " : "", fb->gem.note);
    return FALSE;
  }
  if (partial)
    *partial = read < want;
  *len = want;
  *pixels = g_steal_pointer(&out);
  return TRUE;
}
