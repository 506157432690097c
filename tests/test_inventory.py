import pytest

from migtui.errors import ConfigError
from migtui.inventory import find_config, inventory_from_pairs, load_inventory, parse_address, parse_inventory

GOOD = """
[settings]
audit_log = "/tmp/audit.jsonl"

[[vm]]
name = "web-1"
qmp = "/run/web-1.qmp"
group = "web"

[[vm]]
name = "db-1"
qmp = "tcp:10.0.0.5:4444"
"""


def test_a_good_inventory_lists_its_vms_with_addresses():
    inventory = parse_inventory(GOOD)
    assert [vm.name for vm in inventory.vm] == ["web-1", "db-1"]
    assert inventory.get("web-1").address == "/run/web-1.qmp"
    assert inventory.get("db-1").address == ("10.0.0.5", 4444)
    assert str(inventory.audit_path) == "/tmp/audit.jsonl"


def test_a_wrong_field_is_named_with_file_and_line(tmp_path):
    path = tmp_path / "inv.toml"
    path.write_text(GOOD.replace('qmp = "tcp:10.0.0.5:4444"', 'qmp = "tcp:10.0.0.5:http"'))
    with pytest.raises(ConfigError) as error:
        load_inventory(path)
    assert str(error.value).startswith(f"{path}:12: vm.1.qmp:")
    assert "tcp:HOST:PORT" in str(error.value)


def test_an_unknown_key_is_named_with_its_line(tmp_path):
    path = tmp_path / "inv.toml"
    path.write_text(GOOD.replace('group = "web"', 'grop = "web"'))
    with pytest.raises(ConfigError, match=rf"^{path}:8: vm\.0\.grop: Extra inputs are not permitted"):
        load_inventory(path)


def test_toml_syntax_errors_name_the_file(tmp_path):
    path = tmp_path / "inv.toml"
    path.write_text("[[vm]\nname = 1\n")
    with pytest.raises(ConfigError, match=rf"^{path}: .*line 1"):
        load_inventory(path)


def test_duplicate_names_and_unknown_vms_are_refused():
    with pytest.raises(ConfigError, match="used twice"):
        parse_inventory(GOOD.replace('"db-1"', '"web-1"'))
    with pytest.raises(ConfigError, match="no VM named 'nope'.*known: web-1, db-1"):
        parse_inventory(GOOD).get("nope")


def test_config_precedence_flag_then_env_then_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("MIGTUI_CONFIG", raising=False)
    assert find_config(None) == tmp_path / "xdg" / "migtui" / "inventory.toml"
    monkeypatch.setenv("MIGTUI_CONFIG", str(tmp_path / "env.toml"))
    assert find_config(None) == tmp_path / "env.toml"
    assert find_config(tmp_path / "flag.toml") == tmp_path / "flag.toml"


def test_missing_file_says_how_to_give_one(tmp_path):
    with pytest.raises(ConfigError, match="no inventory file.*--config"):
        load_inventory(tmp_path / "absent.toml")


def test_vm_pairs_and_addresses():
    inventory = inventory_from_pairs(["a=/tmp/a.qmp", "b=tcp:[::1]:4444"])
    assert inventory.get("b").address == ("::1", 4444)
    with pytest.raises(ConfigError, match="NAME=ADDR"):
        inventory_from_pairs(["just-a-name"])
    with pytest.raises(ValueError):
        parse_address("tcp:host")


def test_vm_pairs_keep_the_inventorys_safety_settings(tmp_path, monkeypatch):
    from argparse import Namespace

    from migtui.cli.common import gate_from_args, inventory_from_args

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "site.toml"
    path.write_text(f'[settings]\nread_only = true\naudit_log = "{tmp_path / "site-audit.jsonl"}"\n')
    args = Namespace(vm=["a=/tmp/a.qmp"], config=str(path), read_only=False, audit_log=None)
    inventory = inventory_from_args(args)
    assert [vm.name for vm in inventory.vm] == ["a"]
    gate = gate_from_args(args, inventory)
    assert gate.read_only and gate.audit.path == tmp_path / "site-audit.jsonl"
