/* Test harness for real guests: boot one QEMU guest per test binary, read the ground
 * truth it prints on its serial console, run the haywire program against it. */
#pragma once

#include <haywire/haywire.h>

typedef struct {
  int pid;
  guint64 va, pa, grad_va, grad_pa;
  guint grad_w, grad_h;
  guint64 page_size;   /* the guest kernel's, from sysconf */
} HwTruthProc;

/* An image hwtest keeps in memory (HWIMAGE line). */
typedef struct {
  int pid;
  char *kind;          /* png, jpeg, gif, bmp, raw */
  guint64 va;
  guint64 size;
  GArray *pas;         /* guint64: PA of each page it touches */
} HwTruthImage;

typedef struct {
  char *config;        /* qemu-configs/ name */
  char *run_dir;
  char *qmp, *gdb, *mem;
  int qemu_pid;
  HwTruthProc spin, sleep;
  GHashTable *ksyms;   /* name -> guint64* from HWGUEST-KSYM */
  char *serial;        /* serial log at boot */
  char *version;       /* /proc/version */
  GPtrArray *ps;       /* HwTruthTask*, from the HWPS lines */
  GPtrArray *maps;     /* char* "PID START-END PERMS OFFSET PATH" from the HWMAP lines */
  GPtrArray *images;   /* HwTruthImage*, from the HWIMAGE lines */
  int crash_slot;      /* the harness's clean-up record of this QEMU */
  guint64 tick_va;     /* the sleeping hwtest's pages rewritten once a second */
  guint tick_pages;    /* how many (of the guest's page size) */
  char *domain;        /* a libvirt domain (hw_test_guest_libvirt): runs use --domain */
} HwTestGuest;

typedef struct {
  int pid, ppid;
  gboolean kthread;
  char state;
  char *comm;
} HwTruthTask;

/* Result of one run of the haywire program. */
typedef struct {
  int status;          /* exit code, or 128+signal */
  char *out;
  char *err;
  JsonNode *json;      /* stdout parsed, when it is JSON */
} HwRun;

/* Boot CONFIG (fatal on failure: a guest test that cannot run is a failure). */
HwTestGuest *hw_test_guest_boot(const char *config);
/* Like hw_test_guest_boot, in RUN_DIR (made by the caller: its socket paths are known
 * before QEMU starts). */
HwTestGuest *hw_test_guest_boot_in(const char *config, const char *run_dir);
/* Boot CONFIG without waiting for the kernel (QEMU started with -S): for QMP-only checks. */
HwTestGuest *hw_test_guest_start_stopped(const char *config);
/* Boot the test guest as libvirt domain (VARIANT: plain, memfd or file RAM), with a
 * libvirt daemon of the test's own when none runs; CONFIG names it in test paths. */
HwTestGuest *hw_test_guest_libvirt(const char *config, const char *variant);
/* Stop QEMU and remove its files. */
void hw_test_guest_stop(HwTestGuest *g);
/* How many HWTICK lines (rewrites of the tick pages) the serial log holds so far. */
guint hw_test_guest_ticks(HwTestGuest *g);
/* Kernel symbol address printed by the guest, or 0. */
guint64 hw_test_guest_ksym(HwTestGuest *g, const char *name);

/* Run haywire with the guest's --qmp (if G) and ARGS (NULL-terminated). */
HwRun *hw_test_run(HwTestGuest *g, const char *const *args);
/* Like hw_test_run, from a NULL-terminated argument list. */
HwRun *hw_test_runv(HwTestGuest *g, const char *first, ...) G_GNUC_NULL_TERMINATED;
/* Free a run. */
void hw_run_free(HwRun *r);
/* The JSON object printed by a successful run (asserts). */
JsonObject *hw_run_object(HwRun *r);
/* A "0x..." member of O as a number (asserts). */
guint64 hw_json_hex(JsonObject *o, const char *member);

/* The JSON objects printed one per line by a successful run (asserts). */
GPtrArray *hw_run_json_lines(HwRun *r);

/* Connect to the guest's QMP with the library, for independent checks. */
HwQmp *hw_test_qmp(HwTestGuest *g);
/* Run COMMAND with ARGS_JSON (a JSON object's text, may be NULL) on the observer QMP
 * socket, connected for this one command (QEMU serves one client per socket); asserts
 * that QEMU answers without an error. */
void hw_test_observer_run(HwTestGuest *g, const char *command, const char *args_json);
/* QEMU's screendump of G's display (binary PPM, through the observer socket): *W x *H
 * RGB bytes; the caller frees them. */
guint8 *hw_test_screendump(HwTestGuest *g, guint *w, guint *h);
/* query-status running flag, through our own QMP connection. */
gboolean hw_test_guest_running(HwTestGuest *g);

/* The bytes hwtest writes: marker and 64x64 RGBA gradient. */
#define HW_TEST_MARKER "HAYWIRE-TEST-MARKER-0123456789abcdef"
void hw_test_expected_gradient(guint8 *out, guint w, guint h);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwRun, hw_run_free)

/* Image KIND held by process PID, or NULL. */
const HwTruthImage *hw_test_guest_image(HwTestGuest *g, int pid, const char *kind);
/* Add test PREFIX NAME (PREFIX ends in '/') running FN; with HW_TEST_ONLY set (path
 * prefixes, space-separated), only the tests it names. */
void hw_test_add(const char *prefix, const char *name, GTestFunc fn);
/* Register the image tests (scan --find, carve, render, overview) on guest G. */
void hw_test_add_image_tests(HwTestGuest *g);

/* Register the Linux-layer tests (ps, maps, kernel, --pid) on guest G. */
void hw_test_add_linux_tests(HwTestGuest *g);
/* Register the RAM access tests (backends, access modes, permissions) on G, for the
 * configs that need them; BOOTED: the kernel runs (its ground truth is known). */
void hw_test_add_access_tests(HwTestGuest *g, gboolean booted);
/* Register the viewer's Screen tests on G, a guest with a display whose screen shows
 * framebuffer FB on CRTC. */
void hw_test_add_serve_screen_tests(HwTestGuest *g, guint fb, guint crtc);
/* Register the viewer server tests (haywire serve, its API and token) on G. */
void hw_test_add_serve_tests(HwTestGuest *g);
/* Register the recording tests (--snapshot, --dump against the paused guest) on G. */
void hw_test_add_offline_tests(HwTestGuest *g);
