#!/bin/sh
# zfsinstall in a Packer build: one phase per provisioner, so the build log names the one that
# failed. The same script runs in the EL9 qemu build (el9/, on the VM, root /) and in CI's
# null build (testbed/, on the build machine, against a test-bed install root).
#
#   zfsinstall-image.sh apply       apply the spec (--auto-approve)
#   zfsinstall-image.sh converged   a second plan must have nothing to do (-detailed-exitcode 0)
#   zfsinstall-image.sh verify      zfsinstall verify
#
# Environment: ZFSINSTALL (the binary; default /usr/local/sbin/zfsinstall, where the boot-time
# verify unit and the guard hook expect it), ZFSINSTALL_SPEC (default /etc/zfsinstall.hcl),
# ZFSINSTALL_ROOT (default /: the machine the script runs on), ZFSINSTALL_RELEASE_KEY (optional:
# an armored key that replaces the pinned OpenZFS keys, for mirrors that re-sign), and
# ZFSINSTALL_DNF_ARGS, which zfsinstall reads itself.
set -eu
zi=${ZFSINSTALL:-/usr/local/sbin/zfsinstall}
spec=${ZFSINSTALL_SPEC:-/etc/zfsinstall.hcl}
root=${ZFSINSTALL_ROOT:-/}
key=${ZFSINSTALL_RELEASE_KEY:-}

# plan and apply take --release-key; verify does not.
with_key() {
	if [ -n "$key" ]; then
		"$zi" "$@" --release-key "$key"
	else
		"$zi" "$@"
	fi
}

case ${1:-} in
apply)
	with_key apply -f "$spec" --root "$root" --auto-approve
	;;
converged)
	rc=0
	with_key plan -f "$spec" --root "$root" -detailed-exitcode || rc=$?
	case $rc in
	0) echo "zfsinstall: no changes: the image matches the spec" ;;
	2)
		echo "zfsinstall: the plan still has changes after apply (see above); the image does not converge" >&2
		exit 1
		;;
	*) exit "$rc" ;;
	esac
	;;
verify)
	"$zi" verify -f "$spec" --root "$root"
	;;
*)
	echo "usage: zfsinstall-image.sh apply|converged|verify" >&2
	exit 2
	;;
esac
