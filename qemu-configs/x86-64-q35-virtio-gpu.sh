# shellcheck shell=bash
# haywire QEMU launch configuration: x86-64-q35-virtio-gpu
# Sourced by scripts/boot-guest, which provides $RUN, $KERNEL, $INITRD, $MEM_FILE
# and the HAYWIRE_COMMON_ARGS array. Sets QEMU_CONFIG_DESC and the QEMU_ARGS array.
# shellcheck disable=SC2034

QEMU_CONFIG_DESC="q35, 512 MiB shared file RAM, virtio-gpu-pci (framebuffers in guest RAM; Linux's virtio-gpu DRM driver), 1 vCPU"

QEMU_ARGS=(
	qemu-system-x86_64
	-accel tcg
	-machine "q35,memory-backend=ram0"
	-smp 1
	-m 512M
	-object "memory-backend-file,id=ram0,size=512M,mem-path=$MEM_FILE,share=on"
	# QMP (two sockets), GDB stub, serial log, no display: from boot-guest.
	"${HAYWIRE_COMMON_ARGS[@]}"
	-device virtio-gpu-pci
	-kernel "$KERNEL"
	-initrd "$INITRD"
	-append "console=ttyS0 panic=-1 quiet"
)
