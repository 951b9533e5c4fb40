#!/usr/bin/env bash
# Benchmarks `npm test`: wall time, CPU time (user + system, children included) and peak resident memory of the
# largest process over several runs (target: at most 10 s wall). The suite runs in parallel (.mocharc.js), so on a
# shared machine the wall time depends on the load: the script prints the load average before each run.
# Usage: npm run bench [-- RUNS]   (default 3 runs; prints a Markdown table row per run and the median)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
command -v /usr/bin/time >/dev/null || { echo "bench: needs GNU time (apt-get install time)" >&2; exit 1; }

walls=()
echo "| run | wall (s) | CPU (s) | peak RSS (MiB) | tests | load average before |"
echo "|---|---|---|---|---|---|"
for i in $(seq 1 "$runs"); do
    log=$(mktemp)
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -v npm test -- --reporter dot >"$log.out" 2>"$log" || { cat "$log.out" "$log" >&2; exit 1; }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (j = 1; j <= n; j++) s = s * 60 + t[j]; printf "%.2f", s }' "$log")
    cpu=$(awk -F': ' '/User time|System time/ { s += $2 } END { printf "%.1f", s }' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$log")
    tests=$(grep -Eo '[0-9]+ passing' "$log.out" | head -1)
    echo "| $i | $wall | $cpu | $rss | $tests | $load |"
    walls+=("$wall")
    rm -f "$log" "$log.out"
done
median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
echo
echo "median wall: ${median} s (target <= 10 s) on $(nproc) cores, node $(node --version), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
