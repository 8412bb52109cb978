package repos

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/cavaliergopher/rpm"
	"github.com/zfsinstall/zfsinstall/facts"
	"golang.org/x/sys/unix"
)

// rpmFile is a real package with the positions of its two headers, for
// making crafted copies. It is worked out here independently of checkRPM.
type rpmFile struct {
	data          []byte
	sig, main     int // start of each header
	sigIL, mainIL int
	sigDL, mainDL int
	mainEnd       int
	sigPadEnd     int
}

func loadRPM(t *testing.T, name string) rpmFile {
	t.Helper()
	data := readTestFile(t, filepath.Join(releaseDir, name))
	f := rpmFile{data: data, sig: 96}
	f.sigIL = int(binary.BigEndian.Uint32(data[f.sig+8:]))
	f.sigDL = int(binary.BigEndian.Uint32(data[f.sig+12:]))
	sigEnd := f.sig + 16 + 16*f.sigIL + f.sigDL
	f.sigPadEnd = sigEnd + (8-f.sigDL%8)%8
	f.main = f.sigPadEnd
	f.mainIL = int(binary.BigEndian.Uint32(data[f.main+8:]))
	f.mainDL = int(binary.BigEndian.Uint32(data[f.main+12:]))
	f.mainEnd = f.main + 16 + 16*f.mainIL + f.mainDL
	return f
}

// header returns the start, index count of the header "sig" or "main".
func (f rpmFile) header(which string) (start, il int) {
	if which == "sig" {
		return f.sig, f.sigIL
	}
	return f.main, f.mainIL
}

// entry returns the position of the field ("tag", "type", "offset",
// "count") of the i-th index entry (0-based) of a header.
func (f rpmFile) entry(which string, i int, field string) int {
	start, _ := f.header(which)
	fields := map[string]int{"tag": 0, "type": 4, "offset": 8, "count": 12}
	return start + 16 + 16*i + fields[field]
}

func (f rpmFile) get(pos int) uint32 { return binary.BigEndian.Uint32(f.data[pos:]) }

// firstOfType finds the first entry of a header with type typ after the
// region entry.
func (f rpmFile) firstOfType(t *testing.T, which string, typ uint32) int {
	t.Helper()
	_, il := f.header(which)
	for i := 1; i < il; i++ {
		if f.get(f.entry(which, i, "type")) == typ {
			return i
		}
	}
	t.Fatalf("no %s entry in the %s header", typeName(typ), which)
	return -1
}

// firstWithTag finds the entry of a header with tag.
func (f rpmFile) firstWithTag(t *testing.T, which string, tag uint32) int {
	t.Helper()
	_, il := f.header(which)
	for i := 0; i < il; i++ {
		if f.get(f.entry(which, i, "tag")) == tag {
			return i
		}
	}
	t.Fatalf("no tag %d in the %s header", tag, which)
	return -1
}

// put returns a copy of data with the big-endian uint32 v at pos.
func put(data []byte, pos int, v uint32) []byte {
	out := bytes.Clone(data)
	binary.BigEndian.PutUint32(out[pos:], v)
	return out
}

