#!/bin/bash
# Install the build into a scratch directory and build a program against it with
# pkg-config, as a user of the library would. Usage: check-install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
dest=$(mktemp -d /tmp/hw-install-XXXXXX)
trap 'rm -rf "$dest"' EXIT
meson install -C "$build" --no-rebuild --quiet --destdir "$dest" >/dev/null
option() {
	meson introspect "$build" --buildoptions |
		python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]==sys.argv[1]][0])' "$1"
}
prefix=$(option prefix)
# A sanitized build's library needs the sanitizer runtime in the program too.
sanitize=$(option b_sanitize)
extra=()
[ "$sanitize" = none ] || extra=(-fsanitize="$sanitize")
pc=$(find "$dest$prefix" -name haywire.pc | head -1)
[ -n "$pc" ] || { echo "no haywire.pc installed"; exit 1; }
# The .pc names its files from its prefix: point that (only this file's) at the
# scratch install.
sed -i "s|^prefix=.*|prefix=$dest$prefix|" "$pc"
export PKG_CONFIG_PATH=$(dirname "$pc")
cc -std=c11 -Wall -Werror "${extra[@]}" -o "$dest/use-haywire" "$src/tests/install/use-haywire.c" \
   $(pkg-config --cflags haywire) $(pkg-config --libs --static haywire)
out=$("$dest/use-haywire")
echo "$out"
[ "$out" = "haywire library: kinds 0x3, rgb565 is 16 bits" ]
