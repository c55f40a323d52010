#!/usr/bin/env bats
# The layering of the source tree (tests/layers.txt): includes run one way
# between folders and files, checked by tests/check-layers.py.  The real
# tree must pass; small trees made here show that each rule can fail.

load helpers

CHECK="$BATS_TEST_DIRNAME/../check-layers.py"

# mk_tree: a tree of three floors, top / mid / low, that passes.
mk_tree() {
	T=$BATS_TEST_TMPDIR/tree
	mkdir -p "$T/tests" "$T/top" "$T/mid" "$T/low"
	printf '# floors\ntop\nmid\nlow\n' >"$T/tests/layers.txt"
	printf '#include "../mid/m.h"\n#include "../low/l.h"\n' >"$T/top/t.c"
	printf '#include "m.h"\n#include "../low/l.h"\n' >"$T/mid/m.c"
	: >"$T/mid/m.h"
	printf '#include "l.h"\n' >"$T/low/l.c"
	: >"$T/low/l.h"
}

@test "the source tree: every include runs down the declared floors, no circle" {
	run python3 "$CHECK"
	assert_success
	[[ $output == "layers: ok ("* ]] || flunk "unexpected output" "$output"
}

@test "a small tree that keeps the rules passes" {
	mk_tree
	run python3 "$CHECK" "$T"
	assert_success
	[[ $output == "layers: ok (5 files, 3 folders)" ]] || flunk "unexpected output" "$output"
}

@test "a folder that includes one above it fails, naming both files" {
	mk_tree
	printf '#include "../top/t.h"\n' >>"$T/low/l.c"
	: >"$T/top/t.h"
	run python3 "$CHECK" "$T"
	assert_failure
	[[ $output == *"low/l.c includes top/t.h: folder top is above it"* ]] ||
		flunk "no finding naming low/l.c" "$output"
}

@test "two folders on one floor may not include each other" {
	mk_tree
	printf '# floors\ntop\nmid low\n' >"$T/tests/layers.txt"
	run python3 "$CHECK" "$T"
	assert_failure
	[[ $output == *"mid/m.c includes low/l.h: folder low is beside it"* ]] ||
		flunk "no finding naming mid/m.c" "$output"
}

@test "files of one folder that include each other in a circle fail" {
	mk_tree
	printf '#include "b.h"\n' >"$T/low/a.h"
	printf '#include "a.h"\n' >"$T/low/b.c"
	: >"$T/low/b.h"
	run python3 "$CHECK" "$T"
	assert_failure
	[[ $output == *"circle of includes: low/a -> low/b -> low/a"* ]] ||
		flunk "no circle reported" "$output"
}

@test "a folder that tests/layers.txt does not declare fails" {
	mk_tree
	mkdir "$T/stray"
	: >"$T/stray/s.c"
	run python3 "$CHECK" "$T"
	assert_failure
	[[ $output == *"stray/s.c: folder stray is not declared"* ]] ||
		flunk "undeclared folder not named" "$output"
}
