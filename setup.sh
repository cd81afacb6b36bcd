#!/bin/sh
# The Quick start on any Debian 12, bare or not: installs what the target
# needs (make and a compiler included) with scripts/bootstrap.sh, then runs
# make TARGET. Usage: sh setup.sh demo | check | bench | install | ...
set -eu
cd "$(dirname "$0")"
case "${1:-}" in
check | bench) profile=check ;;
"")
	echo "setup.sh: give a make target: demo, check, bench, install" >&2
	exit 2
	;;
*) profile=build ;;
esac
sh scripts/bootstrap.sh "$profile"
exec make "$@"
