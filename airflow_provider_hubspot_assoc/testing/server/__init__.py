"""A stateful HubSpot CRM associations simulator served over real HTTP on 127.0.0.1.

Use it from Python::

    with HubSpotSimulator(SimulatorConfig(seed="demo")) as sim:
        requests.post(f"{sim.url}/crm/v4/associations/contacts/companies/batch/archive", ...)
        sim.state.count("contacts", "companies")

or as a command, ``hubspot-assoc-sim --port 8790 --seed demo``. What it implements, and which
undocumented behaviours it lets you switch, is in ``docs/simulator.md``. It never logs a token:
request logs name the method, path and status only.

The modules, one job each: ``routing`` (which endpoint a path names), ``auth`` (tokens, scopes, the
OAuth token endpoint), ``limits`` (the 10-second and daily limits, their headers and 429s),
``faults`` (injected and hostile answers), ``endpoints`` (the association endpoints, with
``bodies`` reading their requests and ``errors`` shaping HubSpot's error bodies), ``inspection``
(``/_sim/...``), ``stats`` (what is counted), ``httpd`` (the HTTP server) and ``simulator`` (the
``HubSpotSimulator`` that ties them together).
"""

from airflow_provider_hubspot_assoc.testing.server.auth import PORTAL_ID
from airflow_provider_hubspot_assoc.testing.server.simulator import HubSpotSimulator
from airflow_provider_hubspot_assoc.testing.server.stats import RequestRecord, SimulatorStats

__all__ = ["PORTAL_ID", "HubSpotSimulator", "RequestRecord", "SimulatorStats"]
