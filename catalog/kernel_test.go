package catalog

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// kernelCases are real uname -r shapes (from RHEL, Rocky, Alma, Oracle,
// CentOS Stream, ELRepo, Fedora and non-EL hosts), plus a few that pin a
// rule down.
var kernelCases = map[string]struct {
	release, owner string
	want           KernelInfo
}{
	"el9.4 z-stream":                 {release: "5.14.0-427.13.1.el9_4.x86_64", owner: "kernel-core", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "427.13.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 9, ELMinor: "9.4"}},
	"el8.10 GA":                      {release: "4.18.0-553.el8_10.x86_64", owner: "kernel-core", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "553", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 8, ELMinor: "8.10"}},
	"el8.10 z-stream":                {release: "4.18.0-553.16.1.el8_10.x86_64", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "553.16.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 8, ELMinor: "8.10"}},
	"el10.0":                         {release: "6.12.0-55.9.1.el10_0.x86_64", want: KernelInfo{Version: "6.12.0", Upstream: "6.12", Build: "55.9.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 10, ELMinor: "10.0"}},
	"el10.1":                         {release: "6.12.0-124.38.1.el10_1.x86_64", want: KernelInfo{Version: "6.12.0", Upstream: "6.12", Build: "124.38.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 10, ELMinor: "10.1"}},
	"el9.0 GA":                       {release: "5.14.0-70.13.1.el9_0.x86_64", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "70.13.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 9, ELMinor: "9.0"}},
	"el9.5":                          {release: "5.14.0-503.40.1.el9_5.x86_64", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "503.40.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 9, ELMinor: "9.5"}},
	"el9.7":                          {release: "5.14.0-611.36.1.el9_7.x86_64", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "611.36.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 9, ELMinor: "9.7"}},
	"el8.9":                          {release: "4.18.0-513.11.1.el8_9.x86_64", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "513.11.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 8, ELMinor: "8.9"}},
	"el8.4 EUS":                      {release: "4.18.0-305.150.1.el8_4.x86_64", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "305.150.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 8, ELMinor: "8.4"}},
	"el9 minor newer than the table": {release: "5.14.0-740.1.1.el9_9.x86_64", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "740.1.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 9, ELMinor: "9.9"}},
	"oracle respin after dist tag":   {release: "4.18.0-372.9.1.el8_6.0.1.x86_64", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "372.9.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 8, ELMinor: "8.6"}},
	"rocky respin":                   {release: "5.14.0-362.18.1.el9_3.0.1.x86_64", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "362.18.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 9, ELMinor: "9.3"}},
	"oracle RHCK el9":                {release: "5.14.0-70.13.1.0.3.el9_0.x86_64", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "70.13.1.0.3", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 9, ELMinor: "9.0"}},
	"oracle RHCK el8 GA respin without minor": {release: "4.18.0-348.el8.0.2.x86_64", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "348", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 8, ELMinor: "8.5"}},
	"el8.7 GA tagged plain el8":               {release: "4.18.0-425.3.1.el8.x86_64", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "425.3.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 8, ELMinor: "8.7"}},
	"el8.2 GA tagged plain el8":               {release: "4.18.0-193.el8.x86_64", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "193", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 8, ELMinor: "8.2"}},
	"el7.9 GA":                                {release: "3.10.0-1160.el7.x86_64", owner: "kernel", want: KernelInfo{Version: "3.10.0", Upstream: "3.10", Build: "1160", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 7, ELMinor: "7.9"}},
	"el7.9 z-stream":                          {release: "3.10.0-1160.119.1.el7.x86_64", want: KernelInfo{Version: "3.10.0", Upstream: "3.10", Build: "1160.119.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 7, ELMinor: "7.9"}},
	"el7.0 without arch":                      {release: "3.10.0-123.20.1.el7", want: KernelInfo{Version: "3.10.0", Upstream: "3.10", Build: "123.20.1", Flavor: FlavorStock, ELMajor: 7, ELMinor: "7.0"}},
	"el7 debug":                               {release: "3.10.0-1160.83.1.el7.x86_64.debug", want: KernelInfo{Version: "3.10.0", Upstream: "3.10", Build: "1160.83.1", Flavor: FlavorStock, Variant: VariantDebug, Arch: "x86_64", ELMajor: 7, ELMinor: "7.9"}},
	"el7 build not in the table":              {release: "3.10.0-1234.el7.x86_64", want: KernelInfo{Version: "3.10.0", Upstream: "3.10", Build: "1234", Flavor: FlavorOther, Arch: "x86_64", ELMajor: 7}},
	"el9 rt":                                  {release: "5.14.0-427.13.1.el9_4.x86_64+rt", owner: "kernel-rt-core", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "427.13.1", Flavor: FlavorStock, Variant: VariantRT, Arch: "x86_64", ELMajor: 9, ELMinor: "9.4"}},
	"el9.0 rt in the release":                 {release: "5.14.0-70.13.1.rt21.83.el9_0.x86_64", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "70.13.1.rt21.83", Flavor: FlavorStock, Variant: VariantRT, Arch: "x86_64", ELMajor: 9, ELMinor: "9.0"}},
	"el8 rt":                                  {release: "4.18.0-553.rt7.342.el8_10.x86_64", owner: "kernel-rt-core", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "553.rt7.342", Flavor: FlavorStock, Variant: VariantRT, Arch: "x86_64", ELMajor: 8, ELMinor: "8.10"}},
	"el8 rt with a +rt suffix too":            {release: "4.18.0-553.rt7.342.el8_10.x86_64+rt", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "553.rt7.342", Flavor: FlavorStock, Variant: VariantRT, Arch: "x86_64", ELMajor: 8, ELMinor: "8.10"}},
	"el9 rt-debug":                            {release: "5.14.0-503.23.1.el9_5.x86_64+rt-debug", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "503.23.1", Flavor: FlavorStock, Variant: VariantRTDebug, Arch: "x86_64", ELMajor: 9, ELMinor: "9.5"}},
	"el9 debug":                               {release: "5.14.0-427.13.1.el9_4.x86_64+debug", owner: "kernel-debug-core", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "427.13.1", Flavor: FlavorStock, Variant: VariantDebug, Arch: "x86_64", ELMajor: 9, ELMinor: "9.4"}},
	"el8 debug":                               {release: "4.18.0-553.el8_10.x86_64+debug", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "553", Flavor: FlavorStock, Variant: VariantDebug, Arch: "x86_64", ELMajor: 8, ELMinor: "8.10"}},
	"el9 64k":                                 {release: "5.14.0-427.13.1.el9_4.aarch64+64k", owner: "kernel-64k-core", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "427.13.1", Flavor: FlavorStock, Variant: Variant64k, Arch: "aarch64", ELMajor: 9, ELMinor: "9.4"}},
	"el10 64k":                                {release: "6.12.0-55.9.1.el10_0.aarch64+64k", want: KernelInfo{Version: "6.12.0", Upstream: "6.12", Build: "55.9.1", Flavor: FlavorStock, Variant: Variant64k, Arch: "aarch64", ELMajor: 10, ELMinor: "10.0"}},
	"el8 ppc64le":                             {release: "4.18.0-553.el8_10.ppc64le", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "553", Flavor: FlavorStock, Arch: "ppc64le", ELMajor: 8, ELMinor: "8.10"}},
	"el9 s390x":                               {release: "5.14.0-427.13.1.el9_4.s390x", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "427.13.1", Flavor: FlavorStock, Arch: "s390x", ELMajor: 9, ELMinor: "9.4"}},
	"trailing newline from uname":             {release: "5.14.0-427.13.1.el9_4.x86_64\n", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "427.13.1", Flavor: FlavorStock, Arch: "x86_64", ELMajor: 9, ELMinor: "9.4"}},
	"stream 9":                                {release: "5.14.0-570.el9.x86_64", owner: "kernel-core", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "570", Flavor: FlavorStream, Arch: "x86_64", ELMajor: 9}},
	"stream 9 rt-debug":                       {release: "5.14.0-290.el9.x86_64+rt-debug", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "290", Flavor: FlavorStream, Variant: VariantRTDebug, Arch: "x86_64", ELMajor: 9}},
	"stream 9 CKI build":                      {release: "5.14.0-528.5693_1539899881.el9.x86_64+rt-debug", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "528.5693_1539899881", Flavor: FlavorStream, Variant: VariantRTDebug, Arch: "x86_64", ELMajor: 9}},
	"stream 9 64k-debug":                      {release: "5.14.0-327.el9.aarch64+64k-debug", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "327", Flavor: FlavorStream, Variant: Variant64kDebug, Arch: "aarch64", ELMajor: 9}},
	"stream 10":                               {release: "6.12.0-55.el10.x86_64", want: KernelInfo{Version: "6.12.0", Upstream: "6.12", Build: "55", Flavor: FlavorStream, Arch: "x86_64", ELMajor: 10}},
	"el8 build not in the table":              {release: "4.18.0-552.el8.x86_64", want: KernelInfo{Version: "4.18.0", Upstream: "4.18", Build: "552", Flavor: FlavorStream, Arch: "x86_64", ELMajor: 8}},
	"el10 development kernel before 6.12":     {release: "6.10.0-15.el10.x86_64+rt-debug", want: KernelInfo{Version: "6.10.0", Upstream: "6.10", Build: "15", Flavor: FlavorOther, Variant: VariantRTDebug, Arch: "x86_64", ELMajor: 10}},
	"uek7 el8":                                {release: "5.15.0-101.103.2.1.el8uek.x86_64", owner: "kernel-uek-core", want: KernelInfo{Version: "5.15.0", Upstream: "5.15", Build: "101.103.2.1", Flavor: FlavorUEK, Arch: "x86_64", ELMajor: 8}},
	"uek7 el9":                                {release: "5.15.0-300.163.18.el9uek.x86_64", owner: "kernel-uek-core", want: KernelInfo{Version: "5.15.0", Upstream: "5.15", Build: "300.163.18", Flavor: FlavorUEK, Arch: "x86_64", ELMajor: 9}},
	"uek7 el9 early":                          {release: "5.15.0-2.52.3.el9uek.x86_64", want: KernelInfo{Version: "5.15.0", Upstream: "5.15", Build: "2.52.3", Flavor: FlavorUEK, Arch: "x86_64", ELMajor: 9}},
	"uek8 el9":                                {release: "6.12.0-105.51.5.el9uek.x86_64", want: KernelInfo{Version: "6.12.0", Upstream: "6.12", Build: "105.51.5", Flavor: FlavorUEK, Arch: "x86_64", ELMajor: 9}},
	"uek8 el10":                               {release: "6.12.0-104.43.4.3.el10uek.x86_64", want: KernelInfo{Version: "6.12.0", Upstream: "6.12", Build: "104.43.4.3", Flavor: FlavorUEK, Arch: "x86_64", ELMajor: 10}},
	"uek6 el8":                                {release: "5.4.17-2102.202.5.el8uek.x86_64", want: KernelInfo{Version: "5.4.17", Upstream: "5.4", Build: "2102.202.5", Flavor: FlavorUEK, Arch: "x86_64", ELMajor: 8}},
	"uek6 el7":                                {release: "5.4.17-2036.101.2.el7uek.x86_64", owner: "kernel-uek", want: KernelInfo{Version: "5.4.17", Upstream: "5.4", Build: "2036.101.2", Flavor: FlavorUEK, Arch: "x86_64", ELMajor: 7}},
	"elrepo lt by owner":                      {release: "6.1.80-1.el9.elrepo.x86_64", owner: "kernel-lt-core", want: KernelInfo{Version: "6.1.80", Upstream: "6.1", Build: "1", Flavor: FlavorELRepoLT, Arch: "x86_64", ELMajor: 9}},
	"elrepo lt guessed from the series":       {release: "6.1.80-1.el9.elrepo.x86_64", want: KernelInfo{Version: "6.1.80", Upstream: "6.1", Build: "1", Flavor: FlavorELRepoLT, Arch: "x86_64", ELMajor: 9}},
	"elrepo ml by owner beats the guess":      {release: "6.1.80-1.el9.elrepo.x86_64", owner: "kernel-ml-core", want: KernelInfo{Version: "6.1.80", Upstream: "6.1", Build: "1", Flavor: FlavorELRepoML, Arch: "x86_64", ELMajor: 9}},
	"elrepo lt 6.1.45 guessed":                {release: "6.1.45-1.el9.elrepo.x86_64", want: KernelInfo{Version: "6.1.45", Upstream: "6.1", Build: "1", Flavor: FlavorELRepoLT, Arch: "x86_64", ELMajor: 9}},
	"elrepo el7 lt 5.4 guessed":               {release: "5.4.219-1.el7.elrepo.x86_64", want: KernelInfo{Version: "5.4.219", Upstream: "5.4", Build: "1", Flavor: FlavorELRepoLT, Arch: "x86_64", ELMajor: 7}},
	"elrepo el7 lt 4.4 by owner":              {release: "4.4.219-1.el7.elrepo.x86_64", owner: "kernel-lt", want: KernelInfo{Version: "4.4.219", Upstream: "4.4", Build: "1", Flavor: FlavorELRepoLT, Arch: "x86_64", ELMajor: 7}},
	"elrepo el8 lt 5.15 guessed":              {release: "5.15.199-1.el8.elrepo.x86_64", want: KernelInfo{Version: "5.15.199", Upstream: "5.15", Build: "1", Flavor: FlavorELRepoLT, Arch: "x86_64", ELMajor: 8}},
	"elrepo el9 ml 6.0 guessed":               {release: "6.0.2-1.el9.elrepo.aarch64", want: KernelInfo{Version: "6.0.2", Upstream: "6.0", Build: "1", Flavor: FlavorELRepoML, Arch: "aarch64", ELMajor: 9}},
	"elrepo el9 ml by owner":                  {release: "6.12.9-1.el9.elrepo.x86_64", owner: "kernel-ml-core", want: KernelInfo{Version: "6.12.9", Upstream: "6.12", Build: "1", Flavor: FlavorELRepoML, Arch: "x86_64", ELMajor: 9}},
	"elrepo el7 lt 6.1 guessed":               {release: "6.1.158-1.el7.elrepo.x86_64", want: KernelInfo{Version: "6.1.158", Upstream: "6.1", Build: "1", Flavor: FlavorELRepoLT, Arch: "x86_64", ELMajor: 7}},
	"elrepo el8 6.1 is ml (lt 6.1 reverted)":  {release: "6.1.159-1.el8.elrepo.x86_64", want: KernelInfo{Version: "6.1.159", Upstream: "6.1", Build: "1", Flavor: FlavorELRepoML, Arch: "x86_64", ELMajor: 8}},
	"elrepo el8 lt 5.4 guessed":               {release: "5.4.302-1.el8.elrepo.x86_64", want: KernelInfo{Version: "5.4.302", Upstream: "5.4", Build: "1", Flavor: FlavorELRepoLT, Arch: "x86_64", ELMajor: 8}},
	"elrepo el10 has no lt":                   {release: "6.16.6-1.el10.elrepo.x86_64", want: KernelInfo{Version: "6.16.6", Upstream: "6.16", Build: "1", Flavor: FlavorELRepoML, Arch: "x86_64", ELMajor: 10}},
	"fedora 41":                               {release: "6.11.4-301.fc41.x86_64", owner: "kernel-core", want: KernelInfo{Version: "6.11.4", Upstream: "6.11", Build: "301", Flavor: FlavorFedora, Arch: "x86_64", FedoraRelease: 41}},
	"fedora debug":                            {release: "6.11.4-301.fc41.x86_64+debug", want: KernelInfo{Version: "6.11.4", Upstream: "6.11", Build: "301", Flavor: FlavorFedora, Variant: VariantDebug, Arch: "x86_64", FedoraRelease: 41}},
	"fedora rawhide rc":                       {release: "6.12.0-0.rc5.44.fc42.x86_64", want: KernelInfo{Version: "6.12.0", Upstream: "6.12", Build: "0.rc5.44", Flavor: FlavorFedora, Arch: "x86_64", FedoraRelease: 42}},
	"empty":                                   {release: "", want: KernelInfo{Flavor: FlavorOther}},
	"garbage":                                 {release: "garbage", want: KernelInfo{Flavor: FlavorOther}},
	"ubuntu":                                  {release: "6.8.0-45-generic", want: KernelInfo{Version: "6.8.0", Upstream: "6.8", Flavor: FlavorOther}},
	"debian":                                  {release: "5.10.0-32-amd64", want: KernelInfo{Version: "5.10.0", Upstream: "5.10", Flavor: FlavorOther}},
	"debian with plus signs":                  {release: "6.12.74+deb13+1-cloud-amd64", want: KernelInfo{Version: "6.12.74", Upstream: "6.12", Flavor: FlavorOther}},
	"suse":                                    {release: "6.4.0-150600.23.47-default", want: KernelInfo{Version: "6.4.0", Upstream: "6.4", Flavor: FlavorOther}},
	"azure":                                   {release: "4.12.14-16.200-azure", want: KernelInfo{Version: "4.12.14", Upstream: "4.12", Flavor: FlavorOther}},
	"el6":                                     {release: "2.6.32-754.el6.x86_64", want: KernelInfo{Version: "2.6.32", Upstream: "2.6", Build: "754", Flavor: FlavorOther, Arch: "x86_64", ELMajor: 6}},
	"rebuilt kernel with an el8 tag":          {release: "5.10.89-1.el8.x86_64", want: KernelInfo{Version: "5.10.89", Upstream: "5.10", Build: "1", Flavor: FlavorOther, Arch: "x86_64", ELMajor: 8}},
	"unknown plus suffix":                     {release: "5.14.0-427.13.1.el9_4.x86_64+weird", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "427.13.1", Flavor: FlavorOther, Arch: "x86_64", ELMajor: 9}},
	"unknown field after the dist tag":        {release: "5.14.0-427.13.1.el9_4.custom.x86_64", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Build: "427.13.1", Flavor: FlavorOther, Arch: "x86_64", ELMajor: 9}},
	"version only":                            {release: "5.14.0", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Flavor: FlavorOther}},
	"dist tag with no build":                  {release: "5.14.0-el9_4.x86_64", want: KernelInfo{Version: "5.14.0", Upstream: "5.14", Flavor: FlavorOther, Arch: "x86_64"}},
}

