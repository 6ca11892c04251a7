"""Pure renderers: Block Kit builders and a plain-text rendering of blocks for terminals."""
