#!/usr/bin/env bash
# Criterion ns per call, Rust and C side by side, repeated: wall time on a shared
# machine is noisy, so the bench runs R times, alternating which side of each
# group is measured first (GDLM_BENCH_ORDER), and the table gives, per function,
# the median over the runs of each side's median and of the per-run ratio, and
# the range of that ratio. Not a CI step (wall time); bench/callgrind-gate.sh is.
#
# Both sides are built with every function and loop aligned to a cache line
# (GDLM_BENCH_ALIGN bytes, default 64, for the C; the same through RUSTFLAGS for
# the Rust, in target/aligned so the ordinary build is not invalidated): without
# it a figure moves by up to ~20% with where the linker places the unit and the
# harness loop, which changes with unrelated edits. GDLM_BENCH_ALIGN=0: as built
# by a plain `cargo bench`.
#
# Usage: bench/criterion-compare.sh [runs] [criterion filter] [-- criterion args]
#        (default 6 runs, every group, --warm-up-time 0.5 --measurement-time 1)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
runs="${1:-6}"
filter="${2:-}"
shift 2 2>/dev/null || shift $# 
[ "${1:-}" = "--" ] && shift
extra=("$@")
[ "${#extra[@]}" -gt 0 ] || extra=(--warm-up-time 0.5 --measurement-time 1)

command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }
align="${GDLM_BENCH_ALIGN:-64}"
build_env=()
if [ "$align" != 0 ]; then
    log2=$(python3 -c "import sys; a=int(sys.argv[1]); assert a > 0 and a & (a - 1) == 0; print(a.bit_length() - 1)" "$align")
    build_env=(env GDLM_BENCH_ALIGN="$align" CARGO_TARGET_DIR="$root/target/aligned"
        RUSTFLAGS="${RUSTFLAGS:-} -C llvm-args=-align-all-functions=$log2 -C llvm-args=-align-loops=$align")
fi
bin="$("${build_env[@]}" cargo bench --manifest-path "$root/Cargo.toml" -p gdlm-bench --bench compare --no-run \
    --message-format=json 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "compare":
        print(m["executable"])')"
[ -x "$bin" ] || { echo "criterion-compare: no bench binary" >&2; exit 1; }

crit="$root/target/criterion"
results="$(mktemp)"
stamp="$(mktemp)"
trap 'rm -f "$results" "$stamp"' EXIT
for r in $(seq 1 "$runs"); do
    touch -d '-1 second' "$stamp"
    order=rust
    [ $((r % 2)) -eq 0 ] && order=c
    (cd "$root" && GDLM_BENCH_ORDER=$order "$bin" --bench --noplot "${extra[@]}" ${filter:+"$filter"}) >/dev/null 2>&1 || {
        echo "criterion-compare: run $r failed" >&2
        exit 1
    }
    for d in "$crit"/*/; do
        g="$(basename "$d")"
        [ -f "$d/rust/new/estimates.json" ] && [ -f "$d/c/new/estimates.json" ] || continue
        # Only groups this run measured (the filter): estimates newer than the run's start.
        [ "$d/rust/new/estimates.json" -nt "$stamp" ] || continue
        python3 - "$g" "$r" "$order" "$d" >>"$results" <<'PY'
import json, sys
g, r, order, d = sys.argv[1:]
med = lambda side: json.load(open(f"{d}/{side}/new/estimates.json"))["median"]["point_estimate"]
print(g, r, order, med("rust"), med("c"))
PY
    done
done

python3 - "$results" "$runs" <<'PY'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    g, r, order, rs, c = line.split()
    rows.setdefault(g, []).append((int(r), order, float(rs), float(c)))
print(f"{'function':<16} {'rust_ns':>8} {'c_ns':>8} {'ratio':>6}  {'ratio range':<13} runs  per-run ratios (r = Rust first, c = C first)")
order = ["lock_name", "lock_name_value", "make_flags", "gdlm_ast", "update_stats", "lvb_read",
         "lvb_read_slice", "lvb_write", "control_step", "engine_cycle"]
for g in sorted(rows, key=lambda g: (order.index(g) if g in order else 99, g)):
    v = rows[g]
    ratios = [rs / c for _, _, rs, c in v]
    per = " ".join(f"{ra:.2f}{o[0]}" for (_, o, _, _), ra in zip(v, ratios))
    print(f"{g:<16} {statistics.median(x[2] for x in v):8.2f} {statistics.median(x[3] for x in v):8.2f} "
          f"{statistics.median(ratios):6.2f}  {min(ratios):.2f}-{max(ratios):.2f}     {len(v):>4}  {per}")
PY
