"""VMs that libvirt manages: a libvirt host's domains as VMs of the fleet, watched and steered through libvirt.

Never imports Textual; libvirt-python itself only when a fleet has a libvirt host (:mod:`migtui.libvirt.binding`).
"""
