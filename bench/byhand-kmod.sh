#!/usr/bin/env bash
# The OpenZFS documentation's by-hand kABI-tracking kmod install for EL 8 and newer
# (openzfs/openzfs-docs, docs/Getting Started/RHEL-based distro/index.rst at b0f9846:
# "dnf install https://zfsonlinux.org/epel/zfs-release-3-0$(rpm --eval "%{dist}").noarch.rpm",
# then under "kABI-tracking kmod": "dnf config-manager --disable zfs",
# "dnf config-manager --enable zfs-kmod", "dnf install zfs", and optionally
# "echo zfs >/etc/modules-load.d/zfs.conf"), against an install root instead of a live host.
# make bench times it against `zfsinstall apply` (packaging = "kmod") on an identical fresh
# root (the bed's stock Rocky 9.4 root).
#
# Environment: ROOT, RELEASE_RPM, DNF_ARGS and HOME as in byhand-dkms.sh.
#
# Departures from the docs, each forced by the root or the bed, none adding work:
#   - every dnf call gets --installroot "$ROOT" $DNF_ARGS -y, exactly what zfsinstall passes;
#   - zfs-release is the bed's file (zfs-release-3-0.el9, the same file zfsinstall installs);
#   - the keys the zfs-kmod section names are imported from the root before the install
#     (dnf would import them itself on a live host; with --installroot it reads gpgkey=file://
#     from the machine: TESTBED.md trap 7), as zfsinstall does in root mode.
# The two config-manager calls stay two: the docs give them so, and dnf config-manager
# cannot combine --set-enabled and --set-disabled in one call (TESTBED.md fact 8).
set -euo pipefail
: "${ROOT:?set ROOT to the install root}" "${RELEASE_RPM:?set RELEASE_RPM to the zfs-release RPM}"
DNF_ARGS=${DNF_ARGS-}

# shellcheck disable=SC2086 # DNF_ARGS is a list of words
dnf() { command dnf --installroot "$ROOT" $DNF_ARGS -y "$@"; }
rpm() { command rpm --root "$ROOT" --dbpath /var/lib/rpm "$@"; }
# import_keys FILE SECTION: import the keys SECTION of /etc/yum.repos.d/FILE names.
import_keys() {
	local releasever key
	# shellcheck disable=SC1091 # the root's os-release
	releasever=$(. "$ROOT/etc/os-release" && echo "${VERSION_ID%%.*}")
	while read -r key; do
		rpm --import "$ROOT${key//\$releasever/$releasever}"
	done < <(awk -v s="[$2]" '$0 == s {in_s = 1; next} /^\[/ {in_s = 0}
		in_s && sub(/^gpgkey *= *file:\/\//, "") {print}' "$ROOT/etc/yum.repos.d/$1")
}

dnf install "$RELEASE_RPM"
dnf config-manager --disable zfs
dnf config-manager --enable zfs-kmod
import_keys zfs.repo zfs-kmod
dnf install zfs
mkdir -p "$ROOT/etc/modules-load.d"
echo zfs >"$ROOT/etc/modules-load.d/zfs.conf"
