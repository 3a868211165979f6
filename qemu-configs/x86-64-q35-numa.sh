# shellcheck shell=bash
# haywire QEMU launch configuration: x86-64-q35-numa
# Sourced by scripts/boot-guest, which provides $RUN, $KERNEL, $INITRD, $MEM_FILE
# and the HAYWIRE_COMMON_ARGS array. Sets QEMU_CONFIG_DESC and the QEMU_ARGS array.
# shellcheck disable=SC2034

QEMU_CONFIG_DESC="q35, two NUMA nodes of 256 MiB (node 0 a shared memory file, node 1 plain RAM) and a 128 MiB memfd pc-dimm at 4 GiB: three backends, each mapped its own way, 1 vCPU (node 1 is memory only: the tests catch the test program on vCPU 0)"

QEMU_ARGS=(
	qemu-system-x86_64
	-accel tcg
	-machine q35
	-smp 1
	-m 512M,slots=2,maxmem=1G
	-object "memory-backend-file,id=node0,size=256M,mem-path=$MEM_FILE,share=on"
	-object "memory-backend-ram,id=node1,size=256M"
	-numa "node,nodeid=0,cpus=0,memdev=node0"
	-numa "node,nodeid=1,memdev=node1"
	-object "memory-backend-memfd,id=dimm0,size=128M,share=on"
	-device "pc-dimm,id=dimm0,memdev=dimm0,node=1"
	# QMP (two sockets), GDB stub, serial log, no display: from boot-guest.
	"${HAYWIRE_COMMON_ARGS[@]}"
	-kernel "$KERNEL"
	-initrd "$INITRD"
	-append "console=ttyS0 panic=-1 quiet"
)