// craftedPackages mutates the real zfs-release-3-0.el9 package (every
// shape here was accepted by the rpm library before checkRPM, or crashed
// it). want is a substring of the refusal.
func craftedPackages(t *testing.T) map[string]struct {
	data []byte
	want string
} {
	f := loadRPM(t, "zfs-release-3-0.el9.noarch.rpm")
	d := f.data
	strArr := f.firstOfType(t, "main", typeStringArray)
	sigInt32 := f.firstOfType(t, "sig", typeInt32)
	mainInt32 := f.firstOfType(t, "main", typeInt32)
	mainInt16 := f.firstOfType(t, "main", typeInt16)
	mainString := f.firstOfType(t, "main", typeString)
	sigBin := f.firstOfType(t, "sig", typeBin)
	nameEntry := f.firstWithTag(t, "main", 1000)
	sha256Entry := f.firstWithTag(t, "sig", sigTagSHA256)
	// an entry of a string type right after another: both byte-aligned
	strAfterStr := -1
	for i := 2; i < f.mainIL && strAfterStr < 0; i++ {
		if isStr := func(j int) bool { t := f.get(f.entry("main", j, "type")); return t >= typeString && t != typeBin }; isStr(i) && isStr(i-1) {
			strAfterStr = i
		}
	}
	if strAfterStr < 0 {
		t.Fatal("no two string entries in a row")
	}
	count := func(which string, i int) uint32 { return f.get(f.entry(which, i, "count")) }
	offset := func(which string, i int) uint32 { return f.get(f.entry(which, i, "offset")) }
	const damaged = "the zfs-release package is damaged or was tampered with: "
	return map[string]struct {
		data []byte
		want string
	}{
		// The two reproducers of issue 11.
		"reproducer: main header's first STRING_ARRAY count raised (library panicked: slice bounds out of range)": {
			put(d, f.entry("main", strArr, "count"), count("main", strArr)+1000), "strings run past the end"},
		"reproducer: signature header INT32 count 0xffffffff (library allocated 32 GiB: fatal error: out of memory)": {
			put(d, f.entry("sig", sigInt32, "count"), 0xffffffff), "has a count rpm does not accept"},

		// Counts past the store.
		"STRING_ARRAY count 0xffffffff":           {put(d, f.entry("main", strArr, "count"), 0xffffffff), "has a count rpm does not accept"},
		"STRING_ARRAY count 0x0fffffff (rpm max)": {put(d, f.entry("main", strArr, "count"), 0x0fffffff), "strings run past the end"},
		"main INT32 count 0xffffffff":             {put(d, f.entry("main", mainInt32, "count"), 0xffffffff), "has a count rpm does not accept"},
		"main INT32 count past the store":         {put(d, f.entry("main", mainInt32, "count"), uint32(f.mainDL)), "values run past the end"},
		"main INT16 count past the store":         {put(d, f.entry("main", mainInt16, "count"), 0x0ffffff0), "values run past the end"},
		"signature INT32 count past the store":    {put(d, f.entry("sig", sigInt32, "count"), uint32(f.sigDL)), "values run past the end"},
		"signature BIN count past the store":      {put(d, f.entry("sig", sigBin, "count"), uint32(f.sigDL)+1), "values run past the end"},
		"STRING with two values":                  {put(d, f.entry("main", mainString, "count"), 2), "a STRING holds exactly one value"},
		"count zero":                              {put(d, f.entry("main", mainInt32, "count"), 0), "has a count rpm does not accept"},
		"count negative as int32":                 {put(d, f.entry("sig", sigInt32, "count"), 0x80000000), "has a count rpm does not accept"},

		// Offsets.
		"offset past the store":          {put(d, f.entry("main", mainInt32, "offset"), uint32(f.mainDL)+4), "starts past the end"},
		"offset 0xffffffff":              {put(d, f.entry("sig", sigBin, "offset"), 0xffffffff), "starts past the end"},
		"offset negative as int32":       {put(d, f.entry("main", strArr, "offset"), 0x80000000), "starts past the end"},
		"string offset at the store end": {put(d, f.entry("main", mainString, "offset"), uint32(f.mainDL)), "strings run past the end"},
		"INT32 offset not aligned":       {put(d, f.entry("main", mainInt32, "offset"), offset("main", mainInt32)+1), "is not aligned to 4 bytes"},
		"entry overlapping the previous": {put(d, f.entry("main", strAfterStr, "offset"), offset("main", strAfterStr-1)), "overlaps the data of the entry before it"},
		"region trailer past the store":  {put(d, f.entry("main", 0, "offset"), uint32(f.mainDL)-8), "is not a valid region entry"},

		// Index counts and store sizes.
		"main index count 0xffffffff":          {put(d, f.main+8, 0xffffffff), "claims 4294967295 index entries"},
		"main index count negative as int32":   {put(d, f.main+8, 0x80000000), "claims 2147483648 index entries"},
		"main index count 1025":                {put(d, f.main+8, 1025), "claims 1025 index entries"},
		"main index count past the file":       {put(d, f.main+8, 1000), "the file ends inside its main header"},
		"signature index count 33":             {put(d, f.sig+8, 33), "claims 33 index entries"},
		"signature index count 0x7fffffff":     {put(d, f.sig+8, 0x7fffffff), "claims 2147483647 index entries"},
		"signature index count 0":              {put(d, f.sig+8, 0), "has no index entries"},
		"main store size 0xffffffff":           {put(d, f.main+12, 0xffffffff), "claims a 4294967295-byte store"},
		"signature store size negative":        {put(d, f.sig+12, 0x80000000), "claims a 2147483648-byte store"},
		"signature store size 65537":           {put(d, f.sig+12, 65537), "claims a 65537-byte store"},
		"main store size past the file":        {put(d, f.main+12, uint32(f.mainDL)+uint32(len(d))), "the file ends inside its main header"},
		"signature store one byte short":       {put(d, f.sig+12, uint32(f.sigDL)-1), "is not a valid region entry"},
		"signature store grown by 8 (shifted)": {put(d, f.sig+12, uint32(f.sigDL)+8), "does not start with the header magic"},

		// Truncated files.
		"truncated in the lead":                  {d[:50], "the file ends inside its 96-byte lead"},
		"truncated in the signature intro":       {d[:100], "the file ends inside its signature header, after 4 of its first 16 bytes"},
		"truncated in the signature index":       {d[:f.sig+16+20], "the file ends inside its signature header"},
		"truncated in the signature store":       {d[:f.sig+16+16*f.sigIL+10], "the file ends inside its signature header"},
		"truncated in the padding":               {d[:f.sigPadEnd-1], "inside the padding after its signature header"},
		"truncated at the main header":           {d[:f.main], "the file ends inside its main header, after 0 of its first 16 bytes"},
		"truncated in the main index":            {d[:f.main+16+16*3], "the file ends inside its main header"},
		"truncated in the main store":            {d[:f.mainEnd-1], "the file ends inside its main header"},
		"truncated after the main header":        {d[:f.mainEnd], "the file is truncated"},
		"empty file":                             {nil, "it is not an rpm file"},
		"lead magic only":                        {d[:4], "the file ends inside its 96-byte lead"},
		"bad lead magic":                         {put(d, 0, 0xedabeedc), "it is not an rpm file (it does not start with the rpm lead's magic number"},
		"bad signature header magic":             {put(d, f.sig, 0x8eade8ff), "its signature header does not start with the header magic"},
		"bad main header magic":                  {put(d, f.main, 0), "its main header does not start with the header magic"},
		"main header reserved bytes not zero":    {put(d, f.main+4, 1), "its main header does not start with the header magic"},
		"lead format 5":                          {put(d, 4, 0x05000000|f.get(4)&0x00ffffff), "its lead says rpm format 5"},
		"lead signature type 1 (old PGP format)": {put(d, 76, f.get(76)&0xffff0000|1), "its lead says signature type 1"},

		// Wrong type codes and tags.
		"type 0 (NULL)":                {put(d, f.entry("main", mainInt32, "type"), typeNull), "has a type that holds no data"},
		"type 10":                      {put(d, f.entry("main", mainInt32, "type"), 10), "has a type that holds no data"},
		"type 0xffffffff":              {put(d, f.entry("sig", sigBin, "type"), 0xffffffff), "unknown type 4294967295"},
		"region entry typed INT32":     {put(d, f.entry("sig", 0, "type"), typeInt32), "is not a valid region entry"},
		"region entry count 17":        {put(d, f.entry("main", 0, "count"), 17), "is not a valid region entry"},
		"second region tag":            {put(d, f.entry("main", 1, "tag"), tagHeaderImmutable), "has a tag below 100"},
		"name typed INT32":             {put(d, f.entry("main", nameEntry, "type"), typeInt32), damaged},
		"name typed STRING_ARRAY":      {put(d, f.entry("main", nameEntry, "type"), typeStringArray), "should be STRING"},
		"signature SHA256 typed BIN":   {put(d, f.entry("sig", sha256Entry, "type"), typeBin), "should be STRING"},
		"STRING_ARRAY typed as INT64":  {put(d, f.entry("main", strArr, "type"), typeInt64), damaged},
		"signature RSA typed as CHAR":  {put(d, f.entry("sig", sigBin, "type"), typeChar), "should be BIN"},
		"main header name typed BIN":   {put(d, f.entry("main", nameEntry, "type"), typeBin), "should be STRING"},
		"INT16 typed as STRING_ARRAY":  {put(d, f.entry("main", mainInt16, "type"), typeStringArray), damaged},
		"signature INT32 typed STRING": {put(d, f.entry("sig", sigInt32, "type"), typeString), damaged},
	}
}

