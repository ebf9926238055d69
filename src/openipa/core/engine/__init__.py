"""Helpers every pure engine shares (no Django): checking input frames (`frames`) and exact half-up rounding of
integer products (`rounding`)."""
