"""Governance rules as pure functions (no Django): quorum, vote results, participation counts."""
