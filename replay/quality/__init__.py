"""The quality loop's projections: judge table, statistics, review sheets, the report page."""
