/* AArch64 guests: registers from QEMU's GDB stub, the only place QEMU shows TTBR0_EL1,
 * TTBR1_EL1 and TCR_EL1. Names are matched against the stub's target description
 * (QEMU spells some without _EL1, and the set depends on the CPU model). Attaching stops
 * the VM; afterwards a guest that was running is detached (QEMU resumes it) and a guest
 * that was paused is left by closing the socket without detaching (QEMU keeps it
 * stopped), so the run state is the one we found and no RESUME sneaks in. */
#include "guest/guest-private.h"
#include <haywire/error.h>
#include <haywire/gdb.h>

#include <string.h>

/* The registers we read: our name first, then the spellings a stub may use. */
typedef struct {
  const char *name;
  gboolean required;
  const char *spellings[3];
} RegWant;

static const RegWant wanted[] = {
  { "PC", TRUE, { "pc" } },
  { "CPSR", TRUE, { "cpsr" } },
  { "SP", FALSE, { "sp" } },
  { "SP_EL0", FALSE, { "SP_EL0" } },
  { "SCTLR_EL1", TRUE, { "SCTLR_EL1", "SCTLR" } },
  { "TCR_EL1", TRUE, { "TCR_EL1", "TCR" } },
  { "TTBR0_EL1", TRUE, { "TTBR0_EL1", "TTBR0" } },
  { "TTBR1_EL1", TRUE, { "TTBR1_EL1", "TTBR1" } },
  { "VBAR_EL1", FALSE, { "VBAR_EL1", "VBAR" } },
  { "TPIDR_EL1", FALSE, { "TPIDR_EL1", "TPIDR" } },
};

#define CPSR_EL(cpsr) (((cpsr) >> 2) & 3)

/* Check that the stub belongs to this guest: same arch, same vCPU count. */
static gboolean
check_stub(HwGuest *guest, HwGdb *gdb, GError **error)
{
  guint n;
  if (hw_gdb_get_arch(gdb) != HW_ARCH_AARCH64) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "the GDB stub at %s serves another VM: its target is %s, this guest (QMP) "
                "is aarch64", guest->gdb_addr, hw_arch_name(hw_gdb_get_arch(gdb)));
    return FALSE;
  }
  if (!hw_gdb_count_vcpus(gdb, &n, error))
    return FALSE;
  if (n != guest->vcpus) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "the GDB stub at %s serves another VM: it has %u vCPUs, this guest (QMP) "
                "has %u", guest->gdb_addr, n, guest->vcpus);
    return FALSE;
  }
  return TRUE;
}

/* Read vCPU CPU through an attached stub, under our names. */
static HwRegs *
read_cpu(HwGdb *gdb, guint cpu, GError **error)
{
  const char *names[G_N_ELEMENTS(wanted) + 1];
  const char *ours[G_N_ELEMENTS(wanted)];
  guint n = 0;
  for (gsize i = 0; i < G_N_ELEMENTS(wanted); i++) {
    const char *found = NULL;
    for (gsize k = 0; k < G_N_ELEMENTS(wanted[i].spellings) && wanted[i].spellings[k]; k++)
      if ((found = hw_gdb_lookup_register(gdb, wanted[i].spellings[k])) != NULL)
        break;
    if (found == NULL && wanted[i].required) {
      g_set_error(error, HW_ERROR, HW_ERROR_UNSUPPORTED,
                  "the GDB stub's target description has no %s register", wanted[i].name);
      return NULL;
    }
    if (found != NULL) {
      names[n] = found;
      ours[n++] = wanted[i].name;
    }
  }
  names[n] = NULL;
  g_autoptr(HwRegs) raw = hw_gdb_read_regs(gdb, cpu, names, error);
  if (raw == NULL)
    return NULL;
  HwRegs *regs = hw_regs_new(HW_ARCH_AARCH64);
  for (guint i = 0; i < n; i++) {
    guint64 v = 0;
    hw_regs_get(raw, names[i], &v);
    hw_regs_set(regs, ours[i], v);
    if (strcmp(ours[i], "CPSR") == 0)
      hw_regs_set(regs, "EL", CPSR_EL(v));
  }
  return regs;
}

static HwRegs *
aarch64_read_regs(HwGuest *guest, guint cpu, GError **error)
{
  if (guest->gdb_addr == NULL) {
    g_set_error(error, HW_ERROR, HW_ERROR_INVALID_ARGUMENT,
                "AArch64 registers come from QEMU's GDB stub: give --gdb ADDR or set "
                "HAYWIRE_GDB (start QEMU with -gdb unix:PATH,server=on,wait=off)");
    return NULL;
  }
  gboolean running;
  g_autofree char *status = hw_guest_query_status(guest, &running, error);
  if (status == NULL)
    return NULL;
  HwGdb *gdb = hw_gdb_connect(guest->gdb_addr, guest->gdb_timeout_ms, error);
  if (gdb == NULL)
    return NULL;
  HwRegs *regs = NULL;
  if (check_stub(guest, gdb, error)) {
    regs = read_cpu(gdb, cpu, error);
    /* Paused, the registers hold until a resume: read every vCPU while attached. */
    for (guint i = 0; regs && guest->known_paused && !running && i < guest->vcpus; i++)
      if (guest->regs_cache[i] == NULL)
        guest->regs_cache[i] = i == cpu ? hw_regs_copy(regs) : read_cpu(gdb, i, NULL);
  }
  if (running) {
    /* QEMU resumes the guest on detach: as we found it. */
    g_autoptr(GError) derr = NULL;
    if (!hw_gdb_detach(gdb, &derr) && regs != NULL) {
      g_propagate_prefixed_error(error, g_steal_pointer(&derr),
                                 "the guest may be left stopped: ");
      g_clear_pointer(&regs, hw_regs_free);
    }
  } else {
    hw_gdb_free(gdb);   /* no detach: QEMU keeps it stopped */
  }
  return regs;
}

static const char *const summary[] = { "PC", "EL", "CPSR", "SP", "SP_EL0", "SCTLR_EL1",
                                       "TCR_EL1", "TTBR0_EL1", "TTBR1_EL1", "VBAR_EL1", NULL };

const HwGuestArch hw_guest_arch_aarch64 = {
  .arch = HW_ARCH_AARCH64,
  .read_regs = aarch64_read_regs,
  .needs_gdb = TRUE,
  .summary = summary,
};
