/* Fuzz the GDB remote-protocol client: the input is what the stub says (acks, packets
 * with checksums, escapes and run-length, the target description and its includes,
 * thread lists, register values). */
#include <haywire/haywire.h>
#include "fuzz-peer.h"

int LLVMFuzzerTestOneInput(const guint8 *data, gsize size);

static void
client(const char *addr)
{
  HwGdb *gdb = hw_gdb_connect(addr, 50, NULL);
  if (gdb != NULL) {
    hw_gdb_get_arch(gdb);
    hw_gdb_get_register_count(gdb);
    guint n;
    hw_gdb_count_vcpus(gdb, &n, NULL);
    static const char *const names[] = { "pc", "cpsr", "TTBR0_EL1", "rip", "cr3", NULL };
    for (guint i = 0; names[i]; i++)
      hw_gdb_lookup_register(gdb, names[i]);
    HwRegs *regs = hw_gdb_read_regs(gdb, 0, (const char *const[]){ "pc", NULL }, NULL);
    hw_regs_free(regs);
    regs = hw_gdb_read_regs(gdb, 1, (const char *const[]){ "rip", "cr3", NULL }, NULL);
    hw_regs_free(regs);
    hw_gdb_detach(gdb, NULL);   /* frees */
  }
}

int
LLVMFuzzerTestOneInput(const guint8 *data, gsize size)
{
  return fuzz_peer_run(data, size, client);
}
