//go:build cgo

package leaksense

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"unsafe"
)

func TestProfileStructsMatchTheCLayout(t *testing.T) {
	if unsafe.Sizeof(profileFrame{}) != cProfileFrameSize || unsafe.Sizeof(profileSample{}) != cProfileSampleSize {
		t.Fatalf("Go %d/%d bytes, C %d/%d", unsafe.Sizeof(profileFrame{}), unsafe.Sizeof(profileSample{}),
			cProfileFrameSize, cProfileSampleSize)
	}
	if unsafe.Offsetof(profileSample{}.objects) != 8 || unsafe.Offsetof(profileFrame{}.line) != 16 {
		t.Fatal("field offsets differ from the C structs")
	}
}

var retained [][]byte

// retainForProfileTest is the leaking line the report must name.
//
//go:noinline
func retainForProfileTest(n int) {
	for i := 0; i < n; i++ {
		retained = append(retained, make([]byte, 4096)) // the leak
	}
}

func TestTheHeapProfileNamesTheRetainingLine(t *testing.T) {
	dir := t.TempDir()
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{Profile: &ProfileConfig{SnapshotEveryMs: Ptr[int64](1)}}})
	_, err := m.Report()
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, m.WritePprof(filepath.Join(dir, "x.pb"), PprofInuse), CodeEmptyInput)
	runtime.GC()
	runtime.GC()
	if _, err := m.ProfileHeap(); err != nil {
		t.Fatal(err)
	}
	retainForProfileTest(16 << 10) // 64 MiB
	runtime.GC()
	runtime.GC()
	took, err := m.ProfileHeap()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("profile read and fed in %v", took)
	r, err := m.Report()
	if err != nil {
		t.Fatal(err)
	}
	if r.Profile == nil || len(r.Profile.Sites) == 0 {
		t.Fatalf("no growing sites: %+v", r.Profile)
	}
	top := r.Profile.Sites[0]
	if !strings.HasSuffix(top.Function, ".retainForProfileTest") || filepath.Base(top.File) != "profile_test.go" {
		t.Fatalf("top site %+v", top)
	}
	src, _ := os.ReadFile("profile_test.go")
	if line := strings.Split(string(src), "\n")[top.Line-1]; !strings.Contains(line, "// the leak") {
		t.Fatalf("line %d is %q", top.Line, line)
	}
	// Unsampled at MemProfileRate, the estimate is near the 64 MiB retained.
	if top.Bytes < 40<<20 || top.Bytes > 100<<20 {
		t.Fatalf("estimated %v bytes", top.Bytes)
	}
	path := filepath.Join(dir, "heap.pb")
	if err := m.WritePprof(path, PprofGrowth); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "tool", "pprof", "-top", "-sample_index=growth_space", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "retainForProfileTest") {
		t.Fatalf("go tool pprof: %v\n%s", err, out)
	}
	wantCode(t, m.WritePprof(path, PprofKind(7)), CodeInvalidOption)
	wantCode(t, m.WritePprof("/no/such/dir/x.pb", PprofInuse), CodeIO)
	runtime.KeepAlive(retained)
	retained = nil
	_ = m.Close()
	if _, err := m.ProfileHeap(); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestAProfileThatIsOffRefusesFeeds(t *testing.T) {
	m := newMonitor(t, Config{MonitorOptions: MonitorOptions{Profile: &ProfileConfig{Enabled: Ptr(false)}}})
	if m.profileOn() {
		t.Fatal("the watcher would feed a disabled profile")
	}
	if on := newMonitor(t, Config{}); !on.profileOn() {
		t.Fatal("the Go preset turns the profile on")
	}
	_, err := m.ProfileHeap()
	wantCode(t, err, CodeInvalidOption)
	_, err = NewMonitor(Config{MonitorOptions: MonitorOptions{Profile: &ProfileConfig{MaxStacks: Ptr[uint64](1)}}})
	wantCode(t, err, CodeInvalidOption)
}
