/* Inside the guest layer: the HwGuest handle and one register-source table per arch. */
#pragma once

#include <haywire/guest.h>
#include <haywire/history.h>

typedef struct {
  HwArch arch;
  /* Read vCPU CPU's registers (CPU < vCPU count, checked by the caller). When the guest
   * is paused the source may fill guest->regs_cache for every vCPU at once. */
  HwRegs *(*read_regs)(HwGuest *guest, guint cpu, GError **error);
  /* Registers come from the GDB stub (the guest model then needs its address). */
  gboolean needs_gdb;
  /* The registers worth showing first, in order (NULL-terminated). */
  const char *const *summary;
} HwGuestArch;

struct _HwGuest {
  HwQmp *qmp;
  HwArch arch;
  const HwGuestArch *ops;   /* NULL for arches we cannot read registers of */
  char *arch_name;
  guint vcpus;
  char *backend_id;
  char *mem_path;
  HwPhysMem *mem;
  GPtrArray *backends;      /* HwRamBackend, from hw_guest_map_memory */
  char *devices_note;       /* why device memory is left out, or NULL */
  guint64 mem_epoch;        /* with MEM_FRESH: the paused epoch a copying physmem holds */
  gboolean copy_ram;        /* hw_guest_set_copy_ram: copy even what could be mapped */
  gboolean mem_fresh;       /* copied RAM was taken in this pause: no need to forget it */
  char *gdb_addr;           /* GDB stub, for arches whose registers only it shows */
  guint gdb_timeout_ms;
  /* Registers per vCPU, valid while the guest stays paused (cleared on resume). */
  HwRegs **regs_cache;
  gboolean known_paused;    /* hw_guest_pause saw it paused, no resume since */
  HwHistory *history;       /* run-state events and epochs since we attached */
  int qemu_pid;             /* given by the caller; 0: the QMP socket's peer */
  char *origin;             /* a recording ("snapshot FILE"), no QEMU: NULL when live */
  guint64 offline_epoch;    /* the recording's epoch */
  HwRegs **offline_regs;    /* the recording's registers per vCPU (entries may be NULL) */
};

extern const HwGuestArch hw_guest_arch_x86_64;
/* The register-source table for ARCH, or NULL. */
const HwGuestArch *hw_guest_arch_ops(HwArch arch);
extern const HwGuestArch hw_guest_arch_aarch64;

/* The signal guard (signal-guard.c): OWNER holds its guest paused; a signal sends "cont"
 * over QMP. Holding again takes the connection anew (it may have reconnected). */
void hw_signal_guard_hold(const void *owner, HwQmp *qmp);
/* OWNER no longer holds a guest paused. */
void hw_signal_guard_release(const void *owner);

/* Whether ERROR means the QMP link broke or went silent (not an answer from QEMU). */
gboolean hw_guest_link_failed(const GError *error);
/* Free a RAM backend record. */
void hw_ram_backend_free(HwRamBackend *b);
/* Find and map every RAM backend (ram-backends.c): *MEM and *BACKENDS are the caller's. */
gboolean hw_guest_open_ram(HwGuest *guest, const char *mem_path, HwPhysMem **mem,
                           GPtrArray **backends, GError **error);

/* Forget cached registers (the guest may run). */
void hw_guest_forget_regs(HwGuest *guest);
