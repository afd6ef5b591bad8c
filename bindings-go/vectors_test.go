//go:build cgo

package leaksense

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

// The shared vectors of tests/vectors/*.json, which the Rust, Python and Node suites also run.
// An unknown op fails the test, so no vector is silently skipped.

type vectorFile struct {
	Cases []struct {
		Name   string                     `json:"name"`
		Op     string                     `json:"op"`
		Args   map[string]json.RawMessage `json:"args"`
		Expect map[string]json.RawMessage `json:"expect"`
	} `json:"cases"`
}

// num decodes a number, or the strings "NaN", "Infinity", "-Infinity".
func num(t *testing.T, raw json.RawMessage) float64 {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "NaN":
			return math.NaN()
		case "Infinity":
			return math.Inf(1)
		case "-Infinity":
			return math.Inf(-1)
		}
		t.Fatalf("not a number: %s", raw)
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("not a number: %s", raw)
	}
	return f
}

func nums(t *testing.T, raw json.RawMessage) []float64 {
	t.Helper()
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		t.Fatalf("not an array: %s", raw)
	}
	out := make([]float64, len(items))
	for i, it := range items {
		out[i] = num(t, it)
	}
	return out
}

func sameNum(a, b float64) bool {
	return math.Float64bits(a) == math.Float64bits(b) || (math.IsNaN(a) && math.IsNaN(b))
}

func expectedError(t *testing.T, name string, expect map[string]json.RawMessage, err error) bool {
	t.Helper()
	raw, wantErr := expect["error"]
	if !wantErr {
		if err != nil {
			t.Errorf("%s: unexpected error %v", name, err)
			return true
		}
		return false
	}
	var code string
	_ = json.Unmarshal(raw, &code)
	e, ok := err.(*Error)
	if !ok || e.Code.String() != code {
		t.Errorf("%s: got %v, want error %s", name, err, code)
	}
	return true
}

func TestSharedVectors(t *testing.T) {
	files, err := filepath.Glob("../tests/vectors/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("vector files: %v %v", files, err)
	}
	// monitor.json drives a Monitor (TestMonitorVector); the others are function cases.
	files = slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == "monitor.json" })
	ran := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var vf vectorFile
		if err := json.Unmarshal(data, &vf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(vf.Cases) == 0 {
			t.Fatalf("%s has no cases", f)
		}
		for _, c := range vf.Cases {
			runVector(t, c.Name, c.Op, c.Args, c.Expect)
			ran++
		}
	}
	t.Logf("%d vectors from %d files", ran, len(files))
}

func runVector(t *testing.T, name, op string, args, expect map[string]json.RawMessage) {
	ts, vs := nums(t, args["timestamps"]), nums(t, args["values"])
	switch op {
	case "deriv", "predict_linear":
		var v float64
		var ok bool
		var err error
		if op == "deriv" {
			v, ok, err = Deriv(ts, vs)
		} else {
			v, ok, err = PredictLinear(ts, vs, num(t, args["eval_time"]), num(t, args["horizon"]))
		}
		if expectedError(t, name, expect, err) {
			return
		}
		want := expect["value"]
		if string(want) == "null" {
			if ok {
				t.Errorf("%s: got %v, want no value", name, v)
			}
		} else if !ok || !sameNum(v, num(t, want)) {
			t.Errorf("%s: got %v (ok=%v), want %s", name, v, ok, want)
		}
	case "find_growth_inflection":
		var window int
		if err := json.Unmarshal(args["window"], &window); err != nil {
			t.Fatalf("%s: window: %v", name, err)
		}
		got, err := FindGrowthInflection(ts, vs, window, num(t, args["ratio"]))
		if expectedError(t, name, expect, err) {
			return
		}
		if !sameNum(got, num(t, expect["timestamp"])) {
			t.Errorf("%s: got %v, want %s", name, got, expect["timestamp"])
		}
	case "analyze":
		var opts AnalyzeOptions
		// `options` goes to the core as it is; the older cases give kind and limit.
		if raw, ok := args["options"]; ok {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&opts); err != nil {
				// What a Go caller cannot even build (a string rate, an unknown field) is
				// refused before the core.
				if expectedError(t, name, expect, &Error{Code: CodeInvalidOption, Message: err.Error()}) {
					return
				}
				t.Fatalf("%s: options: %v", name, err)
			}
		}
		if raw, ok := args["kind"]; ok {
			_ = json.Unmarshal(raw, &opts.Kind)
		}
		if raw, ok := args["limit"]; ok && string(raw) != "null" {
			opts.Limit = Ptr(num(t, raw))
		}
		a, err := Analyze(ts, vs, opts)
		if expectedError(t, name, expect, err) {
			return
		}
		checkAnalysis(t, name, a, expect)
	default:
		t.Errorf("%s: unknown op %q", name, op)
	}
}