func TestClassifyKernel(t *testing.T) {
	for name, tc := range kernelCases {
		t.Run(name, func(t *testing.T) {
			want := tc.want
			want.Release = tc.release
			got := ClassifyKernel(tc.release, tc.owner)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ClassifyKernel(%q, %q) mismatch (-want +got):\n%s", tc.release, tc.owner, diff)
			}
		})
	}
}

// TestClassifyKernelTableExamples classifies every example release in
// kernels.tsv: each must be a stock kernel of its own row's minor.
func TestClassifyKernelTableExamples(t *testing.T) {
	n := 0
	for _, r := range data().el.rows {
		if r.example == "" {
			continue
		}
		n++
		t.Run(r.example, func(t *testing.T) {
			got := ClassifyKernel(r.example+".x86_64", "kernel-core")
			want := KernelInfo{Flavor: FlavorStock, ELMajor: r.major, ELMinor: r.minor, Version: r.kernel}
			got = KernelInfo{Flavor: got.Flavor, ELMajor: got.ELMajor, ELMinor: got.ELMinor, Version: got.Version}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if n < 20 {
		t.Errorf("only %d example releases in kernels.tsv", n)
	}
}

func TestELMinorForBuild(t *testing.T) {
	type result struct {
		Minor string
		OK    bool
	}
	tests := map[string]struct {
		major, build int
		want         result
	}{
		"el7.9":                  {7, 1160, result{"7.9", true}},
		"el7.0":                  {7, 123, result{"7.0", true}},
		"el8.10":                 {8, 553, result{"8.10", true}},
		"el8.0":                  {8, 80, result{"8.0", true}},
		"el9.4":                  {9, 427, result{"9.4", true}},
		"el9.8":                  {9, 687, result{"9.8", true}},
		"el10.0":                 {10, 55, result{"10.0", true}},
		"el10.2":                 {10, 211, result{"10.2", true}},
		"no GA kernel has it":    {9, 571, result{}},
		"build of another major": {8, 427, result{}},
		"unknown major":          {11, 55, result{}},
		"zero":                   {9, 0, result{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var got result
			got.Minor, got.OK = ELMinorForBuild(tc.major, tc.build)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ELMinorForBuild(%d, %d) mismatch (-want +got):\n%s", tc.major, tc.build, diff)
			}
		})
	}
}

func TestParseELTableMalformed(t *testing.T) {
	const header = "el_minor\tkernel_version\tga_build\texample_release\n"
	tests := map[string]struct {
		text string
		want string
	}{
		"no header":        {"9.4\t5.14.0\t427\t\n", "header"},
		"wrong header":     {"minor\tkernel\tbuild\texample\n9.4\t5.14.0\t427\t\n", "header"},
		"short row":        {header + "9.4\t5.14.0\t427\n", "fields"},
		"bad minor":        {header + "9\t5.14.0\t427\t\n", "el_minor"},
		"bad build":        {header + "9.4\t5.14.0\tx\t\n", "ga_build"},
		"duplicate build":  {header + "9.4\t5.14.0\t427\t\n9.5\t5.14.0\t427\t\n", "already belongs"},
		"duplicate minor":  {header + "9.4\t5.14.0\t427\t\n9.4\t5.14.0\t503\t\n", "twice"},
		"kernel changes":   {header + "9.4\t5.14.0\t427\t\n9.5\t5.15.0\t503\t\n", "differs"},
		"example mismatch": {header + "9.4\t5.14.0\t427\t5.14.0-503.1.1.el9_5\n", "example_release"},
		"no rows":          {"# comment\n" + header, "no rows"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseELTable([]byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("parseELTable error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

var flavors = []Flavor{FlavorStock, FlavorStream, FlavorELRepoLT, FlavorELRepoML, FlavorUEK, FlavorFedora, FlavorOther}
var variants = []Variant{VariantNone, VariantRT, VariantDebug, Variant64k, VariantRTDebug, Variant64kDebug}

func FuzzClassifyKernel(f *testing.F) {
	for _, tc := range kernelCases {
		f.Add(tc.release, tc.owner)
	}
	f.Add("5.14.0-.el9_4.x86_64", "")
	f.Add("1.2-3.el99999999999999999999_1", "kernel-lt")
	f.Add("+", "")
	f.Fuzz(func(t *testing.T, release, owner string) {
		k := ClassifyKernel(release, owner)
		if k.Release != release {
			t.Errorf("Release = %q, want %q", k.Release, release)
		}
		if !slices.Contains(flavors, k.Flavor) {
			t.Errorf("Flavor = %q, not one of %q", k.Flavor, flavors)
		}
		if !slices.Contains(variants, k.Variant) {
			t.Errorf("Variant = %q, not one of %q", k.Variant, variants)
		}
		switch k.Flavor {
		case FlavorStock:
			if k.ELMajor < 7 || !strings.HasPrefix(k.ELMinor, strconv.Itoa(k.ELMajor)+".") {
				t.Errorf("stock kernel with ELMajor %d, ELMinor %q", k.ELMajor, k.ELMinor)
			}
		case FlavorStream, FlavorUEK, FlavorELRepoLT, FlavorELRepoML:
			if k.ELMajor < 7 || k.ELMinor != "" {
				t.Errorf("%s kernel with ELMajor %d, ELMinor %q", k.Flavor, k.ELMajor, k.ELMinor)
			}
		case FlavorFedora:
			if k.FedoraRelease <= 0 || k.ELMajor != 0 {
				t.Errorf("fedora kernel with FedoraRelease %d, ELMajor %d", k.FedoraRelease, k.ELMajor)
			}
		}
		if k.Flavor != FlavorOther && (k.Version == "" || k.Upstream == "" || k.Build == "") {
			t.Errorf("%s kernel with Version %q, Upstream %q, Build %q", k.Flavor, k.Version, k.Upstream, k.Build)
		}
	})
}

func BenchmarkClassifyKernel(b *testing.B) {
	releases := []string{
		"5.14.0-427.13.1.el9_4.x86_64",
		"4.18.0-553.rt7.342.el8_10.x86_64",
		"3.10.0-1160.119.1.el7.x86_64",
		"6.1.80-1.el9.elrepo.x86_64",
		"5.15.0-300.163.18.el9uek.x86_64",
		"6.11.4-301.fc41.x86_64",
		"6.8.0-45-generic",
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ClassifyKernel(releases[i%len(releases)], "")
	}
}
