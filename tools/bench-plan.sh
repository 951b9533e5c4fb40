#!/usr/bin/env bash
# Benchmarks `npm run plan -- dev` against merely loading the Pulumi SDKs it uses (target: at most 3x).
# Usage: tools/bench-plan.sh [RUNS] [STACK]   (default 5 runs of dev). The three commands run interleaved, so a
# burst of load on the shared machine hits all of them alike; medians are compared. Prints Markdown.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
stack=${2:-dev}
command -v /usr/bin/time >/dev/null || { echo "bench-plan: needs GNU time (apt-get install time)" >&2; exit 1; }

sdk="require('@pulumi/pulumi'); require('@pulumi/aws'); require('@pulumi/awsx'); require('@pulumi/tls'); require('@pulumi/random')"
declare -A label=(
    [sdk]="node -e \"require(...SDKs)\""
    [npm]="npm run plan -- $stack"
    [node]="node -r sucrase/register/ts plan/cli.ts $stack"
)
declare -A walls=()

measure() { # name command...; prints "wall rss"
    local log
    log=$(mktemp)
    /usr/bin/time -f "%e %M" -o "$log" "${@:2}" >/dev/null 2>"$log.err" || { cat "$log.err" >&2; rm -f "$log" "$log.err"; exit 1; }
    tail -1 "$log"
    rm -f "$log" "$log.err"
}

echo "| run | ${label[sdk]} (s) | ${label[npm]} (s) | ${label[node]} (s) | plan peak RSS (MiB) |"
echo "|---|---|---|---|---|"
for i in $(seq 1 "$runs"); do
    read -r s _ < <(measure sdk node -e "$sdk")
    read -r n rss < <(measure npm npm run -s plan -- "$stack")
    read -r d _ < <(measure node node -r sucrase/register/ts plan/cli.ts "$stack")
    walls[sdk]+="$s "
    walls[npm]+="$n "
    walls[node]+="$d "
    echo "| $i | $s | $n | $d | $((rss / 1024)) |"
done

median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms=$(median "${walls[sdk]}")
mn=$(median "${walls[npm]}")
md=$(median "${walls[node]}")
echo
echo "Medians: SDK load ${ms} s, npm run plan ${mn} s, plan without npm ${md} s."
awk -v s="$ms" -v n="$mn" -v d="$md" 'BEGIN { printf "Ratio to loading the SDKs: %.2fx with npm, %.2fx without (target <= 3x).\n", n / s, d / s }'
echo "$(nproc) cores, node $(node --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
