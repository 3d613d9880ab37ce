"""Organizations and their lines, kept in step with the service configuration."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from journal.errors import NotFound
from journal.models import Line, Organization


@dataclass(frozen=True, slots=True)
class OrganizationSpec:
    code: str
    kind: str
    name: str


@dataclass(frozen=True, slots=True)
class LineSpec:
    number: str
    organization_code: str
    timezone: str
    around_the_clock: bool


async def sync_organizations(
    session: AsyncSession, orgs: Iterable[OrganizationSpec], lines: Iterable[LineSpec]
) -> None:
    """Insert or update organizations and lines from the configuration.

    Organizations missing from the configuration are marked inactive, never deleted: old
    cards still point at them.
    """
    existing = {o.code: o for o in (await session.scalars(select(Organization))).all()}
    wanted = set()
    for spec in orgs:
        wanted.add(spec.code)
        org = existing.get(spec.code)
        if org is None:
            org = Organization(code=spec.code, kind=spec.kind, name=spec.name, active=True)
            session.add(org)
            existing[spec.code] = org
        else:
            org.kind, org.name, org.active = spec.kind, spec.name, True
    for code, org in existing.items():
        if code not in wanted:
            org.active = False
    await session.flush()
    by_number = {ln.number: ln for ln in (await session.scalars(select(Line))).all()}
    for line_spec in lines:
        org_id = existing[line_spec.organization_code].id
        line = by_number.get(line_spec.number)
        if line is None:
            session.add(
                Line(
                    number=line_spec.number,
                    organization_id=org_id,
                    timezone=line_spec.timezone,
                    around_the_clock=line_spec.around_the_clock,
                )
            )
        else:
            line.organization_id = org_id
            line.timezone = line_spec.timezone
            line.around_the_clock = line_spec.around_the_clock
    await session.flush()


async def organization_by_code(session: AsyncSession, code: str) -> Organization:
    org = await session.scalar(select(Organization).where(Organization.code == code))
    if org is None:
        raise NotFound(f"Организация «{code}» не найдена", code=code)
    return org


async def organization_for_line(session: AsyncSession, number: str) -> Organization | None:
    return await session.scalar(
        select(Organization).join(Line, Line.organization_id == Organization.id).where(
            Line.number == number
        )
    )
