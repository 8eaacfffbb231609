#!/usr/bin/env bash
# The production image (image-recipes/build-image), end to end:
#  1. measurements.json agrees with `cocoon-measure image` run by hand on the artifacts;
#  2. its RTMR2 events equal an independent computation (python3 hashlib) over the image's
#     initrd.img and cmdline (with the launcher's variants and OVMF's " initrd=initrd");
#  3. the image boots under QEMU through cocoon-launch (sim attestation, debug key): the demo
#     (host-launcher/demo/demo.sh) checks the verified root hash, RTMR3 against
#     `cocoon-measure spec`, the persistent volume, the RA-TLS certificate fetched through the
#     port forward and verified against the sim root (with its RTMR3 event log), and an
#     orderly power-button shutdown.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$(pwd)
BUILD=${BUILD:-build}
M=$top/$BUILD/bin/cocoon-measure
img=$top/$BUILD/it-image
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
fail() { echo "FAIL: image_appliance: $*" >&2; exit 1; }
source tests/integration/check_lib.sh
n=0
ok() { echo "ok: image_appliance: $*"; n=$((n + 1)); }

image-recipes/build-image it "$img" > "$t/build.log" 2>&1 || { tail -30 "$t/build.log"; fail "build-image"; }
root_hash=$(jq_get "$img/manifest.json" .root_hash)
[[ "$root_hash" =~ ^[0-9a-f]{64}$ ]] || fail "manifest.json root_hash '$root_hash' is not 64 hex digits"
ok "image built: $root_hash"

prof=image-recipes/profiles/q35-2cpu-2g-qemu11.1.3-notdx
python3 - "$img" "$prof" "$M" <<'PY' || fail "measurements.json disagrees"
import hashlib, json, os, subprocess, sys
img, prof, measure = sys.argv[1:4]
m = json.load(open(os.path.join(img, "measurements.json")))
name = os.path.basename(prof)
variants = m["profiles"][name]["variants"]
# 1. by hand: the profile's shape + the image files, base cmdline
vm = json.load(open(os.path.join(prof, "VM.json")))
for k in ("acpi_tables", "rsdp", "table_loader"):
    vm[k] = os.path.abspath(os.path.join(prof, vm[k]))
vm.update(firmware=os.path.join(img, "OVMF.fd"), kernel=os.path.join(img, "vmlinuz"),
          initrd=os.path.join(img, "initrd.img"), cmdline_file=os.path.join(img, "cmdline"))
p = os.path.join(os.path.dirname(img), "it-vm.json")
json.dump(vm, open(p, "w"))
out = json.loads(subprocess.run([measure, "image", "--vm", p, "--json"], check=True,
                                capture_output=True, text=True).stdout)
for r in ("mrtd", "rtmr0", "rtmr1", "rtmr2"):
    assert out[r] == variants["base"][r], (r, out[r], variants["base"][r])
print("ok: image_appliance: measurements.json = cocoon-measure image by hand (mrtd, rtmr0-2)")
# 2. RTMR2 events, independently
initrd = open(os.path.join(img, "initrd.img"), "rb").read()
base = open(os.path.join(img, "cmdline")).read().rstrip("\n")
suffix = {"base": "", "sim": " cocoon.attest=sim", "debug+sim": " cocoon.debug cocoon.attest=sim"}
for v, s in suffix.items():
    ev = variants[v]["events"]["rtmr2"]
    want_cmd = hashlib.sha384((base + s + " initrd=initrd").encode("ascii").decode("latin-1")
                              .encode("utf-16-le") + b"\0\0").hexdigest()
    want_initrd = hashlib.sha384(initrd).hexdigest()
    assert [e["digest"] for e in ev] == [want_cmd, want_initrd], (v, ev)
    # and the register: RTMR2 = SHA-384(SHA-384(0^48 || d1) || d2)
    r = bytes(48)
    for d in (want_cmd, want_initrd):
        r = hashlib.sha384(r + bytes.fromhex(d)).digest()
    assert r.hex() == variants[v]["rtmr2"], v
print("ok: image_appliance: RTMR2 events of base, sim and debug+sim = hashlib over cmdline and initrd.img")
PY
n=$((n + 2))

DEMO_IMAGE=$img BUILD=$BUILD DEMO_PORT=$(free_port) host-launcher/demo/demo.sh > "$t/demo.log" 2>&1 ||
    { cat "$t/demo.log"; fail "the production image did not boot and verify (demo)"; }
grep -a "demo:" "$t/demo.log" | sed 's/\x1b\[[0-9;]*m//g' | sed 's/^/   /'
ok "production image booted under sim through cocoon-launch, verified from the host, shut down in order"
echo "image_appliance: $n passed, 0 failed"
