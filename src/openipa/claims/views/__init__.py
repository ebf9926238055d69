"""The claims pages. Each module of this package defines its own ``urlpatterns`` (names ``web:claims:...``),
which ``openipa.claims.urls`` joins."""
