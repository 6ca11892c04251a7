"""Answers the support team writes in Slack, saved to answer the next person who asks.

When someone replies in the thread of an escalated question in the support channel, hubbot
offers them (only them) a **Save as answer** button; the reply's author or a hub engineer may
save it. Saving posts the answer in the asker's thread (through the outbox, so it is not lost)
and makes it searchable at once. ``/hub faq entries`` lists saved answers, ``/hub faq edit N``
rewrites one, ``/hub faq retire N`` / ``/hub faq restore N`` take one out of use and back, and
``/hub faq unlearn`` forgets askers' verdicts on a section.
"""

from __future__ import annotations

from collections.abc import Callable

from commands.ask import knowledge_of
from hubbot import markup as m
from hubbot.domain import OutboxKind, OutboxMessage, Post, SavedAnswer, SupportQuestion, ThreadReply
from hubbot.errors import NotAllowed, NotFound, UserError
from hubbot.outbox.delivery import deliver
from hubbot.pipeline.access import Permission
from hubbot.pipeline.args import Arg, Opt, Signature
from hubbot.pipeline.contract import PREFIX, ActionSpec, CommandSpec, Context, Reply, action_id
from hubbot.ports import SavedAnswers
from hubbot.render import blocks as b
from hubbot.support.saved import MAX_ANSWER, links_in, saved_answer, sources, stale_pages

QUOTE = 300


def _store(ctx: Context) -> SavedAnswers:
    if ctx.services.saved_answers is None or ctx.services.support is None:
        raise UserError("saved answers need hubbot's database — they are not available in this setup")
    return ctx.services.saved_answers


async def offer_handler(ctx: Context) -> Reply:
    """A reply in a support channel's thread: if the thread is an escalated question's, offer to
    save the reply as its answer."""
    support, where = ctx.services.support, ctx.invocation
    text = m.clean(where.text).strip()
    if support is None or ctx.services.saved_answers is None or not where.thread_ts or not where.message_ts \
            or not text:
        return Reply(text="", kind="silent")
    question = await support.by_post(where.channel_id, where.thread_ts)
    if question is None or question.id is None or question.user == ctx.caller.user_id:
        return Reply(text="", kind="silent")
    reply_id = await support.add_reply(ThreadReply(
        question_id=question.id, user=ctx.caller.user_id, text=text[:MAX_ANSWER], channel=where.channel_id,
        ts=where.message_ts, at=ctx.services.clock.now()))
    quote = text if len(text) <= QUOTE else text[: QUOTE - 1] + "…"
    head = (f"Save this reply as the answer to question #{question.id}? hubbot posts it in "
            f"{m.mention(question.user)}'s thread and answers the next person who asks the same with it.")
    return Reply(text=head, blocks=[
        b.section(f"{head}\n>{quote}"),
        b.actions(b.button("Save as answer", action_id=action_id("faq entries", "save"), value=str(reply_id),
                           style="primary")),
    ])


async def save_handler(ctx: Context, value: str) -> Reply:
    store = _store(ctx)
    assert ctx.services.support is not None
    reply = await ctx.services.support.get_reply(int(value)) if value.isdigit() and len(value) < 12 else None
    if reply is None or reply.id is None:
        raise NotFound("that reply is not known any more")
    if reply.user != ctx.caller.user_id and not ctx.caller.engineer:
        raise NotAllowed(f"only {m.mention(reply.user)}, who wrote it, or a hub engineer can save this answer")
    if reply.entry_id is not None:
        return Reply(text=f"That reply is already saved as answer #{reply.entry_id}.", replace=True)
    question = await ctx.services.support.get(reply.question_id)
    if question is None or question.id is None:
        raise NotFound("the question it answers is not known any more")
    now = ctx.services.clock.now()
    entry = saved_answer(question.question, reply, community=question.community, at=now,
                         source_of=_page_of_link(ctx, question.community))
    entry_id = await store.add(entry)
    if not await ctx.services.support.reply_saved(reply.id, entry_id=entry_id):
        await store.retire(entry_id, by=ctx.caller.user_id, at=now)  # someone saved it a moment ago
        return Reply(text="Someone saved that reply a moment ago.", replace=True)
    await _post_to_asker(ctx, question, reply, entry_id)
    await ctx.record_change(command="faq save", args=str(entry_id), community=question.community,
                            detail=f"saved {reply.user}'s reply as answer #{entry_id} to question #{question.id}")
    return Reply(text=f":floppy_disk: Saved as answer #{entry_id} — posted in the asker's thread; it answers the "
                      f"next similar question (`{PREFIX} faq entries` lists saved answers).", replace=True)


