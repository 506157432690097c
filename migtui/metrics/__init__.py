"""Prometheus metrics of a fleet (prometheus-client), served over HTTP. Never imports Textual."""
