"""A whole graphmesh on one machine, for tests (yours and ours).

`LocalStack` starts a private PostgreSQL, a Kafka-protocol broker and the
four services as processes, on free ports in a directory of its own, the
way Temporal's `WorkflowEnvironment` starts a test server:

    from graphmesh import Client
    from graphmesh.testing import LocalStack, StackConfig

    stack = LocalStack(StackConfig.with_free_ports(tmp_path, graphs=my_langgraph_json))
    stack.start()
    try:
        with Client(stack.gateway_target) as client:
            ...
    finally:
        stack.stop()

`CertificateAuthority` makes the certificates of a development PKI (TLS
and mutual TLS between the services). `graphmesh up` runs the same stack.
"""

from graphmesh.testing.pki import CertificateAuthority
from graphmesh.testing.stack import LocalStack, ServiceProcess, StackConfig, StackError

__all__ = ["CertificateAuthority", "LocalStack", "ServiceProcess", "StackConfig", "StackError"]
