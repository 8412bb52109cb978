package repos

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFetch(t *testing.T) {
	payload := []byte("\xed\xab\xee\xdb not really an rpm")
	mux := http.NewServeMux()
	mux.HandleFunc("/epel/zfs-release-3-0.el9.noarch.rpm", func(w http.ResponseWriter, r *http.Request) { w.Write(payload) })
	mux.HandleFunc("/slow.rpm", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/huge.rpm", func(w http.ResponseWriter, r *http.Request) {
		w.Write(make([]byte, maxReleaseSize+1))
	})
	plain := httptest.NewServer(mux)
	defer plain.Close()
	mux.HandleFunc("/downgrade.rpm", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, plain.URL+"/epel/zfs-release-3-0.el9.noarch.rpm", http.StatusFound)
	})
	tls := httptest.NewTLSServer(mux)
	defer tls.Close()

	const elsewhere = "download it elsewhere and set release_rpm to the local path"
	tests := map[string]struct {
		url      string
		insecure bool
		timeout  time.Duration
		want     []byte
		wantErr  string
	}{
		"https": {url: tls.URL + "/epel/zfs-release-3-0.el9.noarch.rpm", want: payload},
		"http refused": {url: plain.URL + "/epel/zfs-release-3-0.el9.noarch.rpm",
			wantErr: "fetching zfs-release from " + plain.URL + "/epel/zfs-release-3-0.el9.noarch.rpm: refusing plain http: use https, or set insecure_release_url = true for a mirror without TLS"},
		"http when insecure": {url: plain.URL + "/epel/zfs-release-3-0.el9.noarch.rpm", insecure: true, want: payload},
		"redirect to http": {url: tls.URL + "/downgrade.rpm",
			wantErr: "fetching zfs-release from " + tls.URL + "/downgrade.rpm: Get \"" + plain.URL + "/epel/zfs-release-3-0.el9.noarch.rpm\": redirected to " + plain.URL + "/epel/zfs-release-3-0.el9.noarch.rpm: refusing plain http: use https, or set insecure_release_url = true for a mirror without TLS; " + elsewhere},
		"not found": {url: tls.URL + "/epel/zfs-release-3-0.el99.noarch.rpm",
			wantErr: "fetching zfs-release from " + tls.URL + "/epel/zfs-release-3-0.el99.noarch.rpm: the server answered 404 Not Found; check the URL, or " + elsewhere},
		"timeout": {url: tls.URL + "/slow.rpm", timeout: 100 * time.Millisecond,
			wantErr: "fetching zfs-release from " + tls.URL + "/slow.rpm: no answer within 100ms"},
		"too large": {url: tls.URL + "/huge.rpm",
			wantErr: "fetching zfs-release from " + tls.URL + "/huge.rpm: the answer is larger than 16 MiB, which no zfs-release package is; check the URL"},
		"ftp": {url: "ftp://zfsonlinux.org/x.rpm",
			wantErr: `fetching zfs-release from ftp://zfsonlinux.org/x.rpm: unsupported URL scheme "ftp": use an https URL, or set release_rpm to a local path`},
		"local path": {url: "/root/zfs-release.rpm",
			wantErr: `fetching zfs-release from /root/zfs-release.rpm: unsupported URL scheme "": use an https URL, or set release_rpm to a local path`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := fetch(context.Background(), tls.Client(), tt.url, tt.insecure, tt.timeout)
			if tt.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(errString(err), tt.wantErr) {
				t.Errorf("error = %v\nwant one starting %q", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestFetchOffline uses a name under .invalid, which never resolves
// (RFC 6761), so the test means the same with or without a network.
func TestFetchOffline(t *testing.T) {
	_, err := Fetch(context.Background(), "https://zfsonlinux.invalid/epel/zfs-release-3-0.el9.noarch.rpm", false, 10*time.Second, nil)
	const want = "fetching zfs-release from https://zfsonlinux.invalid/epel/zfs-release-3-0.el9.noarch.rpm: host is offline or DNS failed: "
	if !strings.HasPrefix(errString(err), want) || !strings.HasSuffix(err.Error(), "; download it elsewhere and set release_rpm to the local path") {
		t.Errorf("error = %v\nwant %q...; download it elsewhere and set release_rpm to the local path", err, want)
	}
}

// TestLoadThroughDNFProxy: the zfs-release download goes through the proxy
// dnf.conf names, with its credentials (an http URL here, so the proxy
// answers the request itself).
func TestLoadThroughDNFProxy(t *testing.T) {
	var seen string
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.URL.String() + " " + r.Header.Get("Proxy-Authorization")
		w.Write([]byte("rpm bytes"))
	}))
	defer proxy.Close()
	h := hostWith(t, map[string]string{DNFConf: "[main]\ngpgcheck=1\nproxy=" + proxy.URL + "\nproxy_username=admin\nproxy_password=s3cret\n"})
	got, err := Load(context.Background(), h, "http://zfsonlinux.invalid/epel/zfs-release-3-0.el9.noarch.rpm", true, 5*time.Second)
	if err != nil || string(got) != "rpm bytes" {
		t.Fatalf("Load = %q, %v", got, err)
	}
	if want := "http://zfsonlinux.invalid/epel/zfs-release-3-0.el9.noarch.rpm Basic YWRtaW46czNjcmV0"; seen != want {
		t.Errorf("the proxy saw %q, want %q", seen, want)
	}
	for name, conf := range map[string]string{"no dnf.conf": "", "no proxy": "[main]\ngpgcheck=1\n", "_none_": "[main]\nproxy=_none_\n"} {
		files := map[string]string{}
		if conf != "" {
			files[DNFConf] = conf
		}
		if u, err := DNFProxy(hostWith(t, files)); u != nil || err != nil {
			t.Errorf("%s: DNFProxy = %v, %v; want none", name, u, err)
		}
	}
}
