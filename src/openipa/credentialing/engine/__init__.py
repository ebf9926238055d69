"""Pure computation of the credentialing app (no Django, no I/O): exclusion-list reading and name matching
(`screening`); credentialing files: completeness on a committee date, the recredentialing clock and expirables
(`files`)."""
