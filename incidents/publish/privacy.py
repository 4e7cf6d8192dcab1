"""
What anonymous callers may see of a post.

The open data never says who posted: anonymous responses carry no author handle or id,
no link to the post, no raw payload, no media links, no external id (it finds the
author on the platform) and no exact post location, and the texts they show have
@mentions, URLs, e-mail addresses and phone numbers replaced by neutral markers.
Staff (token or session) see everything: they triage, and the data stays in the city.
"""

from __future__ import annotations

import re

from django.http import HttpRequest

# Order matters: a fediverse handle looks like an e-mail after its first '@', and e-mails
# and URLs contain '@' and digits that the later patterns would only partly match.
_SCRUBBERS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<![\w@])@\w+@[\w-]+(?:\.[\w-]+)+"), "@[user]"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "[e-mail]"),
    (re.compile(r"(?:\bhttps?://|\bwww\.)\S+", re.IGNORECASE), "[link]"),
    (re.compile(r"(?<![\w@])@\w+"), "@[user]"),
    # Phone numbers: +33 6 12 34 56 78, 06.12.34.56.78, (555) 123-4567, 0612345678 ...
    (re.compile(r"(?<!\w)(?:\+|00)?\d(?:[\s.\-/()]*\d){7,14}(?!\w)"), "[phone]"),
)

# Post fields that identify or trace the author: staff only.
PERSONAL_POST_FIELDS = frozenset({"external_id", "url", "author_handle", "author_id", "raw", "media_urls", "location"})


def scrub_text(text: str) -> str:
    """Return ``text`` without @mentions, URLs, e-mail addresses and phone numbers."""
    for pattern, marker in _SCRUBBERS:
        text = pattern.sub(marker, text)
    return text


def sees_personal_data(request: HttpRequest) -> bool:
    """Staff, authenticated by token or session, see personal data; nobody else does."""
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and user.is_staff)


def public_post(post: dict, *, staff: bool) -> dict:
    """The post as a caller may see it: everything for staff, scrubbed and de-identified otherwise."""
    if staff:
        return post
    public = {key: value for key, value in post.items() if key not in PERSONAL_POST_FIELDS}
    if "text" in public:
        public["text"] = scrub_text(public["text"])
    return public
