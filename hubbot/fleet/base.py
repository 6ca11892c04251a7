"""What the fleet config's models share: the base model (unknown fields refused, frozen once
validated), names, and the patterns of sizes and allowances."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NAME = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
SIZE = r"^\d+(\.\d+)?(KiB|MiB|GiB|TiB|Ki|Mi|Gi|Ti|KB|MB|GB|TB|k|M|G|T)$"  # an amount with a unit, e.g. 50GiB
ALLOWANCE = r"^\d+(\.\d+)?/\d+[hd]$"  # hours per window, e.g. 1000/30d

Name = Annotated[str, Field(pattern=NAME, description="lower-case letters, digits and dashes")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
