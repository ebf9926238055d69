"""Pure computation for utilization management: clocks, metrics and the under-service watch (no Django)."""
