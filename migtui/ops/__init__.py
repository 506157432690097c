"""The operations: what each verb that changes a VM means, written once.

Each verb says why it cannot act (from facts read from the fleet's cached
state or live from QEMU: one function for both), the question it asks before
a destructive step, how it runs (a step given to the fleet's change, so the
gate, the audit log and the re-read apply), and the words for its outcome.
The command line and the dashboard's controls call these; the engine below
(migtui.qmp) knows nothing of them.
"""
