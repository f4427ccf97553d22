"""AI-generated content on a streamed answer, as Teams shows it: citations (`[1]` in the text,
a source card on hover), the "AI generated" label and a sensitivity label. On the wire, one
schema.org `Message` entity (the Agents SDK's AIEntity) carrying the citations the text uses."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.schema.activity import Entity

_DOC_REFERENCE = re.compile(r"\[docs?(\d+)\]", re.IGNORECASE)
_CITATION_MARK = re.compile(r"\[(\d+)\]")
ABSTRACT_LENGTH = 480
"""Characters of a source's content shown on its card, at most (cut at a word)."""


@dataclass(frozen=True)
class Citation:
    """A source the model cited: `[1]`, `[2]`, ... (or `[doc1]`) in the text point at them, in
    the order given to `set_citations`."""

    content: str
    title: str | None = None
    url: str | None = None
    filepath: str | None = None


@dataclass(frozen=True)
class SensitivityUsageInfo:
    """A sensitivity label shown on the answer (Teams), e.g. name "Confidential"."""

    name: str = ""
    description: str | None = None
    position: int | None = None
    pattern: dict[str, Any] | None = None
    """A schema.org DefinedTerm in wire form (`inDefinedTermSet`, `name`, `termCode`)."""

    def to_dict(self) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "type": "https://schema.org/Message",
            "@type": "CreativeWork",
            "name": self.name,
        }
        if self.description is not None:
            wire["description"] = self.description
        if self.position is not None:
            wire["position"] = self.position
        if self.pattern is not None:
            wire["pattern"] = {"@type": "DefinedTerm", **self.pattern}
        return wire


def numbered(text: str) -> str:
    """`text` with a model's `[doc1]` / `[docs1]` marks written as `[1]`."""
    return _DOC_REFERENCE.sub(r"[\1]", text)


def client_citation(citation: Citation, position: int) -> dict[str, Any]:
    """The citation as Teams takes it: a schema.org Claim with its document's appearance."""
    appearance: dict[str, Any] = {
        "@type": "DigitalDocument",
        "name": citation.title or f"Document #{position}",
        "abstract": _snippet(citation.content, ABSTRACT_LENGTH),
    }
    if citation.url:
        appearance["url"] = citation.url
    return {"@type": "Claim", "position": position, "appearance": appearance}


def used_citations(text: str, citations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The citations whose mark (`[n]`) appears in `text`."""
    marks = set(_CITATION_MARK.findall(text))
    return [c for c in citations if str(c["position"]) in marks]


def ai_entity(citations: list[dict[str, Any]], label: SensitivityUsageInfo | None) -> Entity:
    """The schema.org Message entity that marks AI-generated content, with its citations."""
    wire: dict[str, Any] = {
        "@type": "Message",
        "@context": "https://schema.org",
        "id": "",
        "additionalType": ["AIGeneratedContent"],
    }
    if citations:
        wire["citation"] = citations
    if label is not None:
        wire["usageInfo"] = label.to_dict()
    return Entity(type="https://schema.org/Message", additional_properties=wire)


def _snippet(text: str, length: int) -> str:
    """`text` cut after a whole word near `length` characters, with an ellipsis."""
    if len(text) <= length:
        return text
    cut = text[:length]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut) + "..."
