package repos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"strings"
	"time"

	"github.com/zfsinstall/zfsinstall/host"
)

// maxReleaseSize bounds a download: zfs-release packages are about 14 KiB.
const maxReleaseSize = 16 << 20

// Fetch downloads the zfs-release package at url (https; plain http only
// when insecure is set, and never by a redirect from https otherwise),
// giving up after timeout (0 = no limit beyond ctx). Going offline, a DNS
// failure, a timeout or an HTTP error each give a message saying to
// download the package elsewhere and set release_rpm to the local path.
// The bytes are not verified: pass them to VerifyRelease.
func Fetch(ctx context.Context, url string, insecure bool, timeout time.Duration, proxy *neturl.URL) ([]byte, error) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if proxy != nil {
		t.Proxy = http.ProxyURL(proxy)
	}
	return fetch(ctx, &http.Client{Transport: t}, url, insecure, timeout)
}

// fetch is Fetch with the HTTP client given (tests pass a test server's).
func fetch(ctx context.Context, client *http.Client, rawURL string, insecure bool, timeout time.Duration) ([]byte, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("fetching zfs-release from %s: %s", rawURL, fmt.Sprintf(format, args...))
	}
	const elsewhere = "download it elsewhere and set release_rpm to the local path"
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return nil, fail("not a URL (%v): set release_rpm to an https URL or a local path", err)
	}
	if err := schemeAllowed(u, insecure); err != nil {
		return nil, fail("%v", err)
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c := *client
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		if err := schemeAllowed(req.URL, insecure); err != nil {
			return fmt.Errorf("redirected to %s: %w", req.URL, err)
		}
		return nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, fail("%v", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		var dnsErr *net.DNSError
		var opErr *net.OpError
		switch {
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			within := "before the deadline"
			if timeout > 0 {
				within = "within " + timeout.String()
			}
			return nil, fail("no answer %s (%v); %s", within, err, elsewhere)
		case errors.As(err, &dnsErr), errors.As(err, &opErr) && opErr.Op == "dial":
			return nil, fail("host is offline or DNS failed: %v; %s", err, elsewhere)
		}
		return nil, fail("%v; %s", err, elsewhere)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fail("the server answered %s; check the URL, or %s", resp.Status, elsewhere)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxReleaseSize+1))
	if err != nil {
		return nil, fail("reading the answer: %v; %s", err, elsewhere)
	}
	if len(data) > maxReleaseSize {
		return nil, fail("the answer is larger than %d MiB, which no zfs-release package is; check the URL", maxReleaseSize>>20)
	}
	return data, nil
}

// schemeAllowed accepts https, and http when insecure.
func schemeAllowed(u *neturl.URL, insecure bool) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && insecure:
		return nil
	case u.Scheme == "http":
		return errors.New("refusing plain http: use https, or set insecure_release_url = true for a mirror without TLS")
	}
	return fmt.Errorf("unsupported URL scheme %q: use an https URL, or set release_rpm to a local path", u.Scheme)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Load reads the zfs-release package from src: an https URL (see Fetch),
// fetched through h's dnf proxy when dnf.conf names one (else
// $HTTPS_PROXY), or a local path on the machine zfsinstall runs on. The
// bytes are not verified: pass them to VerifyRelease.
func Load(ctx context.Context, h host.Host, src string, insecure bool, timeout time.Duration) ([]byte, error) {
	if strings.Contains(src, "://") {
		proxy, err := DNFProxy(h)
		if err != nil {
			return nil, err
		}
		return Fetch(ctx, src, insecure, timeout, proxy)
	}
	data, err := ReadLocalRelease(src)
	if err != nil {
		return nil, fmt.Errorf("reading release_rpm: %w", err)
	}
	return data, nil
}

// DNFConf is dnf's configuration file.
const DNFConf = "/etc/dnf/dnf.conf"

// DNFProxy is the proxy dnf.conf's [main] names (proxy=, with
// proxy_username= and proxy_password= as the URL's user), so that the
// zfs-release download goes where dnf's own downloads go; nil when there
// is none (then $HTTPS_PROXY applies, as for any Go program).
func DNFProxy(h host.Host) (*neturl.URL, error) {
	if h == nil {
		return nil, nil
	}
	data, err := h.ReadFile(DNFConf)
	if err != nil {
		return nil, nil
	}
	f, err := Parse(DNFConf, data)
	if err != nil {
		return nil, nil // dnf reports its own configuration errors
	}
	raw, ok, _ := f.Option("main", "proxy")
	if !ok || raw == "" || raw == "_none_" {
		return nil, nil
	}
	u, err := neturl.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s: proxy=%s is not a URL: fix it (dnf cannot use it either)", DNFConf, raw)
	}
	if user, ok, _ := f.Option("main", "proxy_username"); ok && user != "" {
		pass, _, _ := f.Option("main", "proxy_password")
		u.User = neturl.UserPassword(user, pass)
	}
	return u, nil
}
