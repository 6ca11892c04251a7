"""Who may do what, where.

Three roles: hub *engineers* may do everything; a community's *leaders* may read and change
their own community's hubs, costs and settings; *members* may run read-only commands for the
communities they belong to and ask support questions. A leader of one community never sees
another community's data. Every command declares one :class:`Permission`; :func:`authorize`
is the single place that decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hubbot import markup as m
from hubbot.errors import NotAllowed
from hubbot.fleet import Fleet


class Permission(StrEnum):
    ANYONE = "anyone"  # help, whoami, support questions
    COMMUNITY_READ = "community-read"  # engineers, that community's leaders and members
    COMMUNITY_ADMIN = "community-admin"  # engineers and that community's leaders
    ENGINEER = "engineer"  # hub engineers only


@dataclass(frozen=True, slots=True)
class Caller:
    user_id: str
    engineer: bool
    leader_of: frozenset[str]
    member_of: frozenset[str]

    @property
    def roles(self) -> list[str]:
        roles = ["engineer"] if self.engineer else []
        roles += [f"leader of {c}" for c in sorted(self.leader_of)]
        roles += [f"member of {c}" for c in sorted(self.member_of - self.leader_of)]
        return roles or ["member"]


def resolve_caller(
    fleet: Fleet, user_id: str, *, groups: frozenset[str] = frozenset(), channel: str | None = None
) -> Caller:
    """Work out a Slack user's roles. ``groups`` are the user-group IDs (S...) the user is in;
    being in a community's channel makes one a member of that community."""
    none: frozenset[str] = frozenset()
    if groups:
        ids = (user_id, *groups)
        engineer = any(i in fleet.engineers for i in ids)
        leader_of: frozenset[str] = none.union(*(fleet.leads.get(i, none) for i in ids))
        member_of: frozenset[str] = none.union(*(fleet.belongs.get(i, none) for i in ids))
    else:  # most callers are in no user group hubbot knows: three lookups
        engineer = user_id in fleet.engineers
        leader_of, member_of = fleet.leads.get(user_id, none), fleet.belongs.get(user_id, none)
    here = fleet.community_for_channel(channel) if channel else None
    if here is not None:
        member_of |= {here.name}
    return Caller(user_id=user_id, engineer=engineer, leader_of=leader_of, member_of=member_of)


def visible(caller: Caller, permission: Permission, fleet: Fleet) -> list[str]:
    """Communities whose data the caller may see under ``permission``, in config order."""
    names = fleet.communities  # by name, in config order
    if caller.engineer or permission is Permission.ANYONE:
        return list(names)
    if permission is Permission.COMMUNITY_ADMIN:
        return [n for n in names if n in caller.leader_of]
    if permission is Permission.COMMUNITY_READ:
        return [n for n in names if n in caller.member_of]
    return []


def _mentions(ids: list[str]) -> str:
    return ", ".join(m.mention(i) for i in ids[:5]) if ids else "nobody is configured yet"


def authorize(
    caller: Caller, permission: Permission, *, fleet: Fleet, community: str | None, action: str,
    unowned: str | None = None,
) -> list[str]:
    """Return the communities the caller may act on, or raise :class:`NotAllowed` saying who can.

    With ``community`` set the answer is ``[community]``; without it, every community the
    caller may see (engineers: all). ``unowned`` names a hub of no community the action is for:
    the engineers' alone. ``action`` names what was attempted, for the message.
    """
    engineers = list(fleet.config.roles.engineers)
    if unowned is not None and not caller.engineer:
        raise NotAllowed(f"{unowned} belongs to no community: only hub engineers can {action} — ask one of "
                         f"{_mentions(engineers)}")
    if permission is Permission.ENGINEER:
        if caller.engineer:
            return [community] if community else [c.name for c in fleet.config.communities]
        raise NotAllowed(f"only hub engineers can {action} — ask one of {_mentions(engineers)}")
    allowed = visible(caller, permission, fleet)
    if community is None:
        if allowed or permission is Permission.ANYONE:
            return allowed
        who = "leaders" if permission is Permission.COMMUNITY_ADMIN else "members"
        raise NotAllowed(f"you are not among the {who} of any community, so you cannot {action}")
    if community in allowed:
        return [community]
    leaders = list(fleet.community(community).leaders)
    who = "leaders" if permission is Permission.COMMUNITY_ADMIN else "members and leaders"
    raise NotAllowed(
        f"only hub engineers and {who} of '{community}' can {action} — ask one of "
        f"{_mentions(leaders + engineers)}"
    )
