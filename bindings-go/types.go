package leaksense

import "strings"

// The JSON types (LeakReport, Event, Analysis, Snapshot, MonitorOptions, AnalyzeOptions,
// ReplayStep and what they hold) are generated from the core's schemas into types_gen.go.

// Ptr returns a pointer to v, for the optional fields of the options types.
func Ptr[T any](v T) *T { return &v }

// RequestOutcome is what ending a request reports: the deltas of the measures (heap bytes
// allocated, goroutines) and, when the monitor reads RSS per request, the RSS change.
type RequestOutcome struct {
	Deltas      []float64
	HasRSSDelta bool
	RSSDelta    float64
	TsMs        int64
}

// InstrumentKind is the OpenTelemetry instrument kind of a catalog metric.
type InstrumentKind int

// The instrument kinds of the catalog.
const (
	ObservableCounter InstrumentKind = iota + 1
	ObservableUpDownCounter
	ObservableGauge
	Histogram
)

// CatalogMetric is one row of the core's metric catalog, resolved for a naming mode.
type CatalogMetric struct {
	Key, Name, Unit, Description string
	Attributes                   []string
	Kind                         InstrumentKind
	Deep                         bool
}

// SpanAttributeNames are the span attribute keys the middleware sets (from the core).
type SpanAttributeNames struct {
	AllocatedBytes, RSSDeltaBytes string
}

func splitAttributes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Catalog returns the metrics a Go process emits under naming "semconv" or "legacy".
func Catalog(naming string) ([]CatalogMetric, error) { return nativeCatalog("go", naming) }
