"""A strict reader of TOML tables for profiles: typed getters, precise messages, unknown keys refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .errors import ProfileError

__all__ = ["GAP", "REQUIRED", "TomlTable"]

#: The prefix of a value `payharness init` could not guess (harness/adapter/starter.py).
GAP = "GAP: "

#: Pass as the default of a getter to make the key required.
REQUIRED: Any = object()


def _first_gap(value: Any, where: str) -> str | None:
    if isinstance(value, str):
        return where if value.startswith(GAP) else None
    if isinstance(value, Mapping):
        for k, v in value.items():
            found = _first_gap(v, f"{where}.{k}")
            if found is not None:
                return found
    return None


class TomlTable:
    """A TOML table read with precise error messages (`file: [section] key ...`)."""

    def __init__(self, data: Mapping[str, Any], where: str, source: str) -> None:
        self._data = data
        self._where = where
        self._source = source
        self._read: set[str] = set()

    def error(self, message: str) -> ProfileError:
        """A `ProfileError` that names the file and this table."""
        section = f"[{self._where}] " if self._where else ""
        return ProfileError(f"profile {self._source}: {section}{message}")

    def _get(self, key: str, kind: type | tuple[type, ...], what: str, default: Any) -> Any:
        self._read.add(key)
        if key not in self._data:
            if default is REQUIRED:
                raise self.error(f"`{key}` is required")
            return default
        value = self._data[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(f"`{key}` must be {what}, got a boolean")
        if not isinstance(value, kind):
            raise self.error(f"`{key}` must be {what}, got {type(value).__name__}")
        return value

    def text(self, key: str, default: Any = None) -> Any:
        """A non-blank string, never a gap a starter profile left (`GAP: ...`)."""
        value = self._get(key, str, "a string", default)
        if key in self._data and not value.strip():
            raise self.error(f"`{key}` must not be blank")
        if key in self._data and value.startswith(GAP):
            raise self.error(f"`{key}` is a gap the starter left ({value}): fill it in")
        return value

    def mapping(self, key: str, default: Any = None) -> Any:
        """A table, as a plain dict (a gap anywhere inside is refused, naming its key)."""
        value = self._get(key, dict, "a table", default)
        if key in self._data:
            gap = _first_gap(value, key)
            if gap is not None:
                raise self.error(f"`{gap}` is a gap the starter left: fill it in")
        return value

    def integer(self, key: str, default: Any = None) -> Any:
        """An integer (a boolean is refused)."""
        return self._get(key, int, "an integer", default)

    def number(self, key: str, default: Any = None) -> Any:
        """An integer or a float, as a float."""
        value = self._get(key, (int, float), "a number", default)
        return float(value) if value is not None else None

    def flag(self, key: str, default: bool) -> bool:
        """A boolean."""
        return bool(self._get(key, bool, "true or false", default))

    def table(self, key: str, *, required: bool = True) -> TomlTable | None:
        """A sub-table to read with the same strictness."""
        value = self.mapping(key, REQUIRED if required else None)
        if value is None:
            return None
        return TomlTable(value, f"{self._where}.{key}" if self._where else key, self._source)

    def tables(self, key: str) -> list[TomlTable]:
        """An array of tables (`[[key]]`)."""
        items = self._get(key, list, "an array of tables", [])
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.error(f"`{key}[{i}]` must be a table")
            out.append(TomlTable(item, f"{key}[{i}]", self._source))
        return out

    def names(self, key: str) -> tuple[str, ...]:
        """One environment variable name or several."""
        value = self._get(key, (str, list), "a string or an array of strings", [])
        items = [value] if isinstance(value, str) else value
        if not items or not all(isinstance(i, str) and i.strip() for i in items):
            raise self.error(f"`{key}` must name at least one environment variable")
        return tuple(items)

    def __contains__(self, key: str) -> bool:
        """Whether the table has `key`."""
        return key in self._data

    def done(self) -> None:
        """Refuse every key no getter asked for (a typo must not pass in silence)."""
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            raise self.error(f"unknown key(s): {', '.join(unknown)}")
