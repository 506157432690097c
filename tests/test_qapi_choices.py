"""Snapshot forms: node members narrowed to the VM's nodes, docs kept, other names refused."""

import pytest

from migtui.qapi.bundled import load_release, release_named
from migtui.qapi.choices import with_choices
from migtui.qapi.errors import FieldErrors
from migtui.qapi.fields import FieldKind, field_specs
from migtui.qapi.models import build_model


def test_node_members_become_choices_and_keep_their_docs():
    specs = field_specs(load_release(release_named("7.2")), "snapshot-save")
    narrowed = {s.name: s for s in with_choices(specs, {"vmstate": ["disk0", "disk1"], "devices": ["disk0", "disk1"]})}
    assert narrowed["vmstate"].kind is FieldKind.ENUM and narrowed["vmstate"].value_names == ("disk0", "disk1")
    assert narrowed["devices"].kind is FieldKind.LIST_ENUM
    assert narrowed["tag"].kind is FieldKind.STR
    assert narrowed["vmstate"].doc == {s.name: s for s in specs}["vmstate"].doc is not None


def test_the_model_refuses_a_node_the_vm_does_not_have():
    specs = with_choices(field_specs(load_release(release_named("7.2")), "snapshot-save"),
                         {"vmstate": ["disk0"], "devices": ["disk0"]})
    model = build_model(specs, "snapshot-save")
    assert model.to_arguments({"job-id": "j", "tag": "t", "vmstate": "disk0", "devices": ["disk0"]}) == {
        "job-id": "j", "tag": "t", "vmstate": "disk0", "devices": ["disk0"]}
    with pytest.raises(FieldErrors) as refused:
        model.to_arguments({"job-id": "j", "tag": "t", "vmstate": "nope", "devices": ["disk0", "other"]})
    assert set(refused.value.errors) == {"vmstate", "devices"}
