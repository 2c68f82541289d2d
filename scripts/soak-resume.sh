#!/usr/bin/env bash
# Kill-and-resume soak: trains a small model, SIGKILLs it at random moments (many of them during a
# checkpoint save), resumes after each kill, and checks that
#   - after every kill, each checkpoint on disk loads and verifies (charnn inspect);
#   - the finished run's latest.safetensors and best.safetensors hold tensors bit-identical to an
#     uninterrupted run of the same length and seed, and its log lists each evaluation once.
#
#   scripts/soak-resume.sh              # 30 kills over a 2000-step run
#   KILLS=40 STEPS=3000 scripts/soak-resume.sh
#   FLAGS="--average-decay 0.99" scripts/soak-resume.sh     # extra training flags, e.g. averaging
#
# Not part of CI: it takes minutes. Exit status 0 only if every check passed; the last line is the
# verdict. Uses the debug build (built if missing) unless CHARNN names a binary.
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS="${KILLS:-30}"
STEPS="${STEPS:-2000}"
if [ -z "${CHARNN:-}" ]; then
    swift build --product charnn >/dev/null
    CHARNN="$PWD/.build/debug/charnn"
fi
work="$(mktemp -d "${TMPDIR:-/tmp}/charnn-soak.XXXXXX")"
corpus="$PWD/corpora/smoke.txt"
# --threads 1 makes training deterministic; --save-every 1 keeps a save in flight much of the time.
opts=(--layers 2 --hidden 32 --embedding 16 --dropout 0.1 --batch 8 --seq 32 --threads 1 --seed 7
      --steps "$STEPS" --save-every 1 --eval-every 25 --quiet)
read -r -a extra <<< "${FLAGS:-}"
opts+=("${extra[@]}")
say() { echo "soak: $*"; }
fail() { say "FAIL: $*"; say "files kept in $work"; exit 1; }

start=$(date +%s)
say "reference: $STEPS uninterrupted steps"
ref_start=$(date +%s.%N)
"$CHARNN" train "$corpus" --out "$work/reference" "${opts[@]}" >/dev/null
ref_seconds=$(echo "$(date +%s.%N) - $ref_start" | bc)
say "reference took ${ref_seconds}s"

# Start-up (reading the corpus, building the model) until the first save, measured with one step.
startup_start=$(date +%s.%N)
"$CHARNN" train "$corpus" --out "$work/startup" "${opts[@]}" --steps 1 >/dev/null
startup=$(echo "$(date +%s.%N) - $startup_start" | bc)
# Each session lives a random 0.05 s .. max_delay s: start-up plus on average about 3/4 of a
# kill-interval's share of the training, so the run is still unfinished when the kills run out.
max_delay=$(echo "scale=3; $startup + 1.5 * ($ref_seconds - $startup) / $KILLS" | bc)
say "start-up ${startup}s; sessions live 0.05..${max_delay}s"
run="$work/interrupted"
kills=0 sessions=0 during_save=0 finished_early=0
: >"$work/resume-steps"
while [ "$kills" -lt "$KILLS" ]; do
    mode=(--resume)
    [ -f "$run/latest.safetensors" ] || mode=(--force)
    "$CHARNN" train "$corpus" --out "$run" "${opts[@]}" "${mode[@]}" >/dev/null 2>"$work/session.err" &
    pid=$!
    sessions=$((sessions + 1))
    sleep "$(echo "scale=3; 0.05 + $((RANDOM % 1000)) * ($max_delay - 0.05) / 1000" | bc)"
    if kill -KILL "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null || true
        kills=$((kills + 1))
        # A temporary left by the killed process means the kill landed mid-save.
        if compgen -G "$run/.*.tmp-$pid" >/dev/null; then during_save=$((during_save + 1)); fi
    else
        wait "$pid" || fail "session $sessions failed: $(cat "$work/session.err")"
        finished_early=1
        break
    fi
    for file in "$run/latest.safetensors" "$run/best.safetensors"; do
        if [ -f "$file" ]; then
            "$CHARNN" inspect "$file" >"$work/inspect.out" 2>"$work/inspect.err" ||
                fail "after kill $kills, $file does not load: $(cat "$work/inspect.err")"
        fi
    done
    if [ -f "$run/latest.safetensors" ]; then
        "$CHARNN" inspect "$run/latest.safetensors" | sed -n 's/^training: *step \([0-9]*\).*/\1/p' >>"$work/resume-steps"
    fi
done
[ "$finished_early" -eq 0 ] || fail "the run finished after only $kills kills; raise STEPS"
resume_points=$(sort -un "$work/resume-steps" | wc -l)
say "$kills kills in $sessions sessions ($during_save during a checkpoint save; $resume_points distinct steps resumed from: $(sort -un "$work/resume-steps" | tr '\n' ' '))"
say "finishing the run"
mode=(--resume)
[ -f "$run/latest.safetensors" ] || mode=(--force)
"$CHARNN" train "$corpus" --out "$run" "${opts[@]}" "${mode[@]}" >/dev/null 2>"$work/session.err" ||
    fail "the final resume failed: $(cat "$work/session.err")"
[ ! -e "$run/train.lock" ] || fail "the lock file outlived the run"

python3 - "$work/reference" "$run" "$STEPS" <<'PY' || fail "the interrupted run differs from the reference"
import json, struct, sys
ref, run, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])

def load(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__")
    body = data[8 + n:]
    tensors = {k: body[v["data_offsets"][0]:v["data_offsets"][1]] for k, v in header.items()}
    return meta, tensors

ok = True
for name in ("latest.safetensors", "best.safetensors"):
    meta_a, a = load(f"{ref}/{name}")
    meta_b, b = load(f"{run}/{name}")
    differing = sorted(k for k in a if a[k] != b.get(k)) + sorted(set(b) - set(a))
    step_a = json.loads(meta_a["training"])["step"]
    step_b = json.loads(meta_b["training"])["step"]
    same = not differing and step_a == step_b
    print(f"soak: {name}: step {step_b} vs {step_a}, {len(a)} tensors, "
          + ("all bit-identical" if same else f"DIFFERENT: {differing[:5]}"))
    ok = ok and same
ref_log = [json.loads(l)["step"] for l in open(f"{ref}/log.jsonl") if l.strip()]
run_log = [json.loads(l)["step"] for l in open(f"{run}/log.jsonl") if l.strip()]
print(f"soak: log.jsonl: {len(run_log)} records, " + ("same steps as the reference" if run_log == ref_log else f"DIFFERENT: {run_log} vs {ref_log}"))
ok = ok and run_log == ref_log and json.loads(load(f"{run}/latest.safetensors")[0]["training"])["step"] == steps
sys.exit(0 if ok else 1)
PY
say "PASS: $kills SIGKILLs ($during_save during a save, $resume_points distinct resume points), $sessions sessions + 1 final resume, every checkpoint loaded after every kill, final weights bit-identical to the uninterrupted run; $(( $(date +%s) - start ))s"
rm -rf "$work"
