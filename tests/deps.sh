#!/bin/sh
# deps.sh [--check] PKG... - install the Debian packages that are missing.
# With --check, only list what is missing and exit 1 if anything is.
# Installing needs root (apt-get); a non-root user gets the command to run.
set -eu
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi

missing=""
for p in "$@"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$check" = 1 ]; then
	echo "missing packages:$missing"
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages:$missing; run: sudo apt-get install$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
