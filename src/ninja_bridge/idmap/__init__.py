"""Building, inspecting and fixing the v4<->v5 id map of a migrated account (`ninja-bridge idmap`)."""
