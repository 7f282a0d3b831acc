#!/bin/bash
# coverage.sh - line and branch coverage of the decoder and the flow
# engine reached by the fuzz corpora (build-fuzz/corpus and the seeds),
# measured with a clang source-coverage build in build-fuzzcov/ (what
# `make fuzz-cov` runs after `make fuzz`). Prints llvm-cov's summary for
# decode.c and flow.c and the total over userspace/.
. "$(dirname "$0")/../lib.sh"
B=$REPO/build-fuzz
C=$REPO/build-fuzzcov
prof=$C/prof; rm -rf "$prof"; mkdir -p "$prof"
objs=()
for bin in "$C"/fuzz/fuzz_*; do
	case $bin in *.d) continue ;; esac
	t=$(basename "$bin"); kind=${t#fuzz_}
	dirs=()
	for d in "$B/corpus/$kind" "$B/seeds/$kind" "$REPO/tests/fuzz/regress/$kind"; do
		[ -d "$d" ] && dirs+=("$d")
	done
	LLVM_PROFILE_FILE="$prof/$kind-%p.profraw" "$bin" -runs=0 "${dirs[@]}" >/dev/null 2>&1
	objs+=(-object "$bin")
done
llvm-profdata merge -sparse "$prof"/*.profraw -o "$prof/all.profdata" || exit 1
cd "$REPO" && llvm-cov report "${objs[@]:1}" -instr-profile="$prof/all.profdata" \
	userspace/decode.c userspace/flow.c
llvm-cov report "${objs[@]:1}" -instr-profile="$prof/all.profdata" userspace/ | tail -1
