#!/usr/bin/env bash
# Benchmarks the program's start-up under `pulumi up`: loading it the way Pulumi's Node.js language host does
# (tools/pulumi-load.js: the host's modules, ts-node registered with run.js's options, then index.ts's imports),
# against merely loading the Pulumi SDKs it uses (target: at most 2x). "before" is the same load with the host
# pointed at tsconfig.json, i.e. ts-node type-checking as it did before tsconfig.pulumi.json.
# Usage: npm run bench:startup [-- RUNS]   (default 5; the three run interleaved, medians compared; prints Markdown)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
command -v /usr/bin/time >/dev/null || { echo "bench-startup: needs GNU time (apt-get install time)" >&2; exit 1; }

sdk="require('@pulumi/pulumi'); require('@pulumi/aws'); require('@pulumi/awsx'); require('@pulumi/tls'); require('@pulumi/random')"

measure() { # command...; prints "wall rss_mib cpu" (cpu: user + system seconds, steadier than wall on a busy machine)
    local log
    log=$(mktemp)
    /usr/bin/time -f "%e %M %U %S" -o "$log" "$@" >/dev/null 2>"$log.err" || { cat "$log.err" >&2; rm -f "$log" "$log.err"; exit 1; }
    awk '{ printf "%s %d %.2f\n", $1, $2 / 1024, $3 + $4 }' "$log" | tail -1
    rm -f "$log" "$log.err"
}

s_walls=() a_walls=() b_walls=() s_rss=() a_rss=() b_rss=() s_cpu=() a_cpu=() b_cpu=()
echo "| run | SDK load: wall / CPU (s) | program, as pulumi up loads it: wall / CPU (s) | before, type-checking: wall / CPU (s) | peak RSS SDK / program / before (MiB) |"
echo "|---|---|---|---|---|"
for i in $(seq 1 "$runs"); do
    read -r s sm sc < <(measure node -e "$sdk")
    read -r a am ac < <(measure node tools/pulumi-load.js)
    read -r b bm bc < <(measure env PULUMI_NODEJS_TSCONFIG_PATH=tsconfig.json node tools/pulumi-load.js)
    s_walls+=("$s") a_walls+=("$a") b_walls+=("$b") s_rss+=("$sm") a_rss+=("$am") b_rss+=("$bm") s_cpu+=("$sc") a_cpu+=("$ac") b_cpu+=("$bc")
    echo "| $i | $s / $sc | $a / $ac | $b / $bc | $sm / $am / $bm |"
done

median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
ms=$(median "${s_walls[@]}")
ma=$(median "${a_walls[@]}")
mb=$(median "${b_walls[@]}")
echo
cs=$(median "${s_cpu[@]}")
ca=$(median "${a_cpu[@]}")
cb=$(median "${b_cpu[@]}")
echo "Medians: SDK load ${ms} s wall, ${cs} s CPU, $(median "${s_rss[@]}") MiB; program ${ma} s wall, ${ca} s CPU, $(median "${a_rss[@]}") MiB; before ${mb} s wall, ${cb} s CPU, $(median "${b_rss[@]}") MiB."
awk -v s="$ms" -v a="$ma" -v b="$mb" -v cs="$cs" -v ca="$ca" -v cb="$cb" \
    'BEGIN { printf "Program / SDK load: %.2fx wall, %.2fx CPU (target <= 2x); before / SDK load: %.2fx wall, %.2fx CPU.\n", a / s, ca / cs, b / s, cb / cs }'
echo "$(nproc) cores, node $(node --version), load average $(cut -d' ' -f1-3 /proc/loadavg)"
