/* haywire: the guest's display from Linux's DRM objects, profile-less: the DRM devices
 * processes hold open, their framebuffers (format, size, pitch), the planes and CRTCs
 * that scan them out, and where each framebuffer's pixels lie in guest-physical memory
 * (a device's VRAM, or the guest RAM pages of a GEM shmem object). The types come from
 * the DRM modules' BTF, which the kernel keeps in RAM. */
#pragma once

#include <glib.h>
#include <haywire/linux.h>
#include <haywire/physmem.h>

G_BEGIN_DECLS

/* The most framebuffers, planes and open DRM files a walk takes. */
#define HW_DRM_MAX_OBJECTS 4096u
/* The most GEM handles a walk takes from one client. */
#define HW_DRM_MAX_HANDLES 65536u

typedef struct _HwDrm HwDrm;

/* One DRM device (a card) that some process holds open. */
typedef struct {
  guint64 va;              /* struct drm_device */
  char driver[32];         /* its drm_driver's name: "bochs-drm", "virtio_gpu", ... */
  gint32 minor;            /* /dev/dri/cardN: N (-1 unknown) */
  guint64 vram_gpa;        /* the VRAM the driver manages (drm_vram_mm), 0 when none */
  guint64 vram_size;
} HwDrmDevice;

/* Where a GEM object's bytes are. */
typedef enum {
  HW_DRM_BACKING_UNKNOWN,  /* not found: see partial */
  HW_DRM_BACKING_VRAM,     /* one stretch of the device's VRAM */
  HW_DRM_BACKING_PAGES,    /* guest RAM pages (shmem) */
} HwDrmBacking;

/* One stretch of a GEM object: SIZE bytes at GPA. */
typedef struct {
  guint64 gpa, size;
} HwDrmExtent;

/* A GEM object and where its bytes are. */
typedef struct {
  guint64 va;              /* struct drm_gem_object */
  guint64 size;
  HwDrmBacking backing;
  GArray *extents;         /* HwDrmExtent: the object's bytes from byte 0, in order */
  gboolean partial;        /* the extents do not cover the object (why: note) */
  char note[96];
} HwDrmGem;

/* A GEM object a client holds: a handle in its drm_file. */
typedef struct {
  guint device;            /* index into hw_drm_get_devices */
  gint32 pid;              /* the process whose DRM file holds the handle */
  guint32 handle;
  guint32 fb_id;           /* a framebuffer made of it (plane 0), 0 none */
  HwDrmGem gem;
} HwDrmObject;

/* One framebuffer and the GEM object behind its first plane. */
typedef struct {
  guint device;            /* index into hw_drm_get_devices */
  guint32 id;              /* its mode object id: the fb_id userspace uses */
  guint32 fourcc;          /* DRM_FORMAT_* */
  char format[5];          /* the fourcc as text: "XR24" */
  guint32 cpp;             /* bytes per pixel of plane 0 */
  guint32 width, height;
  guint32 pitch, offset;   /* plane 0 */
  guint64 modifier;
  guint64 va;              /* struct drm_framebuffer */
  char comm[17];           /* the process that created it, as the kernel noted */
  gint32 pid;              /* the process whose open DRM file holds it; -1 none (the
                            * kernel's own, e.g. the fbdev console's) */
  guint32 plane_id;        /* the plane scanning it out, 0 none */
  guint32 crtc_id;         /* that plane's CRTC */
  gboolean primary;        /* that plane is a primary plane of an active CRTC */
  guint32 src_x, src_y, src_w, src_h;   /* the part the plane shows (pixels) */
  HwDrmGem gem;            /* the GEM object of plane 0 */
} HwDrmFramebuffer;

/* Walk the DRM objects of the guest behind LX (paused, for a consistent picture); LX
 * must outlive the result, which the caller owns. A guest without DRM devices open, or
 * without DRM's BTF, gives HW_ERROR_NOT_FOUND saying which. *PARTIAL (may be NULL) is
 * set when bad guest data cut a walk short. */
HwDrm *hw_linux_drm_open(HwLinux *lx, gboolean *partial, GError **error);
/* Free DRM. */
void hw_drm_free(HwDrm *drm);
/* The devices (owned by DRM). */
const HwDrmDevice *hw_drm_get_devices(const HwDrm *drm, guint *n_devices);
/* The framebuffers (owned by DRM), by device, then as the device lists them. */
const HwDrmFramebuffer *hw_drm_get_framebuffers(const HwDrm *drm, guint *n_framebuffers);
/* The GEM objects the clients hold (owned by DRM), by device and client, in handle
 * order. */
const HwDrmObject *hw_drm_get_objects(const HwDrm *drm, guint *n_objects);
/* The framebuffer the guest shows: the one on the primary plane of the first active
 * CRTC, of the first device with one; NULL when none is shown (borrowed). */
const HwDrmFramebuffer *hw_drm_get_screen(const HwDrm *drm);
/* The framebuffer with mode object id ID, or NULL (borrowed). */
const HwDrmFramebuffer *hw_drm_find_framebuffer(const HwDrm *drm, guint32 id);
/* Copy FB's pixels (plane 0: HEIGHT rows of PITCH bytes from OFFSET) out of MEM into a
 * new buffer (*PIXELS, the caller frees it; *LEN bytes). Bytes that cannot be read are
 * zeros and set *PARTIAL. FALSE only when nothing of it can be read. */
gboolean hw_drm_read_pixels(const HwDrmFramebuffer *fb, const HwPhysMem *mem, guint8 **pixels,
                            gsize *len, gboolean *partial, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(HwDrm, hw_drm_free)

G_END_DECLS
