"""Publishing a community's docs as a Jupyter Book 2 (MyST) site with launch buttons into its hub,
and the fleet config that makes hubbot answer support questions from that book.

Public surface: :func:`github_repo` (a validated ``https://github.com/<owner>/<repo>``),
:class:`BookPlan` and :func:`plan` (what to publish where), and the files it renders:
:func:`myst_yml`, :func:`pages_workflow`, :func:`fleet_snippet`.
"""

from __future__ import annotations

from hubbot.books.files import (
    MYSTMD_VERSION,
    BookPlan,
    GitHubRepo,
    fleet_snippet,
    github_repo,
    myst_yml,
    pages_workflow,
    plan,
)

__all__ = ["MYSTMD_VERSION", "BookPlan", "GitHubRepo", "fleet_snippet", "github_repo", "myst_yml", "pages_workflow",
           "plan"]
