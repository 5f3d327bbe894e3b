"""Professionals search, for choosing a named expert or a performer: who is on the platform, their
profession, specialty and structures, and the acts those structures offer. The directory's
fields only: no contact beyond it, no patient data."""

import re
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from telesante.accounts.models import Membership, User
from telesante.core.text import fold

# Accented forms of each letter of a folded name: a regular expression matches « Hélène » for
# « helene » in the database itself (SQLite and PostgreSQL alike), without a folded column.
ACCENTED = {
    "A": "aàâäáãåAÀÂÄÁÃÅ",
    "C": "cçCÇ",
    "E": "eéèêëEÉÈÊË",
    "I": "iîïíìIÎÏÍÌ",
    "N": "nñNÑ",
    "O": "oôöóòõOÔÖÓÒÕ",
    "U": "uûüùúUÛÜÙÚ",
    "Y": "yÿýYŸÝ",
}


@dataclass(frozen=True)
class ProfessionalQuery:
    q: str = ""
    profession: str = ""
    specialty: str = ""
    structure_id: int | None = None
    act: str = ""


@dataclass
class Page:
    count: int
    items: list[User]


def name_pattern(word: str) -> str:
    """A case- and accent-insensitive regular expression for one folded word."""
    parts = []
    for char in word:
        if char in ACCENTED:
            parts.append(f"[{ACCENTED[char]}]")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def matching(query: ProfessionalQuery) -> QuerySet[User]:
    """Active professionals with a structure, matching every given criterion."""
    memberships = Membership.objects.all()
    if query.structure_id:
        memberships = memberships.filter(structure_id=query.structure_id)
    if query.act:
        # The site's offer is a JSON list of act codes: its text holds the quoted code.
        memberships = memberships.filter(
            structure__site_deployment__acts__icontains=f'"{query.act}"'
        )
    users = User.objects.filter(is_active=True, pk__in=memberships.values("user"))
    if query.profession:
        users = users.filter(profession=query.profession)
    if query.specialty:
        users = users.filter(specialty=query.specialty)
    for word in fold(query.q.replace("\x00", "")).split():
        pattern = name_pattern(word)
        users = users.filter(Q(last_name__iregex=pattern) | Q(first_name__iregex=pattern))
    return users


def search(query: ProfessionalQuery, offset: int, limit: int) -> Page:
    """One page of professionals by name, with their structures: three queries whatever the
    page holds."""
    users = matching(query)
    structures = Membership.objects.select_related(
        "structure__commune", "structure__site_deployment"
    ).order_by("structure__name")
    page = list(
        users.order_by("last_name", "first_name", "pk").prefetch_related(
            Prefetch("memberships", queryset=structures, to_attr="listed_memberships")
        )[offset : offset + limit]
    )
    return Page(count=users.count(), items=page)
