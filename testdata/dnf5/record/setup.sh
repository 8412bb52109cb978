#!/bin/bash
# Prepares what pkgmgr's dnf5 recorder (TestRecordDNF5 in pkgmgr/dnf5_record_test.go)
# runs real dnf5 against: small Fedora-41-named test packages (metadata only: the
# names, versions, Provides/Requires/Conflicts of the real ones that matter), three
# file:// repositories and install roots, all inside a Debian chroot that has dnf5.
#
#   debootstrap --variant=minbase --include=dnf5,rpm,createrepo-c sid SID http://deb.debian.org/debian
#   bash testdata/dnf5/record/setup.sh SID
#   go test ./pkgmgr -run TestRecordDNF5 -record-dnf5=SID
#
# The packages are built with the machine's rpmbuild; createrepo_c, rpm and dnf5
# run inside SID. Nothing here is signed: the recordings are about dnf5's command
# line and output, not about signatures (root "unsigned" records the refusal).
set -euo pipefail
SID=${1:?usage: setup.sh SID-CHROOT}
REC=$SID/rec
rm -rf "$REC"
mkdir -p "$REC"/{specs,build,repos/fedora,repos/updates,repos/zfs,files,roots}

# spec NAME VERSION RELEASE ARCH [TAG: VALUE]...
spec() {
	local name=$1 version=$2 release=$3 arch=$4
	shift 4
	local f=$REC/specs/$name-$version-$release.spec
	{
		echo "Name: $name"
		echo "Version: $version"
		echo "Release: $release"
		echo "Summary: zfsinstall dnf5 recording stand-in for $name"
		echo "License: MIT"
		[ "$arch" = noarch ] && echo "BuildArch: noarch"
		for tag in "$@"; do echo "$tag"; done
		echo "%description"
		echo "Metadata-only stand-in for $name, for recording dnf5's behaviour."
		echo "%files"
	} >"$f"
	rpmbuild -bb --quiet --define "_topdir $REC/build" --define "_buildshell /bin/bash" \
		--define "_rpmdir $REC/build/RPMS" --define "dist %{nil}" "$f" >/dev/null
}

kernel() { # kernel VERSION RELEASE
	local v=$1 r=$2 u="$1-$2.x86_64"
	spec kernel-core "$v" "$r" x86_64 "Provides: installonlypkg(kernel)" "Provides: kernel-uname-r = $u" "Provides: kernel-core-uname-r = $u" \
		"Provides: kernel(__alloc_pages) = 0x721dbc2e" "Provides: kernel(write_cache_pages) = 0x30a4cdde"
	spec kernel "$v" "$r" x86_64 "Provides: installonlypkg(kernel)" "Requires: kernel-core-uname-r = $u" \
		"Requires: kernel-core = $v-$r"
	spec kernel-devel "$v" "$r" x86_64 "Provides: installonlypkg(kernel)" "Provides: kernel-devel-uname-r = $u"
	spec kernel-devel-matched "$v" "$r" x86_64 "Requires: kernel-core = $v-$r" "Requires: kernel-devel = $v-$r"
}
kernel 6.11.4 301.fc41
kernel 6.11.5 300.fc41
kernel 6.12.5 200.fc41
spec fedora-release 41 1 noarch "Provides: system-release = 41" "Provides: system-release(releasever) = 41"
spec zfs-release 3 0.fc41 noarch
spec dkms 3.1.4 1.fc41 noarch "Requires: (kernel-devel-matched if kernel-core)"
for v in 2.2.7 2.2.8; do
	spec libzfs5 $v 1.fc41 x86_64
	spec zfs $v 1.fc41 x86_64 "Requires: libzfs5 = $v-1.fc41"
	spec zfs-dkms $v 1.fc41 noarch "Requires: dkms >= 2.2.0.3" "Requires: zfs = $v-1.fc41" \
		"Requires: kernel-devel <= 6.15.999" "Requires: kernel-uname-r >= 4.18"
done
spec kmod-zfs 2.2.7 1.fc41 x86_64 "Requires: zfs = 2.2.7-1.fc41" "Conflicts: zfs-dkms" \
	"Requires: kernel(__alloc_pages) = 0x721dbc2e"

