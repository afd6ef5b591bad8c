//go:build !cgo

package leaksense

// Without cgo the native core cannot be linked. Rather than failing with undefined symbols,
// the package builds and every entry point returns ErrUnsupported, whose message says what to do.

type nativeMonitor = *struct{}

type nativeMemory = struct{}

type gaugeValues = struct{}

type nativeOutcome = struct{}

const cgoEnabled = false

func nativeCodeName(c Code) string { return c.String() }

// Without the core there is no route name to read, and nothing is counted anyway.
func nativeUnmatchedRoute() string { return "" }

func nativeNew(string, string) (nativeMonitor, error)     { return nil, ErrUnsupported }
func nativeConfig(nativeMonitor) (string, error)          { return "", ErrUnsupported }
func nativeGauges(nativeMonitor) (string, error)          { return "", ErrUnsupported }
func nativeReplay(nativeMonitor, string) error            { return ErrUnsupported }
func nativeFree(nativeMonitor)                            {}
func nativeStart(nativeMonitor) error                     { return ErrUnsupported }
func nativeStop(nativeMonitor) error                      { return ErrUnsupported }
func nativeClose(nativeMonitor) error                     { return ErrUnsupported }
func nativeIsRunning(nativeMonitor) (bool, error)         { return false, ErrUnsupported }
func nativeSample(nativeMonitor) (string, error)          { return "", ErrUnsupported }
func nativeSampleAt(nativeMonitor, int64) (string, error) { return "", ErrUnsupported }
func nativeAnalysis(nativeMonitor) (string, error)        { return "", ErrUnsupported }
func nativePollEvents(nativeMonitor) (string, error)      { return "", ErrUnsupported }
func nativeReportJSON(nativeMonitor) (string, error)      { return "", ErrUnsupported }
func nativeReportText(nativeMonitor) (string, error)      { return "", ErrUnsupported }
func nativeObserveBaseline(nativeMonitor, int64, float64) error {
	return ErrUnsupported
}
func nativeSetRuntimeLimit(nativeMonitor, uint64, bool) error { return ErrUnsupported }
func nativeObserveCount(nativeMonitor, string, int64, float64) error {
	return ErrUnsupported
}
func nativeReportForJSON(nativeMonitor, string) (string, error) { return "", ErrUnsupported }
func nativeReportForText(nativeMonitor, string) (string, error) { return "", ErrUnsupported }
func nativeCountValue(nativeMonitor, string) (float64, bool, error) {
	return 0, false, ErrUnsupported
}
func nativeRouteID(nativeMonitor, string) (uint32, error) { return 0, ErrUnsupported }
func nativeRecord(nativeMonitor, uint32, *measures, *measures, int, float64, *nativeOutcome) error {
	return ErrUnsupported
}
func nativeRequestRSS(nativeMonitor) float64              { return 0 }
func nativeMemoryRead(nativeMonitor, *nativeMemory) error { return ErrUnsupported }
func nativeGaugeValues(nativeMonitor, *gaugeValues) error { return ErrUnsupported }
func nativeGaugeKeys() []string                           { return nil }
func gaugeValue(*gaugeValues, int) (float64, bool)        { return 0, false }
func memoryValue(*nativeMemory, string) (uint64, bool)    { return 0, false }
func outcomeOf(*nativeOutcome) RequestOutcome             { return RequestOutcome{} }
func nativeDeriv([]float64, []float64) (float64, bool, error) {
	return 0, false, ErrUnsupported
}
func nativePredictLinear([]float64, []float64, float64, float64) (float64, bool, error) {
	return 0, false, ErrUnsupported
}
func nativeInflection([]float64, []float64, uint, float64) (float64, error) {
	return 0, ErrUnsupported
}
func nativeAnalyze([]float64, []float64, string) (string, error) {
	return "", ErrUnsupported
}
func nativeCatalog(string, string) ([]CatalogMetric, error) { return nil, ErrUnsupported }
func nativeFormatAmount(float64, string) (string, error)    { return "", ErrUnsupported }
func nativeSpanAttributes() (SpanAttributeNames, error) {
	return SpanAttributeNames{}, ErrUnsupported
}
func nativeWatchesBaseline(nativeMonitor) (bool, error) { return false, ErrUnsupported }

func nativeProfileReplace(nativeMonitor, int64, *profileFeed, uint64) error { return ErrUnsupported }
func nativeWritePprof(nativeMonitor, string, uint32) error                  { return ErrUnsupported }
