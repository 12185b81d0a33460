"""Parse SOP documents and map key paths to line numbers (YAML, JSON, TOML).

Paths use the loader's notation: ``states.received.final``, ``actions[2].roles``.  YAML
is parsed once (composed, then constructed from the same node tree) so line numbers cost
no second parse; JSON lines come from a small token scanner run after ``json.loads`` has
accepted the text; TOML lines from table headers and ``key =`` lines (best effort: keys
inside inline tables fall back to their table's line).
"""

from __future__ import annotations

import json
import re
from typing import Any

import yaml

__all__ = ["MAX_YAML_NODES", "YAMLTooLargeError", "json_lines", "parse_yaml", "toml_lines"]

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_YAML_NODES = 100_000
"""The most nodes a YAML document may hold once its aliases are expanded.

Aliases (``*name``) share one node, so a few lines can stand for billions of values
("billion laughs"); every reader that walks the data would pay for each of them.
"""


class YAMLTooLargeError(yaml.YAMLError):
    """The YAML document expands (through aliases) to more than `MAX_YAML_NODES` nodes."""

    def __init__(self, line: int) -> None:
        super().__init__(
            f"the document expands to more than {MAX_YAML_NODES} values through aliases "
            f"(limit {MAX_YAML_NODES}); write repeated parts out or use fewer *aliases"
        )
        self.problem_mark = yaml.Mark("", 0, line, 0, "", 0)


def _check_expanded_size(root: yaml.Node) -> None:
    """Refuse a node tree whose alias-expanded size passes `MAX_YAML_NODES`.

    Each distinct node is sized once (post-order over an explicit stack), so the check
    costs the size of the file, not of its expansion.
    """
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        children = _children(node)
        if not children_done:
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        # A child still unsized here is an ancestor: a self-reference counts once.
        size = 1 + sum(sizes.get(id(child), 1) for child in children)
        if size > MAX_YAML_NODES:
            raise YAMLTooLargeError(node.start_mark.line)
        sizes[id(node)] = size


def _children(node: yaml.Node) -> list[yaml.Node]:
    """Return the direct child nodes of *node* (keys and values of a mapping)."""
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def parse_yaml(text: str) -> tuple[Any, dict[str, int], list[tuple[str, str]]]:
    """Parse YAML *text*; return the data, key path -> line, and duplicate-key problems.

    Raises:
        yaml.YAMLError: the text is not valid YAML.
    """
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _check_expanded_size(root)
        data = loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()
    lines: dict[str, int] = {}
    duplicates: list[tuple[str, str]] = []
    if root is None:
        return data, lines, duplicates
    seen: set[int] = set()
    # An explicit stack, not recursion: aliases can nest deeply, and each node is walked
    # once so alias bombs and self-references stay cheap.
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in node.value:
                key = str(key_node.value)
                child = _join(path, key)
                if key in keys and isinstance(key_node, yaml.ScalarNode):
                    message = f"duplicate key {key!r}: the later one would silently win"
                    duplicates.append((child, message + "; remove one"))
                keys.add(key)
                lines.setdefault(child, key_node.start_mark.line + 1)
                stack.append((value_node, child))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = f"{path}[{index}]"
                lines.setdefault(child, item.start_mark.line + 1)
                stack.append((item, child))
    return data, lines, duplicates


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\],:]|[^\s{}\[\],:"]+', re.DOTALL)


def json_lines(text: str) -> dict[str, int]:
    """Map key paths of the (valid) JSON *text* to the lines of their keys."""
    tokens = [(m.group(), m.start()) for m in _JSON_TOKEN.finditer(text)]
    lines: dict[str, int] = {}
    newline_at = [m.start() for m in re.finditer("\n", text)]
    position = 0

    def line_of(offset: int) -> int:
        # Count newlines before the offset by bisection over their positions.
        lo, hi = 0, len(newline_at)
        while lo < hi:
            mid = (lo + hi) // 2
            if newline_at[mid] < offset:
                lo = mid + 1
            else:
                hi = mid
        return lo + 1

    # An explicit stack of (container kind, path, index or pending key) avoids recursion.
    stack: list[list[Any]] = []
    expect_key = False
    while position < len(tokens):
        lexeme, offset = tokens[position]
        position += 1
        if lexeme in ",:":
            if lexeme == "," and stack and stack[-1][0] == "object":
                expect_key = True
            elif lexeme == "," and stack:
                stack[-1][2] += 1
            continue
        if lexeme in "]}":
            stack.pop()
            expect_key = False
            continue
        if expect_key and lexeme.startswith('"'):
            key = str(json.loads(lexeme))
            path = _join(stack[-1][1], key)
            lines.setdefault(path, line_of(offset))
            stack[-1][2] = path
            expect_key = False
            continue
        # A value: its path is the pending key's path or the array item's path.
        if stack and stack[-1][0] == "object":
            path = str(stack[-1][2])
        elif stack:
            path = f"{stack[-1][1]}[{stack[-1][2]}]"
            lines.setdefault(path, line_of(offset))
        else:
            path = ""
        if lexeme == "{":
            stack.append(["object", path, path])
            expect_key = True
        elif lexeme == "[":
            stack.append(["array", path, 0])
    return lines


_TOML_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_TOML_KEY = re.compile(r"^\s*([A-Za-z0-9_.\"' -]+?)\s*=")


def _toml_key(text: str) -> str:
    return ".".join(part.strip().strip("\"'") for part in text.split("."))


def toml_lines(text: str) -> dict[str, int]:
    """Map key paths of TOML *text* to lines (tables, arrays of tables, plain keys)."""
    lines: dict[str, int] = {}
    counts: dict[str, int] = {}
    table = ""
    in_string = False
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw.count('"""') % 2 or raw.count("'''") % 2:
            in_string = not in_string
            if not in_string:
                continue
        if in_string:
            continue
        header = _TOML_HEADER.match(raw)
        if header:
            name = _toml_key(header.group(2))
            if header.group(1) == "[[":
                index = counts.get(name, -1) + 1
                counts[name] = index
                table = f"{name}[{index}]"
            else:
                # A sub-table of the latest array item ([actions.x] after [[actions]]).
                head = name.split(".", 1)[0]
                table = name
                if head in counts and "." in name:
                    table = f"{head}[{counts[head]}].{name.split('.', 1)[1]}"
            lines.setdefault(table, number)
            continue
        key = _TOML_KEY.match(raw)
        if key:
            lines.setdefault(_join(table, _toml_key(key.group(1))), number)
    return lines
