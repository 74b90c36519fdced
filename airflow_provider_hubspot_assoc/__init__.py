"""Apache Airflow provider: remove HubSpot CRM associations and labels in bulk, safely and fast."""

from airflow_provider_hubspot_assoc.get_provider_info import get_provider_info
from airflow_provider_hubspot_assoc.version import __version__

__all__ = ["__version__", "get_provider_info"]
