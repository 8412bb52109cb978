package views

import (
	"fmt"
	"io"
)

// VersionInfo is what zfsinstall version reports about the binary.
type VersionInfo struct {
	FormatVersion string `json:"format_version"`
	// Version is the release (make build sets it from the VERSION file
	// with -ldflags -X main.version=...); without it, the module version.
	Version string `json:"version"`
	// Module and ModuleVersion are from the build info ("(devel)" for a
	// build from a source tree, a pseudo-version when the tree is a git
	// checkout Go could read).
	Module        string `json:"module"`
	ModuleVersion string `json:"module_version"`
	// Commit, CommitTime and Modified are what make build stamped from
	// git, else the VCS stamp of the build info (vcs.revision, vcs.time,
	// vcs.modified); empty when the build had neither (a plain go build
	// with -buildvcs=false, or no git).
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	Modified   bool   `json:"modified,omitempty"`
	Go         string `json:"go"`
	Platform   string `json:"platform"`
}

// Version prints v, as JSON or for people.
func Version(w io.Writer, v VersionInfo, json bool) {
	if json {
		writeJSON(w, v)
		return
	}
	fmt.Fprintf(w, "zfsinstall %s\n", v.Version)
	// "(devel)" (a build from a source tree) says nothing the release and
	// commit lines do not say better.
	if v.ModuleVersion == "(devel)" {
		fmt.Fprintf(w, "module %s\n", v.Module)
	} else {
		fmt.Fprintf(w, "module %s %s\n", v.Module, v.ModuleVersion)
	}
	if v.Commit != "" {
		fmt.Fprintf(w, "commit %s", v.Commit)
		if v.CommitTime != "" {
			fmt.Fprintf(w, " (%s)", v.CommitTime)
		}
		if v.Modified {
			fmt.Fprint(w, ", with uncommitted changes")
		}
		fmt.Fprintln(w)
	} else {
		fmt.Fprintln(w, "commit unknown (built without VCS information)")
	}
	fmt.Fprintf(w, "built with %s for %s\n", v.Go, v.Platform)
}
