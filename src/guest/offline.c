/* A guest model with no QEMU behind it: RAM and registers recorded at one paused moment
 * (a --data snapshot, a dump-guest-memory file), read the way a paused guest is. */
#include "guest/guest-private.h"
#include <haywire/dump.h>
#include <haywire/error.h>

#include <string.h>

HwGuest *
hw_guest_new_offline(HwArch arch, HwPhysMem *mem, GPtrArray *regs, const char *origin,
                     guint64 epoch)
{
  HwGuest *guest = g_new0(HwGuest, 1);
  guest->arch = arch;
  guest->ops = hw_guest_arch_ops(arch);
  guest->arch_name = g_strdup(hw_arch_name(arch));
  guest->origin = g_strdup(origin);
  guest->mem = mem;
  guest->vcpus = regs ? regs->len : 0;
  guest->regs_cache = g_new0(HwRegs *, MAX(guest->vcpus, 1));
  guest->offline_regs = g_new0(HwRegs *, MAX(guest->vcpus, 1));
  for (guint i = 0; i < guest->vcpus; i++) {
    HwRegs *r = g_ptr_array_index(regs, i);
    guest->offline_regs[i] = r && hw_regs_get_arch(r) == arch ? hw_regs_copy(r) : NULL;
  }
  guest->known_paused = TRUE;
  guest->history = hw_history_new(FALSE);
  guest->offline_epoch = epoch;
  return guest;
}

gboolean
hw_guest_is_offline(HwGuest *guest)
{
  return guest->origin != NULL;
}

const char *
hw_guest_get_origin(HwGuest *guest)
{
  return guest->origin;
}

/* The dump's RAM: mapped in place when every segment's data is 8-byte aligned in the
 * file (the readers load words), else copied out. */
static HwPhysMem *
dump_memory(const char *path, const guint8 *d, const HwDumpInfo *info, GError **error)
{
  const HwRamRange *r = (const HwRamRange *)(void *)info->ranges->data;
  gboolean aligned = TRUE;
  for (guint i = 0; i < info->ranges->len; i++)
    aligned = aligned && r[i].file_offset % 8 == 0;
  if (aligned)
    return hw_physmem_open(path, r, info->ranges->len, error);
  guint8 *image;
  HwPhysMem *mem = hw_physmem_new_anonymous(r, info->ranges->len, &image, error);
  guint64 at = 0;
  for (guint i = 0; mem && i < info->ranges->len; at += r[i].size, i++)
    memcpy(image + at, d + r[i].file_offset, r[i].size);
  return mem;
}

HwGuest *
hw_guest_open_dump(const char *path, GError **error)
{
  g_autoptr(GMappedFile) f = hw_physmem_map_file(path, error);
  if (f == NULL)
    return NULL;
  const guint8 *d = (const guint8 *)g_mapped_file_get_contents(f);
  HwDumpInfo info = { 0 };
  if (!hw_dump_parse(d, g_mapped_file_get_length(f), path, &info, error))
    return NULL;
  HwGuest *guest = NULL;
  HwPhysMem *mem = dump_memory(path, d, &info, error);
  if (mem != NULL) {
    g_autofree char *origin = g_strdup_printf("dump %s", path);
    guest = hw_guest_new_offline(info.arch, mem, info.regs, origin, 0);
  }
  hw_dump_info_clear(&info);
  return guest;
}
