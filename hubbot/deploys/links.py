"""Launch links for lessons and Jupyter Book buttons: nbgitpuller links into a JupyterHub, and
Binder launch links for a BinderHub. Pure functions; every input is validated because the
result is pasted into pages other people click."""

from __future__ import annotations

import re
from urllib.parse import quote, urlencode, urlsplit

from hubbot.errors import UsageError

_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")
_SEGMENT = re.compile(r"^[A-Za-z0-9._-]+$")


def _repo(url: str) -> tuple[str, str, list[str]]:
    """(cleaned URL, host, path segments) of a public git repository URL."""
    url = url.strip().strip("<>")
    if len(url) > 300:
        raise UsageError("that repository URL is too long")
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc or not _HOST.match(parts.netloc):
        raise UsageError(f"'{url[:80]}' is not an https:// repository URL (like https://github.com/org/repo)")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise UsageError("give the repository URL without credentials, ?query or #fragment")
    segments = [s for s in parts.path.split("/") if s]
    if not segments or not all(_SEGMENT.match(s) for s in segments):
        raise UsageError(f"'{url[:80]}' does not name a repository (like https://github.com/org/repo)")
    segments[-1] = segments[-1].removesuffix(".git")
    return f"https://{parts.netloc}/{'/'.join(segments)}", parts.netloc.lower(), segments


def _ref(ref: str | None) -> str | None:
    if ref is None:
        return None
    if not _REF.match(ref) or ".." in ref:
        raise UsageError(f"'{ref[:60]}' is not a branch, tag or commit name")
    return ref


def _path(path: str | None) -> str | None:
    if path is None:
        return None
    clean = path.strip().strip("/")
    if not clean or ".." in clean.split("/") or any(c in clean for c in "\\?#<>\"'`") or len(clean) > 300:
        raise UsageError(f"'{path[:60]}' is not a path inside the repository (like notebooks/intro.ipynb)")
    return clean


def nbgitpuller(hub_url: str, repo: str, *, ref: str | None = None, path: str | None = None) -> str:
    """A link that clones (or updates) ``repo`` into the user's home on the hub and opens
    ``path`` in JupyterLab."""
    url, _, segments = _repo(repo)
    ref, path = _ref(ref), _path(path)
    folder = segments[-1]
    urlpath = f"lab/tree/{folder}/{path}" if path else f"lab/tree/{folder}"
    query = f"repo={quote(url, safe='')}" + (f"&branch={quote(ref, safe='')}" if ref else "")
    query += f"&urlpath={quote(urlpath, safe='/')}"
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def binder(binder_url: str, repo: str, *, ref: str | None = None, path: str | None = None) -> str:
    """A BinderHub launch link: GitHub and GitLab repositories by name, others by git URL."""
    url, host, segments = _repo(repo)
    ref, path = _ref(ref) or "HEAD", _path(path)
    base = binder_url.rstrip("/")
    if host == "github.com" and len(segments) == 2:
        spec = f"gh/{segments[0]}/{segments[1]}/{quote(ref, safe='')}"
    elif host == "gitlab.com":
        spec = f"gl/{quote('/'.join(segments), safe='')}/{quote(ref, safe='')}"
    else:
        spec = f"git/{quote(url, safe='')}/{quote(ref, safe='')}"
    query = f"?{urlencode({'labpath': path}, quote_via=quote, safe='/')}" if path else ""
    return f"{base}/v2/{spec}{query}"