// TestCraftedPackagesRefused runs every crafted package through
// VerifyRelease in a child process whose address space is capped (a
// regression that allocates gigabytes then fails there, not on the
// machine), and checks each is refused with an error, without a panic,
// and with less than 1 MiB allocated.
func TestCraftedPackagesRefused(t *testing.T) {
	if os.Getenv("ZFSINSTALL_CRAFTED_CHILD") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestCraftedPackagesRefused$", "-test.v")
		cmd.Env = append(os.Environ(), "ZFSINSTALL_CRAFTED_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the child checking the crafted packages failed (%v):\n%s", err, out)
		}
		if n := strings.Count(string(out), "--- PASS: TestCraftedPackagesRefused/"); n != len(craftedPackages(t)) {
			t.Errorf("%d crafted packages passed in the child, want %d:\n%s", n, len(craftedPackages(t)), out)
		}
		return
	}
	capAddressSpace(t, 512<<20)
	el9 := distro(t, "el9")
	for name, c := range craftedPackages(t) {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := VerifyRelease(c.data, el9, nil)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatal("crafted package accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
			if !strings.Contains(err.Error(), "refusing; download it again from https://zfsonlinux.org/epel/") {
				t.Errorf("error %q does not give the way out", err)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("refusing it allocated %d bytes", got)
			}
		})
	}
}

