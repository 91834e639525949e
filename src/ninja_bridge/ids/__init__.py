"""Ids: the hashids codec, id-map stores and the v4<->v5 id translator."""
