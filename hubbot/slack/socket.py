"""Socket Mode: Bolt's handler, with each envelope's payload checked first (the same rules as
the HTTP endpoint) so a malformed one is acknowledged and dropped instead of failing in Bolt
and being redelivered."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.socket_mode.response import SocketModeResponse

from hubbot.slack.verify import payload_problem

log = logging.getLogger("hubbot.slack")
_KINDS = {"events_api": False, "interactive": True}


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    async def handle(self, client: Any, req: Any) -> None:
        if req.type in _KINDS:
            problem = payload_problem(req.payload, interactive=_KINDS[req.type])
            if problem is not None:
                log.warning("dropping a Socket Mode %s envelope: %s", req.type, problem)
                await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
        await super().handle(client, req)
