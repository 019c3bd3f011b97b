#!/usr/bin/env bats
# make demo installs only what the demo needs (the build, kcat and jq), and
# that set is enough: every library the program links comes from one of its
# packages, and every command examples/demo.sh runs too.

load helpers

setup() {
        command -v dpkg >/dev/null || skip "no dpkg: not a Debian system"
        DEMO=" $(make -s -C "$ROOT" print-DEMO_DEB_PKGS) "
        ALL=" $(make -s -C "$ROOT" print-DEB_PKGS) "
}

# owner FILE: the Debian package that holds FILE, without its arch.
owner() {
        dpkg -S "$(readlink -f "$1")" 2>/dev/null | sed -n '1s/[:,].*//p'
}

@test "deps: each pkg-config module of the build is in the demo's set" {
        pkgs=$(make -s -C "$ROOT" print-PKGS)
        [ -n "$pkgs" ]
        for m in $pkgs; do
                pc=$(pkg-config --variable=pcfiledir "$m")/$m.pc
                p=$(owner "$pc")
                echo "$m: $pc from '$p'"
                [ -n "$p" ]
                [[ "$DEMO" == *" $p "* ]]
        done
        # libev has no .pc file: its header
        p=$(owner /usr/include/ev.h)
        [[ "$DEMO" == *" $p "* ]]
}

@test "deps: the commands of examples/demo.sh are in the demo's set" {
        for c in kcat jq; do
                grep -q "^[^#]*\b$c " "$ROOT/examples/demo.sh"
                p=$(owner "$(command -v "$c")")
                echo "$c from '$p'"
                [[ "$DEMO" == *" $p "* ]]
        done
}

@test "deps: the demo's set leaves out the test toolchain" {
        for p in openjdk-17-jdk-headless maven bats libcmocka-dev valgrind \
                 pmacct clang; do
                [[ "$ALL" == *" $p "* ]]
                [[ "$DEMO" != *" $p "* ]]
        done
        run make -s -C "$ROOT" -n demo
        [ "$status" -eq 0 ]
        [[ "$output" != *openjdk* ]]
        [[ "$output" != *testbin* ]]
}

@test "deps: what tests/systemd.bats runs is in the test set, libsystemd's headers in the build set" {
	for c in systemd-analyze python3 pgrep setsid; do
		grep -q "$c" "$ROOT/tests/systemd.bats"
		# the system's (a python3 of pyenv's may come first in PATH)
		f=/usr/bin/$c
		[ -x "$f" ] || f=$(command -v "$c")
		# the link's package (python3's, not python3.11-minimal's)
		p=$(dpkg -S "$f" 2>/dev/null | sed -n '1s/[:,].*//p')
		[ -n "$p" ] || p=$(owner "$f")
		echo "$c from '$p'"
		[ -n "$p" ]
		[[ "$ALL" == *" $p "* ]] || [[ "$ALL" == *" ${p%-minimal} "* ]] ||
			[ "$(dpkg-query -W -f='${Essential}' "$p")" = yes ]
	done
	p=$(owner /usr/include/systemd/sd-daemon.h)
	[[ " $(make -s -C "$ROOT" print-BUILD_DEB_PKGS) " == *" $p "* ]]
}
