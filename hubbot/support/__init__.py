"""Support answers: the docs engine (:mod:`hubbot.support.faq`: sections, ranking, confidence,
curated answers) and what an escalated question becomes when the engine is unsure
(:mod:`hubbot.support.escalation`: a post in the support channel, a ticket)."""
