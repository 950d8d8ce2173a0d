"""Reports for people: the dashboard (health, repairs, verification) and the compliance package."""
