#!/bin/sh
# Installs the Debian packages wattprint needs to build, test and demo.
# Idempotent: packages already present are skipped, and nothing runs apt
# when everything is there. Usage: scripts/bootstrap.sh [build|check]
set -eu

build_pkgs="gcc make cmake pkg-config libjansson-dev libcurl4-openssl-dev libsqlite3-dev libmicrohttpd-dev zlib1g-dev"
check_pkgs="clang libclang-rt-14-dev locales sqlite3 time libcmocka-dev python3 python3-pytest python3-yaml python3-venv python3-wheel python3-torch python3-numpy util-linux iproute2 clang-format prometheus prometheus-pushgateway wrk jq chromium curl postgresql munge slurmctld slurmd slurm-client libslurm-dev"

case "${1:-build}" in
build) want="$build_pkgs" ;;
check) want="$build_pkgs $check_pkgs" ;;
*)
	echo "bootstrap.sh: unknown profile '$1' (use build or check)" >&2
	exit 2
	;;
esac

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "bootstrap.sh: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "bootstrap.sh: need root to install$missing; run as root or install them with apt-get" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Update the package lists only when a first install attempt cannot find a package.
# shellcheck disable=SC2086
if ! $sudo apt-get install -y --no-install-recommends $missing; then
	$sudo apt-get update
	$sudo apt-get install -y --no-install-recommends $missing
fi
