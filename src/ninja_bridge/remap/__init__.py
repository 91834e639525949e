"""Batch id remapping of exported files (`ninja-bridge remap`)."""
