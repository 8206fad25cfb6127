"""Tenants inside the mesh: how one tenant's ids are kept apart from
another's.

A tenant names its threads as it likes, so two tenants may both have a
thread "t1". Inside the mesh (Kafka keys, events, checkpoints, read models)
a thread is known by its *scoped* id, "<tenant>/<thread>", which the gateway
makes from the caller's tenant on the way in and takes apart on the way out.
Public thread ids cannot contain "/", so a scoped id names exactly one
tenant's thread. The tenant "default" (every caller while authentication is
off, and the owner of what was stored before tenants existed) keeps its
thread ids as they are.

Run ids are UUIDs and global; a run belongs to the tenant of its thread, and
a tenant's idempotency keys map to run ids of its own.
"""

from __future__ import annotations

import uuid

from graphmesh.auth import DEFAULT_TENANT
from graphmesh.envelope import GRAPHMESH_NAMESPACE, run_id_for_request

SEPARATOR = "/"


def scoped_thread(tenant: str, thread_id: str) -> str:
    """The mesh's id of `tenant`'s thread `thread_id`."""
    return thread_id if tenant == DEFAULT_TENANT else f"{tenant}{SEPARATOR}{thread_id}"


def tenant_of_thread(scoped: str) -> str:
    """The tenant a scoped thread id belongs to."""
    tenant, sep, _ = scoped.partition(SEPARATOR)
    return tenant if sep else DEFAULT_TENANT


def public_thread(scoped: str) -> str:
    """The thread id its tenant knows it by."""
    _, sep, rest = scoped.partition(SEPARATOR)
    return rest if sep else scoped


def tenant_run_id(tenant: str, request_id: str) -> str:
    """The run id that `tenant`'s idempotency key always maps to (another
    tenant's same key maps elsewhere)."""
    if tenant == DEFAULT_TENANT:
        return run_id_for_request(request_id)
    return str(uuid.uuid5(GRAPHMESH_NAMESPACE, f"run:{tenant}{SEPARATOR}{request_id}"))


def tenant_sql(column: str) -> str:
    """SQL for the tenant of a row from its scoped thread id column; the
    read-model indexes are built on exactly this expression (migration 0007),
    so queries must use it verbatim."""
    return (
        f"(CASE WHEN strpos({column}, '{SEPARATOR}') > 0"
        f" THEN split_part({column}, '{SEPARATOR}', 1) ELSE '{DEFAULT_TENANT}' END)"
    )
