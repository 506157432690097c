"""migtui: watch and steer QEMU live migrations from a terminal."""

__version__ = "0.1.0"
