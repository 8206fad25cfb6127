"""The gateway: graphmesh's public gRPC API (RunService, GraphService)."""
