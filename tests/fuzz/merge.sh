#!/bin/sh
# merge.sh -- folds build/fuzz/found/<target>/ into corpus/<target>/ with
# libFuzzer's -merge=1, keeping the committed corpus modest (CORPUS_MAX
# files, default 300). The hand-made seeds (seed-*, see gen_corpus.py) are
# always kept: they pin edge cases coverage alone would not keep (limits at
# their exact values, the 1001st star group). Other files are kept if they
# add coverage (edges and hit counts) beyond the seeds; if that is too many,
# those adding edges come first, then the smallest of the rest.
# Usage: sh merge.sh <target>   (from tests/fuzz, binaries in build/fuzz/)
set -eu
t=$1
max=${CORPUS_MAX:-300}
bin=build/fuzz/$t
work=build/fuzz/merge/$t
rm -rf "$work"
mkdir -p "$work/seeds" "$work/old" "$work/full" "$work/edges" "build/fuzz/found/$t" "corpus/$t"
for f in corpus/$t/*; do
    [ -f "$f" ] || continue
    case "${f##*/}" in
        seed-*) cp "$f" "$work/seeds/" ;;
        *) cp "$f" "$work/old/" ;;
    esac
done
log=build/fuzz/$t.merge.log
: >"$log"
# Only what adds coverage beyond the seeds: merge into a copy of them.
cp -r "$work/seeds/." "$work/full/"
"$bin" -merge=1 "$work/full" "$work/old" "build/fuzz/found/$t" >>"$log" 2>&1
result=$work/full
if [ "$(ls "$work/full" | wc -l)" -gt "$max" ]; then
    cp -r "$work/seeds/." "$work/edges/"
    "$bin" -merge=1 -use_counters=0 "$work/edges" "$work/full" >>"$log" 2>&1
    n=$(ls "$work/edges" | wc -l)
    # ls -S sorts largest first; -r makes it smallest first.
    for f in $(ls -S -r "$work/full"); do
        [ "$n" -ge "$max" ] && break
        [ -e "$work/edges/$f" ] && continue
        cp "$work/full/$f" "$work/edges/$f"
        n=$((n + 1))
    done
    result=$work/edges
fi
rm -rf "corpus/$t"
mv "$result" "corpus/$t"
rm -rf "$work"
echo "$t: $(ls "corpus/$t" | wc -l) files ($(ls "corpus/$t" | grep -c '^seed-') seeds), $(du -sb "corpus/$t" | cut -f1) bytes"
