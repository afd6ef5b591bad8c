# The article's find_growth_inflection, copied verbatim (only the surrounding harness is ours).
# The harness reads a JSON list of series [[timestamps], [values], window, ratio] on stdin and
# prints, for each, the verbatim function's answer (when window == 12 and ratio == 0.8) and the
# same body with those two constants made parameters.
import json
import sys
from collections import namedtuple

Point = namedtuple("Point", ["timestamp", "value"])


def find_growth_inflection(series):
    """Find the timestamp where memory started consistently growing"""
    # Use a simple sliding window approach
    # Look for the point where the derivative stays positive
    window_size = 12  # 12 data points = 1 hour at 5m intervals
    for i in range(len(series) - window_size):
        window = series[i:i + window_size]
        # Check if memory grew in at least 80% of intervals in the window
        growth_count = sum(
            1 for j in range(1, len(window))
            if window[j].value > window[j-1].value
        )
        if growth_count >= window_size * 0.8:
            return window[0].timestamp

    return series[0].timestamp  # Fallback to the beginning


def find_growth_inflection_param(series, window_size, ratio):
    for i in range(len(series) - window_size):
        window = series[i:i + window_size]
        growth_count = sum(
            1 for j in range(1, len(window))
            if window[j].value > window[j-1].value
        )
        if growth_count >= window_size * ratio:
            return window[0].timestamp

    return series[0].timestamp


def main():
    out = []
    for ts, vs, window, ratio in json.load(sys.stdin):
        series = [Point(t, v) for t, v in zip(ts, vs)]
        got = find_growth_inflection_param(series, window, ratio)
        if window == 12 and ratio == 0.8:
            verbatim = find_growth_inflection(series)
            assert verbatim == got, (verbatim, got)
        out.append(got)
    json.dump(out, sys.stdout)


main()
