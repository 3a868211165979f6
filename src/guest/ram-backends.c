/* Every RAM backend of the guest and how haywire reaches it: a shared memory file by
 * its path (zero-copy mmap), a shared memfd or file through QEMU's open fd
 * (/proc/PID/fd/N, still zero-copy), anything private (memory-backend-ram, QEMU's
 * default RAM, share=off files) copied out of QEMU's process through /proc/PID/mem at
 * the host addresses HMP `gpa2hva` gives. */
#include "guest/guest-private.h"
#include "guest/qemu-process.h"
#include <haywire/error.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define MAX_BACKENDS 64

void
hw_ram_backend_free(HwRamBackend *b)
{
  if (b == NULL)
    return;
  g_free(b->id);
  g_free(b->type);
  g_free(b->path);
  g_free(b);
}

static char *
qom_string(HwQmp *qmp, const char *path, const char *property, GError **error)
{
  g_autoptr(JsonObject) args = json_object_new();
  json_object_set_string_member(args, "path", path);
  json_object_set_string_member(args, "property", property);
  g_autoptr(JsonNode) r = hw_qmp_execute(qmp, "qom-get", args, error);
  if (r == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE(r) || json_node_get_value_type(r) != G_TYPE_STRING) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "qom-get %s %s: not a string", path,
                property);
    return NULL;
  }
  return g_strdup(json_node_get_string(r));
}

/* Building the sources: one per file, one /proc/PID/mem for all copied pieces. */
typedef struct {
  HwGuest *guest;
  int pid;                /* QEMU's, 0 until needed */
  GArray *sources;        /* HwRamSource (fd owned until handed over) */
  GPtrArray *names;       /* char*, the sources' names */
  GArray *pieces;         /* HwRamPiece */
  int mem_source;         /* index of /proc/PID/mem in sources, or -1 */
} Build;

static guint
add_source(Build *b, HwRamSourceKind kind, int fd, const char *name)
{
  g_ptr_array_add(b->names, g_strdup(name));
  HwRamSource s = { kind, fd, NULL };
  g_array_append_val(b->sources, s);
  return b->sources->len - 1;
}

static void
build_clear(Build *b)
{
  for (guint i = 0; i < b->sources->len; i++)
    if (g_array_index(b->sources, HwRamSource, i).fd >= 0)
      close(g_array_index(b->sources, HwRamSource, i).fd);
  g_array_unref(b->sources);
  g_ptr_array_unref(b->names);
  g_array_unref(b->pieces);
}

/* Whether process PID is a QEMU (by its command name; behind a proxy the QMP peer is
 * not). */
static gboolean
is_qemu(int pid)
{
  g_autofree char *comm_path = g_strdup_printf("/proc/%d/comm", pid);
  g_autofree char *comm = NULL;
  return pid > 0 && g_file_get_contents(comm_path, &comm, NULL, NULL) &&
         g_str_has_prefix(comm, "qemu");
}

/* QEMU's pid for reaching into its process: given, or the QMP socket's peer; a given
 * one must be that peer when the socket can tell. */
static gboolean
need_pid(Build *b, const char *id, const char *type, GError **error)
{
  if (b->pid > 0)
    return TRUE;
  int peer = hw_qmp_get_peer_pid(b->guest->qmp);
  int given = b->guest->qemu_pid;
  /* A given pid other than the socket's peer: fine behind a proxy (the peer is not
   * QEMU), refused when QEMU itself serves the socket. */
  if (given > 0 && peer > 0 && given != peer && is_qemu(peer)) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "--qemu-pid %d is not the QEMU behind the QMP socket (its peer is pid %d)",
                given, peer);
    return FALSE;
  }
  b->pid = given > 0 ? given : peer;
  if (b->pid <= 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                "RAM backend %s (%s) has no shared file: haywire reads it through QEMU's "
                "process, and a TCP QMP socket does not tell QEMU's pid: give --qemu-pid PID",
                id, type);
    return FALSE;
  }
  return TRUE;
}

/* The host address of GPA in QEMU's process. */
static gboolean
gpa2hva(Build *b, guint64 gpa, guint64 *hva, GError **error)
{
  g_autofree char *cmd = g_strdup_printf("gpa2hva 0x%" G_GINT64_MODIFIER "x", gpa);
  g_autofree char *text = hw_qmp_hmp(b->guest->qmp, cmd, -1, error);
  return text != NULL && hw_qemu_proc_parse_gpa2hva(text, gpa, hva, NULL, error);
}

