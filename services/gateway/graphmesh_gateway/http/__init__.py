"""LangGraph Server's HTTP API, served by the gateway in front of its own
gRPC API.

The adapter holds no run, thread or tenancy logic: every route turns its
JSON into a call of the public gRPC API (over a private socket of the same
gateway, through the same interceptors: credentials, tenants, limits,
tracing) and the answer into LangGraph Server's JSON.

    app                 the application: callers, bodies, tracing and metrics
    *_routes            the routes of assistants, threads, runs and the store
    payloads            LangGraph Server's request bodies read into call arguments
    shapes              graphmesh's answers as LangGraph Server's JSON
    sse                 a run's stored events as LangGraph Server's SSE events
    errors              graphmesh's errors as HTTP statuses, in one place
    openapi             the OpenAPI document, checked against the routes
    server              the listener (uvicorn), started by the gateway
"""
