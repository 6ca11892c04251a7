"""The console transport: a REPL and one-shot runner over the same pipeline as Slack."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from hubbot.pipeline.contract import Invocation, Reply
from hubbot.pipeline.dispatch import Dispatcher
from hubbot.render.blocks import for_slack, text_for_slack
from hubbot.render.text import render, terminal_text

EXIT_CODES = {"ok": 0, "silent": 0, "usage": 2, "not_found": 2, "denied": 3, "upstream": 4, "error": 1}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class PrintNotifier:
    """Where alerts go when no chat is connected (the console, `hubbot alerts run` without
    Slack tokens): printed, so a newcomer sees what would be posted."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._count = 0

    async def post(
        self, *, channel: str, text: str, blocks: Sequence[dict[str, object]], thread_ts: str | None = None,
        key: str | None = None,
    ) -> str | None:
        self._count += 1
        where = f"{channel}, thread {thread_ts}" if thread_ts else channel
        print(f"── to {where} ──\n{terminal_text(text)}", file=self._out, flush=True)
        return f"{self._count}.0"

    async def update(self, *, channel: str, ts: str, text: str, blocks: Sequence[dict[str, object]]) -> None:
        print(f"  ↻ {terminal_text(text)}", file=self._out, flush=True)

    async def find(self, *, channel: str, key: str, since: datetime) -> str | None:
        return None  # a terminal keeps no history to ask


def exit_code(reply: Reply) -> int:
    return EXIT_CODES.get(reply.kind, 1)


@dataclass
class Console:
    """Runs lines as ``user`` in ``channel``; files a reply carries are saved in ``files_dir``."""

    dispatcher: Dispatcher
    user: str
    channel: str
    files_dir: Path
    out: TextIO
    buttons: list[tuple[str, str, str]] = field(default_factory=list)

    def _invocation(self, text: str) -> Invocation:
        return Invocation(user_id=self.user, channel_id=self.channel, text=text, transport="console",
                          trigger="console")

    async def _progress(self, text: str) -> None:
        print(f"  … {terminal_text(text)}", file=self.out, flush=True)

    async def run(self, text: str) -> tuple[Reply, list[Path]]:
        reply = await self.dispatcher.run(self._invocation(text), progress=self._progress)
        return reply, self.save_files(reply)

    async def click(self, number: int) -> tuple[Reply, list[Path]]:
        if not 1 <= number <= len(self.buttons):
            return Reply(text=f"there is no button {number} on the last reply", kind="usage"), []
        _, action_id, value = self.buttons[number - 1]
        reply = await self.dispatcher.run_action(self._invocation(""), action_id=action_id, value=value,
                                                 progress=self._progress)
        return reply, self.save_files(reply)

    def save_files(self, reply: Reply) -> list[Path]:
        saved = []
        for f in reply.files:
            self.files_dir.mkdir(parents=True, exist_ok=True)
            path = self.files_dir / (_SAFE_NAME.sub("_", f.name).lstrip(".") or "file")
            path.write_bytes(f.content)
            saved.append(path)
        return saved

    def show(self, reply: Reply, files: list[Path]) -> None:
        if reply.blocks and reply.ok:
            text, self.buttons = render(reply.blocks)
        else:
            text, self.buttons = terminal_text(reply.text), []
        if not reply.ok:
            text = f"[{reply.kind}] {text}"
        print(text, file=self.out)
        for path in files:
            print(f"  saved {path}", file=self.out)
        if self.buttons:
            print("  (type :click N to press a button)", file=self.out)

    async def wait_for_jobs(self) -> list[str]:
        """Let deploy jobs started here finish (a one-shot run must not exit under them)."""
        deploys = self.dispatcher.services.deploys
        if deploys is None or not deploys.background.running():
            return []
        print(f"  … waiting for {len(deploys.background.running())} job(s) to finish", file=self.out, flush=True)
        return [state.value for state in await deploys.background.drain()]

    async def once(self, text: str, *, as_json: bool) -> int:
        reply, files = await self.run(text)
        if as_json:  # the message as Slack would get it (mrkdwn, escaped, clipped)
            payload: dict[str, Any] = {
                "ok": reply.ok, "kind": reply.kind, "text": text_for_slack(reply.text),
                "blocks": for_slack(reply.blocks),
                "files": [str(p) for p in files],
            }
            print(json.dumps(payload, ensure_ascii=False), file=self.out, flush=True)
        else:
            self.show(reply, files)
        ended = await self.wait_for_jobs()
        if any(state != "succeeded" for state in ended):
            return 1
        return exit_code(reply)

    async def repl(self, read: Callable[[str], str]) -> None:
        print("hubbot console — type `/hub help` (or just `help`), :click N for a button, Ctrl-D to leave.",
              file=self.out)
        print(f"You are {self.user} in channel {self.channel}; files go to {self.files_dir}/", file=self.out)
        while True:
            try:  # read in a thread, so deploy jobs go on while the prompt waits
                line = (await asyncio.to_thread(read, "hub> ")).strip()
            except (EOFError, KeyboardInterrupt):
                print(file=self.out)
                await self.wait_for_jobs()
                return
            if not line:
                continue
            if line in (":quit", ":exit", "quit", "exit"):
                await self.wait_for_jobs()
                return
            if line.startswith(":click"):
                arg = line.removeprefix(":click").strip()
                reply, files = await self.click(int(arg) if arg.isdigit() else 0)
            else:
                reply, files = await self.run(line)
            self.show(reply, files)