// capAddressSpace limits the process's address space to what it uses now
// plus extra bytes.
func capAddressSpace(t *testing.T, extra uint64) {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			lim := kb*1024 + extra
			if err := unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: lim, Max: lim}); err != nil {
				t.Fatal(err)
			}
			t.Logf("address space capped at %d MiB", lim>>20)
			return
		}
	}
	t.Fatal("no VmSize in /proc/self/status")
}

// TestCheckRPMRealPackages: every real package is structurally sound and
// its headers end where the rpm library says.
func TestCheckRPMRealPackages(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(releaseDir, "*.rpm"))
	more, _ := filepath.Glob(filepath.Join(testdata, "*.rpm"))
	for _, p := range append(files, more...) {
		data := readTestFile(t, p)
		hs, he, err := checkRPM(data)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(p), err)
			continue
		}
		pkg, err := rpm.Read(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(p), err)
		}
		if libStart, libEnd := pkg.HeaderRange(); libStart != hs || libEnd != he {
			t.Errorf("%s: main header at %d-%d, the library says %d-%d", filepath.Base(p), hs, he, libStart, libEnd)
		}
	}
	if len(files) < 58 {
		t.Errorf("only %d real packages in %s", len(files), releaseDir)
	}
}

// FuzzVerifyRelease feeds VerifyRelease mutations of every real
// zfs-release package: nothing may panic or exhaust memory, and whatever
// it accepts must have been signed by a key it names.
func FuzzVerifyRelease(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(releaseDir, "*.rpm"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed packages in %s", releaseDir)
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	el9 := facts.Distro{Family: "el", ID: "rocky", Major: 9}
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := VerifyRelease(data, el9, nil)
		if err == nil && (info.KeyID == "" || info.SignedBy == "") {
			t.Errorf("accepted without a signer: %+v", info)
		}
	})
}
