# secuser.sh - sourced by tests that act as an unprivileged local user
# (tests/security/*.sh; not a test itself: it is not under tests/*/).
#
#   . tests/lib/secuser.sh
#   secuser_new             -> $SU_USER, $SU_UID, $SU_GID: a throwaway user
#                              with a random name, in the throwaway group
#                              $SU_GROUP (the unmd socket's group)
#   secuser_new_admin       -> $SA_USER, $SA_UID: another throwaway user, a
#                              member of $SA_GROUP (for unmd --admin-group)
#   as_user CMD ARGS...     run CMD as $SU_USER (no capabilities, its own
#                           uid, gid and groups; environment kept)
#   as_admin CMD ARGS...    the same as $SA_USER
#   secuser_unmd            start a root unmd on $SU_SOCK (mode 0660, group
#                           $SU_GROUP, --admin-group $SA_GROUP, as
#                           daemon/unmd.service does); exports UNM_SOCKET
#   secuser_ns              a network namespace $SU_NS (lo up) that unmd,
#                           as_user and as_admin then run in (call first)
#
# Needs root, useradd/userdel/groupadd/groupdel and setpriv; skips (77)
# without them. Everything made here (users, groups, their home-less
# entries, $SU_DIR, unmd) is removed by an EXIT trap, also when the test
# fails. A test adds its own clean-up with secuser_on_exit 'CMD'.
set -u
B=${B:-build}
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root (creates a throwaway user and runs unmd as root)"
for c in useradd userdel groupadd groupdel setpriv; do
	command -v $c >/dev/null || skip "$c not installed"
done
SU_SUF=$(printf '%04x%04x' $RANDOM $RANDOM)
SU_DIR=$(mktemp -d /tmp/unm-sec.XXXXXX)
chmod 0755 "$SU_DIR"
SU_USERS=()
SU_GROUPS=()
SU_PIDS=()
SU_EXTRA=()

secuser_on_exit() { SU_EXTRA+=("$1"); }

secuser_ns() {
	command -v ip >/dev/null || skip "ip(8) not installed"
	SU_NS=unmsec$SU_SUF
	ip netns add "$SU_NS" 2>/dev/null || skip "cannot create network namespaces"
	secuser_on_exit "ip netns del $SU_NS"
	ip -n "$SU_NS" link set lo up
}

secuser_cleanup() {
	local x
	for x in "${SU_PIDS[@]}"; do kill "$x" 2>/dev/null; done
	for x in "${SU_PIDS[@]}"; do wait "$x" 2>/dev/null; done
	for x in "${SU_EXTRA[@]}"; do eval "$x" >/dev/null 2>&1; done
	for x in "${SU_USERS[@]}"; do
		userdel -f "$x" >/dev/null 2>&1
	done
	for x in "${SU_GROUPS[@]}"; do groupdel "$x" >/dev/null 2>&1; done
	rm -rf "$SU_DIR"
}
trap secuser_cleanup EXIT

# _mkuser NAME [GROUPS]: a system user with no home and no login shell
_mkuser() {
	useradd -M -N -r -s /usr/sbin/nologin -g "$SU_GROUP" ${2:+-G "$2"} "$1" ||
		skip "useradd $1 failed"
	SU_USERS+=("$1")
}

_mkgroups() {
	[ -n "${SU_GROUP:-}" ] && return 0
	SU_GROUP=unmsg$SU_SUF
	SA_GROUP=unmsa$SU_SUF
	groupadd -r "$SU_GROUP" || skip "groupadd failed"
	SU_GROUPS+=("$SU_GROUP")
	groupadd -r "$SA_GROUP" || skip "groupadd failed"
	SU_GROUPS+=("$SA_GROUP")
}

secuser_new() {
	_mkgroups
	SU_USER=unms$SU_SUF
	_mkuser "$SU_USER"
	SU_UID=$(id -u "$SU_USER")
	SU_GID=$(id -g "$SU_USER")
}

secuser_new_admin() {
	_mkgroups
	SA_USER=unma$SU_SUF
	_mkuser "$SA_USER" "$SA_GROUP"
	SA_UID=$(id -u "$SA_USER")
}

_as() { # USER CMD...: in $SU_NS when set (the namespace unmd runs in)
	local u=$1; shift
	${SU_NS:+ip netns exec "$SU_NS"} setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups --inh-caps=-all \
		--bounding-set=-all --no-new-privs -- "$@"
}
as_user() { _as "$SU_USER" "$@"; }
as_admin() { _as "$SA_USER" "$@"; }

secuser_unmd() {
	local i
	SU_SOCK=$SU_DIR/run/unmd.sock
	mkdir -p "$SU_DIR/run"
	chmod 0755 "$SU_DIR/run"
	export UNM_SOCKET=$SU_SOCK
	${SU_NS:+ip netns exec "$SU_NS"} "$PWD/$B/unmd" -f -s "$SU_SOCK" -m 0660 -g "$SU_GROUP" --admin-group "$SA_GROUP" \
		"$@" 2> "$SU_DIR/unmd.log" &
	SU_PIDS+=($!)
	SU_UNMD_PID=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$SU_SOCK" ] && return 0
		sleep 0.05
	done
	cat "$SU_DIR/unmd.log"
	fail "unmd did not start"
}

# expect_fail WHAT PATTERN CMD...: CMD must exit non-zero and print
# PATTERN (grep -E) on stdout/stderr; the output is kept in $OUT.
expect_fail() {
	local what=$1 pat=$2; shift 2
	if OUT=$("$@" 2>&1); then
		fail "$what: succeeded ($OUT)"
	fi
	echo "$OUT" | grep -Eq -- "$pat" || fail "$what: expected /$pat/, got: $OUT"
	echo "refused as expected: $what: $OUT"
}

# expect_ok WHAT CMD...
expect_ok() {
	local what=$1; shift
	OUT=$("$@" 2>&1) || fail "$what: $OUT"
	echo "ok: $what"
}
