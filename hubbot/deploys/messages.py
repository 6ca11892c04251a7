"""What a deploy or rollback job shows in its thread: the live message updated in place, its
running, ended and interrupted forms (with the Roll back button of a failed deploy), the summary
of a ``deploy --all`` batch, and the short forms of durations and tool output they use.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from hubbot import markup as m
from hubbot.domain import Block, Job, JobKind, JobState, Workload
from hubbot.errors import HubbotError
from hubbot.pipeline.contract import action_id
from hubbot.ports import Services
from hubbot.render import blocks as b

log = logging.getLogger("hubbot.jobs")
UPDATE_INTERVAL = timedelta(seconds=1)  # Slack allows about one update a second per message
EXCERPT_LINES = 15
ICON = {JobState.SUCCEEDED: ":white_check_mark:", JobState.FAILED: ":x:", JobState.CANCELLED: ":no_entry_sign:",
        JobState.INTERRUPTED: ":warning:", JobState.QUEUED: ":hourglass:", JobState.RUNNING: ":rocket:"}


def duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{max(seconds, 0)} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds // 60 % 60} min"


class LiveMessage:
    """One chat message updated in place, at most once per :data:`UPDATE_INTERVAL`: an update
    that comes too soon is held and sent with the next one that may go; the final one always goes."""

    def __init__(self, services: Services, *, channel: str, ts: str | None) -> None:
        self._services = services
        self._channel = channel
        self.ts = ts
        self._last: datetime | None = None
        self._held: tuple[str, list[Block]] | None = None

    async def show(self, text: str, blocks: list[Block], *, final: bool = False) -> None:
        if self.ts is None:
            return
        now = self._services.clock.now()
        if not final and self._last is not None and now - self._last < UPDATE_INTERVAL:
            self._held = (text, blocks)
            return
        self._last, self._held = now, None
        try:
            await self._services.notifier.update(channel=self._channel, ts=self.ts, text=text, blocks=blocks)
        except HubbotError as exc:  # progress is best effort; the job and its record go on
            log.warning("could not update the message of a job: %s", exc)


def chunks(rows: Sequence[str], size: int = 20) -> list[str]:
    return ["\n".join(rows[i:i + size]) for i in range(0, len(rows), size)]


def who(job: Job) -> str:
    parts = [f"requested by {m.mention(job.requested_by)}"]
    if job.approved_by:
        parts.append(f"approved by {m.mention(job.approved_by)}")
    if job.chart_version:
        parts.append(f"chart version {job.chart_version}")
    if job.commit:
        asked = f" ({m.escape(job.ref)})" if job.ref and not job.commit.startswith(job.ref) else ""
        parts.append(f"commit `{job.commit[:12]}`{asked}")
    return " · ".join(parts)


def thread_root(job: Job) -> tuple[str, list[Block]]:
    """The message a job started outside a thread opens its own thread with."""
    return (f"{job.kind.capitalize()} of {job.hub} (job #{job.id})",
            [b.section(f"{ICON[JobState.RUNNING]} *{job.kind.capitalize()} of {job.hub}* · "
                       f"job #{job.id} · progress in the thread"), b.context(who(job))])


def queued_message(job: Job) -> tuple[str, list[Block]]:
    """The live message's first form, before the job runs."""
    return f"Job #{job.id} is queued…", [b.section(f":hourglass: Job #{job.id} is queued…")]


def running_message(job: Job, stages: Sequence[str], *, done: Mapping[str, timedelta], current: str, note: str,
                    elapsed: timedelta) -> tuple[str, list[Block]]:
    """The live message while the job runs: each stage done (with its time), running (``elapsed``
    so far, and ``note``) or still to come."""
    rows = []
    for stage in stages:
        if stage in done:
            rows.append(f":white_check_mark: {stage} · {duration(done[stage])}")
        elif stage == current:
            rows.append(f":hourglass_flowing_sand: *{stage}* · {duration(elapsed)}"
                        + (f" · {note}" if note else ""))
        else:
            rows.append(f":white_small_square: {stage}")
    head = f"{ICON[JobState.RUNNING]} {job.kind.capitalize()} of *{job.hub}* · job #{job.id}"
    return f"{head}\n" + "\n".join(rows), [b.section(head), b.section("\n".join(rows)), b.context(who(job))]


def ended_message(job: Job, *, excerpt: str = "") -> tuple[str, list[Block]]:
    """The live message's final form (and what a restart leaves for an interrupted job)."""
    excerpt = shorten(excerpt)
    icon = ICON.get(job.state, ":grey_question:")
    took = f" in {duration(job.finished_at - job.started_at)}" if job.finished_at and job.started_at else ""
    if job.state is JobState.SUCCEEDED:
        head = f"{icon} {job.kind.capitalize()} of *{job.hub}* succeeded{took} · job #{job.id}"
    else:
        head = f"{icon} {job.kind.capitalize()} of *{job.hub}* {job.state.value} at *{job.stage or 'start'}*{took}"
        head += f" · job #{job.id}"
    blocks: list[Block] = [b.section(head)]
    if job.result:
        blocks.append(b.section(job.result))
    if excerpt:
        blocks.append(b.section("```" + excerpt.replace("```", "'''") + "```"))
    blocks.append(b.context(who(job)))
    if job.state is JobState.FAILED and job.kind == JobKind.DEPLOY and job.previous_revision:
        blocks.append(b.actions(b.button(f"Roll back to revision {job.previous_revision}",
                                         action_id=action_id("deploy", "rollback"), value=str(job.id),
                                         style="danger")))
    text = f"{head}\n{job.result}" + (f"\n{excerpt}" if excerpt else "")
    return text, blocks


def shorten(output: str, *, lines: int = EXCERPT_LINES, width: int = 200, total: int = 2800) -> str:
    """The last lines of a tool's output, each cut to ``width``, at most ``total`` characters."""
    kept = [line if len(line) <= width else line[: width - 1] + "…" for line in output.splitlines()[-lines:]]
    text = "\n".join(kept)
    return text if len(text) <= total else "…" + text[-total + 1:]


def summary_line(job: Job) -> str:
    """A finished job's line in its batch's summary."""
    icon = ICON.get(job.state, ":grey_question:")
    if job.state is JobState.SUCCEEDED:
        return f"{icon} {job.hub} · revision {job.revision} · job #{job.id}"
    return f"{icon} {job.hub} · {job.state.value} at {job.stage or 'start'}: {job.result[:150]} · job #{job.id}"


def batch_message(title: str, hubs: Sequence[str], lines: Mapping[str, str]) -> tuple[str, list[Block]]:
    """A batch's summary: a line for each hub, its :func:`summary_line` once it finished."""
    done = len(lines)
    ok = sum(1 for line in lines.values() if line.startswith(ICON[JobState.SUCCEEDED]))
    head = f"{title}: {done}/{len(hubs)} finished, {ok} succeeded"
    rows = [lines.get(h, f":hourglass: {h}") for h in hubs]
    body = "\n".join(rows)
    return f"{head}\n{body}", b.limit([b.section(f"*{head}*"), *[b.section(r) for r in chunks(rows)]])


def describe(workloads: Sequence[Workload]) -> str:
    """The workloads of a rollout that failed or timed out, one line each, for the excerpt."""
    return "\n".join(f"{w.kind}/{w.name}: {w.ready}/{w.desired} ready" + (f" ({w.failed})" if w.failed else "")
                     for w in workloads)
