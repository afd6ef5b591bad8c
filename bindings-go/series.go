package leaksense

import "encoding/json"

// Deriv is PromQL deriv() over the whole series (timestamps in unix seconds): the
// least-squares slope per second. ok is false with fewer than two samples.
func Deriv(timestamps, values []float64) (slope float64, ok bool, err error) {
	return nativeDeriv(timestamps, values)
}

// PredictLinear is PromQL predict_linear(v, horizon) over the whole series, evaluated at
// evalTime (unix seconds). ok is false with fewer than two samples.
func PredictLinear(timestamps, values []float64, evalTime, horizon float64) (value float64, ok bool, err error) {
	return nativePredictLinear(timestamps, values, evalTime, horizon)
}

// FindGrowthInflection is the original article's rule, reproduced exactly: the unix seconds
// where the first window of `window` points with at least window*ratio rising steps starts, or
// the first timestamp. The article uses window 12 and ratio 0.8.
func FindGrowthInflection(timestamps, values []float64, window int, ratio float64) (float64, error) {
	if window < 0 {
		return 0, invalid("window must be at least 1")
	}
	return nativeInflection(timestamps, values, uint(window), ratio)
}

// Analyze replays a series (unix seconds) through the core's leak detector and returns its
// final analysis. The options (Kind, Limit and every detector option; nil fields take the
// defaults of the kind) go to the core as one JSON object.
func Analyze(timestamps, values []float64, opts AnalyzeOptions) (Analysis, error) {
	js, err := json.Marshal(opts)
	if err != nil {
		return Analysis{}, invalid("cannot encode the options: " + err.Error())
	}
	return decoded[Analysis](nativeAnalyze(timestamps, values, string(js)))
}

// FormatAmount writes value in an OpenTelemetry unit ("By" for bytes, or a count's annotation
// such as "{goroutine}") as the core's report prints it: "52.4 KiB", "3 goroutines". An empty,
// over-long or control-character unit is a CodeInvalidOption error.
func FormatAmount(value float64, unit string) (string, error) {
	return nativeFormatAmount(value, unit)
}

// decoded parses the core's JSON answer, or passes its error on.
func decoded[T any](s string, err error) (T, error) {
	var v T
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return v, &Error{Code: CodeInternal, Message: "cannot parse the core's JSON: " + err.Error()}
	}
	return v, nil
}
