"""Telegram-flavoured HTML: text in parse_mode HTML becomes plain text plus entities (offsets in UTF-16
code units), and what Telegram refuses is refused with its "can't parse entities" descriptions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NoReturn

from tests.fakes.telegram_api.errors import _ApiError
from tests.fakes.telegram_api.spec import JsonDict

# --- Telegram HTML ----------------------------------------------------------------------------

_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
# Telegram decodes only these named references (and numeric ones); any other "&" stays literal.
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_CHAR_REF = re.compile(r"&(?:([a-z]+)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));")
_PLAIN_RUN = re.compile(r"[^&<]+")
_TAG_NAME = re.compile(r"[^\s>]*")
_ATTR_NAME = re.compile(r"[^\s=>]+")
_SPACE = re.compile(r"\s*")
_TRIMMED = " \t\r\n"


def _utf16_len(text: str) -> int:
    # Entity offsets and lengths are counted in UTF-16 code units, like in Telegram's clients.
    return len(text.encode("utf-16-le")) // 2


def _decode_ref(match: re.Match[str]) -> str | None:
    name, decimal, hexadecimal = match.groups()
    if name is not None:
        return _NAMED_REFS.get(name)
    code = int(decimal) if decimal is not None else int(hexadecimal, 16)
    return chr(code) if 0 < code <= 0x10FFFF else None


def _decode_refs(text: str) -> str:
    return _CHAR_REF.sub(lambda m: _decode_ref(m) or m.group(0), text)


@dataclass
class _OpenTag:
    name: str
    attrs: dict[str, str]
    start: int
    language: str | None = None


class _HtmlReader:
    """Telegram-flavoured HTML to plain text and entities, refusing what Telegram refuses."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.length = 0
        self.stack: list[_OpenTag] = []
        self.entities: list[JsonDict] = []

    def parse(self) -> tuple[str, list[JsonDict]]:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "&":
                self._char_ref()
            elif char == "<":
                self._tag()
            else:
                run = _PLAIN_RUN.match(self.src, self.pos)
                assert run is not None
                self._emit(run.group())
                self.pos = run.end()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"')
        return "".join(self.out), self.entities

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += _utf16_len(text)

    def _fail(self, reason: str) -> NoReturn:
        raise _ApiError(400, f"Bad Request: can't parse entities: {reason}")

    def _byte_offset(self, index: int) -> int:
        # Telegram reports positions in bytes of the UTF-8 text.
        return len(self.src[:index].encode())

    def _char_ref(self) -> None:
        match = _CHAR_REF.match(self.src, self.pos)
        decoded = _decode_ref(match) if match else None
        if match is None or decoded is None:
            self._emit("&")
            self.pos += 1
            return
        self._emit(decoded)
        self.pos = match.end()

    def _tag(self) -> None:
        if self.src.startswith("</", self.pos):
            self._end_tag()
        else:
            self._start_tag()

    def _start_tag(self) -> None:
        begin = self.pos
        name_match = _TAG_NAME.match(self.src, begin + 1)
        assert name_match is not None
        name = name_match.group().lower()
        if name_match.end() >= len(self.src):
            self._fail(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
        if name not in _TAG_ENTITY:
            self._fail(f'Unsupported start tag "{name}" at byte offset {self._byte_offset(begin)}')
        attrs, close = self._attributes(name_match.end(), begin)
        self.pos = close + 1
        if name == "span" and attrs.get("class") != "tg-spoiler":
            self._fail('Tag "span" must have class "tg-spoiler"')
        self.stack.append(_OpenTag(name, attrs, self.length))

    def _skip_space(self, index: int) -> int:
        match = _SPACE.match(self.src, index)
        assert match is not None
        return match.end()

    def _attributes(self, index: int, begin: int) -> tuple[dict[str, str], int]:
        """The tag's attributes and the index of its closing ">"."""
        attrs: dict[str, str] = {}
        while True:
            index = self._skip_space(index)
            if index >= len(self.src):
                self._fail(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
            if self.src[index] == ">":
                return attrs, index
            name = _ATTR_NAME.match(self.src, index)
            if name is None:
                self._fail(f"Empty attribute name at byte offset {self._byte_offset(index)}")
            index = self._skip_space(name.end())
            value = ""
            if index < len(self.src) and self.src[index] == "=":
                value, index = self._attribute_value(self._skip_space(index + 1), begin)
            attrs[name.group().lower()] = value

    def _attribute_value(self, index: int, begin: int) -> tuple[str, int]:
        if index >= len(self.src):
            self._fail(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
        quote = self.src[index]
        if quote in "\"'":
            end = self.src.find(quote, index + 1)
            if end < 0:
                self._fail(f"Unclosed start tag at byte offset {self._byte_offset(begin)}")
            return _decode_refs(self.src[index + 1 : end]), end + 1
        bare = _TAG_NAME.match(self.src, index)
        assert bare is not None
        return _decode_refs(bare.group()), bare.end()

    def _end_tag(self) -> None:
        begin = self.pos
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {self._byte_offset(begin)}")
        name_match = _TAG_NAME.match(self.src, begin + 2)
        assert name_match is not None
        name = name_match.group().lower()
        close = self._skip_space(name_match.end())
        if close >= len(self.src) or self.src[close] != ">":
            self._fail(f"Unclosed end tag at byte offset {self._byte_offset(begin)}")
        expected = self.stack[-1].name
        if name and name != expected:
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset(begin)},"
                f' expected "</{expected}>", found "</{name}>"'
            )
        self.pos = close + 1
        self._close(self.stack.pop())

    def _close(self, tag: _OpenTag) -> None:
        if tag.name == "code" and self.stack and self.stack[-1].name == "pre":
            # <pre><code class="language-x"> is one pre entity with a language, not two entities.
            language = tag.attrs.get("class", "")
            if language.startswith("language-"):
                self.stack[-1].language = language.removeprefix("language-")
            return
        length = self.length - tag.start
        entity = _tag_entity(tag, length)
        if entity is not None and length > 0:
            self.entities.append(entity)


def _tag_entity(tag: _OpenTag, length: int) -> JsonDict | None:
    entity: JsonDict = {"type": _TAG_ENTITY[tag.name], "offset": tag.start, "length": length}
    if tag.name == "a":
        if not tag.attrs.get("href"):
            return None
        entity["url"] = tag.attrs["href"]
    elif tag.name == "pre" and tag.language:
        entity["language"] = tag.language
    elif tag.name == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif tag.name == "tg-emoji":
        if not tag.attrs.get("emoji-id"):
            return None
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    return entity


def _trim(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Telegram drops leading and trailing whitespace; entities are cut to what is left."""
    lead = _utf16_len(text[: len(text) - len(text.lstrip(_TRIMMED))])
    kept = text.strip(_TRIMMED)
    total = _utf16_len(kept)
    trimmed: list[JsonDict] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            trimmed.append({**entity, "offset": start, "length": end - start})
    trimmed.sort(key=lambda e: (e["offset"], -e["length"]))
    return kept, trimmed