def _page_of_link(ctx: Context, community: str | None) -> Callable[[str], tuple[str, str] | None]:
    """Which docs page a link shows, with the page's fingerprint (saved answers go stale by it)."""
    docs = knowledge_of(ctx, community)

    def source_of(url: str) -> tuple[str, str] | None:
        path = docs.page_of(url) if docs else None
        fingerprint = docs.fingerprint(path) if docs and path else None
        return (path, fingerprint) if path and fingerprint else None
    return source_of


async def _post_to_asker(ctx: Context, question: SupportQuestion, reply: ThreadReply, entry_id: int) -> None:
    head = f":speech_balloon: {m.mention(reply.user)} from the support team answered your question:"
    links = [m.link(url) for url in links_in(reply.text)[:3]]
    blocks = [b.section(f"{head}\n>{reply.text}")] + ([b.context(" · ".join(links))] if links else [])
    now = ctx.services.clock.now()
    post = OutboxMessage(key=f"answer:{question.id}:{entry_id}", kind=OutboxKind.ANSWER,
                         community=question.community or "", channel=question.channel,
                         payload=Post(text=f"{head}\n{reply.text}", blocks=tuple(blocks),
                                      thread_ts=question.thread_ts), created_at=now)
    await ctx.services.outbox.add([post])
    # sent now; if Slack fails, the outbox's delivery job retries it
    await deliver(ctx.services, ctx.fleet, at=now, worker=ctx.reference, key=post.key)


async def _entry(ctx: Context, value: str | None) -> SavedAnswer:
    """A saved answer the caller may change: one of a community they lead, or (engineers) any."""
    store = _store(ctx)
    number = (value or "").lstrip("#")
    entry = await store.get(int(number)) if number.isdigit() and len(number) < 12 else None
    if entry is None:
        raise NotFound(f"no saved answer #{number or '?'} — see `{PREFIX} faq entries`")
    if not ctx.caller.engineer and (entry.community is None or entry.community not in ctx.communities):
        raise NotAllowed(f"saved answer #{entry.id} is not one of your community's")
    return entry


def _line(entry: SavedAnswer, stale: list[str]) -> str:
    first = entry.questions[0]
    first = first if len(first) <= 90 else first[:89] + "…"
    more = f" (+{len(entry.questions) - 1} ways of asking)" if len(entry.questions) > 1 else ""
    state = " · RETIRED" if entry.retired else (" · STALE: " + ", ".join(stale) + " changed" if stale else "")
    return (f"#{entry.id} {first}{more} — by {m.mention(entry.author)} {entry.at:%Y-%m-%d} · used "
            f"{entry.uses}×{state}")


async def entries_handler(ctx: Context) -> Reply:
    store = _store(ctx)
    scope: list[str | None] | None = None if ctx.caller.engineer and ctx.community is None else \
        [*ctx.communities] if ctx.community is None else [ctx.community]
    entries = await store.list(communities=scope, retired=bool(ctx.args.flag("retired")))
    if not entries:
        return Reply(text="No saved answers yet. When the support team answers an escalated question in its "
                          "thread, hubbot offers to save the answer.")
    lines = []
    for entry in entries:
        docs = knowledge_of(ctx, entry.community)
        lines.append(_line(entry, stale_pages(entry, docs.fingerprint) if docs else []))
    title, blocks = b.titled_listing(f"Saved answers ({len(entries)})", lines,
                                     more=f"`{PREFIX} faq export` has them all")
    return Reply(text=title + "\n" + "\n".join(lines), blocks=blocks)


async def retire_handler(ctx: Context) -> Reply:
    entry = await _entry(ctx, ctx.args.text("entry"))
    assert entry.id is not None
    if not await _store(ctx).retire(entry.id, by=ctx.caller.user_id, at=ctx.services.clock.now()):
        return Reply(text=f"Saved answer #{entry.id} is retired already.")
    await ctx.record_change(command="faq retire", args=str(entry.id), community=entry.community,
                            detail=f"retired saved answer #{entry.id}")
    return Reply(text=f"Saved answer #{entry.id} no longer answers questions (`{PREFIX} faq restore {entry.id}` "
                      "brings it back).")


