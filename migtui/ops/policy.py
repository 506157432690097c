"""Follow migrations under a policy: which policy, and whether it may run here.

The engine runs a policy's steps (:class:`migtui.qmp.policy.PolicyRunner`),
each through the gate; an acting policy cannot run read-only at all, so it
is refused here, before anything starts, in the same words for every command.
"""

from __future__ import annotations

from migtui.errors import UsageError
from migtui.model.policy import Policy
from migtui.policy_files import load_policy


def policy_for(name: str | None, read_only: bool) -> Policy | None:
    """The policy ``name`` (None: none), refused where migtui runs read-only and it acts."""
    if name is None:
        return None
    policy = load_policy(name)
    if policy.acts and read_only:
        raise UsageError(f"policy {policy.name!r} changes migrations; read-only allows only 'observe'")
    return policy
