#!/usr/bin/env bash
# The persistent volume's integrity (LUKS2 + dm-integrity, aes-xts-plain64 + hmac(sha256),
# the default). Boot 1 formats the blank disk and a service writes a file. On the host, one
# byte of the encrypted sector that holds the ext4 superblock is flipped: boot 2 halts with a
# FATAL naming the integrity error (not a mount of altered data). With the byte flipped back,
# a spec that turns integrity off is refused on this volume (no downgrade), and the original
# spec opens it again with the file intact.
source "$(dirname "$0")/lib.sh"
require_appliance
make_appliance_root "$WORK/root.img"
truncate -s 64M "$WORK/persistent.img"
write_marker_spec "$WORK/spec"
write_marker_spec "$WORK/spec-plain" ', "integrity": false'
ARGS=(--initrd "$INITRD" --append "$(appliance_cmdline cocoon.debug)" --disk "root=$WORK/root.img:ro"
      --disk "persistent=$WORK/persistent.img")
LUKS_DATA=$((16 * 1024 * 1024))

# integrity_sector_offset IMG LOGICAL_SECTOR: byte offset in IMG of a 512-byte sector of the
# mapped (decrypted) volume, from the dm-integrity superblock at the LUKS2 data offset (the
# kernel's layout, drivers/md/dm-integrity.c get_data_sector: superblock 8 sectors, journal
# sections, then areas of [tags][2^log2_interleave data sectors]). Only the layout this
# profile creates is supported: no journal MAC, fix_padding.
integrity_sector_offset() {
    local img=$1 lsec=$2 sb=$WORK/integrity-sb.img dump il tag js spb lspb=0 flags epsz espsec secsec initial run area
    dd if="$img" of="$sb" bs=1M skip=16 count=1 status=none
    dump=$(integritysetup dump "$sb") || fail "no dm-integrity superblock at the LUKS2 data offset"
    il=$(awk '$1 == "log2_interleave_sectors" {print $2}' <<<"$dump")
    tag=$(awk '$1 == "integrity_tag_size" {print $2}' <<<"$dump")
    js=$(awk '$1 == "journal_sections" {print $2}' <<<"$dump")
    spb=$(( $(awk '$1 == "sector_size" {print $2}' <<<"$dump") / 512 ))
    flags=$(awk '$1 == "flags" {$1 = ""; print}' <<<"$dump" | xargs)
    [[ "$il" =~ ^[0-9]+$ && "$tag" =~ ^[0-9]+$ && "$js" =~ ^[0-9]+$ ]] || fail "unreadable dm-integrity dump: $dump"
    [ "$tag" = 32 ] || fail "integrity tag size $tag, expected 32 (hmac(sha256))"
    [ "$flags" = fix_padding ] || fail "dm-integrity flags '$flags': this test knows the fix_padding layout only"
    while (( (1 << lspb) < spb )); do lspb=$((lspb + 1)); done
    epsz=$(( (8 + 8 * spb + tag + 7) / 8 * 8 ))        # journal entry, rounded up to 8
    espsec=$(( 504 / epsz ))                            # entries per 512-byte journal sector
    secsec=$(( espsec * 8 * spb + 8 ))                  # sectors per journal section
    initial=$(( 8 + js * secsec ))
    run=$(( ((tag << (il - lspb)) + 4095) / 4096 * 8 ))  # tag sectors per area, padded to 4 KiB
    area=$(( lsec >> il ))
    echo $(( LUKS_DATA + 512 * (initial + (area << il) + (area + 1) * run + (lsec & ((1 << il) - 1))) ))
}

vm_boot_until_ready "${ARGS[@]}" --spec "$WORK/spec"
console_lacks "$FATAL_RE"
console_has '^cocoon-init: volume persistent: formatting with integrity'
console_has '^cocoon-init: volume persistent: formatted \(integrity hmac\(sha256\)\)'
console_has '^svc: wrote marker'
check "the header names hmac(sha256) integrity" \
    bash -c "cryptsetup luksDump '$WORK/persistent.img' | grep -qE '^[[:space:]]+integrity: hmac\(sha256\)$'"
if grep -q 'written-by-boot-1' "$WORK/persistent.img"; then fail "the marker is in plaintext on the disk"; fi

# The ext4 superblock: bytes 1024..2047 of the mapped volume (logical sector 2).
off=$(integrity_sector_offset "$WORK/persistent.img" 2)
[[ "$off" =~ ^[0-9]+$ ]] || fail "no offset for the ext4 superblock ($off)"
flip_byte "$WORK/persistent.img" $((off + 100))
vm_run "${ARGS[@]}" --spec "$WORK/spec"
console_has '^cocoon-init: FATAL persistent: mount ext4 on /data: Input/output error: integrity error' \
    "the flipped sector is detected"
[ "$(console_text | grep -cE "$FATAL_RE")" = 1 ] || fail "expected exactly one FATAL line"
console_lacks '^svc: ' "no service runs on the altered volume"
echo "ok: $TEST_NAME: flipped byte at $((off + 100)): $(console_text | grep -E "$FATAL_RE" | cut -c1-140)"

# Flip it back: the halt was that one sector. A spec without integrity is refused on it.
flip_byte "$WORK/persistent.img" $((off + 100))
vm_run "${ARGS[@]}" --spec "$WORK/spec-plain"
console_has '^cocoon-init: FATAL persistent: .*not an acceptable LUKS2 volume \(no integrity\)' \
    "a spec with integrity off does not open the integrity volume"
console_lacks '^svc: '
vm_boot_until_ready "${ARGS[@]}" --spec "$WORK/spec"
console_lacks "$FATAL_RE"
console_has '^cocoon-init: volume persistent: opened \(integrity hmac\(sha256\)\)'
console_has '^svc: found written-by-boot-1$' "the restored volume opens with the file intact"
pass "a flipped sector of the integrity-protected volume halts the boot; restored, it opens; no downgrade"
