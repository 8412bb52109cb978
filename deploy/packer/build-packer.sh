#!/usr/bin/env bash
# make packer: build Packer and the plugins the templates need from the Go module proxy, at
# versions under the Mozilla Public License 2.0, into DIR (default build/packer):
#
#   DIR/bin/packer                                   Packer 1.9.5
#   DIR/plugins/github.com/hashicorp/qemu/...        packer-plugin-qemu 1.0.9
#   DIR/plugins/github.com/hashicorp/ansible/...     packer-plugin-ansible 1.1.2
#
# Why these versions: HashiCorp moved Packer to the Business Source License at 1.10.0; 1.9.5 is
# the newest MPL-2.0 release (its LICENSE, checked below). Debian 12's packer is 1.6.6, which
# predates `packer init` and required_plugins. Of the plugins the proxy serves, qemu 1.0.9 (the
# one Packer 1.9.5 itself bundles) builds with Go 1.26; qemu 1.1.7 needs packer-plugin-sdk
# 0.6.11, which the proxy refuses; ansible 1.1.2 is the newest the proxy serves. Both are
# MPL-2.0 (checked below). Each is built as its authors pinned it: `go build` in the module's
# own directory, with its go.mod and go.sum.
#
# Everything goes under DIR: the module cache (DIR/_gomod, written read-write so `make clean`
# can remove it), the build cache (DIR/_gocache) and the binaries; nothing is cached outside the
# clone. The leading _ keeps the go command from taking the cached sources for packages of this
# module (`go mod tidy`, `go vet ./...` and staticcheck walk the tree). The plugins are installed the way `packer init` lays them out (name with version,
# plugin API x5.0 and platform, and a _SHA256SUM file beside each), so PACKER_PLUGIN_PATH=DIR/plugins
# satisfies the templates' required_plugins without network.
set -euo pipefail
dir=${1:-build/packer}
go=${GO:-go}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export GOMODCACHE=$dir/_gomod GOCACHE=$dir/_gocache GOFLAGS=-modcacherw GOTOOLCHAIN=local CGO_ENABLED=0

# module@version, and the binary it builds (the module's main package is its root).
# Packer last: make packer takes bin/packer as the sign that everything was built.
tools="github.com/hashicorp/packer-plugin-qemu@v1.0.9 github.com/hashicorp/packer-plugin-ansible@v1.1.2 github.com/hashicorp/packer@v1.9.5"
mkdir -p "$dir/bin" "$dir/plugins"
for mv in $tools; do
	mod=${mv%@*} ver=${mv#*@}
	name=${mod##*/}
	src=$("$go" mod download -json "$mv" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
	[ -d "$src" ] || { echo "build-packer.sh: $mv was not downloaded" >&2; exit 1; }
	grep -q '^Mozilla Public License Version 2.0' <(sed -n '1,5p' "$src/LICENSE") ||
		{ echo "build-packer.sh: $mv is not under MPL-2.0 (see $src/LICENSE)" >&2; exit 1; }
	start=$(date +%s)
	if [ "$name" = packer ]; then
		out=$dir/bin/packer
		(cd "$src" && "$go" build -trimpath -o "$out" .)
	else
		# packer init's layout: plugins/HOST/NAMESPACE/TYPE/packer-plugin-TYPE_vVERSION_xAPI_OS_ARCH
		type=${name#packer-plugin-}
		out=$dir/plugins/github.com/hashicorp/$type/${name}_${ver}_x5.0_$("$go" env GOOS)_$("$go" env GOARCH)
		mkdir -p "$(dirname "$out")"
		# A release build: the tag's version.go may still say "dev" (ansible 1.0.x did).
		(cd "$src" && "$go" build -trimpath -ldflags "-X $mod/version.VersionPrerelease=" -o "$out" .)
		sha256sum "$out" | cut -d' ' -f1 > "${out}_SHA256SUM"
	fi
	echo "built $mv in $(($(date +%s) - start)) s: $out"
done
