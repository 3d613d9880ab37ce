"""Several service instances on one PostgreSQL: who holds the PBX link (an advisory lock),
and the bus the instances talk over (LISTEN/NOTIFY)."""
