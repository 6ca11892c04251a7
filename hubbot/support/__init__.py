"""Support answers: the docs engine (:mod:`hubbot.support.faq`: sections, ranking, confidence,
suggestions, learning from verdicts, curated answers), what an escalated question becomes when
the engine is unsure (:mod:`hubbot.support.escalation`: a post in the support channel, a ticket),
and the support team's answers saved from Slack threads (:mod:`hubbot.support.saved`)."""
