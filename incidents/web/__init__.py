"""The planners' map, its accessible list view and the operators' triage (server-rendered pages)."""
