"""Recordings: every sample, event, state change, prediction and audit entry of
a fleet in one SQLite file, to replay, report on and export. Never imports Textual."""
