#!/usr/bin/env bash
# Benchmarks `npm test`: wall time and peak resident memory over several runs (target: under 15 s).
# Usage: npm run bench [-- RUNS]   (default 3 runs; prints a Markdown table row per run and the median)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 1; }

walls=()
echo "| run | wall (s) | peak RSS (MiB) | tests |"
echo "|---|---|---|---|"
for i in $(seq 1 "$runs"); do
    log=$(mktemp)
    /usr/bin/time -v npx mocha --reporter dot >"$log.out" 2>"$log" || { cat "$log.out" "$log" >&2; exit 1; }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + t[j]; printf "%.2f", s }' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log")
    tests=$(grep -Eo '[0-9]+ passing' "$log.out" | head -1)
    echo "| $i | $wall | $rss | $tests |"
    walls+=("$wall")
    rm -f "$log" "$log.out"
done
median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo
echo "median wall: ${median} s on $(nproc) cores, node $(node --version)"
