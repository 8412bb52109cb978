#!/usr/bin/env bash
# The seed article's by-hand ZFS-DKMS install on Rocky Linux 9 booted into ELRepo kernel-lt
# ("ZFS-DKMS 方式安装 ZFS" in shared/seeds/dkms-kabi-rocky9-install.txt, 2024-03-06 revision),
# command by command, against an install root instead of a live host. make bench times it
# against `zfsinstall apply` on an identical fresh root (the bed's ELRepo kernel-lt root).
#
# Environment (make bench sets it; to run it by hand, take the values from bench/README.md):
#   ROOT         the install root (what zfsinstall gets as --root)
#   RELEASE_RPM  the zfs-release RPM file (the test bed's Packages.ZFSRelease, the same file
#                zfsinstall installs)
#   KVER         the kernel the host runs (the article's `uname -r`: 6.1.80-1.el9.elrepo.x86_64);
#                inside a root `uname -r` is the machine's kernel, so dkms gets it with -k
#   DNF_ARGS     extra dnf arguments, the same zfsinstall gets with --dnf-arg (on the bed:
#                --disableplugin=local,show-leaves,generate_completion_cache)
#   HOME         a HOME whose .rpmmacros says %_dbpath /var/lib/rpm (dnf has no --dbpath)
#
# Departures from the article, each forced by the root or the bed, none adding work:
#   - every dnf call gets --installroot "$ROOT" $DNF_ARGS -y, exactly what zfsinstall passes
#     (without -y and without a terminal dnf aborts; the article passes -y to most calls);
#   - zfs-release is the bed's file, not https://zfsonlinux.org/epel/zfs-release-2-3.el9...;
#   - `dnf groupinstall "Development Tools"`: the bed has no comps groups, so the call installs
#     the group's members the bed carries, gcc and make (both "Mandatory Packages" of the
#     Development Tools group, group id development, in EL5 and EL7 comps listings; the EL9
#     comps were not checked);
#   - `dnf install openssl-devel`: the bed carries no openssl-devel; the call runs with
#     --setopt=strict=False, so it costs a dnf start and a metadata load but no transaction
#     (on a real host it is a transaction: this makes the by-hand floor cheaper, not dearer);
#   - keys: on a live host dnf imports a repository's gpgkey when it first installs from it;
#     with --installroot it reads gpgkey=file:// paths from the machine, not the root
#     (TESTBED.md trap 7), so the key files the used sections name are imported from the root
#     with rpm --import right before the first transaction that needs them, as zfsinstall does
#     in root mode;
#   - `dkms ...` runs in the root (chroot), with -k "$KVER";
#   - `modprobe zfs` and `lsmod | grep zfs` are left out: nothing loads a module into a root
#     (zfsinstall does not either); `uname -r` is left out (it only shows the running kernel).
set -euo pipefail
: "${ROOT:?set ROOT to the install root}" "${RELEASE_RPM:?set RELEASE_RPM to the zfs-release RPM}"
: "${KVER:?set KVER to the kernel the host runs}"
DNF_ARGS=${DNF_ARGS-}

# shellcheck disable=SC2086 # DNF_ARGS is a list of words
dnf() { command dnf --installroot "$ROOT" $DNF_ARGS -y "$@"; }
rpm() { command rpm --root "$ROOT" --dbpath /var/lib/rpm "$@"; }
in_root() { chroot "$ROOT" "$@"; }
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

# 启用 EPEL(企业 Linux 的额外软件包)存储库
dnf install epel-release -y
# 从官方 OpenZFS 存储库 安装 ZFS 包
dnf install -y "$RELEASE_RPM"
# 默认情况下,ZFS 存储库提供 DKMS 包,为确保您使用的是 DKMS 存储库,您可以运行以下命令进行启用。
dnf config-manager --enable zfs
# dnf groupinstall "Development Tools" -y (see above: the group's members the bed carries)
dnf install gcc make -y
# 删除旧内核开发工具
dnf remove kernel-devel
# 先安装 openssl-devel (not in the bed: see above)
dnf install --setopt=strict=False openssl-devel
import_keys elrepo.repo elrepo-kernel
dnf --disablerepo=\* --enablerepo=elrepo-kernel install -y kernel-lt-devel.x86_64
rpm -qa | grep kernel
# 安装 zfs-dkms (its dependency dkms comes from EPEL, zfs-dkms from the zfs section)
import_keys epel.repo epel
import_keys zfs.repo zfs
dnf install -y zfs-dkms
# 查看 dkms 状态
in_root dkms status
# 安装 zfs(编译安装 zfs): the article's `dkms install zfs/2.1.15`, with the version dkms status shows
version=$(rpm -q --qf '%{VERSION}' zfs-dkms)
in_root dkms install "zfs/$version" -k "$KVER"
# 安装 zfs 命令行工具
dnf install -y zfs
# 验证是否安装成功
in_root dkms status
# 启用 dkms 存储库,禁用 kmod 存储库
dnf config-manager --enable zfs
dnf config-manager --disable zfs-kmod
# 配置开机自动加载
mkdir -p "$ROOT/etc/modules-load.d"
echo "zfs" >>"$ROOT/etc/modules-load.d/zfs.conf"
