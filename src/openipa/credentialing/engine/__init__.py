"""Pure computation of the credentialing app (no Django, no I/O): exclusion-list reading and name matching
(`screening`). Later: expirables and committee clocks."""
