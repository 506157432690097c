"""Real QEMU VMs for the demo and the tests: a guest that dirties memory,
sources, destinations waiting with ``-incoming defer``, no orphans.

Never imports Textual.
"""

from migtui.lab.errors import LabError
from migtui.lab.guest import FULL_SPEED, PASSES_ADDR, TICK_HZ, TICKS_ADDR, GuestSpec
from migtui.lab.lab import Lab
from migtui.lab.vm import VM, ExitRecord

__all__ = ["FULL_SPEED", "PASSES_ADDR", "TICKS_ADDR", "TICK_HZ", "VM", "ExitRecord", "GuestSpec", "Lab", "LabError"]
