/* haywire: one running QEMU guest: its QMP link, run state, vCPUs and RAM. */
#pragma once

#include <glib.h>
#include <haywire/qmp.h>
#include <haywire/physmem.h>

G_BEGIN_DECLS

typedef enum {
  HW_ARCH_UNKNOWN,
  HW_ARCH_X86_64,
  HW_ARCH_AARCH64,
} HwArch;

/* The registers of one vCPU, by upper-case name ("CR3", "EFER", "RIP", "CPL"). */
typedef struct _HwRegs HwRegs;

typedef struct _HwGuest HwGuest;

/* Attach to the guest behind QMP (borrowed; must outlive the guest): arch, vCPUs. */
HwGuest *hw_guest_new(HwQmp *qmp, GError **error);
/* Free the guest model (does not close QMP). */
void hw_guest_free(HwGuest *guest);
/* The QMP link. */
HwQmp *hw_guest_get_qmp(HwGuest *guest);
/* The guest's architecture. */
HwArch hw_guest_get_arch(HwGuest *guest);
/* The QEMU target name ("x86_64", "aarch64", ...). */
const char *hw_guest_get_arch_name(HwGuest *guest);
/* Number of vCPUs. */
guint hw_guest_get_vcpu_count(HwGuest *guest);

/* Find the RAM backend, check share=on, map it (MEM_PATH overrides QEMU's path). */
gboolean hw_guest_map_memory(HwGuest *guest, const char *mem_path, GError **error);
/* The mapped RAM, or NULL before hw_guest_map_memory. */
HwPhysMem *hw_guest_get_physmem(HwGuest *guest);
/* The memory file's path, or NULL before mapping. */
const char *hw_guest_get_mem_path(HwGuest *guest);
/* The RAM backend's id ("ram0", "pc.ram"), or NULL before mapping. */
const char *hw_guest_get_backend_id(HwGuest *guest);

/* QEMU's run state ("running", "paused", ...), from query-status. */
char *hw_guest_query_status(HwGuest *guest, gboolean *running, GError **error);
/* Stop the guest and confirm it; *WAS_RUNNING tells whether we changed anything. */
gboolean hw_guest_pause(HwGuest *guest, gboolean *was_running, GError **error);
/* Continue the guest and confirm it is running. */
gboolean hw_guest_resume(HwGuest *guest, GError **error);

/* Read vCPU CPU's registers (x86-64: through HMP `info registers`). */
HwRegs *hw_guest_read_regs(HwGuest *guest, guint cpu, GError **error);

/* An empty register set of ARCH (filled by a register source, e.g. the GDB stub). */
HwRegs *hw_regs_new(HwArch arch);
/* Set register NAME to VALUE (replacing an earlier value; at most 256 registers). */
void hw_regs_set(HwRegs *regs, const char *name, guint64 value);
/* Parse the text of HMP `info registers` (x86-64) into a register set. */
HwRegs *hw_regs_parse_x86_64(const char *text, GError **error);
/* Look up register NAME; FALSE when absent. */
gboolean hw_regs_get(const HwRegs *regs, const char *name, guint64 *value);
/* The architecture these registers belong to. */
HwArch hw_regs_get_arch(const HwRegs *regs);
/* Register names in the order they were read. */
const char *const *hw_regs_get_names(const HwRegs *regs, guint *n);
/* Free a register set. */
void hw_regs_free(HwRegs *regs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwGuest, hw_guest_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwRegs, hw_regs_free)

G_END_DECLS
