#!/usr/bin/env bash
# Side-by-side speed and memory of charnn against the PyTorch and numpy peers in ../shared/peers,
# on tinyshakespeare, B=50, 2 threads, Adam with clipping 5, embedding 64 on both sides.
# The programs run in alternation (charnn, torch, numpy, charnn, …) so that the machine's drift
# hits all of them alike; the script prints the median of each ratio over the pairs.
#
#   scripts/compare-peers.sh [--isa avx2] [--cell lstm|gru|rnn] [pairs] [config ...]   # configs: small medium large (default: all)
#
# --cell gru (or rnn) compares charnn's GRU (RNN) with PyTorch's nn.GRU (nn.RNN) through the peer's own
# --cell; the numpy peer has only the LSTM, so for those cells sampling is compared with PyTorch alone.
#
# --isa avx2 limits every contender to AVX2 + FMA, so an AVX-512 machine measures the AVX2 world
# too: charnn through CHARNN_SIMD=avx2 (docs/simd.md), PyTorch through ATEN_CPU_CAPABILITY=avx2 and
# ONEDNN_MAX_CPU_ISA=AVX2, numpy's (and charnn's) OpenBLAS through OPENBLAS_CORETYPE=Haswell. The
# script then asks each contender what it runs and stops if one did not take the setting.
#
# Needs PyTorch and numpy (../shared/peers/README.md explains which wheel), by default in a virtual
# environment inside the repository's ignored .build folder:
#   python3 -m venv .build/peers-env
#   .build/peers-env/bin/pip install "torch==2.13.0+cpu" numpy threadpoolctl
# or CHARNN_PEERS_PYTHON naming an interpreter that has them.
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
isa=native
if [[ ${1:-} == --isa ]]; then
  isa=${2:-}
  shift 2 || shift $#
fi
case $isa in
  native) ;;
  avx2) export CHARNN_SIMD=avx2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell ;;
  *) echo "compare-peers: --isa takes avx2 (or is left out for the CPU's own), got '$isa'" >&2; exit 2 ;;
esac
cell=lstm
if [[ ${1:-} == --cell ]]; then
  cell=${2:-}
  shift 2 || shift $#
fi
case $cell in
  lstm|gru|rnn) ;;
  *) echo "compare-peers: --cell takes lstm, gru or rnn, got '$cell'" >&2; exit 2 ;;
esac
pairs=${1:-3}
[[ $pairs =~ ^[1-9][0-9]*$ ]] || { echo "compare-peers: the number of pairs must be a positive whole number, got '$pairs'" >&2; exit 2; }
shift || true
[[ $# -gt 0 ]] && configs=("$@") || configs=(small medium large)
peers=../shared/peers
corpus=../shared/corpora-ref/tinyshakespeare.txt
python="${CHARNN_PEERS_PYTHON:-.build/peers-env/bin/python}"
if [[ ! -x $python ]] || ! "$python" -c "import torch, numpy" 2>/dev/null; then
  echo "compare-peers: no PyTorch/numpy at $python; create .build/peers-env as this script's header says (or set CHARNN_PEERS_PYTHON)" >&2
  exit 2
fi
[[ -f $peers/bench_torch.py && -f $corpus ]] || { echo "compare-peers: $peers or $corpus is missing" >&2; exit 2; }

swift build -c release --product charnn >&2
charnn="$(swift build -c release --show-bin-path)/charnn"
out=$(mktemp -d)
echo "charnn: $($charnn doctor --json)" >&2
if [[ $isa == avx2 ]]; then
  # Each contender must say it took the limit; a silent fallback would compare other worlds.
  "$charnn" doctor --json | grep -q '"simd_kernels":"avx2"' ||
    { echo "compare-peers: charnn does not run its avx2 kernels under CHARNN_SIMD=avx2 (charnn doctor --json)" >&2; exit 2; }
  "$python" - <<'PY' >&2
import sys, torch, numpy, threadpoolctl
capability = torch.backends.cpu.get_cpu_capability()
blas = [i for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"]
arch = blas[0].get("architecture") if blas else None
print(f"compare-peers --isa avx2: torch {capability}, numpy's OpenBLAS {arch}")
if capability.upper() not in ("AVX2", "DEFAULT") or (arch is not None and arch != "Haswell"):
    sys.exit("compare-peers: a peer did not take the AVX2 limit")
PY
fi

for config in "${configs[@]}"; do
  case $config in
    small) shape=(--layers 2 --hidden 128 --seq 50); iters=150; sample=20000 ;;
    medium) shape=(--layers 2 --hidden 512 --seq 100); iters=20; sample=5000 ;;
    large) shape=(--layers 3 --hidden 512 --seq 100); iters=12; sample=3000 ;;
    *) echo "compare-peers: unknown config $config (small, medium, large)" >&2; exit 2 ;;
  esac
  for ((p = 1; p <= pairs; p++)); do
    echo "== $config ($cell) pair $p/$pairs" >&2
    "$charnn" bench "$corpus" "${shape[@]}" --cell $cell --batch 50 --embedding 64 --threads 2 --warmup 3 --iters $iters \
      --sample-symbols $sample >> "$out/$config.charnn"
    "$python" $peers/bench_torch.py "${shape[@]}" --cell $cell --batch 50 --embed 64 --threads 2 --clip 5 --warmup 3 \
      --iters $iters --sample-chars 2000 >> "$out/$config.torch" 2>/dev/null
    if [[ $cell == lstm ]]; then
      "$python" $peers/bench_numpy.py "${shape[@]}" --batch 50 --threads 2 --warmup 1 --iters 2 \
        --sample-chars 2000 >> "$out/$config.numpy" 2>/dev/null
    else
      touch "$out/$config.numpy"
    fi
  done
