"""hubbot: Slack ChatOps for the teams that run JupyterHubs and BinderHubs."""

__version__ = "0.1.0"