/* The ranges of backend ID at host addresses: zero-copy through QEMU's fd when the
 * mapping is shared and whole, else copied through /proc/PID/mem. */
static gboolean
add_through_process(Build *b, HwRamBackend *be, GArray *ranges, GError **error)
{
  if (!need_pid(b, be->id, be->type, error))
    return FALSE;
  int file_source = -1;
  guint64 file_inode = 0;
  for (guint i = 0; i < ranges->len; i++) {
    const HwRamRange *r = &g_array_index(ranges, HwRamRange, i);
    guint64 hva;
    if (!gpa2hva(b, r->gpa, &hva, error))
      return FALSE;
    g_autoptr(GError) local = NULL;
    g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_read_mapping(b->pid, hva, &local);
    if (m == NULL && !g_error_matches(local, HW_ERROR, HW_ERROR_UNMAPPED)) {
      g_propagate_error(error, g_steal_pointer(&local));   /* no access, no process */
      return FALSE;
    }
    if (m == NULL || hva + r->size < hva || hva + r->size > m->end) {
      /* Not this QEMU's RAM: a wrong --qemu-pid over TCP, or a mapping we cannot see. */
      g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                  "process %d has no mapping of %" G_GUINT64_FORMAT " bytes at QEMU's RAM "
                  "address 0x%" G_GINT64_MODIFIER "x (backend %s)%s%s: is it this QEMU?",
                  b->pid, r->size, hva, be->id, local ? ": " : "",
                  local ? local->message : "");
      return FALSE;
    }
    if (be->share && m->shared && m->inode != 0 && !b->guest->copy_ram) {
      if (file_source < 0 || m->inode != file_inode) {
        int fd = hw_qemu_proc_open_mapping_file(b->pid, m, error);
        if (fd < 0)
          return FALSE;
        int fdnum = 0;
        hw_qemu_proc_find_fd(b->pid, m, &fdnum, NULL);
        g_autofree char *name = g_strdup_printf("/proc/%d/fd/%d", b->pid, fdnum);
        file_source = (int)add_source(b, HW_RAM_SOURCE_FILE, fd, name);
        file_inode = m->inode;
        be->access = HW_RAM_SOURCE_FILE;
        g_free(be->path);
        be->path = g_strdup(name);
      }
      HwRamPiece p = { r->gpa, r->size, (guint)file_source, m->file_off + (hva - m->start) };
      g_array_append_val(b->pieces, p);
      continue;
    }
    if (b->mem_source < 0) {
      int fd = hw_qemu_proc_open_mem(b->pid, error);
      if (fd < 0)
        return FALSE;
      g_autofree char *name = g_strdup_printf("/proc/%d/mem", b->pid);
      b->mem_source = (int)add_source(b, HW_RAM_SOURCE_PROCESS, fd, name);
    }
    be->access = HW_RAM_SOURCE_PROCESS;
    g_free(be->path);
    be->path = g_strdup(g_ptr_array_index(b->names, b->mem_source));
    HwRamPiece p = { r->gpa, r->size, (guint)b->mem_source, hva };
    g_array_append_val(b->pieces, p);
  }
  return TRUE;
}

/* The memory file at PATH as a source for BE's RANGES (their mtree offsets). */
static gboolean
add_file(Build *b, HwRamBackend *be, const char *path, GArray *ranges, GError **error)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE, "cannot open memory file %s: %s",
                path, g_strerror(e));
    return FALSE;
  }
  guint s = add_source(b, HW_RAM_SOURCE_FILE, fd, path);
  for (guint i = 0; i < ranges->len; i++) {
    const HwRamRange *r = &g_array_index(ranges, HwRamRange, i);
    HwRamPiece p = { r->gpa, r->size, s, r->file_offset };
    g_array_append_val(b->pieces, p);
  }
  be->access = HW_RAM_SOURCE_FILE;
  g_free(be->path);
  be->path = g_strdup(path);
  return TRUE;
}

/* Find how to reach backend BE (its RANGES from the mtree); MEM_PATH overrides. */
static gboolean
add_backend(Build *b, HwRamBackend *be, GArray *ranges, const char *mem_path, GError **error)
{
  HwQmp *qmp = b->guest->qmp;
  g_autofree char *qom = g_strdup_printf("/objects/%s", be->id);
  if (mem_path != NULL) {
    if (!be->share) {
      g_set_error(error, HW_ERROR, HW_ERROR_NOT_SHARED,
                  "RAM backend %s has share=off: its file does not show guest writes; "
                  "restart QEMU with share=on, or leave out --mem and haywire copies the "
                  "RAM out of QEMU's process", be->id);
      return FALSE;
    }
    return add_file(b, be, mem_path, ranges, error);
  }
  GError *local = NULL;
  g_autofree char *path = NULL;
  if (strcmp(be->type, "memory-backend-file") == 0) {
    path = qom_string(qmp, qom, "mem-path", &local);
    if (path == NULL && hw_guest_link_failed(local)) {
      g_propagate_error(error, local);
      return FALSE;
    }
    g_clear_error(&local);
  }
  if (path != NULL && be->share && !b->guest->copy_ram)
    return add_file(b, be, path, ranges, error);
  return add_through_process(b, be, ranges, error);
}

