"""Logs, metrics, traces: logging set up at the process edge, the shared metrics exposition,
W3C trace context and optional OpenTelemetry spans."""
