"""LangGraph Server's HTTP API, served by the gateway in front of its own
gRPC API.

The adapter holds no run, thread or tenancy logic: every route turns its
JSON into a call of the public gRPC API (over a private socket of the same
gateway, through the same interceptors: credentials, tenants, limits,
tracing) and the answer into LangGraph Server's JSON.

    app        the routes (Starlette) and what each call does
    payloads   LangGraph Server's request bodies read into call arguments
    shapes     graphmesh's answers as LangGraph Server's JSON
    sse        a run's stored events as LangGraph Server's SSE events
    errors     graphmesh's errors as HTTP statuses, in one place
    server     the listener (uvicorn), started by the gateway
"""