/* QEMU's pid for its device memory: given, or the QMP socket's peer when that is a
 * QEMU (behind a proxy the peer's addresses are not QEMU's). 0 when unknown. */
static int
device_pid(Build *b)
{
  if (b->pid > 0)
    return b->pid;
  if (b->guest->qemu_pid > 0)
    return b->guest->qemu_pid;
  int peer = hw_qmp_get_peer_pid(b->guest->qmp);
  return is_qemu(peer) ? peer : 0;
}

/* The device regions of the address space (VRAM, ROMs: every RAM-like region no RAM
 * backend holds), read through QEMU's process like private RAM. They are a bonus: what
 * cannot be reached is left out and *NOTE (the caller's) says why. */
static GArray *
find_devices(Build *b, const char *mtree, const GPtrArray *backends, char **note)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new();
  for (guint i = 0; i < backends->len; i++)
    g_ptr_array_add(ids, ((HwRamBackend *)backends->pdata[i])->id);
  g_ptr_array_add(ids, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) devices = hw_ram_map_parse_devices(mtree, (const char *const *)ids->pdata,
                                                       &error);
  if (devices == NULL || devices->len == 0)
    return NULL;
  int pid = device_pid(b);
  if (pid <= 0) {
    *note = g_strdup("device memory (VRAM, ROMs) is read through QEMU's process, whose pid "
                     "this QMP socket does not tell: give --qemu-pid PID");
    return NULL;
  }
  if (b->mem_source < 0) {
    int fd = hw_qemu_proc_open_mem(pid, &error);
    if (fd < 0) {
      *note = g_strdup_printf("device memory (VRAM, ROMs) not readable: %s", error->message);
      return NULL;
    }
    g_autofree char *name = g_strdup_printf("/proc/%d/mem", pid);
    b->mem_source = (int)add_source(b, HW_RAM_SOURCE_PROCESS, fd, name);
  }
  for (guint i = 0; i < devices->len; i++) {
    HwDevicePiece *d = &g_array_index(devices, HwDevicePiece, i);
    guint64 hva;
    g_autoptr(GError) local = NULL;
    if (!gpa2hva(b, d->piece.gpa, &hva, &local)) {
      if (hw_guest_link_failed(local)) {
        *note = g_strdup_printf("device memory left out: %s", local->message);
        return NULL;
      }
      g_array_remove_index(devices, i--);   /* QEMU has no host address for it */
      continue;
    }
    g_autoptr(HwQemuProcMapping) m = hw_qemu_proc_read_mapping(pid, hva, &local);
    if (m == NULL || hva + d->piece.size < hva || hva + d->piece.size > m->end) {
      g_array_remove_index(devices, i--);
      continue;
    }
    d->piece.source = (guint)b->mem_source;
    d->piece.offset = hva;
  }
  return devices->len ? g_steal_pointer(&devices) : NULL;
}

