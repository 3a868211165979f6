/* The command-line program's shared context and helpers (only src/cli prints or exits). */
#pragma once

#include "cli/parse-number.h"

#include <haywire/haywire.h>
#include <haywire/drm.h>
#include <stdio.h>

typedef struct {
  char *qmp_addr;
  char *gdb_addr;
  char *mem_path;
  gboolean json;
  guint timeout_ms;
  HwQmp *qmp;
  HwGuest *guest;
  gboolean we_paused;   /* we stopped the guest and owe it a cont */
  gboolean no_cache;    /* --no-cache: always run a cold kernel discovery */
  HwLinux *lx;          /* opened on first use */
  const char *doing;    /* what the command does, for errors: "the scan" */
  const char *run_state;  /* of the results: "paused-by-haywire", "already-paused"; NULL: live */
  guint64 epoch;        /* the epoch the results come from (set when paused) */
  int qemu_pid;         /* --qemu-pid, 0 without */
  char *snapshot_path;  /* --snapshot FILE: read a --data snapshot, no QEMU */
  char *dump_path;      /* --dump FILE: read a dump-guest-memory file, no QEMU */
  char *domain;         /* --domain NAME: a libvirt domain, through libvirt's monitor */
  char *connect_uri;    /* --connect URI: libvirt's connection (NULL: its default) */
} HwCli;

typedef enum {
  HW_CMD_NEEDS_GUEST = 1 << 0,   /* connect QMP and model the guest first */
  HW_CMD_NEEDS_MEM = 1 << 1,     /* also map guest RAM */
  HW_CMD_LIVE_ONLY = 1 << 2,     /* makes no sense for a recording (--snapshot, --dump) */
} HwCmdFlags;

typedef struct {
  const char *name;
  int (*fn)(HwCli *cli, int argc, char **argv);
  HwCmdFlags flags;
  const char *args;     /* argument synopsis */
  const char *summary;
  const char *doing;    /* for "QEMU exited during ..." */
} HwCmd;

/* Exit codes. */
#define HW_EXIT_OK 0
#define HW_EXIT_ERROR 1
#define HW_EXIT_USAGE 2

int hw_cmd_carve(HwCli *cli, int argc, char **argv);
int hw_cmd_gpu(HwCli *cli, int argc, char **argv);
int hw_cmd_info(HwCli *cli, int argc, char **argv);
int hw_cmd_kernel(HwCli *cli, int argc, char **argv);
int hw_cmd_maps(HwCli *cli, int argc, char **argv);
int hw_cmd_ps(HwCli *cli, int argc, char **argv);
int hw_cmd_overview(HwCli *cli, int argc, char **argv);
int hw_cmd_owners(HwCli *cli, int argc, char **argv);
int hw_cmd_pause(HwCli *cli, int argc, char **argv);
int hw_cmd_read(HwCli *cli, int argc, char **argv);
int hw_cmd_regs(HwCli *cli, int argc, char **argv);
int hw_cmd_render(HwCli *cli, int argc, char **argv);
int hw_cmd_resume(HwCli *cli, int argc, char **argv);
int hw_cmd_scan(HwCli *cli, int argc, char **argv);
int hw_cmd_screen(HwCli *cli, int argc, char **argv);
int hw_cmd_serve(HwCli *cli, int argc, char **argv);
int hw_cmd_snapshot(HwCli *cli, int argc, char **argv);
int hw_cmd_translate(HwCli *cli, int argc, char **argv);
int hw_cmd_wait(HwCli *cli, int argc, char **argv);
int hw_cmd_watch(HwCli *cli, int argc, char **argv);

/* The command named NAME from the program's table, or NULL (static). */
const HwCmd *hw_cli_find_command(const char *name);
/* Run CMD with its ARGV (ARGV[0] the command's name): attach as its flags say, then call
 * it; the exit code. */
int hw_cli_run_command(HwCli *cli, const HwCmd *cmd, int argc, char **argv);

/* Connect to QEMU and model the guest if not yet done, and with MEM map its RAM: -1 when
 * done, else the exit code (the message printed). */
int hw_cli_attach(HwCli *cli, gboolean mem);
/* Map the guest's RAM if not yet done (--mem, else $HAYWIRE_MEM, else QEMU's backends). */
gboolean hw_cli_map_memory(HwCli *cli, GError **error);
/* The guest model of --snapshot FILE or --dump FILE (caller owns). */
HwGuest *hw_cli_open_recording(HwCli *cli, GError **error);
/* The program's context (borrowed until exit), for the wording of hw_cli_fail. */
void hw_cli_set_context(HwCli *cli);
/* ERROR in words for the user (caller frees): a vanished QEMU or memory file says so
 * and during what, instead of the errno or protocol detail where it surfaced. */
