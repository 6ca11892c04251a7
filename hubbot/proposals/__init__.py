"""Changes asked for in chat that become pull requests on the fleet repository: the files they
write (:mod:`~hubbot.proposals.files`) and the words around them (:mod:`~hubbot.proposals.words`)."""
