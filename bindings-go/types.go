package leaksense

import "strings"

// AlertState is a Prometheus alert state: "inactive", "pending" or "firing".
type AlertState string

// Verdict is the detector's judgement: "insufficient", "healthy" or "leak".
type Verdict string

// The alert states and verdicts the core reports.
const (
	Inactive     AlertState = "inactive"
	Pending      AlertState = "pending"
	Firing       AlertState = "firing"
	Insufficient Verdict    = "insufficient"
	Healthy      Verdict    = "healthy"
	Leak         Verdict    = "leak"
)

// EventKind says what an AlertEvent reports.
type EventKind string

// The event kinds.
const (
	// EventAlert is an alert state change, From to To.
	EventAlert EventKind = "alert"
	// EventSuspects comes while the alert fires (From and To are both Firing), at most once
	// per firing, when the core is sure of the suspect routes (stricter intervals, the same
	// top suspect in 3 looks in a row); Report names them. Naming often takes longer than
	// detecting.
	EventSuspects EventKind = "suspects"
)

// AlertEvent is one alert state change (Firing to Inactive is the "resolved" transition), or,
// with Kind EventSuspects, the news that the firing alert's report now names suspects.
type AlertEvent struct {
	TsMs int64      `json:"ts_ms"`
	From AlertState `json:"from"`
	To   AlertState `json:"to"`
	Kind EventKind  `json:"kind"`
	// Report and ReportText, for EventSuspects, are the report that named the suspects.
	Report     *Report `json:"report,omitempty"`
	ReportText string  `json:"report_text,omitempty"`
}

// Analysis is the leak detector's view of a series.
type Analysis struct {
	Verdict         Verdict      `json:"verdict"`
	State           AlertState   `json:"state"`
	GrowthStartMs   *int64       `json:"growth_start_ms"`
	GrowthStopMs    *int64       `json:"growth_stop_ms"`
	RatePerSec      *float64     `json:"rate_per_sec"`
	RateLow         *float64     `json:"rate_low"`
	RateHigh        *float64     `json:"rate_high"`
	TimeToLimitSecs *float64     `json:"time_to_limit_secs"`
	Limit           *float64     `json:"limit"`
	Baseline        *float64     `json:"baseline"`
	Samples         uint64       `json:"samples"`
	Events          []AlertEvent `json:"events"`
}

// Suspect is a route the report names as a likely leak.
type Suspect struct {
	Route                   string     `json:"route"`
	RetainedBytesPerRequest float64    `json:"retained_bytes_per_request"`
	Interval                [2]float64 `json:"interval"`
	Requests                uint64     `json:"requests"`
	Share                   float64    `json:"share"`
	Reasons                 []string   `json:"reasons"`
}

// ArticleSuspect is what the original article's rules say about a route.
type ArticleSuspect struct {
	Route  string `json:"route"`
	Reason string `json:"reason"`
	Count  uint64 `json:"count"`
}

// RouteEstimate is the model's estimate for one route.
type RouteEstimate struct {
	Route                   string     `json:"route"`
	Requests                uint64     `json:"requests"`
	RetainedBytesPerRequest float64    `json:"retained_bytes_per_request"`
	Interval                [2]float64 `json:"interval"`
	Share                   float64    `json:"share"`
}

// ModelFit is the regression behind the suspects.
type ModelFit struct {
	BlockMs     int64           `json:"block_ms"`
	Blocks      int             `json:"blocks"`
	WindowMs    [2]int64        `json:"window_ms"`
	FloorGrowth float64         `json:"floor_growth"`
	ResidualStd float64         `json:"residual_std"`
	Confidence  float64         `json:"confidence"`
	Estimates   []RouteEstimate `json:"estimates"`
}

// MeasureSummary holds the per-request delta statistics of one measure on one route.
type MeasureSummary struct {
	Measure   string   `json:"measure"`
	Samples   uint64   `json:"samples"`
	Sum       float64  `json:"sum"`
	Mean      float64  `json:"mean"`
	Variance  float64  `json:"variance"`
	Min       float64  `json:"min"`
	Max       float64  `json:"max"`
	Histogram []uint32 `json:"histogram"`
}

// RouteRow is one row of the report's per-route table.
type RouteRow struct {
	Route                   string           `json:"route"`
	Requests                uint64           `json:"requests"`
	FirstSeenMs             *int64           `json:"first_seen_ms"`
	RequestsBefore          *uint64          `json:"requests_before"`
	RequestsAfter           *uint64          `json:"requests_after"`
	TrafficChange           *float64         `json:"traffic_change"`
	RetainedBytesPerRequest *float64         `json:"retained_bytes_per_request"`
	Interval                *[2]float64      `json:"interval"`
	Share                   *float64         `json:"share"`
	Measures                []MeasureSummary `json:"measures"`
}

// Report is the leak report: the analysis, the suspect routes and the per-route table.
type Report struct {
	SchemaVersion uint32 `json:"schema_version"`
	Analysis
	Suspects        []Suspect        `json:"suspects"`
	ArticleSuspects []ArticleSuspect `json:"article_suspects"`
	Model           *ModelFit        `json:"model"`
	Routes          []RouteRow       `json:"routes"`
	Notes           []string         `json:"notes"`
}

// Snapshot is one reading of process and container memory by the core.
type Snapshot struct {
	Process struct {
		RSSBytes     uint64 `json:"rss_bytes"`
		VirtualBytes uint64 `json:"virtual_bytes"`
	} `json:"process"`
	// PeakRSS is the peak resident set size (VmHWM); nil when the platform does not report it.
	PeakRSS   *uint64 `json:"peak_rss"`
	Container struct {
		Limit   *uint64 `json:"limit"`
		Usage   *uint64 `json:"usage"`
		OOM     *uint64 `json:"oom"`
		OOMKill *uint64 `json:"oom_kill"`
	} `json:"container"`
	Limits struct {
		Container *uint64 `json:"container"`
		Runtime   *uint64 `json:"runtime"`
		Host      *uint64 `json:"host"`
	} `json:"limits"`
}

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
	AllocatedBytes, RSSDeltaBytes, GoroutineDelta string
}

func splitAttributes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Catalog returns the metrics a Go process emits under naming "semconv" or "legacy".
func Catalog(naming string) ([]CatalogMetric, error) { return nativeCatalog("go", naming) }
