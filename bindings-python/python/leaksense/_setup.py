"""`leaksense.instrument()`: a started default Monitor with its metrics, in one line."""

from __future__ import annotations

from typing import Any, Callable, Optional

from leaksense._monitor import Event, Monitor, set_default_monitor
from leaksense.metrics import register_metrics


def instrument(
    *,
    meter_provider: Any = None,
    metrics: bool = True,
    on_leak: Optional[Callable[[Event], None]] = None,
    **options: Any,
) -> Monitor:
    """Builds and starts a Monitor with `options`, makes it the default for middleware, and
    registers the runtime metrics on the OpenTelemetry MeterProvider (global if None);
    `on_leak` is `monitor.on("leak", on_leak)`."""
    mon = Monitor(**options)
    if on_leak is not None:
        mon.on("leak", on_leak)
    if metrics:
        mon._on_close.append(register_metrics(mon, meter_provider=meter_provider).close)
    mon.start()
    set_default_monitor(mon)
    return mon
