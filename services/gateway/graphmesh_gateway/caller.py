"""The caller of a public RPC and the view of the mesh it is allowed: its
tenant's threads and runs, under the ids it knows them by.

Handlers translate every id that comes in (`thread`) and every object that
goes out (`public_run`, `public_thread_id`) here, and ask
`owns_thread` before they touch a run or thread named by id: another
tenant's object is answered as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from graphmesh import tenancy
from graphmesh.auth import Principal, current_principal
from graphmesh.v1 import run_pb2


@dataclass(frozen=True, slots=True)
class Caller:
    """One RPC's principal and its tenant's id scheme."""

    principal: Principal

    @classmethod
    def current(cls) -> Caller:
        """The caller of the RPC being served."""
        return cls(current_principal())

    @property
    def tenant(self) -> str:
        """The caller's tenant."""
        return self.principal.tenant

    def thread(self, public_id: str) -> str:
        """The mesh's id of the caller's thread `public_id`."""
        return tenancy.scoped_thread(self.tenant, public_id)

    def owns_thread(self, scoped_id: str) -> bool:
        """True if the scoped thread id is one of the caller's tenant."""
        return tenancy.tenant_of_thread(scoped_id) == self.tenant

    def run_id_for_request(self, request_id: str) -> str:
        """The run id of one of the caller's idempotency keys."""
        return tenancy.tenant_run_id(self.tenant, request_id)

    @staticmethod
    def public_thread_id(scoped_id: str) -> str:
        """The id the owner knows a thread by."""
        return tenancy.public_thread(scoped_id)

    @staticmethod
    def public_run(run: run_pb2.Run) -> run_pb2.Run:
        """A run as its owner sees it."""
        public = run_pb2.Run()
        public.CopyFrom(run)
        public.thread_id = tenancy.public_thread(run.thread_id)
        return public
