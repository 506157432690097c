import pytest

from migtui.__main__ import main

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
    assert str(error.value) == f"{path}:12: vm[1].qmp: 'tcp:10.0.0.5:http' is not tcp:HOST:PORT"


def test_an_unknown_key_is_named_with_its_line(tmp_path):
    path = tmp_path / "inv.toml"
    path.write_text(GOOD.replace('group = "web"', 'grop = "web"'))
    with pytest.raises(ConfigError, match=rf"^{path}:8: vm\[0\]\.grop: Extra inputs are not permitted"):
        load_inventory(path)


def test_toml_syntax_errors_name_the_file(tmp_path):
    path = tmp_path / "inv.toml"
    path.write_text("[[vm]\nname = 1\n")
    with pytest.raises(ConfigError, match=rf"^{path}: .*line 1"):
        load_inventory(path)


def test_duplicate_names_and_unknown_vms_are_refused():
    with pytest.raises(ConfigError, match=r"^<inventory>: vm: VM name 'web-1' is used twice \(vm\[0\] and vm\[1\]\)$"):
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


def cli_error(capsys, path) -> tuple[int, str]:
    """What ``migtui watch --once --config PATH`` says on stderr (one line expected)."""
    code = main(["watch", "--once", "--config", str(path)])
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return code, err.rstrip("\n")


@pytest.mark.parametrize("text, expected", [
    # An inline array of tables: no [[vm]] line to point at, so no line at all (it was line 1).
    ('vm = [{name = "a", qmp = "/a"}, {name = "b", qmp = "tcp:h:x"}]\n',
     "vm[1].qmp: 'tcp:h:x' is not tcp:HOST:PORT"),
    # Quoted keys are keys like the others.
    ('[[vm]]\n"name" = "a"\n"qmp" = "tcp:h:x"\n', "3: vm[0].qmp: 'tcp:h:x' is not tcp:HOST:PORT"),
    # A [[vm]] inside a multi-line string is no table: no line is certain.
    ('notes = """\n[[vm]]\n"""\n[[vm]]\nname = "a"\nqmp = "tcp:h:x"\n', "vm[0].qmp: 'tcp:h:x' is not tcp:HOST:PORT"),
    # A missing key: the line of the table that lacks it.
    ('[[vm]]\nname = "a"\nqmp = "/a"\n\n[[vm]]\nname = "b"\n', "5: vm[1].qmp: Field required"),
    ('[settings]\nread_only = "maybe"\n',
     "2: settings.read_only: Input should be a valid boolean, unable to interpret input"),
], ids=["inline-array", "quoted-keys", "multi-line-string", "missing-key", "settings"])
def test_inventory_errors_name_the_field_and_a_line_only_when_certain(capsys, tmp_path, text, expected):
    path = tmp_path / "inventory.toml"
    path.write_text(text)
    code, err = cli_error(capsys, path)
    separator = ":" if expected[0].isdigit() else ": "
    assert (code, err) == (1, f"migtui: {path}{separator}{expected}")
    assert "Value error" not in err


def test_an_inventory_that_is_not_utf8_is_one_line(capsys, tmp_path):
    path = tmp_path / "inventory.toml"
    path.write_bytes(b'[[vm]]\nname = "caf\xe9"\nqmp = "/a"\n')  # Latin-1, as an old editor saves it
    code, err = cli_error(capsys, path)
    assert (code, err) == (1, f"migtui: {path}:2: not UTF-8 text (byte 0xe9); TOML files are UTF-8")


HOSTS = """
[[host]]
name = "hv-a"
ssh = "root@198.51.100.1"
migration_ports = "49152-49215"

[[host]]
name = "hv-b"
ssh = "198.51.100.2:2222"
migration_address = "198.51.100.20"

[[vm]]
name = "web-1"
host = "hv-a"
qmp = "/run/qemu/web-1.qmp"

[[vm]]
name = "local-1"
qmp = "/run/local-1.qmp"
"""


def test_hosts_are_read_with_their_ssh_destination_and_migration_address():
    inventory = parse_inventory(HOSTS)
    a, b = inventory.host
    assert (a.destination.user, a.destination.host, a.destination.port) == ("root", "198.51.100.1", None)
    assert (b.destination.user, b.destination.port) == (None, 2222)
    assert a.listen_address == "198.51.100.1" and b.listen_address == "198.51.100.20"
    assert a.listen_ports == range(49152, 49216) and b.listen_ports is None
    assert inventory.host_of(inventory.get("web-1")) == a
    assert inventory.host_of(inventory.get("local-1")) is None


@pytest.mark.parametrize("change, expected", [
    (('host = "hv-a"', 'host = "hv-c"'), "<inventory>:14: vm[0].host: no [[host]] named 'hv-c' (known: hv-a, hv-b)"),
    (('"root@198.51.100.1"', '"root@"'), "<inventory>:4: host[0].ssh: 'root@' is not [user@]host[:port]"),
    (('"198.51.100.2:2222"', '"198.51.100.2:99999"'),
     "<inventory>:9: host[1].ssh: '198.51.100.2:99999': the port must be a number from 1 to 65535"),
    (('"49152-49215"', '"49215-49152"'),
     "<inventory>:5: host[0].migration_ports: '49215-49152': ports go from 1 to 65535, low to high"),
    (('name = "hv-b"', 'name = "hv-a"'),
     "<inventory>: host: host name 'hv-a' is used twice (host[0] and host[1])"),
])
def test_a_wrong_host_is_one_line_naming_the_field(change, expected):
    with pytest.raises(ConfigError) as error:
        parse_inventory(HOSTS.replace(*change))
    assert str(error.value) == expected


def test_ssh_vm_pairs_make_one_host_per_destination():
    inventory = inventory_from_pairs(["a=ssh://root@198.51.100.1/run/qemu/a.qmp",
                                      "b=ssh://root@198.51.100.1/run/qemu/b.qmp",
                                      "c=ssh://198.51.100.2:2222/run/c.qmp", "d=/tmp/d.qmp"])
    assert [(h.name, h.ssh) for h in inventory.host] == [("198.51.100.1", "root@198.51.100.1"),
                                                         ("198.51.100.2", "198.51.100.2:2222")]
    assert [(vm.name, vm.host, vm.qmp) for vm in inventory.vm] == [
        ("a", "198.51.100.1", "/run/qemu/a.qmp"), ("b", "198.51.100.1", "/run/qemu/b.qmp"),
        ("c", "198.51.100.2", "/run/c.qmp"), ("d", None, "/tmp/d.qmp")]
    with pytest.raises(ConfigError, match=r"^--vm 'x=ssh://h': 'ssh://h' is not ssh://\[user@\]host\[:port\]/path/to/socket$"):
        inventory_from_pairs(["x=ssh://h"])
