"""What locating a post produces."""

from __future__ import annotations

from dataclasses import dataclass

from incidents.models import LocationMethod


@dataclass(frozen=True, slots=True)
class Location:
    """Where a post is, how we know, and how sure we are.

    ``lon``/``lat`` are WGS84; both are ``None`` when the method is ``none``.
    ``accuracy_m`` is the estimated radius of the error in metres. ``note`` says why a
    location is coarse (e.g. "name exists in 3 communes"). ``street`` is the normalised
    name of the street the text located the post on (the first one named, for a
    crossing), empty otherwise: the post's segment is taken on that street. ``names``: the
    words of the text that name the streets and places it was located by ("Rue Neuve",
    "rue Perchepinte" of "Rue Neuve barrée au croisement de la rue Perchepinte").
    """

    method: LocationMethod
    lon: float | None = None
    lat: float | None = None
    accuracy_m: float | None = None
    matched_text: str = ""
    note: str = ""
    street: str = ""
    names: tuple[str, ...] = ()

    @classmethod
    def nowhere(cls, note: str = "") -> Location:
        return cls(method=LocationMethod.NONE, note=note)

    @property
    def found(self) -> bool:
        return self.method != LocationMethod.NONE
