"""The hotline's side of the journal's reports: working hours as data (`hours`), each report as
the web, the API and the CLI run it (`runs`), the morning deadline digest job (`digest`), and
the printable SVG charts (`charts`, pure; `figures` turns the reports into them)."""
