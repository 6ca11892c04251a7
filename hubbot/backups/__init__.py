"""Home-directory backups: which volumes a hub's backups are of (:mod:`.targets`), how healthy
they are (:mod:`.status`), and how to restore from one (:mod:`.plans`) — shared by the
``/hub backup`` commands and the daily staleness check."""
