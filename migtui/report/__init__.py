"""Post-mortem reports of recorded migrations: text, JSON, HTML with charts. Never imports Textual."""