async def restore_handler(ctx: Context) -> Reply:
    entry = await _entry(ctx, ctx.args.text("entry"))
    assert entry.id is not None
    if not await _store(ctx).retire(entry.id, by=ctx.caller.user_id, at=ctx.services.clock.now(), retired=False):
        return Reply(text=f"Saved answer #{entry.id} is in use already.")
    await ctx.record_change(command="faq restore", args=str(entry.id), community=entry.community,
                            detail=f"restored saved answer #{entry.id}")
    return Reply(text=f"Saved answer #{entry.id} answers questions again.")


async def edit_handler(ctx: Context) -> Reply:
    entry = await _entry(ctx, ctx.args.text("entry"))
    assert entry.id is not None
    text = m.clean(ctx.args.text("answer") or "").strip()
    if not text:
        raise UserError(f"give the new answer text: `{PREFIX} faq edit {entry.id} <answer>`")
    if len(text) > MAX_ANSWER:
        raise UserError(f"that answer is {len(text)} characters; keep it under {MAX_ANSWER}")
    links = links_in(text)
    shown = sources(links, _page_of_link(ctx, entry.community))
    await _store(ctx).edit(entry.id, answer=text, links=links, sources=shown, by=ctx.caller.user_id,
                           at=ctx.services.clock.now())
    await ctx.record_change(command="faq edit", args=str(entry.id), community=entry.community,
                            detail=f"rewrote saved answer #{entry.id}")
    return Reply(text=f"Saved answer #{entry.id} now says:\n>{text}")


async def unlearn_handler(ctx: Context) -> Reply:
    assert ctx.services.support is not None
    ref = (ctx.args.text("section") or "").strip()
    if ref != "all" and "#" not in ref:
        raise UserError("name the section as `page#anchor` (as `/hub faq stats` lists it), or `all`")
    community = ctx.community
    if community is None and not ctx.caller.engineer:
        raise UserError("name your community: `/hub faq unlearn <page#anchor|all> <community>`")
    dropped = await ctx.services.support.unlearn(community=community, ref=None if ref == "all" else ref)
    what = "every section" if ref == "all" else ref
    await ctx.record_change(command="faq unlearn", args=ref, community=community,
                            detail=f"forgot {dropped} verdicts on {what}")
    return Reply(text=f"Forgot {dropped} verdict(s) on {what}; rankings no longer "
                      "count them.")


ENTRIES = CommandSpec(
    name="faq entries",
    summary="answers the support team saved from Slack threads",
    handler=entries_handler,
    permission=Permission.COMMUNITY_ADMIN,
    signature=Signature(args=(Arg("community", "the community (default: all you lead)", required=False),),
                        opts=(Opt("retired", "list retired answers too", kind="flag"),)),
    scope="community",
    actions=(ActionSpec("save", Permission.ANYONE, save_handler),),
    thread_reply=offer_handler,
)
_ENTRY = Arg("entry", "the saved answer's number, as `faq entries` lists it")
RETIRE = CommandSpec(name="faq retire", summary="stop using a saved answer", handler=retire_handler,
                     permission=Permission.COMMUNITY_ADMIN, signature=Signature(args=(_ENTRY,)))
RESTORE = CommandSpec(name="faq restore", summary="use a retired saved answer again", handler=restore_handler,
                      permission=Permission.COMMUNITY_ADMIN, signature=Signature(args=(_ENTRY,)))
EDIT = CommandSpec(name="faq edit", summary="rewrite a saved answer", handler=edit_handler,
                   permission=Permission.COMMUNITY_ADMIN,
                   signature=Signature(args=(_ENTRY, Arg("answer", "the new answer text", rest=True))))
UNLEARN = CommandSpec(
    name="faq unlearn", summary="forget askers' verdicts on a section (undo what answers learned)",
    handler=unlearn_handler, permission=Permission.COMMUNITY_ADMIN, scope="community",
    signature=Signature(args=(Arg("section", "`page#anchor` as `faq stats` lists it, or `all`"),
                              Arg("community", "the community (default: this channel's)", required=False))),
)
