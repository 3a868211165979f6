/* haywire: architectures and vCPU register sets (the bottom layer: any register
 * source, HMP text or the GDB stub, fills one of these). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  HW_ARCH_UNKNOWN,
  HW_ARCH_X86_64,
  HW_ARCH_AARCH64,
} HwArch;

/* The registers of one vCPU as name/value pairs; names compare case-insensitively
 * ("CR3", "EFER", "RIP", "CPL"; "TTBR0_EL1", "PC", "EL"). */
typedef struct _HwRegs HwRegs;

/* The arch's name as QEMU's query-target spells it ("x86_64", "aarch64"), or "unknown". */
const char *hw_arch_name(HwArch arch);
/* The arch named NAME the way query-target spells it, HW_ARCH_UNKNOWN if none we know. */
HwArch hw_arch_from_name(const char *name);

/* An empty register set of ARCH; the caller owns it (hw_regs_free). */
HwRegs *hw_regs_new(HwArch arch);
/* A copy of REGS; the caller owns it. */
HwRegs *hw_regs_copy(const HwRegs *regs);
/* Set register NAME to VALUE (replacing an earlier value; at most 256 registers). */
void hw_regs_set(HwRegs *regs, const char *name, guint64 value);
/* Look up register NAME; FALSE when absent. */
gboolean hw_regs_get(const HwRegs *regs, const char *name, guint64 *value);
/* The architecture these registers belong to. */
HwArch hw_regs_get_arch(const HwRegs *regs);
/* Register names in the order they were set (owned by REGS). */
const char *const *hw_regs_get_names(const HwRegs *regs, guint *n);
/* Free a register set. */
void hw_regs_free(HwRegs *regs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwRegs, hw_regs_free)

G_END_DECLS
