"""The Asset events of the archive operators: one per successful task (instance) that archived something.

A task declares the asset alias ``HUBSPOT_ASSET_ALIAS`` as its outlet, not the concrete Asset, and
adds an event for ``hubspot://<conn id>/associations/<from>/<to>`` through the alias at the end of
a run that archived at least one pair. Why an alias:

- a declared Asset outlet gets an event on every success, so a dry run or a run that archived
  nothing would wake downstream DAGs; events added through an alias exist only when added;
- mapped tasks (``.partial().expand()``) are built without running ``__init__`` when the DAG is
  parsed, but take ``outlets``' default from the operator's signature: a fixed alias reaches them;
- templated object types and connection ids are known only at run time, when the event is added.

Downstream DAGs schedule on ``hubspot_asset(conn_id, from, to)`` (the concrete Asset), or on the
alias for every HubSpot association change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_hubspot_assoc._compat import Asset, AssetAlias

if TYPE_CHECKING:
    from airflow_provider_hubspot_assoc._compat import Context

HUBSPOT_ASSET_ALIAS = AssetAlias(name="hubspot_associations")
# The operators' ``outlets`` default. A list (Airflow concatenates a mapped task's outlets with
# lists), shared by mapped tasks as Airflow's own ``[]`` default is; operators copy it.
DEFAULT_OUTLETS: list[Any] = [HUBSPOT_ASSET_ALIAS]


def hubspot_asset(hubspot_conn_id: str, from_object_type: str, to_object_type: str) -> Asset:
    """The Asset a run updates: one HubSpot account (by connection id) and one object-type pair."""
    uri = f"hubspot://{hubspot_conn_id}/associations/{from_object_type}/{to_object_type}"
    return Asset(uri=uri, name=f"hubspot_associations_{hubspot_conn_id}_{from_object_type}_{to_object_type}")


def add_archive_event(
    context: Context, outlets: list[Any], asset: Asset, archived: int, done: str = "archived"
) -> bool:
    """Add the run's Asset event through the alias, ``{done: count}`` as extra (``restored`` for a
    restore); none when nothing was written.

    Airflow records events only when the task succeeds, so a task failed by its failure policy
    emits none either. Without the alias among the task's outlets (the user gave their own
    ``outlets=``), Airflow would drop the event: none is added.
    """
    if archived <= 0 or HUBSPOT_ASSET_ALIAS not in outlets:
        return False
    context["outlet_events"][HUBSPOT_ASSET_ALIAS].add(asset, extra={done: archived})
    return True
