"""migtui: watch and steer QEMU live migrations from a terminal."""

from migtui.library_noise import quiet_library_noise

__version__ = "0.1.0"

quiet_library_noise()
