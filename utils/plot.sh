#!/usr/bin/env bash
# plot.sh -- Draws docs/fanout.svg and docs/patterns.svg from the medians
# utils/bench.sh saved in docs/bench-data/{fanout,patterns}-MODE.dat.
#   utils/plot.sh [full|quick]     default: full data if present, else quick
# Needs gnuplot (Debian: gnuplot-nox).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=$ROOT/docs/bench-data
MODE=${1:-}
if [ -z "$MODE" ]; then
    MODE=quick
    [ -f "$DATA/fanout-full.dat" ] && MODE=full
fi
FAN=$DATA/fanout-$MODE.dat
PAT=$DATA/patterns-$MODE.dat
[ -f "$FAN" ] && [ -f "$PAT" ] || { echo "plot.sh: no $MODE data in $DATA (run utils/bench.sh --$MODE)" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot missing (apt-get install gnuplot-nox)" >&2; exit 1; }

gnuplot <<GP
set terminal svg size 800,500 dynamic enhanced font "sans,12" background rgb "white"
set datafile missing "?"
set key top left box opaque
set grid xtics ytics mxtics mytics lc rgb "#dddddd"
set logscale x 10
set logscale y 10
set format y "10^{%L}"

set output "$ROOT/docs/fanout.svg"
set title "Fan-out: deliveries/s vs subscribers on one channel ($MODE run, medians)"
set xlabel "subscribers"
set ylabel "deliveries per second"
set xrange [0.7:14000]
set xtics ("1" 1, "10" 10, "100" 100, "1000" 1000, "10000" 10000)
plot "$FAN" using 1:2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "ours 16 B", \
     "$FAN" using 1:3 with linespoints lw 2 pt 6 dt 2 lc rgb "#1f77b4" title "redis 16 B", \
     "$FAN" using 1:4 with linespoints lw 2 pt 5 lc rgb "#d62728" title "ours 1 KiB", \
     "$FAN" using 1:5 with linespoints lw 2 pt 4 dt 2 lc rgb "#d62728" title "redis 1 KiB", \
     "$FAN" using 1:6 with linespoints lw 2 pt 9 lc rgb "#2ca02c" title "ours 64 KiB", \
     "$FAN" using 1:7 with linespoints lw 2 pt 8 dt 2 lc rgb "#2ca02c" title "redis 64 KiB"

set output "$ROOT/docs/patterns.svg"
set title "PUBLISH/s vs non-matching pattern subscriptions (pipeline 16, 1 connection; $MODE run)"
set xlabel "non-matching patterns held by the server (0 plotted at 1)"
set ylabel "PUBLISH per second"
set xrange [0.7:200000]
set xtics ("0" 1, "100" 100, "1k" 1000, "10k" 10000, "100k" 100000)
set key bottom left
plot "$PAT" using (\$1 == 0 ? 1 : \$1):2 with linespoints lw 2 pt 7 lc rgb "#1f77b4" title "ours", \
     "$PAT" using (\$1 == 0 ? 1 : \$1):3 with linespoints lw 2 pt 6 dt 2 lc rgb "#d62728" title "redis"
GP
echo "plot.sh: wrote docs/fanout.svg and docs/patterns.svg ($MODE data)" >&2