gboolean
hw_guest_open_ram(HwGuest *guest, const char *mem_path, HwPhysMem **mem_out,
                  GPtrArray **backends_out, GError **error)
{
  HwQmp *qmp = guest->qmp;
  g_autoptr(JsonNode) devs = hw_qmp_execute(qmp, "query-memdev", NULL, error);
  if (devs == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY(devs)) {
    g_set_error(error, HW_ERROR, HW_ERROR_PROTOCOL, "query-memdev: not a list");
    return FALSE;
  }
  g_autofree char *mtree = hw_qmp_hmp(qmp, "info mtree -f", -1, error);
  if (mtree == NULL)
    return FALSE;
  /* The machine's own backend first: it is the one `info` names. */
  g_autofree char *machine = qom_string(qmp, "/machine", "memory-backend", NULL);
  const char *main_id = machine && g_str_has_prefix(machine, "/objects/") ? machine + 9
                                                                          : machine;
  JsonArray *list = json_node_get_array(devs);
  g_autoptr(GPtrArray) backends = g_ptr_array_new_with_free_func(
      (GDestroyNotify)hw_ram_backend_free);
  g_autoptr(GPtrArray) range_lists = g_ptr_array_new_with_free_func(
      (GDestroyNotify)g_array_unref);
  for (guint i = 0; i < json_array_get_length(list) && backends->len < MAX_BACKENDS; i++) {
    JsonNode *e = json_array_get_element(list, i);
    const char *id;
    gboolean share;
    gint64 size;
    if (!JSON_NODE_HOLDS_OBJECT(e) ||
        !hw_json_get_string(json_node_get_object(e), "id", &id, error) ||
        !hw_json_get_bool(json_node_get_object(e), "share", &share, error) ||
        !hw_json_get_int(json_node_get_object(e), "size", &size, error)) {
      g_prefix_error(error, "query-memdev: ");
      return FALSE;
    }
    /* A backend no device or node uses is not in the address space: nothing to map. */
    g_autoptr(GError) none = NULL;
    GArray *ranges = hw_ram_map_parse_mtree(mtree, id, &none);
    if (ranges == NULL && !g_error_matches(none, HW_ERROR, HW_ERROR_NO_MEMORY_FILE)) {
      g_propagate_error(error, g_steal_pointer(&none));   /* the mtree text is broken */
      return FALSE;
    }
    if (ranges == NULL)
      continue;
    HwRamBackend *be = g_new0(HwRamBackend, 1);
    be->id = g_strdup(id);
    be->share = share;
    be->size = (guint64)size;
    g_autofree char *qom = g_strdup_printf("/objects/%s", id);
    GError *local = NULL;
    be->type = qom_string(qmp, qom, "type", &local);
    if (be->type == NULL && hw_guest_link_failed(local)) {
      g_propagate_error(error, local);
      hw_ram_backend_free(be);
      g_array_unref(ranges);
      return FALSE;
    }
    g_clear_error(&local);
    if (be->type == NULL)
      be->type = g_strdup("memory-backend");
    /* The machine's own backend first, the others by where they start. */
    gboolean is_main = main_id && strcmp(main_id, id) == 0;
    guint at = backends->len;
    guint64 start = g_array_index(ranges, HwRamRange, 0).gpa;
    while (at > 0 && (is_main || (!(main_id && strcmp(main_id, ((HwRamBackend *)
                                                   backends->pdata[at - 1])->id) == 0) &&
                                  g_array_index((GArray *)range_lists->pdata[at - 1],
                                                HwRamRange, 0).gpa > start)))
      at--;
    g_ptr_array_insert(backends, (gint)at, be);
    g_ptr_array_insert(range_lists, (gint)at, ranges);
  }
  if (backends->len == 0) {
    g_set_error(error, HW_ERROR, HW_ERROR_NO_MEMORY_FILE,
                "no RAM backend of the guest is in its address space (query-memdev and "
                "info mtree agree on none)");
    return FALSE;
  }
  if (mem_path != NULL && backends->len > 1) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "--mem names one memory file, but the guest has %u RAM backends: leave it "
                "out and haywire finds each one", backends->len);
    return FALSE;
  }
  Build b = { guest, 0, g_array_new(FALSE, FALSE, sizeof(HwRamSource)),
              g_ptr_array_new_with_free_func(g_free), g_array_new(FALSE, FALSE,
                                                                  sizeof(HwRamPiece)), -1 };
  for (guint i = 0; i < backends->len; i++)
    if (!add_backend(&b, backends->pdata[i], range_lists->pdata[i], mem_path, error)) {
      build_clear(&b);
      return FALSE;
    }
  g_clear_pointer(&guest->devices_note, g_free);
  g_autoptr(GArray) devices = find_devices(&b, mtree, backends, &guest->devices_note);
  for (guint i = 0; i < b.sources->len; i++)
    g_array_index(b.sources, HwRamSource, i).name = g_ptr_array_index(b.names, i);
  HwPhysMem *mem = hw_physmem_open_with_devices(
      (const HwRamSource *)(void *)b.sources->data, b.sources->len,
      (const HwRamPiece *)(void *)b.pieces->data, b.pieces->len,
      devices ? (const HwDevicePiece *)(void *)devices->data : NULL,
      devices ? devices->len : 0, error);
  /* The fds are the physmem's now, whatever came of it. */
  g_array_set_size(b.sources, 0);
  build_clear(&b);
  if (mem == NULL)
    return FALSE;
  *mem_out = mem;
  *backends_out = g_steal_pointer(&backends);
  return TRUE;
}
