"""Reports: SLA compliance, tiered support health, backlog and ageing (SQL aggregates)."""
