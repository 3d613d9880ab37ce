"""The hotline's side of the journal's reports: working hours as data, the morning digest."""
