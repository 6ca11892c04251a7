"""The ``/hub binder`` group: ``binder status`` (a BinderHub's /health checks) and ``binder deploy``.

``binder deploy`` is ``/hub deploy`` for one BinderHub (see :mod:`commands.deploy`).
"""

from __future__ import annotations

import json

from commands.deploy import DEPLOY_OPTS, START, request_deploy
from commands.target import named_hub
from hubbot.deploys.engine import ports_of
from hubbot.errors import UserError
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Signature
from hubbot.pipeline.contract import PREFIX, CommandSpec, Context, Reply
from hubbot.render import blocks as b


async def binder_status_handler(ctx: Context) -> Reply:
    ref = named_hub(ctx, "binder status")
    if not ref.hub.binder:
        raise UserError(f"{ref.qualified} is not a BinderHub; try `{PREFIX} status {ref.qualified}`")
    ports = ports_of(ctx.services)
    url = ref.hub.health
    health = (await ports.health.check(url, time_limit=ctx.fleet.config.deploys.health_timeout)).expecting(
        ref.hub.health_status)
    checks: list[str] = []
    try:
        body = json.loads(health.detail) if health.detail else {}
        for check in body.get("checks", []) if isinstance(body, dict) else []:
            if isinstance(check, dict):
                icon = ":white_check_mark:" if check.get("ok") else ":x:"
                checks.append(f"{icon} {str(check.get('service', '?'))[:60]}")
    except ValueError:
        pass
    if health.ok:
        head = f":white_check_mark: BinderHub {ref.qualified} is healthy ({health.elapsed_ms} ms)"
    else:
        head = f":x: BinderHub {ref.qualified} is unhealthy: {health.status or 'no answer'}"
        if not checks:
            checks.append(health.detail[:300])
    text = "\n".join([head, *checks, url])
    return Reply(text=text, blocks=[b.section(f"*{head}*"), *([b.section("\n".join(checks))] if checks else []),
                                    b.context(url)])


async def binder_deploy_handler(ctx: Context) -> Reply:
    return await request_deploy(ctx, binder=True)


_BINDERHUB = Arg("hub", "the BinderHub")
BINDER_STATUS = CommandSpec(
    name="binder status", summary="a BinderHub's /health checks", handler=binder_status_handler,
    permission=Permission.COMMUNITY_READ, signature=Signature(args=(_BINDERHUB,)), scope="hub",
    examples=(f"{PREFIX} binder status climate-binder",),
)
BINDER_DEPLOY = CommandSpec(
    name="binder deploy",
    summary="deploy or upgrade a BinderHub",
    handler=binder_deploy_handler,
    permission=Permission.ENGINEER,
    signature=Signature(args=(_BINDERHUB,), opts=DEPLOY_OPTS),
    scope="hub",
    slow=True,
    actions=(START,),
    examples=(f"{PREFIX} binder deploy climate-binder --dry-run",),
)
