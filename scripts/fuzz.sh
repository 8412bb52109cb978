#!/bin/sh
# Runs every Go fuzz target of the module for $FUZZTIME each (default 30s),
# one after the other, and prints the executions each made. Targets are
# found with `go test -list '^Fuzz'` in every package that has tests, so a
# new FuzzX anywhere is picked up without editing this script.
#
# A failure does not stop the run: the other targets still run, the failing
# input is left under the package's testdata/fuzz/FuzzX/ (commit it as a
# regression test once fixed), and the script exits 1 at the end.
#
#   FUZZTIME=5s scripts/fuzz.sh          # CI
#   FUZZFLAGS='-parallel 1' scripts/fuzz.sh
set -eu

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
FUZZFLAGS=${FUZZFLAGS:-}

log=$(mktemp)
summary=$(mktemp)
trap 'rm -f "$log" "$summary"' EXIT
status=0
for pkg in $($GO list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do
	targets=$($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true)
	for target in $targets; do
		echo "== $pkg $target for $FUZZTIME"
		# -fuzzminimizetime bounds the time spent shrinking a new input, so
		# a slow input does not stall a short run.
		# shellcheck disable=SC2086 # FUZZFLAGS is a list of flags
		if $GO test -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME" -fuzzminimizetime 5s $FUZZFLAGS "$pkg" >"$log" 2>&1; then
			result=ok
		else
			result=FAIL
			status=1
		fi
		cat "$log"
		execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
		printf '%-4s %-45s %-22s %s execs\n' "$result" "$pkg" "$target" "${execs:-0}" >>"$summary"
	done
done
echo
echo "== fuzz summary ($FUZZTIME each)"
cat "$summary"
exit $status
