package main

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// The example as a test: under load, each leak is alerted as its own series (memory,
// goroutines, open file descriptors) and its route named, and no healthy route (the
// garbage-heavy one, the one whose goroutines exit with their request) is named by any
// series, in any event or in any report polled every second while it runs.
func TestEveryLeakIsAlertedAsItselfWithItsRoute(t *testing.T) {
	if testing.Short() {
		t.Skip("drives load for about a minute")
	}
	var out bytes.Buffer
	res, err := run(context.Background(), &out, 4*time.Minute)
	t.Log(out.String())
	if err != nil {
		t.Fatal(err)
	}
	for series, route := range leaks {
		if _, ok := res.alerted[series]; !ok {
			t.Errorf("%s never alerted", series)
		}
		if by, ok := res.named[series]; !ok {
			t.Errorf("%s: %s never named", series, route)
		} else {
			t.Logf("%s: %s named by the %s (alert after %.0f s)", series, route, by, res.alerted[series])
		}
	}
	for _, a := range res.accused {
		t.Errorf("healthy route named: %s", a)
	}
}
