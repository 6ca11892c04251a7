"""``/hub ask <question>`` (also any question in a mention or DM): an answer from the community's
own docs with the section it came from, or — when hubbot is unsure — a hand-off to the support
team (and its ticket desk). ``/hub faq stats`` shows how that goes."""

from __future__ import annotations

from hubbot import markup as m
from hubbot.domain import Answer, SupportQuestion
from hubbot.errors import NotAllowed, NotFound, UserError
from hubbot.outbox.delivery import deliver
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Signature
from hubbot.pipeline.contract import PREFIX, ActionSpec, CommandSpec, Context, Reply, action_id
from hubbot.ports import Knowledge
from hubbot.render import blocks as b
from hubbot.support.escalation import Asked, escalation
from hubbot.support.faq import THRESHOLD

UNPROMPTED = THRESHOLD + 0.2  # answering without being asked needs more certainty
MAX_QUESTION = 2000


def knowledge(ctx: Context) -> Knowledge | None:
    """The asking community's own docs, else the fleet-wide docs."""
    if ctx.community and ctx.community in ctx.services.knowledge:
        return ctx.services.knowledge[ctx.community]
    return ctx.services.knowledge.get("")


def support_channel(ctx: Context, community: str | None) -> str | None:
    own = ctx.fleet.community(community).support if community else None
    return (own.channel if own and own.channel else None) or ctx.fleet.config.support.channel


async def ask_handler(ctx: Context) -> Reply:
    question = (ctx.args.text("question") or "").strip()
    if not question:
        raise UserError(f"ask me a question, like `{PREFIX} ask how do I install a package?`")
    question = question[:MAX_QUESTION]
    docs = knowledge(ctx)
    if docs is None:
        raise UserError("no documentation is set up for support answers yet — an engineer can add `support.docs` "
                        "to the fleet config")
    docs.refresh()
    answer = docs.answer(question)
    unprompted = ctx.invocation.trigger == "message"
    confident = answer.answered and (not unprompted or answer.confidence >= UNPROMPTED)
    if unprompted and not confident:
        return Reply(text="", kind="silent")  # not asked, not sure: say nothing
    top = answer.citations[0] if answer.citations else None
    assert ctx.services.support is not None
    qid = await ctx.services.support.add(SupportQuestion(
        at=ctx.services.clock.now(), user=ctx.caller.user_id, channel=ctx.invocation.channel_id,
        thread_ts=ctx.invocation.thread_ts, community=ctx.community, question=question, answered=confident,
        confidence=answer.confidence, citation=f"{top.path}#{top.anchor}" if top else None))
    if confident:
        return _answer_reply(docs, answer, qid)
    where = await escalate(ctx, qid, question)
    return Reply(text=f"I'm not sure — {where}", blocks=[b.section(f":thinking_face: I'm not sure — {where}")])


def _answer_reply(docs: Knowledge, answer: Answer, qid: int) -> Reply:
    best, *more = answer.citations
    link = docs.url(best.path, best.anchor)
    title = best.heading or best.title
    head = f"*{m.link(link, title)}*" if link else f"*{title}*"
    lines = [head, f">{answer.extract}" if answer.extract else ""]
    also = [m.link(docs.url(c.path, c.anchor), c.heading or c.title) for c in more[:2]]
    blocks = [b.section("\n".join(line for line in lines if line))]
    if also:
        blocks.append(b.context("See also: " + " · ".join(also)))
    blocks.append(b.actions(
        b.button("This answered it", action_id=action_id("ask", "helpful"), value=str(qid), style="primary"),
        b.button("Ask a human", action_id=action_id("ask", "human"), value=str(qid)),
    ))
    text = "\n".join([title, answer.extract, link, *(docs.url(c.path, c.anchor) for c in more[:2])])
    return Reply(text=text, blocks=blocks, public=True)


async def escalate(ctx: Context, qid: int, question: str) -> str:
    """Hand the question to the support channel; the outbox keeps it until it is delivered."""
    assert ctx.services.support is not None
    asked = await ctx.services.support.get(qid)
    community = asked.community if asked else ctx.community
    channel = support_channel(ctx, community)
    await ctx.services.support.escalate(qid)
    if channel is None:
        return "and no support channel is configured, so please ask your hub's admins directly."
    desk = ctx.services.tickets.get(community or "") or ctx.services.tickets.get("")
    asked_as = Asked(qid=qid, question=question, community=community,
                     user=asked.user if asked else ctx.caller.user_id,
                     channel=asked.channel if asked else ctx.invocation.channel_id,
                     thread_ts=asked.thread_ts if asked else ctx.invocation.thread_ts)
    now = ctx.services.clock.now()
    rows = escalation(asked_as, support_channel=channel, ticket=desk is not None, at=now)
    await ctx.services.outbox.add(rows)
    # Deliver now; whatever fails stays pending in the outbox and the delivery job retries it.
    for pending in rows:
        await deliver(ctx.services, ctx.fleet, at=now, worker=ctx.reference, key=pending.key)
    return "I've asked the support team, and someone will reply here."


async def _question_of(ctx: Context, value: str) -> SupportQuestion:
    found = await ctx.services.support.get(int(value)) if value.isdigit() and len(value) < 12 and ctx.services.support \
        else None
    if found is None:
        raise NotFound("that question is not known any more")
    if found.user != ctx.caller.user_id:
        raise NotAllowed(f"only {m.mention(found.user)}, who asked, can say whether this answered it")
    return found


async def helpful_handler(ctx: Context, value: str) -> Reply:
    question = await _question_of(ctx, value)
    assert ctx.services.support is not None and question.id is not None
    if not await ctx.services.support.feedback(question.id, helpful=True):
        return Reply(text="Thanks — your answer was already noted.")
    return Reply(text=":white_check_mark: Glad that helped — thanks for saying.")


async def human_handler(ctx: Context, value: str) -> Reply:
    question = await _question_of(ctx, value)
    assert ctx.services.support is not None and question.id is not None
    await ctx.services.support.feedback(question.id, helpful=False)
    if question.escalated:
        return Reply(text="The support team already has this question.")
    return Reply(text=await escalate(ctx, question.id, question.question), public=True)


ASK = CommandSpec(
    name="ask",
    summary="ask a question; the answer comes from the docs, or from a human",
    handler=ask_handler,
    permission=Permission.ANYONE,
    signature=Signature(args=(Arg("question", "your question, in your own words", rest=True),)),
    actions=(ActionSpec("helpful", Permission.ANYONE, helpful_handler),
             ActionSpec("human", Permission.ANYONE, human_handler)),
    examples=(f"{PREFIX} ask how do I install an extra python package?",),
)
