//go:build !cgo

package leaksense

import (
	"errors"
	"strings"
	"testing"
)

// Without cgo the package still builds, and every entry point says what is missing.
func TestWithoutCgoEveryEntryPointIsUnsupported(t *testing.T) {
	_, err := NewMonitor(Config{})
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "CGO_ENABLED=1") {
		t.Errorf("NewMonitor: %v", err)
	}
	if _, _, err := Deriv([]float64{1, 2}, []float64{1, 2}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Deriv: %v", err)
	}
	if _, err := Analyze(nil, nil, AnalyzeOptions{}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Analyze: %v", err)
	}
	if _, err := FormatAmount(1, "By"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("FormatAmount: %v", err)
	}
	if _, err := Catalog("semconv"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Catalog: %v", err)
	}
}
