#!/usr/bin/env bash
# Instructions per call of each compared function, Rust (gdlm-core) and C (the
# reference transcription), counted by callgrind: deterministic, unlike wall time.
#
# Each run executes one function N times on one side (the gdlm-callgrind binary)
# with --toggle-collect on the measured unit (rs_* or ref_*), so only that call
# and its callees are counted; Ir/call = collected Ir / N.
#
# Usage: bench/callgrind.sh [iterations] [function...]   (default 20000, all)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
iters="${1:-20000}"
shift || true

command -v valgrind >/dev/null || { echo "valgrind not found" >&2; exit 1; }

# The bench profile: release optimisation (plus debug info), as `cargo bench` uses.
cargo build --quiet --manifest-path "$root/Cargo.toml" -p gdlm-bench --profile bench --bin gdlm-callgrind
bin="$root/target/release/gdlm-callgrind"

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

ir_per_call() { # function side symbol
    local f="$out/$1.$2.cg"
    valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect="$3" \
        "$bin" "$1" "$2" "$iters" >/dev/null 2>"$out/$1.$2.log" || {
        cat "$out/$1.$2.log" >&2
        return 1
    }
    local total
    total="$(awk '/^(summary|totals):/ {print $2; exit}' "$f")"
    [ -n "$total" ] && [ "$total" -gt 0 ] || {
        echo "no Ir collected for $3 ($1 $2)" >&2
        return 1
    }
    awk -v t="$total" -v n="$iters" 'BEGIN {printf "%.1f", t / n}'
}

# The list is read first, so that a failure to produce it stops the script
# (a process substitution's exit status would be lost), and every function named
# on the command line must be in it: none is skipped silently.
list="$("$bin" --list)"
[ -n "$list" ] || { echo "gdlm-callgrind --list printed nothing" >&2; exit 1; }
for want in "$@"; do
    printf '%s\n' "$list" | awk -v f="$want" '$1 == f {found = 1} END {exit !found}' || {
        echo "unknown function: $want (known: $(printf '%s\n' "$list" | awk '{printf "%s ", $1}'))" >&2
        exit 2
    }
done

printf '%-16s %14s %14s %8s\n' function rust_ir/call c_ir/call ratio
while read -r func rsym csym; do
    if [ "$#" -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$func"; then
        continue
    fi
    r="$(ir_per_call "$func" rust "$rsym")"
    c="$(ir_per_call "$func" c "$csym")"
    ratio="$(awk -v r="$r" -v c="$c" 'BEGIN {printf "%.2f", r / c}')"
    printf '%-16s %14s %14s %8s\n' "$func" "$r" "$c" "$ratio"
done <<<"$list"
