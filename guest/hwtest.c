/*
 * hwtest: ground-truth test program run inside the haywire test guest.
 *
 * Maps a 64 KiB buffer, fills it with a known marker and an RGBA gradient,
 * locks it in memory, looks up the physical addresses of its first page and
 * of the gradient page in /proc/self/pagemap (needs root) and prints them
 * on stdout as HWTRUTH lines.  Then it either spins reading the buffer
 * ("spin": the vCPU stays in this address space, mostly at CPL 3) or
 * sleeps forever ("sleep").
 *
 * It also loads the image files of IMAGE-DIR (default /images: a PNG, a JPEG, a GIF,
 * a BMP and a WebP) and a raw 200x150 RGBA bitmap into memory whose pages are physically
 * scattered, and prints their addresses as HWIMAGE lines (one PA per page).
 *
 * In "sleep" mode it also keeps TICK_PAGES pages of its own (printed as an HWTICK-BUF
 * line) and rewrites the start of each once a second from a timer, saying so with an HWTICK line
 * once the new content is in place: snapshots taken around a tick see exactly those
 * pages of this process change.
 *
 * Usage: hwtest spin|sleep [READY-FILE [IMAGE-DIR]]
 * When READY-FILE is given, it is created once the HWTRUTH lines have been
 * written and flushed, so /init can wait for them without guessing.
 *
 * Build: gcc -static -O2 -o hwtest hwtest.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

#include "hwtest-pixels.h"

#define BUF_SIZE     (64 * 1024)
#define MARKER       "HAYWIRE-TEST-MARKER-0123456789abcdef"
#define MARKER_AREA  64
#define GRAD_OFFSET  4096
#define GRAD_W       64
#define GRAD_H       64

#define PM_PFN_MASK  ((UINT64_C(1) << 55) - 1)
#define PM_PRESENT   (UINT64_C(1) << 63)

#define TICK_PAGES   4

static volatile unsigned char *tick_buf;
static size_t tick_len;
static volatile unsigned tick_count;

/* SIGALRM: new text in every tick page, then one line (write(2) only: signal-safe). */
static void on_tick(int sig)
{
	char line[48] = "HWTICK n=";
	unsigned n = ++tick_count, len = 9;
	char digits[12];
	int k = 0;

	(void)sig;
	do {
		digits[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (k > 0)
		line[len++] = digits[--k];
	line[len++] = '\n';
	/* The line at the start of each page, the rest left as it was (dots): pages that
	 * change every tick, and that no finder takes for pixels. */
	for (size_t page = 0; page < TICK_PAGES; page++)
		for (unsigned i = 0; i < len; i++)
			tick_buf[page * (tick_len / TICK_PAGES) + i] = (unsigned char)line[i];
	(void)!write(STDOUT_FILENO, line, len);
}

static void die(const char *what)
{
	fprintf(stderr, "hwtest: %s: %s\n", what, strerror(errno));
	fflush(stderr);
	exit(1);
}

/* Physical address of the page holding va, or 0 when it is not present. */
static uint64_t virt_to_phys(int pm_fd, uintptr_t va, long page_size)
{
	uint64_t entry;
	off_t off = (off_t)(va / (uintptr_t)page_size) * (off_t)sizeof(entry);
	ssize_t n = pread(pm_fd, &entry, sizeof(entry), off);

	if (n != (ssize_t)sizeof(entry))
		die("pread /proc/self/pagemap");
	if (!(entry & PM_PRESENT))
		return 0;
	return (entry & PM_PFN_MASK) * (uint64_t)page_size
	       + (va % (uintptr_t)page_size);
}

/* PAGES pages of anonymous memory, resident and locked, whose frames are not
 * physically contiguous: each page is first touched right after a page of a spacer
 * mapping, so the kernel hands out frames to the two alternately. */
static unsigned char *map_scattered(size_t pages, long page_size)
{
	size_t len = pages * (size_t)page_size;
	unsigned char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned char *spacer = mmap(NULL, len, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (a == MAP_FAILED || spacer == MAP_FAILED)
		die("mmap");
	for (size_t i = 0; i < pages; i++) {
		spacer[i * (size_t)page_size] = 1;
		a[i * (size_t)page_size] = 0;
	}
	if (mlock(a, len) != 0 || mlock(spacer, len) != 0)
		die("mlock");
	return a;
}

/* HWIMAGE line: where an image lies, with the PA of every page it touches. */
static void print_image(int pm_fd, long page_size, const char *kind,
			const unsigned char *va, size_t size, const char *extra)
{
	char line[4096];
	int n = snprintf(line, sizeof(line), "HWIMAGE pid=%d kind=%s va=0x%" PRIxPTR
			 " size=%zu%s pas=", (int)getpid(), kind, (uintptr_t)va, size,
			 extra);
	uintptr_t first = (uintptr_t)va & ~(uintptr_t)(page_size - 1);

	for (uintptr_t p = first; p < (uintptr_t)va + size && n < (int)sizeof(line) - 32;
	     p += (uintptr_t)page_size)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s0x%" PRIx64,
			      p == first ? "" : ",", virt_to_phys(pm_fd, p, page_size));
	/* One write per line: two hwtest processes share the console. */
	printf("%s\n", line);
	fflush(stdout);
}

/* Load DIR/NAME at ARENA + *OFF (16-byte aligned after it), print its HWIMAGE line. */
static void load_image(int pm_fd, long page_size, unsigned char *arena, size_t arena_len,
		       size_t *off, const char *dir, const char *name, const char *kind)
{
	char path[512];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	n = read(fd, arena + *off, arena_len - *off);
	close(fd);
	if (n <= 0 || (size_t)n == arena_len - *off)
		die("image does not fit");
	print_image(pm_fd, page_size, kind, arena + *off, (size_t)n, "");
	*off = (*off + (size_t)n + 100 + 15) & ~(size_t)15;
}

/* "crowd N": N sleeping children, each with CROWD_PAGES written pages of its own, for
 * the owner-map benchmark (a guest running thousands of processes). */
#define CROWD_PAGES 8

static int crowd(int n)
{
	long page_size = sysconf(_SC_PAGESIZE);
	int made = 0;

	for (int i = 0; i < n; i++) {
		pid_t c = fork();

		if (c < 0)
			break;
		if (c == 0) {
			unsigned char *p = mmap(NULL, CROWD_PAGES * (size_t)page_size,
						PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p != MAP_FAILED)
				for (size_t off = 0; off < CROWD_PAGES * (size_t)page_size;
				     off += (size_t)page_size)
					p[off] = (unsigned char)(i + 1);
			for (;;)
				pause();
		}
		made++;
	}
	printf("HWCROWD n=%d\n", made);
	fflush(stdout);
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "sleep";
	long page_size = sysconf(_SC_PAGESIZE);
	unsigned char *buf;
	int pm_fd;
	uint64_t pa, grad_pa;
	pid_t pid = getpid();

	if (strcmp(mode, "crowd") == 0 && argc > 2)
		return crowd(atoi(argv[2]));
	if (strcmp(mode, "spin") != 0 && strcmp(mode, "sleep") != 0) {
		fprintf(stderr, "usage: hwtest spin|sleep [READY-FILE] | crowd N\n");
		return 2;
	}

	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap");

	/* Touch every page so all are resident (anonymous zero pages are
	 * replaced by real frames on write). */
	for (size_t off = 0; off < BUF_SIZE; off += (size_t)page_size)
		buf[off] = 0;

	memset(buf, 0, MARKER_AREA);
	memcpy(buf, MARKER, sizeof(MARKER) - 1);

	for (int y = 0; y < GRAD_H; y++) {
		for (int x = 0; x < GRAD_W; x++) {
			unsigned char *px = buf + GRAD_OFFSET + (size_t)(y * GRAD_W + x) * 4;
			px[0] = (unsigned char)(x * 4);
			px[1] = (unsigned char)(y * 4);
			px[2] = (unsigned char)((x + y) * 2);
			px[3] = 255;
		}
	}

	if (mlock(buf, BUF_SIZE) != 0)
		die("mlock");

	pm_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pm_fd < 0)
		die("open /proc/self/pagemap");
	pa = virt_to_phys(pm_fd, (uintptr_t)buf, page_size);
	grad_pa = virt_to_phys(pm_fd, (uintptr_t)buf + GRAD_OFFSET, page_size);
	/* Every page of the gradient: they need not be physically adjacent. */
	char grad_pas[256] = "";
	size_t grad_end = GRAD_OFFSET + (size_t)GRAD_W * GRAD_H * 4;
	for (size_t off = GRAD_OFFSET / (size_t)page_size * (size_t)page_size;
	     off < grad_end; off += (size_t)page_size) {
		size_t used = strlen(grad_pas);
		snprintf(grad_pas + used, sizeof grad_pas - used, "%s0x%" PRIx64,
			 used ? "," : "",
			 virt_to_phys(pm_fd, (uintptr_t)buf + off, page_size));
	}
	close(pm_fd);
	if (pa == 0 || grad_pa == 0)
		fprintf(stderr, "hwtest: warning: pagemap gave no PFN "
			"(not root?)\n");

	printf("HWTRUTH pid=%d mode=%s va=0x%" PRIxPTR " pa=0x%" PRIx64
	       " grad_va=0x%" PRIxPTR " grad_pa=0x%" PRIx64
	       " grad_w=%d grad_h=%d page_size=%ld grad_pas=%s\n",
	       (int)pid, mode, (uintptr_t)buf, pa,
	       (uintptr_t)buf + GRAD_OFFSET, grad_pa, GRAD_W, GRAD_H, page_size,
	       grad_pas);
	fflush(stdout);
	printf("HWTRUTH-END pid=%d\n", (int)pid);
	fflush(stdout);

	if (strcmp(mode, "sleep") == 0) {
		tick_len = TICK_PAGES * (size_t)page_size;
		unsigned char *t = mmap(NULL, tick_len, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (t == MAP_FAILED)
			die("mmap tick");
		memset(t, '.', tick_len);
		if (mlock(t, tick_len) != 0)
			die("mlock tick");
		tick_buf = t;
		printf("HWTICK-BUF pid=%d va=0x%" PRIxPTR " pages=%d\n", (int)pid,
		       (uintptr_t)t, TICK_PAGES);
		fflush(stdout);
	}

	/* Image files at odd offsets in scattered pages, then the raw bitmap. */
	pm_fd = open("/proc/self/pagemap", O_RDONLY);
	if (pm_fd < 0)
		die("open /proc/self/pagemap");
	{
		const char *dir = argc > 3 ? argv[3] : "/images";
		size_t arena_len = 32 * (size_t)page_size, off = 100;
		unsigned char *arena = map_scattered(32, page_size);
		size_t raw_len = (size_t)HWTEST_RAW_W * HWTEST_RAW_H * 4;
		size_t raw_pages = (raw_len + (size_t)page_size - 1) / (size_t)page_size;
		unsigned char *raw = map_scattered(raw_pages, page_size);
		char extra[64];

		load_image(pm_fd, page_size, arena, arena_len, &off, dir, "photo.png", "png");
		load_image(pm_fd, page_size, arena, arena_len, &off, dir, "photo.jpg", "jpeg");
		load_image(pm_fd, page_size, arena, arena_len, &off, dir, "icon.gif", "gif");
		load_image(pm_fd, page_size, arena, arena_len, &off, dir, "logo.bmp", "bmp");
		load_image(pm_fd, page_size, arena, arena_len, &off, dir, "photo.webp", "webp");
		for (int y = 0; y < HWTEST_RAW_H; y++)
			for (int x = 0; x < HWTEST_RAW_W; x++)
				hwtest_raw_pixel(x, y, raw + ((size_t)y * HWTEST_RAW_W + (size_t)x) * 4);
		snprintf(extra, sizeof(extra), " w=%d h=%d format=rgba8888",
			 HWTEST_RAW_W, HWTEST_RAW_H);
		print_image(pm_fd, page_size, "raw", raw, raw_len, extra);
	}
	close(pm_fd);
	printf("HWIMAGE-END pid=%d\n", (int)pid);
	fflush(stdout);

	if (argc > 2) {
		int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0)
			die("create ready file");
		close(fd);
	}

	if (strcmp(mode, "spin") == 0) {
		const volatile unsigned char *vb = buf;
		unsigned sum = 0;

		for (;;) {
			for (size_t off = 0; off < BUF_SIZE; off += 64)
				sum += vb[off];
			/* keep sum live without any syscall */
			__asm__ volatile("" : : "r"(sum));
		}
	}

	if (tick_buf != NULL) {
		struct sigaction sa;
		struct itimerval it = { { 1, 0 }, { 1, 0 } };

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_tick;
		sa.sa_flags = SA_RESTART;
		sigaction(SIGALRM, &sa, NULL);
		setitimer(ITIMER_REAL, &it, NULL);
	}
	for (;;)
		pause();
	return 0;
}
