/* haywire read: guest memory, physical or virtual, as a hexdump or raw to a file. */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>

#define CHUNK (1u << 20)
#define MAX_READ (64ull << 30)
#define MAX_HEX_JSON (1u << 20)

static void
hexdump_line(guint64 addr, const guint8 *p, gsize n)
{
  char hex[16 * 3 + 2], asc[17];
  gsize k = 0;
  for (gsize i = 0; i < 16; i++) {
    if (i < n)
      k += (gsize)g_snprintf(hex + k, sizeof hex - k, "%02x%s", p[i], i == 7 ? "  " : " ");
    else
      k += (gsize)g_snprintf(hex + k, sizeof hex - k, "%s", i == 7 ? "    " : "   ");
    asc[i] = i < n ? (g_ascii_isprint(p[i]) ? (char)p[i] : '.') : ' ';
  }
  asc[16] = '\0';
  printf("%016" G_GINT64_MODIFIER "x  %s |%s|\n", addr, hex, asc);
}

int
hw_cmd_read(HwCli *cli, int argc, char **argv)
{
  int rc, cpu = 0, pid = 0;
  gboolean phys = FALSE, live = FALSE;
  g_autofree char *root = NULL, *out_path = NULL;
  g_autoptr(GError) error = NULL;
  GOptionEntry entries[] = {
    { "phys", 'p', 0, G_OPTION_ARG_NONE, &phys, "ADDR is a guest-physical address", NULL },
    { "cpu", 'c', 0, G_OPTION_ARG_INT, &cpu, "translate through vCPU N's CR3 or TTBRs "
      "(default 0)", "N" },
    { "root", 'r', 0, G_OPTION_ARG_STRING, &root, "translate through this page-table root", "PA" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out_path, "write the raw bytes to FILE", "FILE" },
    { "pid", 'P', 0, G_OPTION_ARG_INT, &pid, "use the page tables of Linux process PID "
      "(found in guest RAM, no profile needed)", "PID" },
    { "live", 0, 0, G_OPTION_ARG_NONE, &live, "do not pause the guest while reading", NULL },
    { NULL }
  };
  if (!hw_cli_parse("read", "ADDR LEN", "Read LEN bytes of guest memory at ADDR (virtual, "
                    "through the page tables, or --phys) and print a hexdump, or write the "
                    "raw bytes to FILE with -o. LEN takes K/M/G suffixes.",
                    entries, &argc, &argv, &rc))
    return rc;
  if (argc != 3)
    return hw_cli_usage("read", argc < 3 ? "need ADDR and LEN" : "unexpected argument '%s'",
                        argv[argc < 3 ? 0 : 3]);
  if ((phys && root) || (phys && pid) || (root && pid))
    return hw_cli_usage("read", "--phys, --root and --pid exclude each other");
  if (pid < 0)
    return hw_cli_usage("read", "bad --pid %d", pid);
  guint64 addr, len;
  if (!hw_cli_parse_u64(argv[1], FALSE, &addr, &error) ||
      !hw_cli_parse_u64(argv[2], TRUE, &len, &error))
    return hw_cli_fail(error);
  if (len == 0 || len > MAX_READ)
    return hw_cli_usage("read", "LEN must be between 1 and 64G");
  if (out_path == NULL && len > (16u << 20))
    return hw_cli_usage("read", "a hexdump of more than 16M is not useful; use -o FILE");
  if (cli->json && out_path == NULL && len > MAX_HEX_JSON)
    return hw_cli_usage("read", "--json without -o carries at most 1M of data");
  if (addr + len - 1 < addr)
    return hw_cli_usage("read", "ADDR + LEN wraps around");

  FILE *out = NULL;
  if (out_path && (out = fopen(out_path, "wb")) == NULL) {
    int e = errno;
    g_set_error(&error, G_IO_ERROR, g_io_error_from_errno(e), "cannot create %s: %s",
                out_path, g_strerror(e));
    return hw_cli_fail(error);
  }
  if (!live && !hw_cli_pause(cli, &error)) {
    if (out)
      fclose(out);
    return hw_cli_fail(error);
  }
  g_autoptr(HwMmu) mmu = phys ? NULL : hw_cli_mmu(cli, cpu, root, pid, &error);
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  /* Physical reads skip the memory file's holes (zeros) instead of allocating them. */
  g_autoptr(HwExtents) holes = phys ? hw_physmem_get_extents(mem) : NULL;
  g_autofree guint8 *buf = g_malloc(CHUNK);
  g_autoptr(GString) hex = cli->json && !out ? g_string_sized_new(len * 2) : NULL;
  gboolean ok = phys || mmu != NULL;

  for (guint64 done = 0; ok && done < len;) {
    gsize n = (gsize)MIN((guint64)CHUNK, len - done);
    ok = phys ? hw_extents_read(holes, mem, addr + done, buf, n, &error)
              : hw_mmu_read(mmu, addr + done, buf, n, &error);
    if (!ok)
      break;
    if (out) {
      if (fwrite(buf, 1, n, out) != n) {
        int e = errno;
        g_set_error(&error, G_IO_ERROR, g_io_error_from_errno(e), "cannot write %s: %s",
                    out_path, g_strerror(e));
        ok = FALSE;
      }
    } else if (hex) {
      for (gsize i = 0; i < n; i++)
        g_string_append_printf(hex, "%02x", buf[i]);
    } else {
      for (gsize i = 0; i < n; i += 16)
        hexdump_line(addr + done + i, buf + i, MIN((gsize)16, n - i));
    }
    done += n;
  }
  if (out && fclose(out) != 0 && ok) {
    g_set_error(&error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", out_path);
    ok = FALSE;
  }
  if (!hw_cli_release_after(cli, ok, &error))
    return hw_cli_fail(error);

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    hw_cli_json_moment(b, cli);
    hw_cli_json_hex(b, "addr", addr);
    json_builder_set_member_name(b, "phys");
    json_builder_add_boolean_value(b, phys);
    json_builder_set_member_name(b, "len");
    json_builder_add_int_value(b, (gint64)len);
    if (out_path) {
      json_builder_set_member_name(b, "file");
      json_builder_add_string_value(b, out_path);
    } else {
      json_builder_set_member_name(b, "hex");
      json_builder_add_string_value(b, hex->str);
    }
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
  } else if (out_path) {
    fprintf(stderr, "wrote %" G_GUINT64_FORMAT " bytes to %s\n", len, out_path);
  }
  return HW_EXIT_OK;
}
