package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// rogueVendor names a key that signs nothing by default and is installed nowhere: packages
// signed with it (AddSigned) fail the GPG check like packages signed with a wrong key.
const rogueVendor = "rogue"

func (p *Packages) gpgEnv() []string {
	return append(baseEnv(p.home), "GNUPGHOME="+p.gnupg)
}

// makeKeys generates one rsa2048 signing key per vendor (plus the rogue one) in a fresh
// GNUPGHOME and exports the public keys to Dir/keys/RPM-GPG-KEY-testbed-<vendor>.
func (p *Packages) makeKeys() error {
	// A short GNUPGHOME: gpg-agent's socket path must fit in a sockaddr_un.
	g, err := os.MkdirTemp("", "tbgpg")
	if err != nil {
		return err
	}
	p.gnupg = g
	env := p.gpgEnv()
	all := append([]struct{ name, uid string }{}, vendors...)
	all = append(all, struct{ name, uid string }{rogueVendor, "Testbed Rogue Signer <rogue@testbed.invalid>"})
	for _, v := range all {
		if _, err := run(runOpts{Env: env}, p.tools.GPG, "--batch", "--passphrase", "",
			"--quick-gen-key", v.uid, "rsa2048", "sign", "never"); err != nil {
			return err
		}
		out, err := run(runOpts{Env: env}, p.tools.GPG, "--batch", "--with-colons", "--list-keys", "="+v.uid)
		if err != nil {
			return err
		}
		fpr := ""
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
				fpr = f[9]
				break
			}
		}
		if len(fpr) != 40 {
			return fmt.Errorf("no fingerprint for %q in gpg output:\n%s", v.uid, out)
		}
		armored, err := run(runOpts{Env: env}, p.tools.GPG, "--batch", "--armor", "--export", fpr)
		if err != nil {
			return err
		}
		if !strings.Contains(armored, "BEGIN PGP PUBLIC KEY BLOCK") {
			return fmt.Errorf("exporting key %s: no armored key in output:\n%s", fpr, armored)
		}
		file := filepath.Join(p.Dir, "keys", "RPM-GPG-KEY-testbed-"+v.name)
		if err := os.WriteFile(file, []byte(armored), 0o644); err != nil {
			return err
		}
		p.Keys[v.name] = Key{Vendor: v.name, File: file, Fingerprint: strings.ToUpper(fpr),
			KeyID: strings.ToLower(fpr[32:])}
	}
	return nil
}

// sign signs every built RPM with its vendor's key.
func (p *Packages) sign(built []jobResult) error {
	byVendor := map[string][]string{}
	for _, b := range built {
		if b.job.vendor == "" {
			continue
		}
		byVendor[b.job.vendor] = append(byVendor[b.job.vendor], b.files...)
	}
	var names []string
	for v := range byVendor {
		names = append(names, v)
	}
	sort.Strings(names)
	// rpmsign runs gpg once per package: sign in chunks, two at a time.
	var jobs []func() error
	for _, v := range names {
		files := byVendor[v]
		for len(files) > 0 {
			n := min(len(files), 12)
			chunk := files[:n]
			files = files[n:]
			jobs = append(jobs, func() error { return p.signFiles(v, chunk) })
		}
	}
	return runParallel(2, jobs)
}

func (p *Packages) signFiles(vendor string, files []string) error {
	k, ok := p.Keys[vendor]
	if !ok {
		return fmt.Errorf("signing: no key for vendor %q", vendor)
	}
	if p.gnupg == "" {
		return fmt.Errorf("signing: the secret keys are gone (Cleanup ran)")
	}
	// Debian's rpm names the signer gpg2 in %__gpg; Debian has only gpg (TESTBED.md trap 6).
	argv := []string{p.tools.RPMSign, "--define", "__gpg " + p.tools.GPG,
		"--define", "_gpg_name " + k.Fingerprint, "--addsign"}
	if _, err := run(runOpts{Env: p.gpgEnv()}, append(argv, files...)...); err != nil {
		return fmt.Errorf("signing with the %s key: %w", vendor, err)
	}
	return nil
}

// stopAgent ends the gpg-agent that key generation and signing started.
func (p *Packages) stopAgent() {
	if p.gnupg == "" {
		return
	}
	run(runOpts{Env: p.gpgEnv()}, p.tools.GPGConf, "--kill", "gpg-agent")
}
