"""What the help screen says about each screen's columns and figures, beside its keys.

Keyed by the screen's class name; a screen without an entry gets its keys
only. The words follow docs/dashboard.md: a figure means the same here,
there and in ``migtui watch``.
"""

from __future__ import annotations

Glossary = tuple[str, tuple[tuple[str, str], ...]]
"""(what the screen is, ((term, meaning), ...))."""

OUTLOOK = ("outlook", "where the migration heads, by the model: 'in 12s' (it completes in about that), "
                      "'won't end' (it will not converge at these settings: QEMU runs it on for ever; the "
                      "advice says what would help), 'measuring' (too few passes yet), 'postcopy', "
                      "'no progress' (nothing sent for 5 s), 'SPLIT!' (a postcopy whose stream broke: "
                      "R recovers it), 'STALLED!' (a postcopy that sent nothing for 5 s: the guest on the "
                      "destination is frozen; P pauses it, then R recovers it), or how it ended")
ADVICE = ("advice", "what would make it converge, each with its key: D a longer downtime limit, B more "
                    "bandwidth, O avail-switchover-bandwidth, p postcopy; every one asks first, showing old → new")

GLOSSARIES: dict[str, Glossary] = {
    "FleetScreen": ("Every VM of the inventory, one row each; the highlighted one in brief below the table.", (
        ("link", "migtui's link to the VM (its QMP socket, or its libvirt host): up, busy (QEMU silent over a "
                 "second), err (an answer migtui could not read; polling goes on), down (figures dimmed: last "
                 "seen), off, … connecting"),
        ("migration", "QEMU's migration status: active, postcopy, completed, failed, cancelled ..."),
        ("pass", "passes over guest memory so far (QEMU's dirty syncs); each sends what the guest dirtied "
                 "during the one before"),
        ("left", "bytes still to send in this pass: a saw-tooth that falls to nearly 0 every pass"),
        OUTLOOK,
        ("run", "QEMU's run state: running, paused, inmigrate (waits for an incoming migration), "
                "migrated (QEMU's postmigrate: it migrated away), restoring (restore-vm) ..."),
        ("done", "share of guest memory sent; 'loop' instead when the migration will not converge: it sends "
                 "the same working set again every pass, so no share means anything, however close 'left' "
                 "dips to 0"),
        ("dirty", "dirty rate: how fast the guest writes to its memory ('meas.' until QEMU's second sync)"),
        ("sent", "throughput: what QEMU sends per second"),
        ("downtime", "expected downtime: how long the guest would stop if QEMU switched over now (good colour "
                     "within downtime-limit, warning colour over it); after the end, the downtime it had"),
        ("thr", "CPU throttle auto-converge puts on the guest"),
        ("job", "a snapshot job running on the VM"),
        ("trend", "bytes left over the last minute"),
        ("width", "columns come in that order of importance; the ones that do not fit are left out, whole "
                  "(a wider terminal shows them)"),
        ADVICE,
    )),
    "VMScreen": ("One VM: its prediction on top, then charts, the latest sample and its events (1, 2, 3).", (
        OUTLOOK,
        ("pass", "passes over guest memory; the prediction reads the dirty set at each pass start"),
        ("dirty rate", "how fast the guest writes to its memory, against the throughput on the first chart: "
                       "a migration converges once what one pass dirties fits into bandwidth × downtime-limit"),
        ("remaining", "bytes left to send: falls to nearly 0 every pass, rises with what the guest dirtied"),
        ("expected downtime", "how long the guest would stop at switchover now, against downtime-limit "
                              "(its line on the chart): QEMU switches over once it is below"),
        ("throttle", "CPU throttle auto-converge puts on the guest to slow its writes"),
        ("marks", "vertical lines on every chart: changes made from here and steps a policy took"),
        ADVICE,
    )),
    "ParamsScreen": ("The VM's migration parameters and capabilities, generated from its own QEMU's schema.", (
        ("find", "type a name or a word of its doc; Up/Down choose, Enter edits the member"),
        ("value", "checked as it is typed; sizes take 512K, 64M, 1G; each member says its unit"),
        ("pending", "every edit that changes what QEMU holds, old → new; values another tool sets show here too"),
        ("apply", "shows old → new for every change before anything is sent"),
    )),
    "SnapshotsScreen": ("The VM's internal snapshots, and the snapshot jobs QEMU runs for them.", (
        ("job", "save, load and delete run as QEMU jobs: created, running, concluded; a failed one "
                "says QEMU's reason, read before it is dismissed"),
    )),
    "MigrateDialog": ("Start a migration: where to, pre-flight checks, and the outlook at these settings.", (
        ("pre-flight", "both sides reachable, the source able to migrate, the destination waiting, the "
                       "capabilities that must match matching once the chosen ones are set"),
        ("Outlook", "the model's outlook from the source's dirty rate, sampled once when the dialog opens"),
    )),
}
