"""Alerts: conditions of the inventory's ``[[alert]]`` tables, watched on the fleet's updates.

``rule`` is what the inventory says, ``engine`` decides when an alert fires
(once per occurrence), ``hook`` runs the alert's command with a time limit.
Non-UI: the dashboard shows what the engine publishes, ``migtui record`` runs
it headless.
"""
