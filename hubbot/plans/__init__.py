"""The service menu and cost estimates: tier fees (:mod:`~hubbot.plans.fees`), estimates that pack
user servers onto nodes (:mod:`~hubbot.plans.estimate`), prices read, kept and fallen back on
(:mod:`~hubbot.plans.prices`), and the words of ``/hub estimate`` (:mod:`~hubbot.plans.asks`)."""
