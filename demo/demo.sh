#!/usr/bin/env bash
# make demo: zfsinstall's main job on a real dnf/rpm test bed. The host is the
# seed article's: Rocky 9 booted into ELRepo kernel-lt 6.1.80. Everything
# happens inside an install root under /tmp; the machine's own rpm database,
# dnf cache and repo files are not touched.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=/usr/local/go/bin:$PATH
if [ "$(id -u)" != 0 ]; then
	echo "make demo must run as root: rpm and dnf install into a test root, and dkms runs in it through chroot." >&2
	exit 1
fi
work=$(mktemp -d /tmp/zfsinstall-demo.XXXXXX)
start=$(date +%s%N)
go run ./testbed/cmd/mkbed -dir "$work" -host elrepo-lt > "$work/env"
# shellcheck disable=SC1091
. "$work/env"
# The root's /usr is an overlay over the machine's and /proc is mounted in it (testbed/overlay.go).
trap 'umount -R "$ROOT/usr" "$ROOT/proc" 2>/dev/null || true' EXIT
cat > "$work/zfsinstall.hcl" <<HCL
# The ELRepo kernel-lt host of the source article. packaging = "auto" chooses DKMS for it.
zfs {
  release_rpm = "$RELEASE_RPM" # the test bed's zfs-release, signed with its throwaway key
}
module {
  options = { zfs_arc_max = "8589934592" }
}
HCL

zi() {
	printf '\n\033[1m$ zfsinstall %s\033[0m\n' "$*"
	# The bed's dnf argument through the environment: verify takes no --dnf-arg (it runs no dnf).
	HOME="$BED_HOME" ZFSINSTALL_DNF_ARGS="$DNF_ARG" bin/zfsinstall "$@" --root "$ROOT"
}
zi plan -f "$work/zfsinstall.hcl" --release-key "$RELEASE_KEY"
zi apply -f "$work/zfsinstall.hcl" --release-key "$RELEASE_KEY" --auto-approve
set +e
zi plan -f "$work/zfsinstall.hcl" --release-key "$RELEASE_KEY" -detailed-exitcode
echo "(plan -detailed-exitcode exited $?: 0 means no changes)"
set -e
zi verify -f "$work/zfsinstall.hcl"
printf '\nWhat the real dkms built:\n'
chroot "$ROOT" dkms status
printf '\nDemo finished in %d ms. The root is at %s (rm -rf %s to remove it).\n' "$(( ($(date +%s%N) - start) / 1000000 ))" "$ROOT" "$work"
