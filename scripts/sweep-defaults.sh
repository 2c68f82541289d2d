#!/usr/bin/env bash
# The measurements behind `charnn train`'s defaults (docs/results.md): each candidate setting
# trains on the same corpus for the same wall-clock budget, one run after another (never two at
# once: they would share the 2 cores), and the best validation loss of each is printed as a
# markdown table row.
#
#   scripts/sweep-defaults.sh BUDGET CORPUS "FLAGS" ["FLAGS" …]
#   scripts/sweep-defaults.sh 10m ../shared/corpora-ref/tinyshakespeare.txt "--dropout 0.2 --lr-schedule cosine"
#
# Runs go to a temporary directory, printed at the end. Not part of CI (each run takes BUDGET).
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $# -ge 3 ]] || { echo "usage: scripts/sweep-defaults.sh BUDGET CORPUS \"FLAGS\" [\"FLAGS\" …]" >&2; exit 2; }
budget=$1 corpus=$2
shift 2
[[ -f $corpus ]] || { echo "sweep-defaults: $corpus: no such file" >&2; exit 2; }
swift build -c release --product charnn >&2
charnn="$(swift build -c release --show-bin-path)/charnn"
out=$(mktemp -d)
echo "| flags (with --time $budget) | parameters | steps | epochs | chars/s | best val loss | at step |"
echo "|---|---|---|---|---|---|---|"
n=0
for flags in "$@"; do
  n=$((n + 1))
  # shellcheck disable=SC2086 # the flags are meant to split into words
  "$charnn" train "$corpus" --time "$budget" --out "$out/run$n" --quiet $flags > "$out/run$n.txt" 2>&1
  params=$("$charnn" inspect "$out/run$n/latest.safetensors" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["parameterCount"])')
  python3 - "$out/run$n" "$flags" "$params" <<'PY'
import json, re, sys
run, flags, params = sys.argv[1:]
rows = [json.loads(line) for line in open(f"{run}/log.jsonl")]
last = rows[-1]
best = min((r for r in rows if r.get("val_loss") is not None), key=lambda r: r["val_loss"])
speed = re.findall(r"([\d.]+k?) chars/s", open(f"{run}.txt").read())  # the summary line's average
print(f"| `{flags or '(defaults)'}` | {int(params):,} | {last['step']:,} | {last['epoch']:.1f} | "
      f"{speed[-1] if speed else '?'} | {best['val_loss']:.4f} | {best['step']:,} |")
PY
done
echo "runs: $out" >&2
