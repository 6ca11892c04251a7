"""How a JupyterHub user name becomes a home directory's name on a z2jh hub: KubeSpawner's legacy
escaping (``{escaped_username}``, used for the home ``subPath`` whatever ``slug_scheme`` is set to),
which keeps lower-case letters and digits and writes every other byte of the UTF-8 name as ``-``
and two hex digits, then lower-cases the whole. ``user@x.com`` → ``user-40x-2ecom``."""

from __future__ import annotations

import string

_SAFE = frozenset(string.ascii_lowercase + string.digits)


def home_folder(name: str) -> str:
    out = []
    for char in name:
        if char in _SAFE:
            out.append(char)
        else:
            out.extend(f"-{byte:02X}" for byte in char.encode("utf-8"))
    return "".join(out).lower()
