#!/bin/bash
# cocoon-measure gpu on the NVIDIA fixtures (fixtures/README.md §4): verdicts, failed checks,
# exit codes (0 ok, 1 malformed input, 2 usage, 3 invalid, 4 rejected), claims, the RIM
# bundle and its time policy, the multi-GPU bundle. No GPU, no network: offline only.
set -euo pipefail
TEST_NAME=measure_gpu
. "$(dirname "$0")/check_lib.sh"
M=${BUILD:-build}/bin/cocoon-measure
F=${FIXTURES:?}/gpu
[ -x "$M" ] || check_fail "$M missing (make)"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

G1R=$F/nvtrust_sample_550/hopperAttestationReport.txt G1C=$F/nvtrust_sample_550/hopperCertChain.txt
G1N=931d8dd0add203ac3d8b4fbde75e115278eefcdceac5b87671a748f32364dfcb
G2R=$F/nvat_sample_535/hopperAttestationReport.txt G2C=$F/nvat_sample_535/hopperCertChain.txt
G2N=27a328247bf7935c993341cf587be6f05986ccce4fe7ba2c54100bd616a58f66
G2T=1735689600 # 2025-01-01, the VBIOS RIM signer is valid
EXPIRED=1750600000 # after the signer's notAfter 2025-06-22T09:30:33Z

# gpu OUT WANT_EXIT ARGS...: run cocoon-measure gpu --json ARGS, require the exit code.
gpu() {
    local out=$1 want=$2 rc=0
    shift 2
    "$M" gpu --json "$@" >"$out" 2>"$out.err" || rc=$?
    [ "$rc" = "$want" ] || { cat "$out.err" >&2; echo "exit $rc, want $want" >&2; return 1; }
}
eq() { [ "$1" = "$2" ] || { echo "got '$1' want '$2'" >&2; return 1; }; }

# G1: pass, with the claims of the fixtures README; the raw binary report gives the same.
check "G1 verifies" gpu "$T/g1.json" 0 --report "$G1R" --chain "$G1C" --nonce $G1N
check "G1 verdict ok" eq "$(jq_get "$T/g1.json" .verdict)" ok
check "G1 driver" eq "$(jq_get "$T/g1.json" .driver_version)" 550.90.07
check "G1 VBIOS" eq "$(jq_get "$T/g1.json" .vbios_version)" 96.00.9F.00.01
check "G1 FWID" eq "$(jq_get "$T/g1.json" .fwid)" \
    f5c384aebb579217a2c66b17ed0f28e6a9b8d639041acd7b4721cec004f7275494ba94bb5cdfdb3055ee051762b1f75d
check "G1 ueid" eq "$(jq_get "$T/g1.json" .ueid)" 478176379286082186618948445787393647364802107249
check "G1 signature check listed" eq \
    "$(jq_get "$T/g1.json" '.checks[] | select(.name == "signature") | .status')" pass
check "G1 OCSP said to be unchecked" eq \
    "$(jq_get "$T/g1.json" '.checks[] | select(.name == "chain_ocsp") | .status')" skipped
tr -d ' \r\n' <"$G1R" | xxd -r -p >"$T/g1.bin"
check "G1 raw binary report" gpu "$T/g1b.json" 0 --report "$T/g1.bin" --chain "$G1C" --nonce $G1N
check "G1 without --nonce: nonce not checked, said so" gpu "$T/g1n.json" 0 --report "$G1R" --chain "$G1C"
check "G1 without --nonce: nonce_checked false" eq "$(jq -r .nonce_checked "$T/g1n.json")" false
check "G1 without --nonce: the nonce check is skipped" eq \
    "$(jq_get "$T/g1n.json" '.checks[] | select(.name == "nonce") | .status')" skipped
"$M" gpu --report "$G1R" --chain "$G1C" --nonce $G1N >"$T/g1.txt"
check "text output names the versions" grep -q "^vbios_version: 96.00.9F.00.01" "$T/g1.txt"
check "text output names every check" grep -q "^checks.signature: pass: ECDSA-P384" "$T/g1.txt"

# Negatives: nonce, signature, cross-pairing, malformed input.
check "G1 with nvtrust's test nonce is invalid (exit 3)" gpu "$T/n.json" 3 --report "$G1R" --chain "$G1C" \
    --nonce 4cff7f5380ead8fad8ec2c531c110aca4302a88f603792801a8ca29ee151af2e
