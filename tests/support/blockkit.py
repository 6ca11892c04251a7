"""Block Kit's documented limits, checked the way Slack checks them before posting a message:
the problems Slack would list under ``invalid_blocks`` (empty list when the blocks are fine)."""

from __future__ import annotations

from typing import Any

MAX_BLOCKS = 50
TEXT_TYPES = ("plain_text", "mrkdwn")


def _text(obj: Any, where: str, *, limit: int, plain_only: bool = False) -> list[str]:
    if not isinstance(obj, dict) or obj.get("type") not in (("plain_text",) if plain_only else TEXT_TYPES):
        return [f"{where}: must be a {'plain_text' if plain_only else 'text'} object"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"{where}.text: must be more than 0 characters"]
    if len(text) > limit:
        return [f"{where}.text: must be less than {limit + 1} characters"]
    return []


def _button(element: Any, where: str) -> list[str]:
    problems = _text(element.get("text"), f"{where}.text", limit=75, plain_only=True)
    if len(str(element.get("action_id", ""))) > 255:
        problems.append(f"{where}.action_id: must be less than 256 characters")
    if len(str(element.get("value", ""))) > 2000:
        problems.append(f"{where}.value: must be less than 2001 characters")
    if element.get("style") not in (None, "primary", "danger"):
        problems.append(f"{where}.style: must be primary or danger")
    return problems


def problems(blocks: Any) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks: must be an array"]
    found = [f"blocks: must be less than {MAX_BLOCKS + 1} items"] if len(blocks) > MAX_BLOCKS else []
    for i, block in enumerate(blocks):
        where = f"[{i}]"
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "section":
            if "text" not in block and "fields" not in block:
                found.append(f"{where}: a section needs text or fields")
            if "text" in block:
                found += _text(block["text"], f"{where}.text", limit=3000)
            fields = block.get("fields", [])
            if len(fields) > 10:
                found.append(f"{where}.fields: must be less than 11 items")
            for j, f in enumerate(fields):
                found += _text(f, f"{where}.fields[{j}]", limit=2000)
        elif kind == "header":
            found += _text(block.get("text"), f"{where}.text", limit=150, plain_only=True)
        elif kind == "context":
            elements = block.get("elements", [])
            if not elements or len(elements) > 10:
                found.append(f"{where}.elements: must have 1 to 10 items")
            for j, e in enumerate(elements):
                if isinstance(e, dict) and e.get("type") == "image":
                    continue
                found += _text(e, f"{where}.elements[{j}]", limit=3000)
        elif kind == "actions":
            elements = block.get("elements", [])
            if not elements or len(elements) > 25:
                found.append(f"{where}.elements: must have 1 to 25 items")
            for j, e in enumerate(elements):
                if isinstance(e, dict) and e.get("type") == "button":
                    found += _button(e, f"{where}.elements[{j}]")
                else:
                    found.append(f"{where}.elements[{j}]: unsupported element")
        elif kind == "image":
            if not block.get("alt_text") or len(str(block["alt_text"])) > 2000:
                found.append(f"{where}.alt_text: must be 1 to 2000 characters")
        elif kind != "divider":
            found.append(f"{where}.type: unsupported block type {kind!r}")
        if isinstance(block, dict) and len(str(block.get("block_id", ""))) > 255:
            found.append(f"{where}.block_id: must be less than 256 characters")
    return found
