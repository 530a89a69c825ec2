# Sourced by the bench scripts. `result FIGURE OURS REFERENCE RATIO TARGET` appends one row to the file
# $BENCH_RESULTS names (Scripts/bench sets it to gather every script's rows into one table); without it,
# nothing is written and each script prints only its own table.
result() {
    if [ -n "${BENCH_RESULTS:-}" ]; then printf '%s\t%s\t%s\t%s\t%s\n' "$@" >>"$BENCH_RESULTS"; fi
    return 0
}
# ratio A B: A / B to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "-"; else printf "%.2f", a / b}'; }
