package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// makeRepos links every built RPM into its repositories, runs createrepo_c on each primary
// repository and fills the twins (zfs-latest, zfs-legacy, zfs-2.2 and their -kmod) with the
// same files and metadata. Only x86_64 and noarch RPMs go to this (x86_64) tree; the aarch64
// tree is made by makeArchRepos when something first asks for it.
func (p *Packages) makeRepos(built []jobResult) error {
	for _, r := range repoDefs {
		d, _ := p.RepoDir(r.ID)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := p.linkInto(built, "x86_64"); err != nil {
		return err
	}
	var jobs []func() error
	for _, r := range repoDefs {
		if r.TwinOf == "" {
			d, _ := p.RepoDir(r.ID)
			jobs = append(jobs, func() error { return p.createrepoDir(r.ID, d) })
		}
	}
	if err := runParallel(4, jobs); err != nil {
		return err
	}
	for _, r := range repoDefs {
		if r.TwinOf != "" {
			if err := p.copyRepo(r.TwinOf, r.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// makeArchRepos makes the repositories of another architecture (archRepos) from the RPMs of
// that architecture and the noarch ones, and writes their metadata.
func (p *Packages) makeArchRepos(arch string, built []jobResult) error {
	if err := p.linkInto(built, arch); err != nil {
		return err
	}
	var jobs []func() error
	for _, id := range archRepos[arch] {
		d, _ := p.RepoDirArch(id, arch)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		jobs = append(jobs, func() error { return p.createrepoDir(id+" ("+arch+")", d) })
	}
	return runParallel(4, jobs)
}

// linkInto hard-links the RPMs of arch and the noarch ones into their repositories of arch.
func (p *Packages) linkInto(built []jobResult, arch string) error {
	for _, b := range built {
		for _, f := range b.files {
			if a := rpmArch(f); a != arch && a != "noarch" {
				continue
			}
			dest := b.job.route(rpmName(f))
			if dest == "" {
				continue
			}
			for _, id := range strings.Split(dest, "+") {
				if arch != "x86_64" && !slices.Contains(archRepos[arch], id) {
					continue // OpenZFS publishes nothing for this architecture
				}
				d, err := p.RepoDirArch(id, arch)
				if err != nil {
					return err
				}
				if err := os.MkdirAll(d, 0o755); err != nil {
					return err
				}
				if err := os.Link(f, filepath.Join(d, filepath.Base(f))); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// rpmArch returns the architecture of an RPM file name "name-version-release.arch.rpm".
func rpmArch(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), ".rpm")
	return base[strings.LastIndex(base, ".")+1:]
}

// createrepo (re)writes the metadata of an x86_64 repository.
func (p *Packages) createrepo(id string) error {
	d, err := p.RepoDir(id)
	if err != nil {
		return err
	}
	return p.createrepoDir(id, d)
}

func (p *Packages) createrepoDir(id, d string) error {
	if _, err := run(runOpts{Env: baseEnv(p.home)}, p.tools.Createrepo, "--quiet", "--no-database",
		"--workers", "1", d); err != nil {
		return fmt.Errorf("createrepo_c for %s: %w", id, err)
	}
	return nil
}

// copyRepo makes dst a copy of src: the RPMs hard-linked, the metadata copied (its locations
// are relative, so it is valid in both places).
func (p *Packages) copyRepo(src, dst string) error {
	s, err := p.RepoDir(src)
	if err != nil {
		return err
	}
	d, err := p.RepoDir(dst)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(d); err != nil {
		return err
	}
	return filepath.WalkDir(s, func(path string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(s, path)
		target := filepath.Join(d, rel)
		switch {
		case e.IsDir():
			return os.MkdirAll(target, 0o755)
		case strings.HasSuffix(path, ".rpm"):
			return os.Link(path, target)
		default:
			return copyFile(path, target, 0o644)
		}
	})
}
