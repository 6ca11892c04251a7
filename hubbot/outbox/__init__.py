"""Delivery of anything queued for Slack or a ticket desk (cost alerts, digests, escalated
questions, tickets): claimed with a lease, sent once, retried, given up after a day."""
