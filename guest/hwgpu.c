/* hwgpu: the haywire test guest's display program.
 *
 * Usage: hwgpu READY-FILE
 *
 * Opens the first DRM device, draws a known picture into a dumb buffer of the
 * connected connector's preferred mode and shows it on a CRTC (the screen), then draws
 * another known picture into a second, smaller dumb buffer that no CRTC shows (the
 * off-screen buffer). Prints the ground truth on stdout as HWTRUTH-GPU lines, creates
 * READY-FILE and sleeps, holding both buffers (and DRM master) until killed.
 *
 * Raw ioctls only (the kernel's uapi from libdrm's headers): the guest has no libdrm.
 */
#define _GNU_SOURCE
#include <drm.h>
#include <drm_fourcc.h>
#include <drm_mode.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define OFF_W 320
#define OFF_H 200

static void
die(const char *what)
{
	printf("HWGUEST-ERROR hwgpu: %s: %s\n", what, strerror(errno));
	fflush(stdout);
	exit(1);
}

static int
xioctl(int fd, unsigned long req, void *arg)
{
	int r;
	do
		r = ioctl(fd, req, arg);
	while (r == -1 && (errno == EINTR || errno == EAGAIN));
	return r;
}

/* The screen: smooth red across, green down, blue bands, a white frame and a dark
 * diagonal, so that any shift, swap of channels or wrong pitch shows. */
static uint32_t
screen_pixel(uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	if (x < 4 || y < 4 || x >= w - 4 || y >= h - 4)
		return 0xffffff;
	if (x * h / w == y)
		return 0x101010;
	uint32_t r = x * 255 / (w - 1), g = y * 255 / (h - 1), b = ((x / 32 + y / 32) & 1) ? 0xc0 : 0x40;
	return r << 16 | g << 8 | b;
}

/* The off-screen buffer: 8x8 checks of two colours that appear nowhere on the screen. */
static uint32_t
offscreen_pixel(uint32_t x, uint32_t y)
{
	return ((x / 8 + y / 8) & 1) ? 0x00a5e3 : 0xe35a00;
}

typedef struct {
	uint32_t handle, pitch, fb_id, w, h;
	uint64_t size;
	uint32_t *pixels;
} Buffer;