func checkAnalysis(t *testing.T, name string, a Analysis, expect map[string]json.RawMessage) {
	checked := 0
	if raw, ok := expect["verdict"]; ok {
		var v Verdict
		_ = json.Unmarshal(raw, &v)
		if a.Verdict != v {
			t.Errorf("%s: verdict %s, want %s", name, a.Verdict, v)
		}
		checked++
	}
	if raw, ok := expect["state"]; ok {
		var s AlertState
		_ = json.Unmarshal(raw, &s)
		if a.State != s {
			t.Errorf("%s: state %s, want %s", name, a.State, s)
		}
		checked++
	}
	inRange := func(key string, got *float64) {
		raw, ok := expect[key]
		if !ok {
			return
		}
		checked++
		r := nums(t, raw)
		if got == nil || *got < r[0] || *got > r[1] {
			t.Errorf("%s: %s %v not in %v", name, key, got, r)
		}
	}
	var start *float64
	if a.GrowthStartMs != nil {
		s := float64(*a.GrowthStartMs) / 1000
		start = &s
	}
	inRange("growth_start", start)
	var stop *float64
	if a.GrowthStopMs != nil {
		s := float64(*a.GrowthStopMs) / 1000
		stop = &s
	}
	inRange("growth_stop", stop)
	inRange("rate_per_sec", a.RatePerSec)
	var firing []float64
	for _, e := range a.Events {
		if e.To == AlertStateFiring {
			firing = append(firing, float64(e.TsMs)/1000)
		}
	}
	if raw, ok := expect["fired"]; ok {
		checked++
		var want bool
		_ = json.Unmarshal(raw, &want)
		if (len(firing) > 0) != want {
			t.Errorf("%s: fired %v, want %v", name, len(firing) > 0, want)
		}
	}
	if raw, ok := expect["fired_by"]; ok {
		checked++
		by := num(t, raw)
		if len(firing) == 0 || firing[0] > by {
			t.Errorf("%s: first firing %v not by %v", name, firing, by)
		}
	}
	if checked != len(expect) {
		t.Errorf("%s: checked %d of the %d expectations %v", name, checked, len(expect), expect)
	}
}

// The shared monitor vector: replayed through a Monitor, OnEvent gets exactly the events the
// core's own test expects (kind, time, measure, report and its text), in order.
func TestMonitorVector(t *testing.T) {
	data, err := os.ReadFile("../tests/vectors/monitor.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Options MonitorOptions `json:"options"`
		Steps   []ReplayStep   `json:"steps"`
		Events  []any          `json:"events"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var got []Event
	m := newMonitor(t, Config{MonitorOptions: doc.Options, OnEvent: func(e Event) { got = append(got, e) }})
	for _, step := range doc.Steps {
		if err := m.Replay([]ReplayStep{step}); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Poll(); err != nil {
			t.Fatal(err)
		}
	}
	var kinds []EventKind
	for _, e := range got {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []EventKind{EventKindLeak, EventKindSuspects, EventKindResolved}) {
		t.Fatalf("kinds %v", kinds)
	}
	// Compared as JSON values: the events carry every field of the schema.
	js, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var generic []any
	if err := json.Unmarshal(js, &generic); err != nil {
		t.Fatal(err)
	}
	if d := firstDiff(generic, doc.Events, "events"); d != "" {
		t.Errorf("events differ from the vector at %s", d)
	}
	if got[1].Report.Suspects[0].Route != "/leak" {
		t.Errorf("suspects: %+v", got[1].Report.Suspects)
	}
	wantCode(t, m.Replay([]ReplayStep{{TsMs: 1, Baseline: Ptr(1.0)}}), CodeOutOfOrder)
	wantCode(t, m.Replay([]ReplayStep{{TsMs: 1 << 62, Baseline: Ptr(nan())}}), CodeInvalidOption)
}

// firstDiff names the first place where two decoded JSON values differ, or returns "".
func firstDiff(got, want any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", path, got)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				return fmt.Sprintf("%s.%s: not in the vector", path, k)
			}
		}
		for k, v := range w {
			if d := firstDiff(g[k], v, path+"."+k); d != "" {
				return d
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d elements", path, got, len(w))
		}
		for i := range w {
			if d := firstDiff(g[i], w[i], fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	}
	if !reflect.DeepEqual(got, want) {
		return fmt.Sprintf("%s: got %v, want %v", path, got, want)
	}
	return ""
}