done

python3 - "$out" "$cell" "${configs[@]}" <<'PY'
import json, statistics, sys
out, cell, configs = sys.argv[1], sys.argv[2], sys.argv[3:]
def load(config, who):
    rows = [json.loads(l) for l in open(f"{out}/{config}.{who}") if l.startswith("{")]
    return [r for r in rows if r.get("phase") == "train"], [r for r in rows if r.get("phase") == "sample"], \
        [r for r in rows if r.get("phase") == "sample_bf16"], [r for r in rows if r.get("phase") == "sample_int8"]
targets = {"small": (1.3, 4.0), "medium": (1.2, 3.0), "large": (1.2, 3.0)}
print(f"{'config':8} {'train charnn/torch':>19} {'sample charnn/best peer':>24} {'peak RSS charnn/torch':>22} {'sample bf16/best peer':>22} {'sample int8/best peer':>22}   medians over pairs")
for c in configs:
    ct, cs, cb, ci = load(c, "charnn"); tt, ts, _, _ = load(c, "torch"); nt, ns, _, _ = load(c, "numpy")
    if not ns:  # no numpy peer for this cell: the best peer is PyTorch
        ns = [{"chars_per_s": 0.0}] * len(ts)
    n = min(len(ct), len(tt), len(ns), len(ts))
    train = [ct[i]["chars_per_s"] / tt[i]["chars_per_s"] for i in range(n)]
    sample = [cs[i]["chars_per_s"] / max(ts[i]["chars_per_s"], ns[i]["chars_per_s"]) for i in range(n)]
    bf16 = [cb[i]["chars_per_s"] / max(ts[i]["chars_per_s"], ns[i]["chars_per_s"]) for i in range(min(n, len(cb)))] or [float("nan")]
    int8 = [ci[i]["chars_per_s"] / max(ts[i]["chars_per_s"], ns[i]["chars_per_s"]) for i in range(min(n, len(ci)))] or [float("nan")]
    rss = [max(ct[i]["peak_rss_mib"], cs[i]["peak_rss_mib"]) / max(tt[i]["peak_rss_mib"], ts[i]["peak_rss_mib"]) for i in range(n)]
    m = statistics.median
    t_train, t_sample = targets[c]
    ok = lambda v, t, up=True: "met" if (v >= t if up else v <= t) else "MISSED"
    print(f"{c + ('' if cell == 'lstm' else ' ' + cell):8} {m(train):>12.2f}× ({ok(m(train), t_train)}) {m(sample):>15.2f}× ({ok(m(sample), t_sample)}) {m(rss):>14.2f}× ({ok(m(rss), 0.5, False)}) {m(bf16):>15.2f}× ({ok(m(bf16), t_sample)}) {m(int8):>15.2f}× ({ok(m(int8), t_sample)})")
    print(f"{'':8} charnn {m([r['chars_per_s'] for r in ct]):.0f} chars/s ({m([r['gflops_per_s'] for r in ct]):.0f} GFLOP/s), "
          f"torch {m([r['chars_per_s'] for r in tt]):.0f} ({m([r['gflops_per_s'] for r in tt]):.0f} GFLOP/s); "
          f"sampling charnn {m([r['chars_per_s'] for r in cs]):.0f}/s (bf16 {m([r['chars_per_s'] for r in cb] or [0]):.0f}/s, int8 {m([r['chars_per_s'] for r in ci] or [0]):.0f}/s), torch {m([r['chars_per_s'] for r in ts]):.0f}/s, numpy {m([r['chars_per_s'] for r in ns]):.0f}/s")
PY
echo "raw JSON lines: $out" >&2
