"""The EDI gateway: `openipa edi`, which answers X12 transactions that span the apps (270/271 eligibility from
membership, 278 services review into utilization management) and reports a file's statistics. It sits above
the apps it calls, so none of them imports it."""

from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "openipa.gateway"
    label = "gateway"
    verbose_name = "EDI gateway"
