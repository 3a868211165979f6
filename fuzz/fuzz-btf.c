/* Fuzz the BTF loader and its lookups, and the Linux layer's table of struct offsets,
 * which takes every member it needs from BTF and checks the layout. */
#include <haywire/haywire.h>
#include "os/linux/linux-private.h"

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  if (size > (8u << 20))
    return 0;
  gsize total;
  hw_btf_check_header(data, size, &total, NULL);
  HwBtf *btf = hw_btf_new(data, size, NULL);
  if (btf == NULL)
    return 0;
  guint32 n = hw_btf_get_type_count(btf);
  for (guint32 id = 0; id <= n && id < 4096; id++) {
    hw_btf_type_name(btf, id);
    hw_btf_type_kind(btf, id);
  }
  HwBtfMember m;
  guint64 sz;
  gint64 v;
  hw_btf_find_member(btf, "task_struct", "tasks.next", &m, NULL);
  hw_btf_find_member(btf, "s", "a.b.c", &m, NULL);
  hw_btf_struct_size(btf, "task_struct", &sz, NULL);
  hw_btf_enum_value(btf, "maple_leaf_64", &v, NULL);
  guint32 s = hw_btf_find_struct(btf, "mm_struct");
  if (s != 0)
    hw_btf_find_member_by_id(btf, s, "pgd", &m, NULL);
  HwLinuxOffsets off;
  hw_linux_offsets_load(btf, &off, NULL);
  /* The same bytes as a split BTF on top of themselves (a module's on the kernel's):
   * ids and string offsets that continue the base's. */
  HwBtf *split = hw_btf_new_split(btf, data, size, NULL);
  if (split != NULL) {
    guint32 all = hw_btf_get_type_count(split);
    for (guint32 id = n > 64 ? n - 64 : 0; id <= all && id < n + 4096; id++) {
      hw_btf_type_name(split, id);
      hw_btf_type_kind(split, id);
    }
    hw_btf_find_member(split, "drm_framebuffer", "format", &m, NULL);
    hw_btf_find_member(split, "s", "a.b.c", &m, NULL);
    hw_btf_enum_value(split, "DRM_PLANE_TYPE_PRIMARY", &v, NULL);
    hw_btf_free(split);
  }
  hw_btf_free(btf);
  return 0;
}
