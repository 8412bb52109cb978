package deploy

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/zfsinstall/zfsinstall/recipes"
)

var rpmBuild struct {
	once     sync.Once
	dir, pkg string
	err      error
}

// zfsinstallRPM builds the package once per test binary with `make rpm DIST=...` (the real
// rpmbuild) and returns its path, dist/zfsinstall-VERSION-1.x86_64.rpm.
func zfsinstallRPM(t *testing.T) string {
	t.Helper()
	need(t, "rpmbuild", "apt-get install rpm")
	mk := need(t, "make", "apt-get install make")
	v := version(t)
	rpmBuild.once.Do(func() {
		if rpmBuild.dir, rpmBuild.err = os.MkdirTemp("", "zfsinstall-rpm-"); rpmBuild.err != nil {
			return
		}
		out, code := run(t, command(repo, nil, mk, "rpm", "DIST="+rpmBuild.dir))
		rpmBuild.pkg = filepath.Join(rpmBuild.dir, "zfsinstall-"+v+"-1.x86_64.rpm")
		if _, err := os.Stat(rpmBuild.pkg); code != 0 || err != nil {
			rpmBuild.err = fmt.Errorf("make rpm: exit %d, %v\n%s", code, err, out)
		}
	})
	if rpmBuild.err != nil {
		t.Fatal(rpmBuild.err)
	}
	return rpmBuild.pkg
}

// queryFile runs rpm -qp on a package file with a private database path: rpm opens its
// database (for the keyring) even to query a file, and Debian's rpm would otherwise create
// ~/.rpmdb on the machine.
func queryFile(t *testing.T, args ...string) string {
	t.Helper()
	return mustRun(t, exec.Command("rpm", append([]string{"--dbpath", t.TempDir(), "-qp"}, args...)...))
}

// TestRPM builds zfsinstall's own package with `make rpm` (rpmbuild), checks its name,
// tags and files, installs it into a test-bed root with rpm and runs the binary from there
// with chroot (`zfsinstall version` must report the VERSION file's version). The root has no C library, so the binary running there also proves it is
// static.
func TestRPM(t *testing.T) {
	man := need(t, "man", "apt-get install man-db")
	h := newBedHost(t, stockKernel)
	pkg := zfsinstallRPM(t)
	v := version(t)

	tags := strings.Fields(queryFile(t, "--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}", pkg))
	if diff := cmp.Diff([]string{"zfsinstall", v, "1", "x86_64"}, tags); diff != "" {
		t.Errorf("name, version, release, arch (-want +got):\n%s", diff)
	}
	files := strings.Fields(queryFile(t, "-l", pkg))
	want := []string{
		"/usr/sbin/zfsinstall",
		"/usr/share/man/man8/zfsinstall.8.gz",
		"/usr/share/bash-completion/completions/zfsinstall",
		"/usr/share/licenses/zfsinstall/LICENSE",
	}
	for _, n := range recipes.Names() {
		want = append(want, "/usr/share/zfsinstall/recipes/"+n+".hcl")
	}
	for _, f := range want {
		if !slices.Contains(files, f) {
			t.Errorf("the package lacks %s; it holds:\n%s", f, strings.Join(files, "\n"))
		}
	}

	// Into the root, with rpm; then run it there.
	h.r.RPM(t, "-i", pkg)
	h.r.RPM(t, "-V", "zfsinstall") // every file as packaged
	out := h.r.Chroot(t, "/usr/sbin/zfsinstall", "recipes")
	if diff := cmp.Diff(recipes.Names(), strings.Fields(out)); diff != "" {
		t.Errorf("chroot ROOT /usr/sbin/zfsinstall recipes (-want +got):\n%s", diff)
	}
	// make build (which make rpm packages) sets the version the binary reports from the
	// VERSION file (-X main.version), never "(devel)".
	for _, args := range [][]string{{"version"}, {"--version"}} {
		if out := h.r.Chroot(t, append([]string{"/usr/sbin/zfsinstall"}, args...)...); !strings.HasPrefix(out, "zfsinstall "+v+"\nmodule github.com/zfsinstall/zfsinstall\n") || strings.Contains(out, "(devel)") {
			t.Errorf("chroot ROOT /usr/sbin/zfsinstall %s does not report version %s:\n%s", args[0], v, out)
		}
	}
	for _, n := range recipes.Names() {
		printed := h.r.Chroot(t, "/usr/sbin/zfsinstall", "recipes", n)
		if shipped := h.r.ReadFile(t, "/usr/share/zfsinstall/recipes/"+n+".hcl"); printed != shipped {
			t.Errorf("recipe %s: /usr/share/zfsinstall/recipes/%s.hcl differs from what the binary prints", n, n)
		}
	}
	page := mustRun(t, command("", []string{"MANWIDTH=80"}, man, "-l", filepath.Join(h.r.Dir, "usr/share/man/man8/zfsinstall.8.gz")))
	if !strings.Contains(strings.Join(strings.Fields(page), " "), "zfsinstall - install OpenZFS") {
		t.Errorf("the installed man page does not render as zfsinstall(8):\n%s", page)
	}

	// The License tag names exactly the licenses of the texts the package ships.
	license := queryFile(t, "--qf", "%{LICENSE}", pkg)
	tagged := strings.Split(license, " AND ")
	sort.Strings(tagged)
	carried := licensesIn(t, filepath.Join(h.r.Dir, "usr/share/licenses/zfsinstall"))
	if diff := cmp.Diff(tagged, carried); diff != "" {
		t.Errorf("License: %s does not match the license texts in the package (-tag +texts):\n%s", license, diff)
	}

	h.r.RPM(t, "-e", "zfsinstall")
	if h.r.Exists("/usr/sbin/zfsinstall") || h.r.Exists("/usr/share/zfsinstall/recipes") {
		t.Error("rpm -e left zfsinstall's files behind")
	}
}

// licenseMarks tell the licenses in a license text apart by phrases each one contains
// (whitespace-normalised); BSD-3-Clause's third clause is worded "Neither the name ..." in most
// texts and "My name ... may not be used ..." in ulikunitz/xz's. A text may carry several (go-textseg: MIT, Apache-2.0 for its
// generators, and the Unicode data notice).
var licenseMarks = map[string][]string{
	"Apache-2.0":       {"Apache License", "Version 2.0"},
	"BSD-3-Clause":     {"Redistribution and use in source and binary forms", "to endorse or promote products derived from this software"},
	"MIT":              {"Permission is hereby granted, free of charge, to any person obtaining a copy of this software and associated documentation files"},
	"MPL-2.0":          {"Mozilla Public License", "2.0"},
	"Unicode-DFS-2016": {"Unicode Data Files", "COPYRIGHT AND PERMISSION NOTICE"},
}

// licensesIn returns the sorted SPDX IDs of the license texts under dir (NOTICE files are
// attributions, not licenses); a text that matches none fails the test.
func licensesIn(t *testing.T, dir string) []string {
	t.Helper()
	set := map[string]bool{}
	ws := regexp.MustCompile(`\s+`)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "NOTICE") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		text := ws.ReplaceAllString(string(b), " ")
		found := false
		for id, marks := range licenseMarks {
			all := true
			for _, m := range marks {
				all = all && strings.Contains(text, m)
			}
			if all {
				set[id], found = true, true
			}
		}
		if !found {
			t.Errorf("%s: a license text zfsinstall does not know; name its license in deploy/rpm/zfsinstall.spec and here", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range set {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}