static void
make_buffer(int fd, uint32_t w, uint32_t h, Buffer *b)
{
	struct drm_mode_create_dumb create = { .width = w, .height = h, .bpp = 32 };
	if (xioctl(fd, DRM_IOCTL_MODE_CREATE_DUMB, &create) != 0)
		die("MODE_CREATE_DUMB");
	struct drm_mode_fb_cmd2 fb = { .width = w, .height = h, .pixel_format = DRM_FORMAT_XRGB8888 };
	fb.handles[0] = create.handle;
	fb.pitches[0] = create.pitch;
	if (xioctl(fd, DRM_IOCTL_MODE_ADDFB2, &fb) != 0)
		die("MODE_ADDFB2");
	struct drm_mode_map_dumb map = { .handle = create.handle };
	if (xioctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) != 0)
		die("MODE_MAP_DUMB");
	void *p = mmap(NULL, create.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)map.offset);
	if (p == MAP_FAILED)
		die("mmap of the dumb buffer");
	*b = (Buffer){ create.handle, create.pitch, fb.fb_id, w, h, create.size, p };
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: hwgpu READY-FILE\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	int fd = -1;
	for (int i = 0; i < 200 && fd < 0; i++) {   /* the driver may still be probing */
		fd = open("/dev/dri/card0", O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			struct timespec ts = { 0, 50 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	if (fd < 0)
		die("open /dev/dri/card0");

	uint32_t crtcs[16], connectors[16];
	struct drm_mode_card_res res = { 0 };
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) != 0)
		die("MODE_GETRESOURCES");
	if (res.count_crtcs == 0 || res.count_connectors == 0 || res.count_crtcs > 16 ||
	    res.count_connectors > 16) {
		errno = ENODEV;
		die("no usable CRTC or connector");
	}
	res = (struct drm_mode_card_res){ .crtc_id_ptr = (uintptr_t)crtcs,
	                                  .connector_id_ptr = (uintptr_t)connectors,
	                                  .count_crtcs = res.count_crtcs,
	                                  .count_connectors = res.count_connectors };
	if (xioctl(fd, DRM_IOCTL_MODE_GETRESOURCES, &res) != 0)
		die("MODE_GETRESOURCES");

	/* The first connected connector and its first (preferred) mode. */
	struct drm_mode_modeinfo modes[64];
	struct drm_mode_get_connector conn = { 0 };
	uint32_t conn_id = 0;
	for (uint32_t i = 0; i < res.count_connectors && conn_id == 0; i++) {
		conn = (struct drm_mode_get_connector){ .connector_id = connectors[i] };
		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) != 0)
			die("MODE_GETCONNECTOR");
		if (conn.connection != 1 || conn.count_modes == 0)
			continue;
		uint32_t n = conn.count_modes > 64 ? 64 : conn.count_modes;
		conn = (struct drm_mode_get_connector){ .connector_id = connectors[i],
		                                        .modes_ptr = (uintptr_t)modes,
		                                        .count_modes = n };
		if (xioctl(fd, DRM_IOCTL_MODE_GETCONNECTOR, &conn) != 0)
			die("MODE_GETCONNECTOR");
		conn_id = connectors[i];
	}
	if (conn_id == 0) {
		errno = ENODEV;
		die("no connected connector");
	}
	struct drm_mode_modeinfo mode = modes[0];
	for (uint32_t i = 0; i < conn.count_modes && i < 64; i++)
		if (modes[i].type & DRM_MODE_TYPE_PREFERRED) {
			mode = modes[i];
			break;
		}

	Buffer screen, off;
	make_buffer(fd, mode.hdisplay, mode.vdisplay, &screen);
	for (uint32_t y = 0; y < screen.h; y++)
		for (uint32_t x = 0; x < screen.w; x++)
			screen.pixels[y * (screen.pitch / 4) + x] = screen_pixel(x, y, screen.w, screen.h);
	make_buffer(fd, OFF_W, OFF_H, &off);
	for (uint32_t y = 0; y < off.h; y++)
		for (uint32_t x = 0; x < off.w; x++)
			off.pixels[y * (off.pitch / 4) + x] = offscreen_pixel(x, y);

	struct drm_mode_crtc set = { .crtc_id = crtcs[0], .fb_id = screen.fb_id,
	                             .set_connectors_ptr = (uintptr_t)&conn_id, .count_connectors = 1,
	                             .mode = mode, .mode_valid = 1 };
	if (xioctl(fd, DRM_IOCTL_MODE_SETCRTC, &set) != 0)
		die("MODE_SETCRTC");
	/* The whole screen is new: devices that copy from guest memory (virtio-gpu) are told. */
	struct drm_clip_rect all = { 0, 0, (unsigned short)screen.w, (unsigned short)screen.h };
	struct drm_mode_fb_dirty_cmd dirty = { .fb_id = screen.fb_id, .num_clips = 1,
	                                       .clips_ptr = (uintptr_t)&all };
	xioctl(fd, DRM_IOCTL_MODE_DIRTYFB, &dirty);   /* ENOSYS where the device scans memory */

	pid_t pid = getpid();
	printf("HWTRUTH-GPU pid=%d role=screen fb=%u crtc=%u connector=%u width=%u height=%u "
	       "pitch=%u size=%" PRIu64 " handle=%u va=0x%" PRIxPTR " format=XR24\n",
	       (int)pid, screen.fb_id, crtcs[0], conn_id, screen.w, screen.h, screen.pitch,
	       screen.size, screen.handle, (uintptr_t)screen.pixels);
	printf("HWTRUTH-GPU pid=%d role=offscreen fb=%u width=%u height=%u pitch=%u "
	       "size=%" PRIu64 " handle=%u va=0x%" PRIxPTR " format=XR24 pixel0=0x%06x pixel8=0x%06x\n",
	       (int)pid, off.fb_id, off.w, off.h, off.pitch, off.size, off.handle,
	       (uintptr_t)off.pixels, offscreen_pixel(0, 0), offscreen_pixel(8, 0));
	FILE *ready = fopen(argv[1], "w");
	if (ready == NULL)
		die("create the ready file");
	fclose(ready);
	for (;;)
		pause();
}