check "nonce failure named" eq "$(jq_get "$T/n.json" .failed_check)" gpu_nonce
check "G3 invalid signature (exit 3)" gpu "$T/g3.json" 3 --report "$F/invalid_signature/hopperAttestationReportInvalidSignature.txt" \
    --chain "$F/invalid_signature/hopperCertChainExpired.txt" --nonce $G1N
check "G3 failure named" eq "$(jq_get "$T/g3.json" .failed_check)" gpu_signature
check "cross-pairing (exit 3)" gpu "$T/x.json" 3 --report "$G2R" --chain "$G1C" --nonce $G2N
check "cross-pairing failure named" eq "$(jq_get "$T/x.json" .failed_check)" gpu_signature
head -c 3000 "$T/g1.bin" >"$T/trunc.bin"
check "a truncated report is malformed input (exit 1)" gpu "$T/t.json" 1 --report "$T/trunc.bin" --chain "$G1C" --nonce $G1N
check "truncation named" eq "$(jq_get "$T/t.json" .failed_check)" gpu_report
echo '{"ppcie": true}' >"$T/badpolicy.json"
check_fails "a policy with an unknown key is refused" "ppcie" "$M" gpu --report "$G1R" --chain "$G1C" --policy "$T/badpolicy.json"
check "usage: --bundle with --report (exit 2)" gpu "$T/u.json" 2 --bundle x --report "$G1R"
check "usage: a short nonce (exit 2)" gpu "$T/u.json" 2 --report "$G1R" --chain "$G1C" --nonce 00

# G2 + the genuine VBIOS RIM: FWID policy, RIM measurements, the signer's expiry, the time policy.
check "G2 rejected by the default policy: no FWID (exit 4)" gpu "$T/g2d.json" 4 --report "$G2R" --chain "$G2C" --nonce $G2N --time $G2T
check "G2 rejection named" eq "$(jq_get "$T/g2d.json" .failed_check)" gpu_policy_fwid
check "G2 rejection verdict" eq "$(jq_get "$T/g2d.json" .verdict)" rejected
echo '{"fwid_required": false, "rim_required": ["vbios"]}' >"$T/p2.json"
check "G2 + VBIOS RIM at 2025-01-01" gpu "$T/g2.json" 0 --report "$G2R" --chain "$G2C" --nonce $G2N \
    --rim "$F/rims" --time $G2T --policy "$T/p2.json"
check "G2 VBIOS measurements match" eq "$(jq -r .vbios_rim_measurements_ok "$T/g2.json")" true
check "G2 12 VBIOS measurements" grep -q '"12 active measurements match' "$T/g2.json"
check "G2 + RIM after the signer expired (exit 3)" gpu "$T/g2e.json" 3 --report "$G2R" --chain "$G2C" --nonce $G2N \
    --rim "$F/rims" --time $EXPIRED --policy "$T/p2.json"
check "expiry named" eq "$(jq_get "$T/g2e.json" .failed_check)" gpu_rim_expired
echo '{"fwid_required": false, "rim_required": ["vbios"], "rim_time": 1735689600}' >"$T/p2t.json"
check "G2 + RIM now, signer chain checked at the policy's rim_time" gpu "$T/g2t.json" 0 --report "$G2R" --chain "$G2C" \
    --nonce $G2N --rim "$F/rims" --time $EXPIRED --policy "$T/p2t.json"
check "G2 + RIM bundle: the driver RIM is required and missing (exit 4)" gpu "$T/g2m.json" 4 --report "$G2R" \
    --chain "$G2C" --nonce $G2N --rim "$F/rims" --time $G2T --policy <(echo '{"fwid_required": false}')
check "missing driver RIM named" eq "$(jq_get "$T/g2m.json" .failed_check)" gpu_policy_rim_required

