/* haywire: one running QEMU guest: its QMP link, run state, vCPUs and RAM. */
#pragma once

#include <glib.h>
#include <haywire/qmp.h>
#include <haywire/physmem.h>
#include <haywire/regs.h>
#include <haywire/history.h>

G_BEGIN_DECLS

typedef struct _HwGuest HwGuest;

/* Attach to the guest behind QMP (borrowed; must outlive the guest): arch, vCPUs. */
HwGuest *hw_guest_new(HwQmp *qmp, GError **error);
/* A guest with no QEMU behind it, recorded at one paused moment (the caller owns it):
 * its RAM MEM (taken), the registers of each vCPU (REGS: HwRegs *, copied; NULL entries:
 * not recorded), the recording's EPOCH (0 for a dump, which records none) and ORIGIN
 * ("snapshot FILE", copied) for messages. It never runs: pausing and resuming do
 * nothing, its run state is "recorded", it has no QMP (NULL). */
HwGuest *hw_guest_new_offline(HwArch arch, HwPhysMem *mem, GPtrArray *regs, const char *origin,
                              guint64 epoch);
/* A guest model of QEMU's dump-guest-memory ELF file at PATH, RAM map and registers
 * from the file; the caller owns it. A file that cannot be read is G_IO_ERROR, one
 * that is not such a dump HW_ERROR_FAILED. */
HwGuest *hw_guest_open_dump(const char *path, GError **error);
/* Whether GUEST is a recording (hw_guest_new_offline), not a live QEMU. */
gboolean hw_guest_is_offline(HwGuest *guest);
/* The recording's origin ("snapshot FILE"), or NULL for a live guest (borrowed). */
const char *hw_guest_get_origin(HwGuest *guest);
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

/* One RAM backend of a live guest (a NUMA node, a pc-dimm, the machine's RAM) and how
 * haywire reaches it. */
typedef struct {
  char *id;                 /* QEMU's backend id ("ram0", "pc.ram") */
  char *type;               /* its QOM type ("memory-backend-file", "memory-backend-memfd",
                             * "memory-backend-ram") */
  guint64 size;
  gboolean share;           /* share=on */
  HwRamSourceKind access;   /* FILE: mapped read-only, zero-copy; PROCESS: copied out of
                             * QEMU's process as it is read */
  char *path;               /* what is read: the file, /proc/PID/fd/N, /proc/PID/mem */
} HwRamBackend;

/* Map every RAM backend the guest's address space uses: a shared memory file by its
 * path, a shared memfd or file through QEMU's fd, anything else copied out of QEMU's
 * process (which needs QEMU's pid: the QMP socket's peer, or hw_guest_set_qemu_pid).
 * MEM_PATH, for a guest with one backend, names its file instead of QEMU's path. */
gboolean hw_guest_map_memory(HwGuest *guest, const char *mem_path, GError **error);
/* With COPY, the next hw_guest_map_memory reads every backend through QEMU's process,
 * also those a shared file would map (to compare the two ways, or to hold still what
 * one pause saw); slower. */
void hw_guest_set_copy_ram(HwGuest *guest, gboolean copy);
/* Why the device regions (VRAM, ROMs) beside RAM were left out, or NULL (borrowed). */
const char *hw_guest_get_devices_note(HwGuest *guest);
/* The RAM backends mapped, the machine's own first (borrowed; NULL before mapping). */
const GPtrArray *hw_guest_get_ram_backends(HwGuest *guest);
/* The mapped RAM, or NULL before hw_guest_map_memory. */
HwPhysMem *hw_guest_get_physmem(HwGuest *guest);
/* What the machine's RAM backend is read through (its file, /proc/PID/fd/N,
 * /proc/PID/mem), or NULL before mapping. */
const char *hw_guest_get_mem_path(HwGuest *guest);
/* The RAM backend's id ("ram0", "pc.ram"), or NULL before mapping. */
const char *hw_guest_get_backend_id(HwGuest *guest);

/* QEMU's run state ("running", "paused", ...), from query-status. */
char *hw_guest_query_status(HwGuest *guest, gboolean *running, GError **error);
/* Stop the guest and confirm it; *WAS_RUNNING tells whether we changed anything. On
 * failure a guest this call may have stopped is continued (over a new QMP connection
 * if the link broke). */
gboolean hw_guest_pause(HwGuest *guest, gboolean *was_running, GError **error);
/* Guard against signals from now on (idempotent; the program calls it once): SIGINT,
 * SIGTERM and SIGHUP resume every guest that hw_guest_pause stopped and that was not
 * resumed yet, then take their default action (the process ends by the signal). */
void hw_guest_guard_signals(void);
/* The guest paused by hw_guest_pause stays paused on purpose (`haywire pause`): no
 * signal resumes it. */
void hw_guest_keep_paused(HwGuest *guest);
/* For a long-running loop (watch, serve): a pipe's read end (owned by the library, kept
 * open) that a guarded signal makes readable, one byte with the signal number, when it
 * finds no guest held paused: the process then lives on and the loop ends cleanly. A
 * signal while a guest is held still resumes it and ends the process. */
int hw_guest_get_signal_fd(void);
/* Continue the guest and confirm it is running; if the QMP link broke or went silent,
 * once more over a new connection. HW_ERROR_GONE when QEMU exited. */
gboolean hw_guest_resume(HwGuest *guest, GError **error);
/* The run-state history since the guest model was made (borrowed; queued QMP events
 * recorded first). The guest model takes every event QMP queues. */
const HwHistory *hw_guest_get_history(HwGuest *guest);
/* The current epoch (see history.h). */
guint64 hw_guest_get_epoch(HwGuest *guest);
/* Wait up to TIMEOUT_MS for QMP events and record them. */
gboolean hw_guest_follow(HwGuest *guest, guint timeout_ms, GError **error);
/* QEMU's pid, where the QMP socket cannot tell it (TCP, a proxy); 0 forgets it. */
void hw_guest_set_qemu_pid(HwGuest *guest, int pid);
/* Whether QEMU is known to have exited (its pid, from the QMP socket, is gone or a
 * zombie); FALSE when alive or not known (TCP). */
gboolean hw_guest_qemu_exited(HwGuest *guest);

/* Where the GDB stub is (path or HOST:PORT; NULL: none) and its time-out; copied. AArch64
 * registers (TTBRs, TCR) come only from there: QEMU's HMP does not show them. */
void hw_guest_set_gdb(HwGuest *guest, const char *addr, guint timeout_ms);
/* Read vCPU CPU's registers; the caller owns them. x86-64: HMP `info registers`;
 * AArch64: the GDB stub (attached for the read; a guest found paused stays paused, a
 * running one runs again). While the guest is paused by hw_guest_pause they are cached. */
HwRegs *hw_guest_read_regs(HwGuest *guest, guint cpu, GError **error);

/* The registers worth showing first for this guest's arch, in order (NULL-terminated;
 * static; empty for an arch we cannot read). */
const char *const *hw_guest_get_register_summary(HwGuest *guest);
/* Whether vCPU registers come from the GDB stub (AArch64), not from HMP. */
gboolean hw_guest_regs_need_gdb(HwGuest *guest);

/* Parse the text of HMP `info registers` (x86-64) into a register set (caller owns). */
HwRegs *hw_regs_parse_x86_64(const char *text, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwGuest, hw_guest_free)

G_END_DECLS
