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
 * Usage: hwtest spin|sleep [READY-FILE]
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
#include <sys/mman.h>
#include <unistd.h>

#define BUF_SIZE     (64 * 1024)
#define MARKER       "HAYWIRE-TEST-MARKER-0123456789abcdef"
#define MARKER_AREA  64
#define GRAD_OFFSET  4096
#define GRAD_W       64
#define GRAD_H       64

#define PM_PFN_MASK  ((UINT64_C(1) << 55) - 1)
#define PM_PRESENT   (UINT64_C(1) << 63)

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

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "sleep";
	long page_size = sysconf(_SC_PAGESIZE);
	unsigned char *buf;
	int pm_fd;
	uint64_t pa, grad_pa;
	pid_t pid = getpid();

	if (strcmp(mode, "spin") != 0 && strcmp(mode, "sleep") != 0) {
		fprintf(stderr, "usage: hwtest spin|sleep [READY-FILE]\n");
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
	close(pm_fd);
	if (pa == 0 || grad_pa == 0)
		fprintf(stderr, "hwtest: warning: pagemap gave no PFN "
			"(not root?)\n");

	printf("HWTRUTH pid=%d mode=%s va=0x%" PRIxPTR " pa=0x%" PRIx64
	       " grad_va=0x%" PRIxPTR " grad_pa=0x%" PRIx64
	       " grad_w=%d grad_h=%d\n",
	       (int)pid, mode, (uintptr_t)buf, pa,
	       (uintptr_t)buf + GRAD_OFFSET, grad_pa, GRAD_W, GRAD_H);
	fflush(stdout);
	printf("HWTRUTH-END pid=%d\n", (int)pid);
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

	for (;;)
		pause();
	return 0;
}
