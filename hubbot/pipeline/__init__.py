"""The one path every transport uses, chat-neutral: the contract (``Invocation`` -> ``Reply``,
``CommandSpec``), argument parsing, who may do what, dispatch, and confirmations and approvals.

- :mod:`~hubbot.pipeline.contract`: Invocation, Reply, Context, CommandSpec, ActionSpec, Registry
- :mod:`~hubbot.pipeline.args`: the argument grammar and ``Signature``
- :mod:`~hubbot.pipeline.access`: roles, permissions, ``authorize``
- :mod:`~hubbot.pipeline.confirm`: asking for a confirmation or a second engineer's approval
- :mod:`~hubbot.pipeline.dispatch`: ``Dispatcher``, the one place errors become replies
"""
