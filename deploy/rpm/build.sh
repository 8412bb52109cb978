#!/usr/bin/env bash
# make rpm: build DIST/zfsinstall-VERSION-RELEASE.ARCH.rpm with rpmbuild.
#
#   deploy/rpm/build.sh DIST VERSION RELEASE BINARY
#
# BINARY is the zfsinstall `make build` made (static, stamped with VERSION): every build
# target ships that one binary. Stages DIST/build/zfsinstall-VERSION/ (it, man page, bash completion,
# recipes, LICENSE, and the license texts of the Go standard library and of every module
# linked into the binary), tars it as Source0 and runs rpmbuild -bb on
# deploy/rpm/zfsinstall.spec. Run from the repository root.
set -euo pipefail
usage="usage: build.sh DIST VERSION RELEASE BINARY"
dist=${1:?$usage}
version=${2:?$usage}
release=${3:?$usage}
binary=${4:?$usage}
go=${GO:-go}
case $version in
*[!0-9A-Za-z.+~_]* | "") echo "build.sh: VERSION $version is not a valid RPM version" >&2; exit 1 ;;
esac

mkdir -p "$dist"
dist=$(cd "$dist" && pwd)
build=$dist/build
stage=$build/zfsinstall-$version
rm -rf "$build"
mkdir -p "$stage/recipes" "$stage/licenses" "$build/SOURCES" "$build/rpmbuild"

# The binary must report the package's version (make build stamps it with -X main.version).
reported=$("$binary" version --json | sed -n 's/^ *"version": "\(.*\)",$/\1/p')
[ "$reported" = "$version" ] || { echo "build.sh: $binary reports version '$reported', not $version: build it with make build" >&2; exit 1; }
# And it must be static: the package promises a binary that runs in any root (readelf is binutils').
if readelf -lW "$binary" | grep -q 'Requesting program interpreter'; then
	echo "build.sh: $binary is dynamically linked; build it with make build (CGO_ENABLED=0)" >&2
	exit 1
fi
install -m 0755 "$binary" "$stage/zfsinstall"
install -m 0644 docs/zfsinstall.8 "$stage/zfsinstall.8"
install -m 0644 deploy/completion/zfsinstall.bash "$stage/zfsinstall.bash"
install -m 0644 recipes/*.hcl "$stage/recipes/"
install -m 0644 LICENSE "$stage/LICENSE"

# License texts of what is linked in: the Go standard library and each module.
mkdir -p "$stage/licenses/go"
install -m 0644 "$("$go" env GOROOT)/LICENSE" "$stage/licenses/go/LICENSE"
main=$("$go" list -m)
"$go" list -deps -f '{{with .Module}}{{.Path}} {{.Dir}}{{end}}' ./cmd/zfsinstall | sort -u |
	while read -r path dir; do
		[ "$path" = "$main" ] && continue
		found=
		for f in "$dir"/LICENSE* "$dir"/LICENCE* "$dir"/COPYING* "$dir"/NOTICE*; do
			[ -f "$f" ] || continue
			mkdir -p "$stage/licenses/$path"
			install -m 0644 "$f" "$stage/licenses/$path/"
			found=1
		done
		[ -n "$found" ] || { echo "build.sh: module $path has no license file in $dir" >&2; exit 1; }
	done

tar -C "$build" --sort=name --owner=0 --group=0 --numeric-owner -czf "$build/SOURCES/zfsinstall-$version.tar.gz" "zfsinstall-$version"

# Debian's rpmbuild runs %install under dash unless told otherwise, and its brp-compress is a
# bash script started as /bin/sh (it fails on `read -d`, leaving the man page uncompressed):
# run both with bash, which EL's rpmbuild does anyway. The license directory is named as on
# EL (/usr/share/licenses/zfsinstall, where Debian's rpm adds -VERSION). The RPM goes straight
# into DIST under the name the Makefile promises. rpmbuild opens an rpm database even to
# build; Debian's rpm would create ~/.rpmdb for it, so it gets a private one under DIST.
rpmbuild -bb --quiet \
	--define "_dbpath $build/rpmdb" \
	--define "_buildshell /bin/bash" \
	--define "__brp_compress /bin/bash %{_rpmconfigdir}/brp-compress %{?_prefix}" \
	--define "_docdir_fmt %%{NAME}" \
	--define "_topdir $build/rpmbuild" \
	--define "_sourcedir $build/SOURCES" \
	--define "_rpmdir $dist" \
	--define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
	--define "zi_version $version" \
	--define "zi_release $release" \
	deploy/rpm/zfsinstall.spec
ls "$dist"/zfsinstall-"$version"-"$release".*.rpm
