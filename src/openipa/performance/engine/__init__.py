"""Pure computation for practice performance: the under-service watch (no Django)."""
