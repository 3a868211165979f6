# shellcheck shell=bash
# haywire QEMU launch configuration: x86-64-pc-share-off
# Sourced by scripts/boot-guest, which provides $RUN, $KERNEL, $INITRD and
# $MEM_FILE. Sets QEMU_CONFIG_DESC and the QEMU_ARGS array.
# shellcheck disable=SC2034

QEMU_CONFIG_DESC="pc, 256 MiB file RAM with share=off (copy-on-write: outside mmap sees stale data; negative test only), qemu64, 1 vCPU"

QEMU_ARGS=(
	qemu-system-x86_64
	-accel tcg
	-machine "pc,memory-backend=ram0"
	-smp 1
	-m 256M
	-object "memory-backend-file,id=ram0,size=256M,mem-path=$MEM_FILE,share=off"
	-qmp "unix:$RUN/qmp.sock,server=on,wait=off"
	# A second QMP socket: QEMU serves one client per socket, so observers
	# (tests, launch scripts) use this one while haywire holds the first.
	-qmp "unix:$RUN/qmp-observer.sock,server=on,wait=off"
	-gdb "unix:$RUN/gdb.sock,server=on,wait=off"
	-serial "file:$RUN/serial.log"
	-display none
	-nodefaults
	-no-reboot
	-kernel "$KERNEL"
	-initrd "$INITRD"
	-append "console=ttyS0 panic=-1 quiet"
)
