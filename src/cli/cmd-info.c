/* haywire info: run state, arch, vCPUs, memory file and RAM map. */
#include "cli/cli.h"

static void
add_string_or_null(JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name(b, member);
  if (value)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

int
hw_cmd_info(HwCli *cli, int argc, char **argv)
{
  int rc;
  g_autoptr(GError) error = NULL;
  if (!hw_cli_parse("info", NULL, "Show the guest's run state, architecture, vCPU count, "
                    "memory file and RAM map (guest-physical ranges and their file offsets).",
                    NULL, &argc, &argv, &rc))
    return rc;
  if (argc > 1)
    return hw_cli_usage("info", "unexpected argument '%s'", argv[1]);

  gboolean running;
  g_autofree char *status = hw_guest_query_status(cli->guest, &running, &error);
  if (status == NULL)
    return hw_cli_fail(error);
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  guint n;
  const HwRamRange *r = hw_physmem_get_ranges(mem, &n);

  if (cli->json) {
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "status");
    json_builder_add_string_value(b, status);
    json_builder_set_member_name(b, "running");
    json_builder_add_boolean_value(b, running);
    json_builder_set_member_name(b, "arch");
    json_builder_add_string_value(b, hw_guest_get_arch_name(cli->guest));
    json_builder_set_member_name(b, "vcpus");
    json_builder_add_int_value(b, hw_guest_get_vcpu_count(cli->guest));
    add_string_or_null(b, "qemu_version", cli->qmp ? hw_qmp_get_version(cli->qmp) : NULL);
    add_string_or_null(b, "source", hw_guest_get_origin(cli->guest));
    add_string_or_null(b, "mem_path", hw_guest_get_mem_path(cli->guest));
    add_string_or_null(b, "mem_backend", hw_guest_get_backend_id(cli->guest));
    hw_cli_json_hex(b, "ram_size", hw_physmem_get_ram_size(mem));
    json_builder_set_member_name(b, "ram");
    json_builder_begin_array(b);
    for (guint i = 0; i < n; i++) {
      json_builder_begin_object(b);
      hw_cli_json_hex(b, "gpa", r[i].gpa);
      hw_cli_json_hex(b, "size", r[i].size);
      hw_cli_json_hex(b, "file_offset", r[i].file_offset);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    hw_cli_print_json(json_builder_get_root(b));
    return HW_EXIT_OK;
  }
  printf("status:      %s\n", status);
  printf("arch:        %s\n", hw_guest_get_arch_name(cli->guest));
  printf("vcpus:       %u\n", hw_guest_get_vcpu_count(cli->guest));
  if (hw_guest_is_offline(cli->guest)) {
    printf("source:      %s (no QEMU)\n", hw_guest_get_origin(cli->guest));
  } else {
    printf("qemu:        %s\n", hw_qmp_get_version(cli->qmp));
    printf("memory file: %s (backend %s)\n", hw_guest_get_mem_path(cli->guest),
           hw_guest_get_backend_id(cli->guest));
  }
  printf("ram:         %" G_GUINT64_FORMAT " MiB in %u ranges\n",
         hw_physmem_get_ram_size(mem) >> 20, n);
  printf("  %-18s %-18s %-18s %s\n", "gpa", "end", "file offset", "size");
  for (guint i = 0; i < n; i++)
    printf("  0x%016" G_GINT64_MODIFIER "x 0x%016" G_GINT64_MODIFIER "x 0x%016"
           G_GINT64_MODIFIER "x %" G_GUINT64_FORMAT " KiB\n",
           r[i].gpa, r[i].gpa + r[i].size - 1, r[i].file_offset, r[i].size >> 10);
  return HW_EXIT_OK;
}
