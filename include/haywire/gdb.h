/* haywire: a client of QEMU's GDB stub (remote serial protocol), for registers that
 * HMP does not show (AArch64 TTBR0_EL1/TTBR1_EL1/TCR_EL1) and as a second route for
 * x86-64's. Register numbers come from the stub's target description XML. */
#pragma once

#include <glib.h>
#include <haywire/regs.h>

G_BEGIN_DECLS

#define HW_GDB_DEFAULT_TIMEOUT_MS 10000

typedef struct _HwGdb HwGdb;

/* Connect to the stub at ADDR (path or HOST:PORT), negotiate, and read the target
 * description. Attaching stops the guest: QEMU's stub does that itself. */
HwGdb *hw_gdb_connect(const char *addr, guint timeout_ms, GError **error);
/* Detach (QEMU then lets the guest run, even if QMP had stopped it) and close. */
gboolean hw_gdb_detach(HwGdb *gdb, GError **error);
/* Close without detaching, and free: QEMU then leaves the guest stopped. */
void hw_gdb_free(HwGdb *gdb);
/* The architecture the target description names (HW_ARCH_UNKNOWN if none we know). */
HwArch hw_gdb_get_arch(HwGdb *gdb);
/* Number of registers the target description lists. */
guint hw_gdb_get_register_count(HwGdb *gdb);
/* The target description's spelling of register NAME (case-insensitive), or NULL;
 * owned by GDB. */
const char *hw_gdb_lookup_register(HwGdb *gdb, const char *name);
/* Count the stub's threads (QEMU: one per vCPU) into *N. */
gboolean hw_gdb_count_vcpus(HwGdb *gdb, guint *n, GError **error);
/* Read the registers NAMES (NULL-terminated; case-insensitive) of vCPU CPU (0-based);
 * the caller owns the set, named as the target description spells them. */
HwRegs *hw_gdb_read_regs(HwGdb *gdb, guint cpu, const char *const *names, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwGdb, hw_gdb_free)

G_END_DECLS