# G4: the 8-GPU protected-PCIe bundle.
check "G4 refused by the default policy (PPCIe, exit 4)" gpu "$T/g4d.json" 4 --bundle "$F/ppcie_8gpu/gpu_evidence.json"
check "G4 refusal named for every GPU" eq "$(jq -r '[.gpus[].failed_check] | unique | join(",")' "$T/g4d.json")" gpu_policy_ppcie
echo '{"ppcie_allowed": true}' >"$T/pp.json"
check "G4 verifies with PPCIe allowed" gpu "$T/g4.json" 0 --bundle "$F/ppcie_8gpu/gpu_evidence.json" --policy "$T/pp.json"
check "G4 8 of 8" eq "$(jq_uint "$T/g4.json" .gpus_ok)" 8
check "G4 first ueid" eq "$(jq_get "$T/g4.json" '.gpus[0].ueid')" 655333107904478077882826344426270545524203067314
check "G4 last ueid" eq "$(jq_get "$T/g4.json" '.gpus[7].ueid')" 462496802410983848477057609082198727668509984363
echo '{"ppcie_allowed": true, "count_max": 4}' >"$T/pp4.json"
check "G4 with at most 4 GPUs allowed (exit 4)" gpu "$T/g4c.json" 4 --bundle "$F/ppcie_8gpu/gpu_evidence.json" --policy "$T/pp4.json"
jq '.[3].vbios_version = "96.00.A5.00.02"' "$F/ppcie_8gpu/gpu_evidence.json" >"$T/meta.json"
check "G4 with an entry's unsigned VBIOS version edited (exit 3)" gpu "$T/g4m.json" 3 --bundle "$T/meta.json" --policy "$T/pp.json"
check "metadata mismatch named for that GPU" eq "$(jq_get "$T/g4m.json" '.gpus[3].failed_check')" gpu_bundle_metadata
check "the other GPUs still pass" eq "$(jq_uint "$T/g4m.json" .gpus_ok)" 7

# --system (cocoon-init's GPU step, docs/gpu.md): the NVML system state the bundle was
# collected on, checked first; the versions NVML reported must be the signed ones.
jq -n --arg r "$(base64 -w0 "$T/g1.bin")" --arg c "$(base64 -w0 "$G1C")" --arg n $G1N \
    '[{nonce: $n, evidence: $r, certificate: $c, arch: "HOPPER", driver_version: "550.90.07",
       vbios_version: "96.00.9F.00.01"}]' >"$T/sb.json"
sys() { jq -n --argjson cc "$1" --arg drv "$2" --argjson arch "$3" '{cc_on: $cc, devtools_on: false,
    production_env: true, multi_gpu_mode: "none", driver_version: $drv, architectures: $arch}'; }
sys true 550.90.07 '[9]' >"$T/s.json"
sys false 550.90.07 '[9]' >"$T/s_off.json"
sys true 550.90.08 '[9]' >"$T/s_drv.json"
sys true 550.90.07 '[9, 9]' >"$T/s_two.json"
check "--system: G1 on its system verifies" gpu "$T/so.json" 0 --bundle "$T/sb.json" --system "$T/s.json"
check "--system: no failed check" eq "$(jq -r .failed_check "$T/so.json")" null
check "--system: CC off rejected before any GPU (exit 4)" gpu "$T/soff.json" 4 --bundle "$T/sb.json" --system "$T/s_off.json"
check "--system: CC off named" eq "$(jq_get "$T/soff.json" .failed_check)" gpu_cc_mode
check "--system: NVML's driver differs from the signed one (exit 3)" gpu "$T/sdrv.json" 3 --bundle "$T/sb.json" --system "$T/s_drv.json"
check "--system: driver mismatch named" eq "$(jq_get "$T/sdrv.json" .failed_check)" gpu_driver_version
check "--system: two GPUs, one entry (exit 3)" gpu "$T/stwo.json" 3 --bundle "$T/sb.json" --system "$T/s_two.json"
check "--system: count named" eq "$(jq_get "$T/stwo.json" .failed_check)" gpu_count
jq '.[0].vbios_version = "96.00.9F.00.02"' "$T/sb.json" >"$T/sbv.json"
check "--system: NVML's VBIOS differs from the signed one (exit 3)" gpu "$T/sv.json" 3 --bundle "$T/sbv.json" --system "$T/s.json"
check "--system: VBIOS mismatch named" eq "$(jq_get "$T/sv.json" .failed_check)" gpu_vbios_version
echo '{"cc_on": true}' >"$T/s_bad.json"
check "--system: an incomplete state is malformed input (exit 1)" gpu "$T/sbad.json" 1 --bundle "$T/sb.json" --system "$T/s_bad.json"
check "--system without --bundle is a usage error (exit 2)" gpu "$T/su.json" 2 --report "$G1R" --chain "$G1C" --system "$T/s.json"
echo "ok: $TEST_NAME"
