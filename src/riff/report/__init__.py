"""Reports for people: what was repaired, by whom, and why."""
