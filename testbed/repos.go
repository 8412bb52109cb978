package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// makeRepos links every built RPM into its repositories, runs createrepo_c on each primary
// repository and fills the twins (zfs-latest, zfs-legacy, zfs-2.2 and their -kmod) with the
// same files and metadata.
func (p *Packages) makeRepos(built []jobResult) error {
	for _, r := range repoDefs {
		d, _ := p.RepoDir(r.ID)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, b := range built {
		for _, f := range b.files {
			dest := b.job.route(rpmName(f))
			if dest == "" {
				continue
			}
			for _, id := range strings.Split(dest, "+") {
				d, err := p.RepoDir(id)
				if err != nil {
					return err
				}
				if err := os.Link(f, filepath.Join(d, filepath.Base(f))); err != nil {
					return err
				}
			}
		}
	}
	var primaries []string
	for _, r := range repoDefs {
		if r.TwinOf == "" {
			primaries = append(primaries, r.ID)
		}
	}
	errs := make([]error, len(primaries))
	var wg sync.WaitGroup
	for i, id := range primaries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.createrepo(id)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
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

// createrepo (re)writes a repository's metadata.
func (p *Packages) createrepo(id string) error {
	d, err := p.RepoDir(id)
	if err != nil {
		return err
	}
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
