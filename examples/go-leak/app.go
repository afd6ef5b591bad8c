package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// The routes of the example service: three leak, each something else, and three are healthy.
const (
	RouteUsers    = "GET /users/{id}"  // healthy, garbage-heavy: allocates and frees 256 KiB
	RouteHealth   = "GET /healthz"     // healthy
	RouteWatch    = "GET /watch/{id}"  // healthy: a goroutine per request, gone on ctx.Done()
	RouteSessions = "POST /sessions"   // heap leak: keeps 32 KiB per request in a global cache
	RouteStream   = "GET /stream/{id}" // goroutine leak: a watcher goroutine that never exits
	RouteFiles    = "GET /files/{id}"  // descriptor leak: a file opened per request, never closed
	sessionBytes  = 32 << 10
	garbageBytes  = 256 << 10
	watchHold     = 50 * time.Millisecond
)

// app holds what leaks, so a test can release it.
type app struct {
	mu       sync.Mutex
	sessions [][]byte
	files    []*os.File
	stop     chan struct{}
}

func newApp() *app { return &app{stop: make(chan struct{})} }

// close ends the leaked goroutines and closes the leaked files (the process would otherwise
// keep them until exit).
func (a *app) close() {
	close(a.stop)
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range a.files {
		_ = f.Close()
	}
	a.files = nil
}

func (a *app) handler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(RouteUsers, func(w http.ResponseWriter, r *http.Request) {
		scratch := make([]byte, garbageBytes) // garbage, collected after the request
		for i := range scratch {
			scratch[i] = byte(i)
		}
		_, _ = fmt.Fprintf(w, "user %s (%d)\n", r.PathValue("id"), scratch[len(r.PathValue("id"))])
	})
	mux.HandleFunc(RouteHealth, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc(RouteWatch, func(w http.ResponseWriter, r *http.Request) {
		// Request-scoped: this goroutine exits when the request's context is done, which the
		// server does after the handler returns.
		ctx := r.Context()
		go func() {
			select {
			case <-ctx.Done():
			case <-a.stop:
			}
		}()
		time.Sleep(watchHold)
		_, _ = fmt.Fprintf(w, "watched %s\n", r.PathValue("id"))
	})
	mux.HandleFunc(RouteSessions, func(w http.ResponseWriter, _ *http.Request) {
		a.mu.Lock()
		a.sessions = append(a.sessions, make([]byte, sessionBytes)) // the bug: sessions are never evicted
		n := len(a.sessions)
		a.mu.Unlock()
		_, _ = fmt.Fprintf(w, "session %d\n", n)
	})
	mux.HandleFunc(RouteStream, func(w http.ResponseWriter, r *http.Request) {
		updates := make(chan []byte) // the bug: nobody ever sends or closes it
		go func() {
			select {
			case <-updates:
			case <-a.stop:
			}
		}()
		_, _ = fmt.Fprintf(w, "streaming %s\n", r.PathValue("id"))
	})
	mux.HandleFunc(RouteFiles, func(w http.ResponseWriter, r *http.Request) {
		f, err := os.Open(os.DevNull)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		a.mu.Lock()
		a.files = append(a.files, f) // the bug: an open handle kept "for later", never closed
		a.mu.Unlock()
		_, _ = fmt.Fprintf(w, "file %s\n", r.PathValue("id"))
	})
	return mux
}
