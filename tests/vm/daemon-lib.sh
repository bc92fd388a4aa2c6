# shellcheck shell=bash
# Helpers of the daemon-*.test VM tests, sourced after tests/lib.sh.
SNAPMGRD=${SNAPMGRD:-$BUILD/daemon/snapmgrd}
WRITER=$TESTS_DIR/vm/daemon-writer.py
DAEMON_PID=""
DAEMON_LOG=$TEST_DIR/snapmgrd.log
DAEMON_SOCK=$TEST_DIR/snapmgrd.sock
CONF=$TEST_DIR/conf
mkdir -p "$CONF"

# start_daemon [ARGS...]: snapmgrd in the background, logging to DAEMON_LOG;
# waits until it is ready (its socket answers).
start_daemon() {
	"$SNAPMGRD" --config-dir "$CONF" --socket "$DAEMON_SOCK" \
		--log-target stderr "$@" >>"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	local i
	for i in $(seq 100); do
		grep -q "started: watching" "$DAEMON_LOG" 2>/dev/null && return 0
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "snapmgrd did not start:"
	cat "$DAEMON_LOG"
	return 1
}

stop_daemon() {
	[ -n "$DAEMON_PID" ] || return 0
	kill "$DAEMON_PID" 2>/dev/null
	wait "$DAEMON_PID" 2>/dev/null
	DAEMON_PID=""
}

# query JSON_LINE: sends one request to the socket, prints the reply line.
query() {
	/usr/bin/python3 - "$DAEMON_SOCK" "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
sys.stdout.write(buf.decode())
PY
}

# snap_state NAME: Active, Invalid, Overflow... from the kernel's status line.
snap_state() {
	local st
	st=$(dmsetup status "$1" 2>/dev/null | awk '{ print $4 }')
	case "$st" in
	*/*) echo Active ;;
	"") echo Gone ;;
	*) echo "$st" ;;
	esac
}

# snap_total NAME: the COW size the kernel reports, in sectors.
snap_total() {
	dmsetup status "$1" | awk '{ split($4, a, "/"); print a[2] }'
}

at_exit stop_daemon
