"""Pure computation for utilization management: clocks, intake checks and metrics (no Django)."""
