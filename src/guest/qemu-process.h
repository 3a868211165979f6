/* Inside the guest layer: guest RAM through QEMU's process on this host (/proc/PID), for
 * a QEMU whose RAM is no shareable memory-backend-file. HMP `gpa2hva` gives the host
 * virtual address of a guest-physical one; /proc/PID/maps the mapping holding it;
 * /proc/PID/fd the open file behind that mapping (a memfd, a file); and the open helpers
 * say which access is missing when the kernel refuses.
 *
 * Text from QEMU and from /proc is untrusted: bounded, malformed pieces rejected.
 * Errors: HW_ERROR codes for what the text or the process says (a pid without a
 * process: HW_ERROR_NOT_FOUND, "no process PID"; pid <= 0: HW_ERROR_INVALID_ARGUMENT),
 * G_IO_ERROR for system calls (on EACCES/EPERM the message names the missing access). */
#pragma once

#include <glib.h>

/* One line of /proc/PID/maps. */
typedef struct {
  guint64 start;            /* host virtual address of the first byte */
  guint64 end;              /* one past the last byte (start < end) */
  gboolean read, write, exec;
  gboolean shared;          /* 's' (MAP_SHARED), not 'p' (private, copy-on-write) */
  guint64 file_off;         /* offset in the file of START */
  guint32 dev_major, dev_minor;
  guint64 inode;            /* 0: no file (anonymous memory) */
  char *path;               /* as the kernel shows it; "" when none; may hold spaces */
  gboolean deleted;         /* PATH ends with " (deleted)": unlinked (memfds always are),
                             * or a file so named */
} HwQemuProcMapping;

/* Free MAPPING and its path (NULL is fine). */
void hw_qemu_proc_mapping_free(HwQemuProcMapping *mapping);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwQemuProcMapping, hw_qemu_proc_mapping_free)

/* Parse QEMU's answer to HMP `gpa2hva GPA` ("Host virtual address for 0x1000 (pc.ram) is
 * 0x7f6812001000"): the host address into *HVA and, when REGION is not NULL, the memory
 * region's name into *REGION (the caller frees it). QEMU's refusals ("... is not RAM",
 * "No memory is mapped at ...") give HW_ERROR_OUT_OF_RANGE, other text HW_ERROR_FAILED,
 * a malformed answer or one for another GPA HW_ERROR_PROTOCOL; all quote the text. */
gboolean hw_qemu_proc_parse_gpa2hva(const char *text, guint64 gpa, guint64 *hva,
                                    char **region, GError **error);

/* Every well-formed line of /proc/PID/maps text, in text order (malformed lines are
 * skipped and counted into *N_SKIPPED when it is not NULL); NULL with HW_ERROR_LIMIT
 * past 1048576 lines. The caller owns the array, which frees its mappings. */
GPtrArray *hw_qemu_proc_parse_maps(const char *maps_text, guint *n_skipped, GError **error);

/* The mapping in MAPS_TEXT containing HVA (start inclusive, end exclusive); the caller
 * frees it. HW_ERROR_UNMAPPED when none does, HW_ERROR_PROTOCOL when two lines do,
 * HW_ERROR_LIMIT past 1048576 lines. */
HwQemuProcMapping *hw_qemu_proc_find_mapping(const char *maps_text, guint64 hva,
                                             GError **error);

/* hw_qemu_proc_find_mapping on /proc/PID/maps (read up to 64 MiB); the caller frees the
 * result. */
HwQemuProcMapping *hw_qemu_proc_read_mapping(int pid, guint64 hva, GError **error);

/* The real uid (first "Uid:" field) in /proc/PID/status text; FALSE with
 * HW_ERROR_PROTOCOL when there is no well-formed one. Nothing is allocated. */
gboolean hw_qemu_proc_parse_status_uid(const char *status_text, guint32 *uid,
                                       GError **error);

/* The real uid of process PID, from /proc/PID/status. Nothing is allocated. */
gboolean hw_qemu_proc_get_uid(int pid, guint32 *uid, GError **error);

/* The advice that follows "Permission denied" on a /proc/PID file of a QEMU running as
 * QEMU_UID (< 0: unknown), seen by a process running as OUR_UID; ATTACH for files the
 * kernel guards like ptrace attach (/proc/PID/mem), which Yama's ptrace_scope
 * PTRACE_SCOPE (< 0: no Yama) restricts further. The caller frees it. */
char *hw_qemu_proc_access_hint(gint64 qemu_uid, guint32 our_uid, gboolean attach,
                               int ptrace_scope);

/* The lowest fd number of process PID that is open on the file of MAPPING (same device
 * and inode, /proc/PID/fd/N followed by stat), into *FD; looks at up to 65536 fds.
 * HW_ERROR_NOT_FOUND when none is (or MAPPING has no file). Nothing is allocated. */
gboolean hw_qemu_proc_find_fd(int pid, const HwQemuProcMapping *mapping, int *fd,
                              GError **error);

/* Open /proc/PID/fd/FD read-only (a new open file of QEMU's RAM file or memfd); the
 * caller closes the returned fd; -1 on failure. */
int hw_qemu_proc_open_fd(int pid, int fd, GError **error);

/* hw_qemu_proc_find_fd, then hw_qemu_proc_open_fd, then a check that what was opened is
 * still MAPPING's file (fds get reused); the caller closes the returned fd; -1 on
 * failure. */
int hw_qemu_proc_open_mapping_file(int pid, const HwQemuProcMapping *mapping,
                                   GError **error);

/* Open /proc/PID/mem read-only (pread at host virtual addresses); the caller closes the
 * returned fd; -1 on failure. */
int hw_qemu_proc_open_mem(int pid, GError **error);
