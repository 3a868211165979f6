# shellcheck shell=bash
# haywire QEMU launch configuration: aarch64-virt-max-16k-16k
# Sourced by scripts/boot-guest, which provides $RUN, $KERNEL, $INITRD and
# $MEM_FILE. Sets QEMU_CONFIG_DESC and the QEMU_ARGS array.
# shellcheck disable=SC2034

QEMU_CONFIG_DESC="virt, 512 MiB shared file RAM at 1 GiB, -cpu max, for the 16 KiB-page arm64 kernel (6.12, 52-bit VA with LPA2), 1 vCPU"

QEMU_ARGS=(
	qemu-system-aarch64
	-accel tcg
	-machine "virt,memory-backend=ram0"
	-cpu max
	-smp 1
	-m 512M
	-object "memory-backend-file,id=ram0,size=512M,mem-path=$MEM_FILE,share=on"
	-qmp "unix:$RUN/qmp.sock,server=on,wait=off"
	# A second QMP socket for observers (QEMU serves one client per socket).
	-qmp "unix:$RUN/qmp-observer.sock,server=on,wait=off"
	# AArch64 registers (TTBRs, TCR) are only reachable through the GDB stub.
	-gdb "unix:$RUN/gdb.sock,server=on,wait=off"
	-serial "file:$RUN/serial.log"
	-display none
	-nodefaults
	-no-reboot
	-kernel "$KERNEL"
	-initrd "$INITRD"
	-append "console=ttyAMA0 panic=-1 quiet"
)
