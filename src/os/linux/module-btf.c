/* The BTF of the guest's loaded modules, found in RAM. A module's .BTF section is freed
 * once it is loaded (it is not SHF_ALLOC), but the kernel keeps a copy of it for BPF
 * (kernel/bpf/btf.c: btf_parse_module copies it into a kvmalloc'd buffer): types that
 * vmlinux does not have (DRM's, for a modular DRM) are there. Each copy is split BTF on
 * top of the kernel's: it parses only with the kernel's BTF as its base, which is also
 * what tells it apart from any other bytes that look like a header. */
#include "os/linux/linux-private.h"
#include <haywire/error.h>

#include <string.h>

#define BTF_MIN_VMLINUX (256u << 10)   /* as kernel.c: a module's BTF is far smaller */
#define MAX_CANDIDATES 1024u

typedef struct {
  guint64 gpa[MAX_CANDIDATES];
  gsize size[MAX_CANDIDATES];
  guint n;
} Candidates;

/* In the guarded access: only the fixed arrays are written. */
static gboolean
module_btf_hit(HwLinux *lx, guint64 gpa, const guint8 *p, gsize avail, gpointer data)
{
  (void)lx;
  Candidates *c = data;
  gsize total;
  if (hw_btf_check_header(p, avail, &total, NULL) && total < BTF_MIN_VMLINUX &&
      total <= avail && gpa != lx->info.btf_gpa) {
    c->gpa[c->n] = gpa;
    c->size[c->n] = total;
    c->n++;
  }
  return c->n == MAX_CANDIDATES;
}

GPtrArray *
hw_linux_find_module_btfs(HwLinux *lx, GError **error)
{
  const HwBtf *base = hw_linux_get_btf(lx, error);
  if (base == NULL)
    return NULL;
  static const guint8 magic[] = { 0x9f, 0xeb, 0x01, 0x00, 0x18, 0x00, 0x00, 0x00 };
  g_autofree Candidates *c = g_new0(Candidates, 1);
  if (!hw_linux_search_ram(lx, 0, G_MAXUINT64, magic, sizeof magic, 4, module_btf_hit, c,
                           error))
    return NULL;
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func((GDestroyNotify)hw_btf_free);
  /* The same module's BTF may be in RAM twice (a freed copy of the .ko being loaded). */
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
                                                     (GDestroyNotify)g_bytes_unref, NULL);
  for (guint i = 0; i < c->n; i++) {
    g_autofree guint8 *copy = g_malloc(c->size[i]);
    if (!hw_physmem_read(lx->mem, c->gpa[i], copy, c->size[i], NULL))
      continue;
    HwBtf *btf = hw_btf_new_split(base, copy, c->size[i], NULL);
    if (btf == NULL)
      continue;
    GBytes *key = g_bytes_new_take(g_steal_pointer(&copy), c->size[i]);
    if (g_hash_table_contains(seen, key)) {
      g_bytes_unref(key);
      hw_btf_free(btf);
      continue;
    }
    g_hash_table_add(seen, key);
    g_ptr_array_add(found, btf);
  }
  g_debug("module BTF: %u headers, %u split BTFs", c->n, found->len);
  return g_steal_pointer(&found);
}
