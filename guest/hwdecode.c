/*
 * hwdecode: a test program that does what image viewers do. It decodes the test
 * guest's PNG with libpng (to RGBA) and its JPEG with libjpeg-turbo (to RGB), keeps the
 * decoded pixels in its heap (malloc, rows packed, as the libraries' simple interfaces
 * give them), and prints where they lie as HWIMAGE lines (kind=decoded-png and
 * decoded-jpeg, the PA of every page), then sleeps forever.
 *
 * Usage: hwdecode READY-FILE [IMAGE-DIR]   (IMAGE-DIR default /images)
 * Build (static, from Debian's libpng-dev, libjpeg62-turbo-dev, zlib1g-dev):
 *   gcc -static -O2 -o hwdecode hwdecode.c -lpng16 -lz -ljpeg -lm
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>

#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)
#define PM_PRESENT  (UINT64_C(1) << 63)

static void die(const char *what)
{
	fprintf(stderr, "hwdecode: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t virt_to_phys(int pm_fd, uintptr_t va, long page_size)
{
	uint64_t entry;
	off_t off = (off_t)(va / (uintptr_t)page_size) * (off_t)sizeof(entry);

	if (pread(pm_fd, &entry, sizeof(entry), off) != (ssize_t)sizeof(entry))
		die("pread /proc/self/pagemap");
	if (!(entry & PM_PRESENT))
		return 0;
	return (entry & PM_PFN_MASK) * (uint64_t)page_size + (va % (uintptr_t)page_size);
}

static void print_image(int pm_fd, long page_size, const char *kind, const unsigned char *va,
			size_t size, unsigned w, unsigned h, const char *format)
{
	char line[8192];
	int n = snprintf(line, sizeof(line), "HWIMAGE pid=%d kind=%s va=0x%" PRIxPTR
			 " size=%zu w=%u h=%u format=%s pas=", (int)getpid(), kind,
			 (uintptr_t)va, size, w, h, format);
	uintptr_t first = (uintptr_t)va & ~(uintptr_t)(page_size - 1);

	for (uintptr_t p = first; p < (uintptr_t)va + size && n < (int)sizeof(line) - 32;
	     p += (uintptr_t)page_size)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s0x%" PRIx64,
			      p == first ? "" : ",", virt_to_phys(pm_fd, p, page_size));
	printf("%s\n", line);
	fflush(stdout);
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	long n;

	if (f == NULL)
		die(path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
		die(path);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static unsigned char *decode_png(const char *path, unsigned *w, unsigned *h)
{
	size_t len;
	unsigned char *data = read_file(path, &len), *px;
	png_image img;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&img, data, len))
		die("libpng");
	img.format = PNG_FORMAT_RGBA;
	px = malloc(PNG_IMAGE_SIZE(img));
	if (px == NULL || !png_image_finish_read(&img, NULL, px, 0, NULL))
		die("libpng decode");
	free(data);
	*w = img.width;
	*h = img.height;
	return px;
}

static unsigned char *decode_jpeg(const char *path, unsigned *w, unsigned *h)
{
	size_t len;
	unsigned char *data = read_file(path, &len), *px;
	struct jpeg_decompress_struct d;
	struct jpeg_error_mgr jerr;

	d.err = jpeg_std_error(&jerr);
	jpeg_create_decompress(&d);
	jpeg_mem_src(&d, data, (unsigned long)len);
	jpeg_read_header(&d, TRUE);
	d.out_color_space = JCS_RGB;
	jpeg_start_decompress(&d);
	*w = d.output_width;
	*h = d.output_height;
	px = malloc((size_t)*w * *h * 3);
	if (px == NULL)
		die("malloc");
	while (d.output_scanline < d.output_height) {
		JSAMPROW row = px + (size_t)d.output_scanline * *w * 3;
		jpeg_read_scanlines(&d, &row, 1);
	}
	jpeg_finish_decompress(&d);
	jpeg_destroy_decompress(&d);
	free(data);
	return px;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 2 ? argv[2] : "/images";
	long page_size = sysconf(_SC_PAGESIZE);
	char path[512];
	unsigned w, h;
	unsigned char *png, *jpg;
	int pm_fd, fd;

	if (argc < 2) {
		fprintf(stderr, "usage: hwdecode READY-FILE [IMAGE-DIR]\n");
		return 2;
	}
	pm_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pm_fd < 0)
		die("open /proc/self/pagemap");
	snprintf(path, sizeof(path), "%s/photo.png", dir);
	png = decode_png(path, &w, &h);
	mlock(png, (size_t)w * h * 4);
	print_image(pm_fd, page_size, "decoded-png", png, (size_t)w * h * 4, w, h, "rgba8888");
	snprintf(path, sizeof(path), "%s/photo.jpg", dir);
	jpg = decode_jpeg(path, &w, &h);
	mlock(jpg, (size_t)w * h * 3);
	print_image(pm_fd, page_size, "decoded-jpeg", jpg, (size_t)w * h * 3, w, h, "rgb888");
	close(pm_fd);
	printf("HWIMAGE-END pid=%d\n", (int)getpid());
	fflush(stdout);
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("create ready file");
	close(fd);
	for (;;)
		pause();
	return 0;
}
