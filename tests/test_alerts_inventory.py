"""The inventory's ``[[alert]]`` tables: read as documented, and every mistake one line naming the field."""

from __future__ import annotations

import pytest

from migtui.__main__ import main
from migtui.alerts.rule import Condition
from migtui.inventory import parse_inventory

VM = '[[vm]]\nname = "a"\nqmp = "/a"\n\n'


def test_alerts_are_read_with_durations_in_seconds_and_the_command_split():
    inventory = parse_inventory(VM + '[settings]\nbell = true\n\n'
                                '[[alert]]\nwhen = "stalled"\nafter = "2m"\nrun = "/usr/local/bin/page-oncall --team \'db ops\'"\n\n'
                                '[[alert]]\nwhen = "downtime-over"\ndowntime_ms = 500\ntimeout = 3\n')
    stalled, over = inventory.alert
    assert (stalled.when, stalled.after, stalled.timeout) == (Condition.STALLED, 120.0, 10.0)
    assert stalled.argv == ["/usr/local/bin/page-oncall", "--team", "db ops"]
    assert (over.when, over.downtime_ms, over.timeout, over.run) == (Condition.DOWNTIME_OVER, 500, 3.0, None)
    assert inventory.settings.bell


@pytest.mark.parametrize("alert, expected", [
    ('when = "stuck"', "6: alert[0].when: Input should be 'stalled', 'no-progress', 'host-down', 'failed', "
                       "'cancelled', 'completed' or 'downtime-over'"),
    ('when = "failed"\nafter = "5s"',
     "7: alert[0].after: applies to stalled, no-progress and host-down only (failed is a moment, not a state)"),
    ('when = "stalled"\nafter = "soon"', "7: alert[0].after: not a duration: 'soon' (e.g. 48h, 7d, 90m)"),
    ('when = "stalled"\ndowntime_ms = 500', '7: alert[0].downtime_ms: applies to when = "downtime-over" only'),
    ('when = "downtime-over"\ndowntime_ms = -1', "7: alert[0].downtime_ms: Input should be greater than 0"),
    ('when = "failed"\nrun = "/bin/page \'oncall"', "7: alert[0].run: cannot read the command: No closing quotation"),
    ('when = "failed"\ntimeout = 0', "7: alert[0].timeout: must be positive"),
    ('run = "/bin/true"', "5: alert[0].when: Field required"),
    ('when = "failed"\nrun_as = "nobody"', "7: alert[0].run_as: Extra inputs are not permitted"),
], ids=["unknown-condition", "after-on-a-moment", "bad-duration", "budget-elsewhere", "negative-budget",
        "unreadable-command", "zero-timeout", "no-condition", "unknown-key"])
def test_a_wrong_alert_is_one_line_naming_the_field(capsys, tmp_path, alert, expected):
    path = tmp_path / "inventory.toml"
    path.write_text(VM + "[[alert]]\n" + alert + "\n")
    code = main(["watch", "--once", "--config", str(path)])
    err = capsys.readouterr().err
    assert (code, err) == (1, f"migtui: {path}:{expected}\n")
