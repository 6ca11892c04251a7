"""Support answers: the docs engine (:mod:`hubbot.support.faq`: sections, ranking, confidence,
curated answers) and what happens when it is unsure (escalation to people and ticket desks)."""
