"""The non-UI layers never import Textual: the headless CLI runs on them alone."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("layer", ["migtui.qapi", "migtui.qmp", "migtui.model", "migtui.lab", "migtui.params",
                                   "migtui.cli.watch", "migtui.cli.migrate", "migtui.cli.params",
                                   "migtui.cli.snapshot", "migtui.cli.control", "migtui.units",
                                   "migtui.record", "migtui.report", "migtui.metrics", "migtui.cli.record",
                                   "migtui.cli.report", "migtui.cli.export", "migtui.cli.replay",
                                   "migtui.alerts", "migtui.serve", "migtui.cli.serve"])
def test_layer_does_not_import_textual(layer):
    code = (f"import importlib, pkgutil, sys\n"
            f"package = importlib.import_module({layer!r})\n"
            f"for info in pkgutil.walk_packages(getattr(package, '__path__', []), {layer!r} + '.'):\n"
            f"    importlib.import_module(info.name)\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'textual_plotext')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
