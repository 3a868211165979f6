/* haywire info: run state, arch, vCPUs, RAM backends and how each is read, RAM map.
 * Without access to RAM it still shows the rest and says what access is missing. */
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
  /* RAM is optional here: everything else shows without it. */
  g_autoptr(GError) ram_error = NULL;
  if (!hw_cli_map_memory(cli, &ram_error) && hw_guest_qemu_exited(cli->guest))
    return hw_cli_fail(ram_error);
  HwPhysMem *mem = hw_guest_get_physmem(cli->guest);
  guint n = 0;
  const HwRamRange *r = mem ? hw_physmem_get_ranges(mem, &n) : NULL;
  const GPtrArray *backends = hw_guest_get_ram_backends(cli->guest);
  g_autofree char *ram_why = ram_error ? hw_cli_explain(ram_error) : NULL;

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
    add_string_or_null(b, "ram_error", ram_why);
    json_builder_set_member_name(b, "copies");
    json_builder_add_boolean_value(b, mem && hw_physmem_copies(mem));
    json_builder_set_member_name(b, "backends");
    json_builder_begin_array(b);
    for (guint i = 0; backends && i < backends->len; i++) {
      const HwRamBackend *be = backends->pdata[i];
      json_builder_begin_object(b);
      add_string_or_null(b, "id", be->id);
      add_string_or_null(b, "type", be->type);
      hw_cli_json_hex(b, "size", be->size);
      json_builder_set_member_name(b, "share");
      json_builder_add_boolean_value(b, be->share);
      add_string_or_null(b, "access", be->access == HW_RAM_SOURCE_FILE ? "mmap" : "copy");
      add_string_or_null(b, "path", be->path);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    if (mem)
      hw_cli_json_hex(b, "ram_size", hw_physmem_get_ram_size(mem));
    json_builder_set_member_name(b, "ram");
    json_builder_begin_array(b);
    for (guint i = 0; i < n; i++) {
      HwRamSourceKind kind;
      const char *name = NULL;
      json_builder_begin_object(b);
      hw_cli_json_hex(b, "gpa", r[i].gpa);
      hw_cli_json_hex(b, "size", r[i].size);
      hw_cli_json_hex(b, "file_offset", r[i].file_offset);
      if (hw_physmem_get_source(mem, r[i].gpa, &kind, &name))
        add_string_or_null(b, "source", name);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    guint nd = 0;
    const HwDeviceRegion *d = mem ? hw_physmem_get_devices(mem, &nd) : NULL;
    json_builder_set_member_name(b, "devices");
    json_builder_begin_array(b);
    for (guint i = 0; i < nd; i++) {
      json_builder_begin_object(b);
      add_string_or_null(b, "name", d[i].name);
      hw_cli_json_hex(b, "gpa", d[i].gpa);
      hw_cli_json_hex(b, "size", d[i].size);
      hw_cli_json_hex(b, "hva", d[i].hva);
      json_builder_end_object(b);
    }
    json_builder_end_array(b);
    add_string_or_null(b, "devices_note", hw_guest_get_devices_note(cli->guest));
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
    for (guint i = 0; backends && i < backends->len; i++) {
      const HwRamBackend *be = backends->pdata[i];
      printf("%-12s %s (%s, %" G_GUINT64_FORMAT " MiB%s): %s %s\n", i == 0 ? "memory:" : "",
             be->id, be->type, be->size >> 20, be->share ? ", share=on" : "",
             be->access == HW_RAM_SOURCE_FILE ? "mapped from" : "copied as read from",
             be->path);
    }
    if (mem && hw_physmem_copies(mem))
      printf("access:      copies (RAM read out of QEMU's process while paused; "
             "slower than a shared memory file)\n");
    else if (mem)
      printf("access:      zero-copy (mapped read-only)\n");
    if (ram_why)
      printf("memory:      not readable: %s\n", ram_why);
  }
  if (mem == NULL)
    return HW_EXIT_OK;
  printf("ram:         %" G_GUINT64_FORMAT " MiB in %u ranges\n",
         hw_physmem_get_ram_size(mem) >> 20, n);
  printf("  %-18s %-18s %-18s %-10s %s\n", "gpa", "end", "offset", "size", "source");
  for (guint i = 0; i < n; i++) {
    HwRamSourceKind kind;
    const char *name = "";
    hw_physmem_get_source(mem, r[i].gpa, &kind, &name);
    g_autofree char *size = r[i].size % (1u << 20) == 0
        ? g_strdup_printf("%" G_GUINT64_FORMAT " MiB", r[i].size >> 20)
        : g_strdup_printf("%" G_GUINT64_FORMAT " KiB", r[i].size >> 10);
    printf("  0x%016" G_GINT64_MODIFIER "x 0x%016" G_GINT64_MODIFIER "x 0x%016"
           G_GINT64_MODIFIER "x %-10s %s\n", r[i].gpa, r[i].gpa + r[i].size - 1,
           r[i].file_offset, size, name);
  }
  guint nd = 0;
  const HwDeviceRegion *d = hw_physmem_get_devices(mem, &nd);
  if (nd > 0) {
    printf("devices:     %u regions beside RAM, copied out of QEMU's process when read\n", nd);
    printf("  %-18s %-18s %-18s %-10s %s\n", "gpa", "end", "qemu address", "size", "region");
  }
  for (guint i = 0; i < nd; i++) {
    g_autofree char *size = d[i].size % (1u << 20) == 0
        ? g_strdup_printf("%" G_GUINT64_FORMAT " MiB", d[i].size >> 20)
        : g_strdup_printf("%" G_GUINT64_FORMAT " KiB", d[i].size >> 10);
    printf("  0x%016" G_GINT64_MODIFIER "x 0x%016" G_GINT64_MODIFIER "x 0x%016"
           G_GINT64_MODIFIER "x %-10s %s\n", d[i].gpa, d[i].gpa + d[i].size - 1, d[i].hva,
           size, d[i].name);
  }
  if (hw_guest_get_devices_note(cli->guest))
    printf("devices:     %s\n", hw_guest_get_devices_note(cli->guest));
  return HW_EXIT_OK;
}
