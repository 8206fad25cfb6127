#!/usr/bin/env node
// Creates a graphmesh run and streams its events to the end, then prints the
// final state. Uses the .proto files directly (no generated code):
//
//   node client.js --target 127.0.0.1:50051 --graph chain3 --input '{"n": 0, "trail": []}'
//   node client.js --graph agent --input '{"messages": [...]}' --stream-mode messages --stream-mode updates
//
// --config JSON and --context JSON give the run LangGraph's config
// ({"configurable": {...}, "tags": [...], ...}) and runtime context.
// --stream-mode (repeatable) is one of LangGraph's stream modes: values,
// updates, messages, custom, debug, tasks, checkpoints, events.
// --token (or $GRAPHMESH_TOKEN) is an API key or JWT, sent as
// `authorization: Bearer <token>`; --ca FILE connects with TLS, trusting
// that CA (else the connection is plaintext, for a local mesh).
// Prints one JSON line per streamed event ({seq, type, mode, namespace,
// payload}), then {"status": ..., "output": ...}.
// Exits 0 when the run succeeded, 1 otherwise.
"use strict";

const fs = require("fs");
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

function parseArgs(argv) {
  const args = {
    target: "127.0.0.1:50051",
    graph: "chain3",
    input: '{"n": 0, "trail": []}',
    thread: "",
    config: "",
    context: "",
    "stream-mode": [],
    token: process.env.GRAPHMESH_TOKEN || "",
    ca: "",
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    if (!(key in args)) throw new Error(`unknown option --${key}`);
    if (Array.isArray(args[key])) args[key].push(argv[i + 1]);
    else args[key] = argv[i + 1];
  }
  return args;
}

function loadApi() {
  const protoDir = process.env.GRAPHMESH_PROTOS || path.resolve(__dirname, "../../../protos");
  const definition = protoLoader.loadSync(["graphmesh/v1/run_service.proto"], {
    includeDirs: [protoDir],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
  });
  return grpc.loadPackageDefinition(definition).graphmesh.v1;
}

function credentials(args) {
  if (!args.ca) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(fs.readFileSync(args.ca));
}

function metadata(args) {
  const md = new grpc.Metadata();
  if (args.token) md.set("authorization", `Bearer ${args.token}`);
  return md;
}

function call(client, method, request, md) {
  return new Promise((resolve, reject) => {
    client[method](request, md, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const api = loadApi();
  const client = new api.RunService(args.target, credentials(args));
  const md = metadata(args);
  const created = await call(client, "CreateRun", {
    graph_id: args.graph,
    input_json: args.input,
    thread_id: args.thread,
    config_json: args.config,
    context_json: args.context,
    stream_modes: args["stream-mode"].map((m) => `STREAM_MODE_${m.toUpperCase()}`),
  }, md);
  const runId = created.run.run_id;
  await new Promise((resolve, reject) => {
    const stream = client.StreamRun({ run_id: runId, cursor: "" }, md);
    stream.on("data", (message) => {
      const event = message.event;
      const mode = event.stream_mode === "STREAM_MODE_UNSPECIFIED" ? "" : event.stream_mode.replace("STREAM_MODE_", "").toLowerCase();
      console.log(JSON.stringify({ seq: event.seq, type: event.type, mode, namespace: event.namespace, payload: JSON.parse(event.payload_json) }));
    });
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  const done = await call(client, "WaitRun", { run_id: runId }, md);
  const run = done.run;
  console.log(JSON.stringify({ run_id: runId, status: run.status, output: run.output_json ? JSON.parse(run.output_json) : null }));
  client.close();
  return run.status === "RUN_STATUS_SUCCEEDED" ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`error: ${err.code !== undefined ? `gRPC ${err.code}: ` : ""}${err.details || err.message}`);
    process.exit(2);
  },
);
