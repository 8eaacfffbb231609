#!/usr/bin/env bash
# Harness self-test: the pinned kernel boots the cocoon-mkinitrd initrd under QEMU TCG with
# a small test PID 1 (testinit.c) that loads the modules (libkmod), finds the disks by
# serial, opens the verity root (libcryptsetup), mounts erofs, overlay and the 9p spec share.
# Also checks that the initrd is byte-identical when rebuilt.
IT_PLAIN_QEMU=1  # the harness self-test: its own QEMU shape (vsock, no OVMF)
source "$(dirname "$0")/lib.sh"
require_boot_assets
TESTINIT=$BUILD/tests/integration/testinit
need_file "$TESTINIT" "built by make"

mkdir -p "$WORK/rootsrc/etc" "$WORK/spec"
echo "erofs-root-ok" > "$WORK/rootsrc/etc/testfile"
echo "spec-share-ok" > "$WORK/spec/hello"
make_rootfs "$WORK/rootsrc" "$WORK/root.img"
truncate -s 16M "$WORK/persistent.img"
head -c 65536 /dev/zero > "$WORK/model.img"

printf 'elf init %s\n' "$TESTINIT" > "$WORK/initrd.list"
make_initrd "$WORK/initrd.img" "$IT_DIR/testinit.modules" "$WORK/initrd.list"
make_initrd "$WORK/initrd2.img" "$IT_DIR/testinit.modules" "$WORK/initrd.list"
cmp -s "$WORK/initrd.img" "$WORK/initrd2.img" || fail "two builds of the same initrd differ"
pass "initrd rebuilt byte-identical ($(sha256sum < "$WORK/initrd.img" | cut -c1-16)...)"

vm_run --initrd "$WORK/initrd.img" \
    --append "testinit.roothash=$ROOT_HASH testinit.rootblocks=$ROOT_BLOCKS" \
    --disk "root=$WORK/root.img:ro" --disk "persistent=$WORK/persistent.img" \
    --disk "model-x=$WORK/model.img:ro" --spec "$WORK/spec"
console_lacks 'testinit: FAIL'
for step in 'modules [0-9]+ loaded' 'disk root=/dev/vd' 'disk persistent=' 'disk model-x=' \
            'verity /dev/mapper/root' 'erofs testfile=erofs-root-ok' '9p hello=spec-share-ok' \
            'overlay' 'vsock' ; do
    console_has "testinit: (ok )?$step"
done
console_has 'testinit: ALL OK'
pass "kernel $KVER booted the initrd under TCG; modules, disks, verity, erofs, overlay, 9p, vsock work"
