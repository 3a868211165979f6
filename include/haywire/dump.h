/* haywire: QEMU's dump-guest-memory ELF files: the RAM map and the vCPUs' registers. */
#pragma once

#include <glib.h>
#include <haywire/physmem.h>
#include <haywire/regs.h>

G_BEGIN_DECLS

typedef struct {
  HwArch arch;          /* from e_machine: EM_X86_64 or EM_AARCH64 */
  GArray *ranges;       /* HwRamRange (include/haywire/physmem.h): gpa = p_paddr, size = p_filesz, file_offset = p_offset, one per PT_LOAD with p_filesz > 0, sorted by gpa */
  GPtrArray *regs;      /* HwRegs * (include/haywire/regs.h), one per vCPU in note order, owned (free func set) */
} HwDumpInfo;

/* Parse the ELF header, program headers and notes of a dump in the SIZE bytes at D (the
 * whole file, usually mmapped; NAME for messages) into OUT (caller clears it with
 * hw_dump_info_clear). D stays the caller's; OUT then owns its ranges and registers (on
 * failure it holds nothing). */
gboolean hw_dump_parse(const guint8 *d, gsize size, const char *name, HwDumpInfo *out, GError **error);
/* Free what OUT holds and zero it (OUT itself belongs to the caller). */
void hw_dump_info_clear(HwDumpInfo *out);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(HwDumpInfo, hw_dump_info_clear)

G_END_DECLS
