"""Where extractors register themselves.

Three kinds of extractor, each found by registration rather than by a central if-chain:

* text extractors scan free text (narratives, messages, untyped identifiers) and return
  candidates with character spans;
* identifier normalisers turn a typed ``offender_identifiers`` entry into link keys;
* payment extractors turn a ``payments`` entry into link keys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

if TYPE_CHECKING:  # the schema loads pydantic; the URL and host helpers must not need it
    from ringtrace.intake.schema import Payment


@dataclass(frozen=True, slots=True)
class Context:
    """What an extractor may know about the text it reads."""

    country: str | None = None  # ISO 3166-1 alpha-2 of the reporter: the only phone region hint


@dataclass(frozen=True, slots=True)
class Candidate:
    """A value an extractor found: normalised link key parts, the raw text and its span."""

    type: str
    value: str
    raw: str
    start: int
    end: int
    attributes: dict[str, str] = field(default_factory=dict)
    # Set when the candidate's span contains others that it explains (a URL contains its host).
    container: bool = False
    # Set when the candidate is an interpretation of a container found by another extractor
    # (the Telegram handle in a t.me link): it survives inside that container.
    inside_ok: bool = False


class TextExtractor(Protocol):
    name: str
    version: str

    def extract(self, text: str, ctx: Context) -> Iterable[Candidate]: ...


# Whether a span lies inside a container another extractor found.
Contained = Callable[[int, int], bool]


class ContainerAwareExtractor(Protocol):
    """A text extractor with ``after_containers = True``: ``report.scan_text`` runs it after
    the others and passes ``contained``, so it can skip spans whose plain candidates overlap
    resolution would drop (the phone extractor skips the digits of IPs and IBANs)."""

    name: str
    version: str
    after_containers: bool

    def extract(
        self, text: str, ctx: Context, contained: Contained | None = None
    ) -> Iterable[Candidate]: ...


IdentifierNormaliser = Callable[[str, Context], Sequence[Candidate]]
PaymentExtractor = Callable[["Payment", Context], Sequence[Candidate]]


T = TypeVar("T")
C = TypeVar("C", bound=type)


@dataclass(frozen=True)
class Registered(Generic[T]):
    name: str
    version: str
    fn: T


_TEXT: list[TextExtractor] = []
_IDENTIFIERS: dict[str, Registered[IdentifierNormaliser]] = {}
_PAYMENTS: list[Registered[PaymentExtractor]] = []


def lowered(text: str) -> str:
    """``text`` in lower case with the same length (so offsets carry over), for fast
    case-insensitive keyword searches: Python's IGNORECASE is many times slower on Unicode
    text. Characters whose lower case is longer (``İ``) are left as they are. The last
    text's is kept: the extractors of one scan each ask for it."""
    global _last_lowered
    last = _last_lowered  # one read: another thread may replace it
    if last[0] is text:
        return last[1]
    low = text.lower()
    if len(low) != len(text):
        low = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    _last_lowered = (text, low)
    return low


_last_lowered = ("", "")


def forget_lowered() -> None:
    """Drop the kept lowered copy (extraction calls this when it ends: a report's text is
    not kept in memory past its extraction)."""
    global _last_lowered
    _last_lowered = ("", "")


def text_extractor(cls: C) -> C:
    """Class decorator: instantiate and register a :class:`TextExtractor`."""
    _TEXT.append(cls())
    return cls


def identifier_normaliser(
    *types: str, name: str, version: str
) -> Callable[[IdentifierNormaliser], IdentifierNormaliser]:
    """Register a normaliser for one or more ``offender_identifiers`` types."""

    def register(fn: IdentifierNormaliser) -> IdentifierNormaliser:
        for t in types:
            if t in _IDENTIFIERS:
                raise ValueError(f"identifier type {t!r} already has a normaliser")
            _IDENTIFIERS[t] = Registered(name, version, fn)
        return fn

    return register


def payment_extractor(*, name: str, version: str) -> Callable[[PaymentExtractor], PaymentExtractor]:
    def register(fn: PaymentExtractor) -> PaymentExtractor:
        _PAYMENTS.append(Registered(name, version, fn))
        return fn

    return register


_builtins_loaded = False


def load_builtins() -> None:
    """Register the built-in extractors (once). Every lookup below does this first, so
    importing a light module of this package (``network``, ``warninglist``, as the APK
    analysis child does) does not pay for loading every extractor."""
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        import ringtrace.indicators.extractors  # noqa: F401  (registers them)


def text_extractors() -> list[TextExtractor]:
    load_builtins()
    return list(_TEXT)


def identifier_normaliser_for(type_: str) -> Registered[IdentifierNormaliser] | None:
    load_builtins()
    return _IDENTIFIERS.get(type_)


def payment_extractors() -> list[Registered[PaymentExtractor]]:
    load_builtins()
    return list(_PAYMENTS)