char *hw_cli_explain(const GError *error);
/* Print "haywire: MESSAGE" for ERROR (hw_cli_explain) on stderr; HW_EXIT_ERROR. */
int hw_cli_fail(GError *error);
/* Print a usage error for command CMD and return HW_EXIT_USAGE. */
int hw_cli_usage(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Parse command options with ENTRIES; handles --help; FALSE means return *EXIT_CODE. */
gboolean hw_cli_parse(const char *cmd, const char *params, const char *summary,
                      GOptionEntry *entries, int *argc, char ***argv, int *exit_code);
/* Pause the guest unless it is already paused; a later hw_cli_release or a signal resumes it. */
gboolean hw_cli_pause(HwCli *cli, GError **error);
/* Resume the guest if we paused it. */
gboolean hw_cli_release(HwCli *cli, GError **error);
/* Resume after work whose outcome is OK (its error already in *ERROR when !OK); FALSE
 * when the work failed or, after it succeeded, the resume did. */
gboolean hw_cli_release_after(HwCli *cli, gboolean ok, GError **error);
/* Print NODE (consumed) as one line of JSON on stdout. */
void hw_cli_print_json(JsonNode *node);
/* Format a 64-bit address as a "0x..." string (JSON numbers lose 64-bit precision). */
char *hw_cli_hex(guint64 v);
/* QEMU's timestamp of the newest event NAME recorded at history index MARK or later,
 * as "seconds.micro" (caller frees), or NULL. */
char *hw_cli_event_stamp(HwCli *cli, const char *name, guint mark);
/* Add "epoch" and "run_state" members: the moment the command's results come from. */
void hw_cli_json_moment(JsonBuilder *b, HwCli *cli);
/* Pause, take a snapshot of the live guest (with its owners when Linux is found, with
 * the pages themselves when DATA), resume; *OWNERS (may be NULL) gets the owner map of
 * that moment (the caller owns both). In cmd-snapshot.c. */
HwSnapshot *hw_cli_take_snapshot(HwCli *cli, gboolean data, HwOwnerMap **owners,
                                 GError **error);
/* The state a command's results come from, for its "state" member: "recorded" for a
 * --snapshot/--dump file, else "live" when LIVE, else who paused the guest. */
const char *hw_cli_state(HwCli *cli, gboolean live);
/* Add a "0x..." string member to the builder. */
void hw_cli_json_hex(JsonBuilder *b, const char *member, guint64 v);
/* Add task T as one JSON object (pid, tgid, ppid, uid, state, comm, kernel_thread, pgd,
 * task): `ps --json` and the viewer. */
void hw_cli_json_task(JsonBuilder *b, const HwTask *t);
/* Add memory map V as one JSON object (start, end, perms, offset, path): `maps --json`
 * and the viewer. */
void hw_cli_json_vma(JsonBuilder *b, const HwVma *v);
/* Add owner O of a page as one JSON object (kind, pid, comm, and va, writable,
 * executable or a page table's level): `owners --json`, scan hits and the viewer. */
void hw_cli_json_owner(JsonBuilder *b, const HwOwner *o);
/* Read vCPU registers for the --cpu option, or fail with a message naming the cpu. */
HwRegs *hw_cli_regs(HwCli *cli, int cpu, GError **error);
/* Build the address space for --cpu N, --root PA or --pid PID (PID > 0). */
HwMmu *hw_cli_mmu(HwCli *cli, int cpu, const char *root, int pid, GError **error);
/* The guest's DRM objects (cmd-gpu.c); the guest paused; the caller owns the result,
 * which the CLI's Linux model must outlive. */
HwDrm *hw_cli_drm(HwCli *cli, gboolean *partial, GError **error);
/* Add DRM's "devices", "framebuffers" and "objects" members (`gpu --json`, the viewer). */
void hw_cli_json_drm(JsonBuilder *b, const HwDrm *drm);
/* What hw_cli_screen_rgba drew. */
typedef struct {
  guint32 fb_id, crtc_id;
  gboolean shown;          /* on the primary plane of an active CRTC */
  char format[5];
  guint32 width, height;
  gboolean partial;        /* some pixels (black) or DRM objects were unreadable */
} HwCliScreen;
/* The guest's screen, or framebuffer FB_ID (0: the screen), as RGBA rows of *OUT's width
 * (the part its plane shows), the guest paused while it is read (screen-pixels.c); the
 * caller frees the result. */
guint8 *hw_cli_screen_rgba(HwCli *cli, guint32 fb_id, HwCliScreen *out, GError **error);
/* Framebuffer FB of the guest (paused by the caller) as RGBA, as hw_cli_screen_rgba. */
guint8 *hw_cli_framebuffer_rgba(HwCli *cli, const HwDrmFramebuffer *fb, HwCliScreen *out,
                                GError **error);
/* The pixel format of DRM fourcc FOURCC, where haywire decodes it. */
gboolean hw_cli_drm_format(guint32 fourcc, HwPixelFormat *format);
/* The Linux kernel model of the guest (discovered, or from the cache); guest paused. */
HwLinux *hw_cli_linux(HwCli *cli, GError **error);
