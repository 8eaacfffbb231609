#!/bin/bash
# Cocoon's own worker.conf (TelegramMessenger/cocoon scripts/dist-worker/worker.conf.example at
# b75d444, recreated below verbatim) is accepted by `cocoon-launch check`, which prints how each
# key is handled (docs/operator-guide.md "Cocoon's worker.conf"); the check verdict itself fails
# on this host (no TDX), a config error would exit 3.
set -euo pipefail
BUILD=${BUILD:-build}
L=$(realpath "$BUILD/bin/cocoon-launch")
T=$(mktemp -d /tmp/launch-cocoon-conf.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: launch_cocoon_conf: $*" >&2; exit 1; }
cd "$T"
cat > worker.conf.example <<'CONF'
# COCOON Worker Configuration (INI format)
# Copy this file to worker.conf and edit

[node]
# Required: Node type
type = worker

# Required: Model to serve
model = Qwen/Qwen3-8B@b968826d9c46dd6066d109eabc6255188de91218:7e9d33bebf5518e0dc666e5a04ffbab247ff5878f91a9a55a6e942fe245a8ee9

# Required: Your TON wallet address (receives payments)
owner_address = UQAuz15H1ZHrZ_psVrAra7HealMIVeFq0wguqlmFno1f3B-m

# Required: Your GPU PCI address (find with: lspci | grep -i nvidia)
gpu = 0000:ab:00.00

# Required: Static secret to generate the revenue wallet. Keep private!
# 32 random bytes in base64: `head -c 32 /dev/urandom | base64`
node_wallet_key = [PRIVATE]

# Required: Hugging Face token (get from: https://huggingface.co/settings/tokens)
hf_token = hf_yourtoken

# Required: Path to TON config with stable liteservers
# You may use the [configuration we provide](https://cocoon.org/resources/mainnet.cocoon.global.config.json) or supply your own.
ton_config = actual_path

# Required: COCOON root contract address on TON
root_contract_address = EQCns7bYSp0igFvS1wpb5wsZjCKCV19MD5AVzI4EyxsnU73k

# Optional: Instance number for running multiple workers (default: 0)
# instance = 0

# Optional: Price coefficient, 1000 = 1.0x (default: 1000)
# worker_coefficient = 1000

# Optional: Persistent disk image path, 100GB (default: persistent-worker-{instance}.img)
# persistent = persistent-worker-0.img
CONF
st=0; "$L" check worker.conf.example > out.txt 2>&1 || st=$?
[ $st = 1 ] || { cat out.txt >&2; fail "check exited $st (1 = host checks failed, 3 = config refused)"; }
if grep -q '^error:' out.txt; then fail "check printed an error: $(grep '^error:' out.txt)"; fi
grep -q '^Cocoon worker.conf keys' out.txt || fail "no Cocoon key section"
# every key of the example, with its handling
for k in type model owner_address gpu node_wallet_key hf_token ton_config root_contract_address; do
    grep -qE "^  $k +(ours|runtime|checked|default) +[^ ]" out.txt || fail "no handling printed for $k"
done
# and Cocoon's defaults for the keys it leaves out
for k in instance worker_coefficient persistent image-dir vsock_cid http_port ssh_port; do
    [ "$k" = instance ] && continue   # commented out in the example: instance 0 is ours too
    grep -qE "^  $k +default +[^ ]" out.txt || fail "no default printed for $k"
done
grep -qE '^  gpu +ours +gpu = 0000:ab:00.0 ' out.txt || fail "Cocoon's GPU spelling 0000:ab:00.00 not accepted"
grep -qE '^  model +runtime +MODEL_NAME=Qwen/Qwen3-8B MODEL_COMMIT=b968826d9c46' out.txt || fail "model not mapped"
if grep -q 'PRIVATE\|hf_yourtoken' out.txt; then fail "a secret was printed"; fi
"$L" check worker.conf.example --json > out.json || [ $? = 1 ] || fail "check --json failed"
jq -e '[.cocoon_keys[].key] | contains(["model", "owner_address", "gpu", "node_wallet_key", "hf_token",
      "ton_config", "root_contract_address", "type"])' out.json >/dev/null || fail "check --json lacks cocoon_keys"
# A refused key says why (exit 3, config error).
printf 'ssh_port = 12005\n' >> worker.conf.example
st=0; "$L" check worker.conf.example > out2.txt 2>&1 || st=$?
[ $st = 3 ] && grep -q 'ssh_port: refused: the appliance runs no SSH server' out2.txt ||
    fail "ssh_port not refused with its reason (exit $st): $(cat out2.txt)"
echo "ok: launch_cocoon_conf: Cocoon's worker.conf.example accepted by check, every key's handling printed"
