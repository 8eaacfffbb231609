#!/bin/bash
# cocoon-measure spec against real git (sha256 objects) on spec directories with .gitignore
# files: Cocoon's three stock spec directories (spec/spec-worker, spec-proxy, spec-client of
# TelegramMessenger/cocoon at b75d444766212b9b17ae2bfab1268a2e2e334b6f, rebuilt below from
# their published content, each file checked against Cocoon's git blob id), a tree with
# nested .gitignore files of every accepted pattern kind, and the refusals (.gitattributes,
# negation, wildcards in paths, classes, escapes, CRLF). Seconds, no VM.
# Run by `make test` with BUILD set (BUILD=build tests/measure/spec_git.sh).
set -euo pipefail
source "$(dirname "$0")/../integration/check_lib.sh"
B=${BUILD:-build}/bin/cocoon-measure
[ -x "$B" ] || { echo "FAIL: $B is missing (make)" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# Debian 12's git ignores init.defaultObjectFormat (what cocoon-prepare-spec sets);
# GIT_DEFAULT_HASH is honoured. Unset everything that could change what git adds.
export GIT_DEFAULT_HASH=sha256 GIT_CONFIG_NOSYSTEM=1 HOME="$T/home" LC_ALL=C
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
mkdir -p "$T/home"

check "git makes sha256 repositories" test "$(git init -q "$T/probe" && git -C "$T/probe" rev-parse --show-object-format)" = sha256

# git_ref SRC: the tree id cocoon-prepare-spec computes, step by step (with sha256 objects):
# add -A in SRC honouring .gitignore, drop runtime, top-level spec.tree/spec.meta and every
# .gitignore from the index, check the index out into a fresh directory, add -A there
# (runtime dropped again), write-tree. git runs in SRC: with --work-tree and a current
# directory elsewhere, `git rm --cached .gitignore` compares the index with ./.gitignore of
# the current directory and may refuse (cocoon-prepare-spec hides that error).
git_ref() { (cd "$1" && git_ref_here "$PWD"); }
git_ref_here() {
    local src=$1 w
    w=$(mktemp -d "$T/ref.XXXX")
    git init -q "$w/a"
    git init -q "$w/b"
    git --git-dir="$w/a/.git" config core.excludesFile /dev/null
    local G=(git --git-dir="$w/a/.git" --work-tree="$src")
    "${G[@]}" add -A
    "${G[@]}" rm -r -q --cached -- runtime >/dev/null 2>&1 || true
    "${G[@]}" ls-files --cached | { grep -E '^spec\.(tree|meta)$' || true; } | xargs -r "${G[@]}" rm -q --cached --
    "${G[@]}" ls-files --cached | { grep -E '(^|/)\.gitignore$' || true; } | xargs -r "${G[@]}" rm -q --cached --
    mkdir "$w/out"
    "${G[@]}" checkout-index --prefix="$w/out/" -a
    git --git-dir="$w/b/.git" config core.excludesFile /dev/null
    git --git-dir="$w/b/.git" config core.autocrlf false
    local G2=(git --git-dir="$w/b/.git" --work-tree="$w/out")
    "${G2[@]}" add -A
    "${G2[@]}" rm -r -q --cached -- runtime >/dev/null 2>&1 || true
    "${G2[@]}" write-tree
}
ours() { "$B" spec "$1" --json | jq -e -r .spec_tree; }
same_as_git() { # DIR: cocoon-measure's tree equals git's, and git's is a sha256 id
    local a b
    a=$(ours "$1")
    b=$(git_ref "$1")
    [ "${#b}" = 64 ] || { echo "git printed '$b', not a sha256 tree id" >&2; return 1; }
    [ "$a" = "$b" ] || { echo "cocoon-measure $a, git $b" >&2; return 1; }
    echo "$a"
}
# blob FILE SHA1: the file is byte for byte Cocoon's published blob (git's sha1 blob id)
blob() { check "$1 is Cocoon's blob $2" test "$(GIT_DEFAULT_HASH=sha1 git hash-object --no-filters "$1")" = "$2"; }
# unit FILE SHA1: one of Cocoon's systemd units, its own [Unit] and [Service] lines on stdin,
# then the console output and resource accounting lines every one of them ends with
unit() {
    { cat; printf '%s\n' StandardOutput=journal+console StandardError=journal+console '' \
        '# Resource accounting (for health-monitor)' CPUAccounting=yes MemoryAccounting=yes IOAccounting=yes
    } >"$1"
    blob "$1" "$2"
}
# simple_unit FILE SHA1 DESCRIPTION COMMAND [WANTS]: a Type=simple service running COMMAND
simple_unit() {
    { printf '%s\n' "[Unit]" "Description=$3"
      [ -z "${5:-}" ] || printf 'Wants=%s\n' "$5"
      printf '%s\n' "" "[Service]" Type=simple "ExecStart=$4"
    } | unit "$1" "$2"
}
# container_unit FILE SHA1 NAME IMAGE ARGS: the model server (NAME) in docker, pulled
# from IMAGE, run with ARGS after the options both servers share
container_unit() {
    printf '%s\n' "[Unit]" "Description=$3 docker container" Requires=docker.service After=docker.service \
        "" "[Service]" "ExecStartPre=/usr/bin/docker pull $4" \
        "ExecStart=docker run --rm --gpus all --name %n -v /mnt/model:/model -p 8000:8000 --ipc=host $5" \
        "ExecStop=-/usr/bin/docker stop %n" "" TimeoutStartSec=2h | unit "$1" "$2"
}

# --- Cocoon's stock spec directories ---
S="$T/cocoon"
for d in spec-worker spec-proxy spec-client; do   # the same .gitignore in all three
    mkdir -p "$S/$d"
    printf 'runtime\n' >"$S/$d/.gitignore"
    blob "$S/$d/.gitignore" e4d05d91a7d1ddd7c94c78d0d7ff0b7a15e658ff
done
cat >"$S/spec-client/client-config.json" <<'EOF'
{
  "is_test": "$IS_DEBUG",
  "is_testnet" : false,
  "http_port" : "$CLIENT_HTTP_PORT",
  "rpc_port" : "$CLIENT_RPC_PORT",
  "proxy_connections" : 1,
  "ton_config_filename": "$TON_CONFIG_FILE",
  "owner_address": "$OWNER_ADDRESS",
  "root_contract_address": "$ROOT_CONTRACT_ADDRESS", 
  "node_wallet_key" : "$NODE_WALLET_KEY",
  "connect_to_proxy_via": "127.0.0.1:8116",
  "max_coefficient": 0,
  "max_tokens": 0
}
EOF
blob "$S/spec-client/client-config.json" 6ef36a825d14804106e4914bf2e2f7b9e9975345
simple_unit "$S/spec-proxy/cocoon-proxy-runner.service" 7b7f75f9fb5ebacdaa405f73814a795bef24910b \
    "TDX proxy-runner" "/usr/bin/proxy-runner -c /run/spec/proxy-config.json"
simple_unit "$S/spec-proxy/cocoon-router.service" 42d9c1f83a106da8f320ec5ec2580e8fd7a65088 \
    "TDX router" "/usr/bin/router -R 11001:localhost:11101@tdx -R 11002:localhost:11102@any --serialize-info -C /etc/tdx/tdx"
cat >"$S/spec-proxy/init" <<'EOF'
#!/bin/bash
set -euo pipefail
set -x

echo "INIT PROXY RUNNER"

# Render proxy config with runtime values
cocoon-render-config proxy-config.json

cocoon-render-ton-config

systemctl enable /spec/cocoon-router.service
systemctl enable /spec/cocoon-proxy-runner.service
systemctl start cocoon-router.service cocoon-proxy-runner.service
EOF
chmod 755 "$S/spec-proxy/init"
blob "$S/spec-proxy/init" 1081f4310c57d0c6d509ae3d5a44fabbadc6edb2
cat >"$S/spec-proxy/proxy-config.json" <<'EOF'
{
  "is_test": "$IS_DEBUG",
  "is_testnet" : false,
  "http_port" : 11000,
  "workers_rpc_port"  : 11101,
  "client_rpc_port"  : 11102,
  "ton_config_filename": "$TON_CONFIG_FILE",
  "owner_address": "$OWNER_ADDRESS",
  "image_hash": "$TDX_IMAGE_HASH",
  "node_wallet_key": "$NODE_WALLET_KEY",
  "root_contract_address": "$ROOT_CONTRACT_ADDRESS",
  "machine_specific_private_key": "$APP_KEY",
  "db_path": "$DISK_PATH/proxy-db"
}
EOF
blob "$S/spec-proxy/proxy-config.json" 6cddcd7e286b1314848426b2ee01fe4a677e606a
simple_unit "$S/spec-worker/cocoon-router.service" 9e7b216bad99a3857f3679ca7848ca40074be363 \
    "TDX router" "/usr/bin/router -S 8116@tdx --serialize-info -C /etc/tdx/tdx" vllm.service
container_unit "$S/spec-worker/cocoon-sglang.service" 44ab5f5716d0da7ff8ded6701b67bbbb48001e75 \
    sglang lmsysorg/sglang:v0.5.5.post3@sha256:97fe3876fd7f0d27c72c79f612b024e08e9ac4ffdc52b5e4f81b7b53e1f3e819 \
    '--entrypoint=python3 lmsysorg/sglang:v0.5.5.post3@sha256:97fe3876fd7f0d27c72c79f612b024e08e9ac4ffdc52b5e4f81b7b53e1f3e819 -m sglang.launch_server --tp=1 --trust-remote-code --host 0.0.0.0 --port 8000 --model /model --served-model-name $MODEL_NAME --enable-cache-report'
container_unit "$S/spec-worker/cocoon-vllm.service" 8bf10d86d23dcdf14ae4a814366d5f5f51417413 \
    vllm vllm/vllm-openai:latest \
    'vllm/vllm-openai:latest --model /model --served-model-name $MODEL_NAME --enable-prompt-tokens-details'
simple_unit "$S/spec-worker/cocoon-worker-runner.service" 3c77dfc47355b1faf4f22e1e374d606359a466f3 \
    "TDX VLLM proxy" "/usr/bin/worker-runner -c /run/spec/worker-config.json" vllm.service
cat >"$S/spec-worker/init" <<'EOF'
#!/bin/bash
set -euo pipefail
set -x

echo "INIT WORKER RUNNER"

# Mount modle
# For now using cocoon-render-config to get access to MODEL_VERITY_HASH
cocoon-render-config model.verity_hash
MODEL_VERITY_HASH=$(cat /run/spec/model.verity_hash)
time veritysetup open /dev/disk/by-id/virtio-model-tar model.tar /dev/disk/by-id/virtio-model-tar-verity $MODEL_VERITY_HASH
time fuse-archive -o nocache /dev/mapper/model.tar /mnt/model

# Render worker config with runtime values
cocoon-render-config worker-config.json

# Render ton config
cocoon-render-ton-config

BACKEND=sglang
cocoon-render-config cocoon-$BACKEND.service

systemctl enable /spec/cocoon-router.service
systemctl enable /spec/cocoon-worker-runner.service
systemctl enable /run/spec/cocoon-$BACKEND.service
systemctl start cocoon-router.service cocoon-worker-runner.service cocoon-$BACKEND.service
EOF
chmod 755 "$S/spec-worker/init"
blob "$S/spec-worker/init" 0298fa299bbb1847209ee79f6127e3a5428c2a78
printf '%s' '$MODEL_VERITY_HASH' >"$S/spec-worker/model.verity_hash"
blob "$S/spec-worker/model.verity_hash" 62cbff555974698140a6224eaa9b976f0f7690c3
cat >"$S/spec-worker/worker-config.json" <<'EOF'
{
  "is_test": "$IS_DEBUG",
  "is_testnet" : false,
  "http_port" : 12000,
  "rpc_port" : 12001,
  "proxy_connections" : 1,
  "model_name" : "$MODEL_NAME@$MODEL_COMMIT:$MODEL_VERITY_HASH",
  "ton_config_filename": "$TON_CONFIG_FILE",
  "owner_address": "$OWNER_ADDRESS",
  "image_hash": "$TDX_IMAGE_HASH",
  "root_contract_address": "$ROOT_CONTRACT_ADDRESS",
  "node_wallet_key": "$NODE_WALLET_KEY",
  "connect_to_proxy_via": "127.0.0.1:8116",
  "forward_requests_to": "127.0.0.1:8000",
  "coefficient": "$WORKER_COEFFICIENT",
  "max_active_requests": 60
}
EOF
blob "$S/spec-worker/worker-config.json" 3cbf151d23763dff3322ce3ebdcb571b3706a4b5

for d in spec-worker spec-proxy spec-client; do
    # what a host adds at run time (unmeasured), and a generated spec.tree / spec.meta
    mkdir -p "$S/$d/runtime/sim"
    echo "X=1" >"$S/$d/runtime/vars"
    echo "ca" >"$S/$d/runtime/sim/root.pem"
    h=$(same_as_git "$S/$d")
    check "$d: tree hash equals git write-tree" test -n "$h"
    echo "ok: $d spec.tree $h"
    cp "$S/$d/.gitignore" "$T/gi"
    rm "$S/$d/.gitignore"
    check "$d: the .gitignore itself is not measured" test "$(ours "$S/$d")" = "$h"
    cp "$T/gi" "$S/$d/.gitignore"
    echo "$h" >"$S/$d/spec.tree"
    echo "tree_hash=$h" >"$S/$d/spec.meta"
    check "$d: spec.tree, spec.meta and runtime/ are not measured" test "$(same_as_git "$S/$d")" = "$h"
done
check "the three directories differ" test "$(ours "$S/spec-worker")" != "$(ours "$S/spec-proxy")"

# --- every accepted pattern kind, nested .gitignore files ---
P="$T/patterns"
mkdir -p "$P"/{a/b/c,logs,build/x,sub/runtime,sub/deep,dironly,keep/build,x/y}
printf '\xef\xbb\xbf# a comment after a BOM\n\n   \n*.log\nbuild/\n/top-only\nsub/deep/gone\n?x\ndironly/   \n.hidden*\nx/y/\n' >"$P/.gitignore"
echo '{"name": "patterns"}' >"$P/cocoon.json"   # cocoon-measure spec parses it
for f in a/b/c/f app.log logs/a.log logs/b.txt build/x/o top-only a/top-only sub/deep/gone \
         sub/deep/kept sub/runtime/r ax bx abx dironly/f a/dironly .hiddenfile a/.hidden-too x/y/z x/f \
         keep/build/o keep/file; do
    printf 'content of %s\n' "$f" >"$P/$f"
done
chmod 755 "$P/keep/file"
printf 'runtime\n/file\nc/\n' >"$P/sub/.gitignore"   # nested: any depth below sub/, anchored to sub/
printf '# only comments\n' >"$P/a/.gitignore"
printf 'b/c/f\n' >"$P/a/b/.gitignore"                  # anchored below a/b: a/b/b/c/f, not a/b/c/f
printf 'file' >"$P/sub/file"
printf 'f\n' >"$P/sub/f"
mkdir -p "$P/sub/c" && echo c >"$P/sub/c/in-c"
mkdir -p "$P/runtime" && echo r >"$P/runtime/vars"
h=$(same_as_git "$P")
check "patterns: tree hash equals git write-tree" test -n "$h"
# the checks above can fail: an ignored file edited leaves the hash, a measured one changes it
echo changed >"$P/logs/a.log"
check "patterns: an ignored file is not measured" test "$(same_as_git "$P")" = "$h"
echo changed >"$P/sub/deep/kept"
h2=$(same_as_git "$P")
check "patterns: a measured file is" test "$h2" != "$h"
git -C "$T/probe" status >/dev/null  # the probe repository is untouched by the above

# --- refusals: each exits 1 naming what is refused ---
refuse() { # NAME RE: cocoon-measure spec "$R" must exit 1 with RE
    check_fails "$1" "$2" "$B" spec "$R"
    local rc=0
    "$B" spec "$R" >/dev/null 2>&1 || rc=$?
    check "$1: exit 1" test "$rc" = 1
}
fresh() { rm -rf "$R"; mkdir -p "$R/d"; echo '{}' >"$R/cocoon.json"; echo x >"$R/d/f"; }
R="$T/refuse"
fresh; echo '* text' >"$R/.gitattributes"
refuse ".gitattributes at the top" "\.gitattributes is not allowed"
fresh; echo '*.sh text eol=crlf' >"$R/d/.gitattributes"
refuse ".gitattributes in a subdirectory" "d/\.gitattributes is not allowed"
fresh; printf '*.log\n!keep.log\n' >"$R/.gitignore"
refuse "negation" 'line 2: "!keep.log": negation'
fresh; printf 'd/*.c\n' >"$R/.gitignore"
refuse "a wildcard in a path" 'line 1: "d/\*\.c": wildcards in a path'
fresh; printf '**/foo\n' >"$R/.gitignore"
refuse "a leading **/" 'wildcards in a path'
fresh; printf '[ab].txt\n' >"$R/d/.gitignore"
refuse "a character class" 'd/\.gitignore line 1: .*character classes'
fresh; printf 'foo\\ \n' >"$R/.gitignore"
refuse "an escaped trailing space" 'backslash escapes'
fresh; printf 'foo\r\n' >"$R/.gitignore"
refuse "a CRLF .gitignore" 'carriage return'
fresh; printf 'a/../b\n' >"$R/.gitignore"
refuse "a .. component" "'\.\.' path components"
fresh; ln -s /etc/hostname "$R/.gitignore"
refuse "a symlinked .gitignore" "\.gitignore \(a symlink\)"
fresh; mkdir "$R/.gitignore"
refuse "a .gitignore directory" "not a regular file"
# the refused inputs are accepted once the rule is gone (the refusals are about the rule)
fresh; printf 'keep.log\n' >"$R/.gitignore"
check "a plain name is accepted" test "$(same_as_git "$R")" != ""
echo "ok: $(basename "$0")"
