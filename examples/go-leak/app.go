package main

import (
	"fmt"
	"io"
	"net/http"
	"sync"
)

// The routes of the example service. Two leak, two are healthy.
const (
	RouteUsers    = "GET /users/{id}"  // healthy: allocates garbage only
	RouteHealth   = "GET /healthz"     // healthy
	RouteSessions = "POST /sessions"   // heap leak: keeps 32 KiB per request in a global cache
	RouteStream   = "GET /stream/{id}" // goroutine leak: a watcher goroutine that never exits
	sessionBytes  = 32 << 10
	streamBytes   = 16 << 10
)

// app holds what leaks, so a test can release it.
type app struct {
	mu       sync.Mutex
	sessions [][]byte
	stop     chan struct{}
}

func newApp() *app { return &app{stop: make(chan struct{})} }

// close ends the leaked goroutines (the process would otherwise keep them until exit).
func (a *app) close() { close(a.stop) }

func (a *app) handler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc(RouteUsers, func(w http.ResponseWriter, r *http.Request) {
		scratch := make([]byte, 256<<10) // garbage, collected after the request
		scratch[0] = byte(len(r.PathValue("id")))
		_, _ = fmt.Fprintf(w, "user %s (%d)\n", r.PathValue("id"), scratch[0])
	})
	mux.HandleFunc(RouteHealth, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
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
		buf := make([]byte, streamBytes)
		go func() {
			select {
			case u := <-updates:
				copy(buf, u)
			case <-a.stop:
			}
		}()
		_, _ = fmt.Fprintf(w, "streaming %s\n", r.PathValue("id"))
	})
	return mux
}
