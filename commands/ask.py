"""``/hub ask <question>`` (also any question in a mention or DM): an answer from the community's
own docs with the section it came from, or an answer the support team saved (attributed); when
hubbot is not certain, the closest pages with an **Ask a human** button; when it has no idea, a
hand-off to the support team (and its ticket desk). Askers' verdicts nudge later rankings.
``/hub faq stats`` shows how that goes."""

from __future__ import annotations

from hubbot import markup as m
from hubbot.domain import Answer, Block, SavedAnswer, SupportQuestion, saved_entry
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
    return knowledge_of(ctx, ctx.community)


def knowledge_of(ctx: Context, community: str | None) -> Knowledge | None:
    """A community's own docs, else the fleet-wide docs."""
    if community and community in ctx.services.knowledge:
        return ctx.services.knowledge[community]
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
    assert ctx.services.support is not None
    saved = await ctx.services.saved_answers.list(communities=[ctx.community]) if ctx.services.saved_answers \
        else []
    verdicts = await ctx.services.support.verdicts(community=ctx.community)
    answer = docs.answer(question, verdicts=verdicts, saved=saved)
    unprompted = ctx.invocation.trigger == "message"
    confident = answer.answered and (not unprompted or answer.confidence >= UNPROMPTED)
    if unprompted and not confident:
        return Reply(text="", kind="silent")  # not asked, not sure: say nothing
    top = answer.citations[0] if answer.citations else None
    suggest = not confident and answer.suggested and len(answer.citations) > 0
    qid = await ctx.services.support.add(SupportQuestion(
        at=ctx.services.clock.now(), user=ctx.caller.user_id, channel=ctx.invocation.channel_id,
        thread_ts=ctx.invocation.thread_ts, community=ctx.community, question=question, answered=confident,
        confidence=answer.confidence, citation=f"{top.path}#{top.anchor}" if top else None, suggested=suggest))
    entry = next((e for e in saved if top and e.id == saved_entry(top.path)), None)
    if confident and entry is not None:
        assert ctx.services.saved_answers is not None and entry.id is not None
        await ctx.services.saved_answers.used(entry.id)
        return _saved_reply(entry, qid)
    if confident:
        return _answer_reply(docs, answer, qid)
    if suggest:
        return _suggestions(docs, answer, qid)
    where = await escalate(ctx, qid, question)
    return Reply(text=f"I'm not sure — {where}", blocks=[b.section(f":thinking_face: I'm not sure — {where}")])


def _verdict_buttons(qid: int) -> Block:
    return b.actions(
        b.button("This answered it", action_id=action_id("ask", "helpful"), value=str(qid), style="primary"),
        b.button("Ask a human", action_id=action_id("ask", "human"), value=str(qid)),
    )


def _saved_reply(entry: SavedAnswer, qid: int) -> Reply:
    """A saved answer, in its author's words and attributed to them."""
    when = f"{entry.at:%-d %b %Y}"
    head = f"Answered before by {m.mention(entry.author)} ({when}):"
    links = [m.link(url) for url in entry.links[:3]]
    blocks = [b.section(f"{head}\n>{entry.answer}")]
    if links:
        blocks.append(b.context("Links: " + " · ".join(links)))
    blocks.append(_verdict_buttons(qid))
    return Reply(text="\n".join([head, entry.answer, *entry.links[:3]]), blocks=blocks, public=True)


def _suggestions(docs: Knowledge, answer: Answer, qid: int) -> Reply:
    """Not sure enough to answer: the three closest pages, each with a line of it."""
    head = "I'm not certain — these look closest:"
    lines = []
    for c in answer.citations[:3]:
        title = c.title if c.heading == c.title or not c.heading else c.heading
        line = f"• {m.link(docs.url(c.path, c.anchor), title)}"
        lines.append(line + (f" — {c.snippet}" if c.snippet else ""))
    blocks = [b.section(f":mag: {head}\n" + "\n".join(lines)),
              b.context("If none of these answers it, ask a human and the support team will reply here."),
              _verdict_buttons(qid)]
    text = "\n".join([head, *(f"{c.heading or c.title}: {docs.url(c.path, c.anchor)}" for c in answer.citations[:3])])
    return Reply(text=text, blocks=blocks, public=True)


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
    blocks.append(_verdict_buttons(qid))
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
    entry = saved_entry((question.citation or "").partition("#")[0])
    if entry is not None and ctx.services.saved_answers is not None:
        # it answered this way of asking too: the next person who asks so is answered surely
        await ctx.services.saved_answers.asked_as(entry, question.question)
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
