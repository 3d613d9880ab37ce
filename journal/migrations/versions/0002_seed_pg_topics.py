"""Seed the form ПГ topic dictionary (2011-2017 edition, DOMAIN.md).

The data is frozen into this migration on purpose: a later edition is a new migration that
closes these rows (valid_to) and adds its own, so old cards keep their meaning.

Revision ID: 0002
Revises: 0001
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

EDITION_FROM = date(2011, 1, 1)

# (code, parent, appeal type, title)
TOPICS = [
    ("2", None, "complaint", "Жалобы"),
    ("3", None, "statement", "Заявления"),
    ("3.1", "3", "statement", "О выделении средств для оплаты медицинской помощи по территориальной программе ОМС"),
    ("3.2", "3", "statement", "О выборе и замене СМО"),
    ("3.2.1", "3.2", "statement", "О выборе СМО"),
    ("3.2.2", "3.2", "statement", "О замене СМО"),
    ("3.3", "3", "statement", "Ходатайство о регистрации в качестве застрахованного лица"),
    ("3.4", "3", "statement", "Ходатайство об идентификации в качестве застрахованного лица"),
    ("3.5", "3", "statement", "О выдаче дубликата (переоформлении) полиса"),
    ("3.5.1", "3.5", "statement", "О переоформлении полиса"),
    ("3.5.2", "3.5", "statement", "О выдаче дубликата полиса"),
    ("3.6", "3", "statement", "Другие"),
    ("3.6.1", "3.6", "statement", "В том числе не относящиеся к сфере ОМС"),
    ("4", None, "consultation", "Обращения за консультацией (разъяснением)"),
    ("4.1", "4", "consultation", "Об обеспечении полисами ОМС"),
    ("4.1.1", "4.1", "consultation", "Иностранных граждан, беженцев"),
    ("4.2", "4", "consultation", "О выборе медицинской организации"),
    ("4.3", "4", "consultation", "О выборе врача"),
    ("4.4", "4", "consultation", "О выборе или замене СМО"),
    ("4.5", "4", "consultation", "Об организации работы медицинской организации"),
    ("4.6", "4", "consultation", "О санитарно-гигиеническом состоянии медицинской организации"),
    ("4.7", "4", "consultation", "Об этике и деонтологии медицинских работников"),
    ("4.8", "4", "consultation", "О качестве медицинской помощи"),
    ("4.9", "4", "consultation", "О лекарственном обеспечении"),
    ("4.10", "4", "consultation", "Об отказе в оказании медицинской помощи по программам ОМС"),
    ("4.11", "4", "consultation", "О получении медицинской помощи по базовой программе ОМС вне территории страхования"),
    ("4.12", "4", "consultation", "О взимании денежных средств за медицинскую помощь по программам ОМС"),
    ("4.12.1", "4.12", "consultation", "О видах, качестве и условиях её предоставления"),
    ("4.13", "4", "consultation", "О платных медицинских услугах, оказываемых в медицинских организациях"),
    ("4.14", "4", "consultation", "Другие"),
    ("5", None, "proposal", "Предложения"),
]

# Complaint reasons, form ПГ table 1.2 (several per complaint).
REASONS = [
    ("3", None, "Обеспечение полисами ОМС"),
    ("4", None, "Выбор медицинской организации"),
    ("4.1", "4", "На территории страхования"),
    ("4.2", "4", "Вне территории страхования"),
    ("5", None, "Выбор врача"),
    ("6", None, "Выбор или замена СМО"),
    ("6.1", "6", "По постоянному месту жительства"),
    ("6.2", "6", "Вне постоянного места жительства"),
    ("6.3", "6", "Без регистрации в РФ"),
    ("7", None, "Организация работы медицинской организации"),
    ("8", None, "Санитарно-гигиеническое состояние медицинской организации"),
    ("9", None, "Материально-техническое обеспечение медицинской организации"),
    ("10", None, "Этика и деонтология медицинских работников"),
    ("11", None, "Качество медицинской помощи"),
    ("12", None, "Лекарственное обеспечение"),
    ("13", None, "Отказ в медицинской помощи"),
    ("13.1", "13", "На территории страхования"),
    ("13.2", "13", "Вне территории страхования"),
    ("14", None, "Неисполнение СМО обязанностей по договору"),
    ("15", None, "Взимание денежных средств за медицинскую помощь"),
    ("15.1", "15", "На территории страхования"),
    ("15.2", "15", "Вне территории страхования"),
    ("16", None, "Неправомерное распространение персональных данных"),
    ("17", None, "Прочие"),
    ("17.1", "17", "Не относящиеся к сфере ОМС"),
]

topics = sa.table(
    "topics",
    sa.column("kind", sa.String),
    sa.column("code", sa.String),
    sa.column("parent_code", sa.String),
    sa.column("appeal_type", sa.String),
    sa.column("title", sa.Text),
    sa.column("valid_from", sa.Date),
    sa.column("valid_to", sa.Date),
)


def upgrade() -> None:
    rows = [
        dict(kind="topic", code=c, parent_code=p, appeal_type=t, title=title,
             valid_from=EDITION_FROM, valid_to=None)
        for c, p, t, title in TOPICS
    ] + [
        dict(kind="complaint_reason", code=c, parent_code=p, appeal_type="complaint",
             title=title, valid_from=EDITION_FROM, valid_to=None)
        for c, p, title in REASONS
    ]
    op.bulk_insert(topics, rows)


def downgrade() -> None:
    op.execute(topics.delete().where(topics.c.valid_from == EDITION_FROM))