R=$REC/build/RPMS
mv "$R"/*/kernel*-6.11.4-* "$R"/*/dkms-* "$REC"/repos/fedora/
mv "$R"/*/kernel*-6.12.5-* "$REC"/repos/updates/
mv "$R"/*/kernel*-6.11.5-* "$R"/*/kmod-zfs-* "$R"/*/fedora-release-* "$R"/*/zfs-release-* "$REC"/files/
mv "$R"/*/*zfs* "$REC"/repos/zfs/
for repo in fedora updates zfs; do chroot "$SID" createrepo_c -q /rec/repos/$repo; done

# root NAME PACKAGE-FILES...: an install root with its own dnf.conf, os-release,
# zfs.repo (the real fc41 sections, local baseurls) and the given packages.
root() {
	local name=$1
	shift
	local r=$REC/roots/$name
	mkdir -p "$r"/etc/dnf "$r"/etc/yum.repos.d
	printf '[main]\ngpgcheck=0\ninstallonly_limit=3\nbest=True\nskip_if_unavailable=False\n' >"$r"/etc/dnf/dnf.conf
	printf 'NAME="Fedora Linux"\nVERSION_ID=41\nID=fedora\n' >"$r"/etc/os-release
	printf '[fedora]\nname=fedora\nbaseurl=file:///rec/repos/fedora\nenabled=1\ngpgcheck=0\n\n[updates]\nname=updates\nbaseurl=file:///rec/repos/updates\nenabled=1\ngpgcheck=0\n' >"$r"/etc/yum.repos.d/fedora.repo
	printf '[zfs]\nname=zfs\nbaseurl=file:///rec/repos/zfs\nenabled=1\ngpgcheck=0\n\n[zfs-latest]\nname=zfs-latest\nbaseurl=file:///rec/repos/zfs\nenabled=0\ngpgcheck=0\n\n[zfs-testing]\nname=zfs-testing\nbaseurl=file:///rec/repos/zfs\nenabled=0\ngpgcheck=0\n' >"$r"/etc/yum.repos.d/zfs.repo
	local files=()
	for f in "$@"; do files+=("/rec/$f"); done
	chroot "$SID" rpm --root /rec/roots/$name --nodeps --noscripts -i "${files[@]}"
}
base=(files/fedora-release-41-1.noarch.rpm files/zfs-release-3-0.fc41.noarch.rpm
	repos/fedora/kernel-core-6.11.4-301.fc41.x86_64.rpm repos/fedora/kernel-6.11.4-301.fc41.x86_64.rpm)
# fedora41: a fresh Fedora 41 with zfs-release, as testdata/hosts-live/fedora41-dnf5 is.
root fedora41 "${base[@]}"
# kmod: kmod-zfs installed where zfs-dkms is wanted (remove + install in one transaction).
root kmod "${base[@]}" files/kmod-zfs-2.2.7-1.fc41.x86_64.rpm repos/zfs/zfs-2.2.7-1.fc41.x86_64.rpm \
	repos/zfs/libzfs5-2.2.7-1.fc41.x86_64.rpm
# upgrade: two kernels and OpenZFS 2.2.7 installed, installonly_limit=2, the repos
# offer kernel 6.12.5 and OpenZFS 2.2.8: a pending `dnf upgrade`.
root upgrade "${base[@]}" files/kernel-core-6.11.5-300.fc41.x86_64.rpm files/kernel-6.11.5-300.fc41.x86_64.rpm \
	repos/zfs/zfs-2.2.7-1.fc41.x86_64.rpm repos/zfs/libzfs5-2.2.7-1.fc41.x86_64.rpm \
	repos/zfs/zfs-dkms-2.2.7-1.fc41.noarch.rpm repos/fedora/dkms-3.1.4-1.fc41.noarch.rpm
sed -i 's/^installonly_limit=.*/installonly_limit=2/' "$REC"/roots/upgrade/etc/dnf/dnf.conf
# unsigned: zfs.repo checks signatures and its packages are not signed.
root unsigned "${base[@]}"
sed -i '/^\[zfs\]/,/^$/s/^gpgcheck=0/gpgcheck=1/' "$REC"/roots/unsigned/etc/yum.repos.d/zfs.repo
# unreachable: zfs.repo's baseurl leads nowhere.
root unreachable "${base[@]}"
sed -i 's|file:///rec/repos/zfs|file:///rec/repos/gone|' "$REC"/roots/unreachable/etc/yum.repos.d/zfs.repo
echo "prepared $REC"
