package leaksense

import (
	"runtime"
	"time"
)

// PprofKind selects what WritePprof writes.
type PprofKind uint32

// The pprof files a monitor writes.
const (
	// PprofInuse is the live heap now.
	PprofInuse PprofKind = 0
	// PprofGrowth is its growth since the detector's growth start (since the oldest snapshot
	// when there is none yet).
	PprofGrowth PprofKind = 1
)

// maxSymbolized caps the PC cache: past it the cache starts over, so a program that keeps
// generating code cannot grow it without bound.
const maxSymbolized = 16384

// symFrame is one symbolized frame (an inlined call gives several per PC).
type symFrame struct {
	function, file string
	line           uint32
}

// heapProfiler reads runtime.MemProfile (in use as of the last completed GC; it takes the
// profile's lock, not the world) and hands the whole profile to the core, which interns,
// unsamples at runtime.MemProfileRate and keeps the snapshots. The buffers are reused between
// reads; only the PC cache is kept.
type heapProfiler struct {
	records []runtime.MemProfileRecord
	pcs     map[uintptr][]*symFrame
	index   map[*symFrame]uint32
	feed    profileFeed
}

// profileFeed is what one read passes through the C ABI.
type profileFeed struct {
	text        []byte
	frames      []profileFrame
	stackFrames []uint32
	samples     []profileSample
}

type profileFrame struct{ functionStart, functionLen, fileStart, fileLen, line uint32 }

type profileSample struct {
	framesStart, framesLen uint32
	objects, bytes         uint64
}

func newHeapProfiler() *heapProfiler {
	return &heapProfiler{pcs: map[uintptr][]*symFrame{}, index: map[*symFrame]uint32{}}
}

// read takes the runtime's heap profile; false if it kept growing past a few retries.
func (p *heapProfiler) read() bool {
	for try := 0; try < 4; try++ {
		n, ok := runtime.MemProfile(p.records, false)
		if ok {
			p.records = p.records[:n]
			return true
		}
		p.records = make([]runtime.MemProfileRecord, n+n/4+64)
	}
	return false
}

func (p *heapProfiler) symbolize(pc uintptr) []*symFrame {
	if fs, ok := p.pcs[pc]; ok {
		return fs
	}
	if len(p.pcs) >= maxSymbolized {
		clear(p.pcs)
	}
	var fs []*symFrame
	frames := runtime.CallersFrames([]uintptr{pc})
	for {
		f, more := frames.Next()
		fs = append(fs, &symFrame{function: f.Function, file: f.File, line: uint32(f.Line)})
		if !more {
			break
		}
	}
	p.pcs[pc] = fs
	return fs
}

func (p *heapProfiler) frameIndex(f *symFrame) uint32 {
	if i, ok := p.index[f]; ok {
		return i
	}
	fd := &p.feed
	i := uint32(len(fd.frames))
	fs := uint32(len(fd.text))
	fd.text = append(fd.text, f.function...)
	fl := uint32(len(fd.text))
	fd.text = append(fd.text, f.file...)
	fd.frames = append(fd.frames, profileFrame{fs, fl - fs, fl, uint32(len(fd.text)) - fl, f.line})
	p.index[f] = i
	return i
}

// build turns the records into the feed, leaf frame first.
func (p *heapProfiler) build() *profileFeed {
	fd := &p.feed
	fd.text, fd.frames, fd.stackFrames, fd.samples = fd.text[:0], fd.frames[:0], fd.stackFrames[:0], fd.samples[:0]
	clear(p.index)
	for i := range p.records {
		r := &p.records[i]
		if r.InUseBytes() <= 0 {
			continue
		}
		start := uint32(len(fd.stackFrames))
		for _, pc := range r.Stack() {
			for _, f := range p.symbolize(pc) {
				fd.stackFrames = append(fd.stackFrames, p.frameIndex(f))
			}
		}
		fd.samples = append(fd.samples, profileSample{
			framesStart: start, framesLen: uint32(len(fd.stackFrames)) - start,
			objects: uint64(r.InUseObjects()), bytes: uint64(r.InUseBytes()),
		})
	}
	return fd
}

// ProfileHeap reads the Go heap profile now and feeds it to the monitor's live-heap profile.
// The runtime watcher does this on every pass while the profile is on; call it yourself only
// for tests and replays. It returns the time the read and the hand-over took.
func (m *Monitor) ProfileHeap() (time.Duration, error) {
	m.profMu.Lock()
	defer m.profMu.Unlock()
	start := time.Now()
	if !m.prof.read() {
		return 0, nil
	}
	fd := m.prof.build()
	err := nativeProfileReplace(m.h, start.UnixMilli(), fd, uint64(runtime.MemProfileRate))
	runtime.KeepAlive(m)
	return time.Since(start), err
}

// profileOn reports whether the live-heap profile is on (by default in Go: the core's preset).
func (m *Monitor) profileOn() bool {
	p := m.config.Profile
	return p != nil && p.Enabled != nil && *p.Enabled
}

// WritePprof writes the live-heap profile to path as a pprof profile.proto file, which
// `go tool pprof` opens. An error matching CodeEmptyInput until the profile has been fed.
func (m *Monitor) WritePprof(path string, kind PprofKind) error {
	err := nativeWritePprof(m.h, path, uint32(kind))
	runtime.KeepAlive(m)
	return err
}
