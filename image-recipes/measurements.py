#!/usr/bin/env python3
"""measurements.py IMAGEDIR PROFILESDIR MEASURE: write IMAGEDIR/measurements.json.

For every VM profile in PROFILESDIR/<name>/VM.json (a host shape: memory, cpus and the ACPI
blobs captured by `cocoon-launch capture-acpi` for that shape, plus optional ovmf_profile,
page_order, kernel_mode) and every cmdline variant the launcher can append, runs
`MEASURE image --vm` on the image's own OVMF.fd, vmlinuz, initrd.img and cmdline, and
records MRTD, RTMR0-2 and their events. RTMR3 and the image hash depend on the deployed
spec directory, so they are not part of the image's measurements: compute them with
`cocoon-measure image --vm VM.json` with "spec_dir" set (docs/auditor-guide.md).
"""
import json
import os
import subprocess
import sys
import tempfile

# The launcher's cmdline variants, appended in this fixed order (host-launcher/image.c).
VARIANTS = [("debug", " cocoon.debug"), ("gpu", " cocoon.gpu=required"), ("sim", " cocoon.attest=sim")]


def main():
    image, profiles, measure = sys.argv[1:4]
    with open(os.path.join(image, "cmdline")) as f:
        base = f.read().rstrip("\n")
    out = {"image": os.path.basename(os.path.abspath(image)), "cmdline": base, "profiles": {},
           "note": "RTMR3 and the image hash depend on the deployed spec directory: "
                   "cocoon-measure image --vm VM.json with spec_dir"}
    names = sorted(d for d in os.listdir(profiles) if os.path.isfile(os.path.join(profiles, d, "VM.json"))) \
        if os.path.isdir(profiles) else []
    for name in names:
        pdir = os.path.abspath(os.path.join(profiles, name))
        with open(os.path.join(pdir, "VM.json")) as f:
            prof = json.load(f)
        for key in ("acpi_tables", "rsdp", "table_loader", "rtmr0_log"):
            if prof.get(key):
                prof[key] = os.path.join(pdir, prof[key])
        entry = {"shape": {k: prof[k] for k in ("memory", "cpus") if k in prof}, "variants": {}}
        for mask in range(1 << len(VARIANTS)):
            chosen = [VARIANTS[i] for i in range(len(VARIANTS)) if mask & (1 << i)]
            vname = "+".join(n for n, _ in chosen) or "base"
            cmdline = base + "".join(a for _, a in chosen)
            vm = dict(prof)
            vm.pop("spec_dir", None)
            vm.pop("cmdline_file", None)
            vm.update({"firmware": os.path.join(image, "OVMF.fd"), "kernel": os.path.join(image, "vmlinuz"),
                       "initrd": os.path.join(image, "initrd.img"), "cmdline": cmdline,
                       "debug": "debug" in vname.split("+")})
            with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as t:
                json.dump(vm, t)
            try:
                r = subprocess.run([measure, "image", "--vm", t.name, "--json"], capture_output=True, text=True)
            finally:
                os.unlink(t.name)
            if r.returncode != 0:
                sys.exit(f"measurements: profile {name}, variant {vname}: {r.stderr.strip()}")
            m = json.loads(r.stdout)
            entry["variants"][vname] = {
                "cmdline": cmdline,
                "mrtd": m["mrtd"], "rtmr0": m["rtmr0"], "rtmr1": m["rtmr1"], "rtmr2": m["rtmr2"],
                "profile": m.get("profile"),
                "events": {r: [e for e in m["events"].get(r, [])] for r in ("rtmr0", "rtmr1", "rtmr2")}
                if isinstance(m.get("events"), dict) else m.get("events"),
            }
        out["profiles"][name] = entry
    with open(os.path.join(image, "measurements.json"), "w") as f:
        json.dump(out, f, indent=2, sort_keys=False)
        f.write("\n")
    print(f"measurements: {len(names)} profile(s), {1 << len(VARIANTS)} cmdline variants each", file=sys.stderr)


if __name__ == "__main__":
    main()
