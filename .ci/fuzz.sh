#!/usr/bin/env bash
# Runs every Go fuzz target in the repository under the fuzz engine, one
# after another, each for FUZZTIME (default 15s). A target that crashes or
# fails leaves its input in the package's testdata/fuzz/<Target>/ (commit it
# as a regression case) and makes the script exit 1 once all have run.
#   bash .ci/fuzz.sh              # every target
#   FUZZTIME=1m bash .ci/fuzz.sh  # longer
#   bash .ci/fuzz.sh ./internal/app   # only these packages
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"

fuzztime="${FUZZTIME:-15s}"
pkgs=("$@")
((${#pkgs[@]})) || pkgs=(./...)

# `go test -list` prints a package's matching test names, then its
# "ok <import path>" line.
listing=$(go test -list '^Fuzz' "${pkgs[@]}")
targets=()
names=()
while IFS= read -r line; do
	case "$line" in
	Fuzz*) names+=("$line") ;;
	ok*)
		pkg=$(awk '{print $2}' <<<"$line")
		for n in "${names[@]}"; do targets+=("$pkg $n"); done
		names=()
		;;
	"?"* | "") ;;
	*)
		echo "fuzz.sh: unexpected line from go test -list: $line" >&2
		exit 1
		;;
	esac
done <<<"$listing"

if ((${#targets[@]} == 0)); then
	echo "fuzz.sh: no fuzz targets found" >&2
	exit 1
fi

# Go 1.26's fuzz coordinator can report a bare "context deadline exceeded"
# when -fuzztime runs out while a worker is still busy (golang/go#75804,
# fixed in Go 1.27). Such a run found nothing and wrote no input; it is run
# again, at most twice. A run that wrote a failing input, or failed any
# other way, fails at once.
fuzz_one() {
	local pkg=$1 name=$2 log
	log=$(mktemp)
	for attempt in 1 2 3; do
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" 2>&1 | tee "$log"; then
			rm -f "$log"
			return 0
		fi
		if ! grep -q 'context deadline exceeded' "$log" || grep -q 'Failing input written to' "$log" ||
			grep -qE '^\s+[a-z_]+_test\.go:[0-9]+:|panic:' "$log"; then
			break
		fi
		((attempt < 3)) || break
		echo "fuzz: $name stopped at the -fuzztime boundary with nothing found (golang/go#75804); run $((attempt + 1)) of 3"
	done
	rm -f "$log"
	return 1
}

failed=()
for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "=== fuzz $name ($pkg) for $fuzztime"
	if ! fuzz_one "$pkg" "$name"; then
		failed+=("$name ($pkg)")
	fi
done

echo
if ((${#failed[@]})); then
	echo "fuzz: ${#failed[@]} of ${#targets[@]} target(s) failed:"
	printf '  %s\n' "${failed[@]}"
	echo "their failing inputs are under testdata/fuzz/ in each package"
	exit 1
fi
echo "fuzz: all ${#targets[@]} target(s) ran $fuzztime without a failure"
