"""Reports of the journal: form ПГ, call statistics, deadlines — SQL aggregations only.

Every figure is computed by the database (GROUP BY, CASE, window functions); Python only
pivots the few aggregated rows into a layout. Nothing here knows the telephony: when a report
needs a line's working hours it takes them as data (`HoursInterval` rows), computed by the
caller from the line's schedule.
"""
