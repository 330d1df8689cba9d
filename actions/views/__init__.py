"""Pages for closing the loop, one module per area (inbox and acknowledgements, SLA, …)."""
