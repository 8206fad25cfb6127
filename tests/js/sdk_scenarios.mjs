// LangGraph's JavaScript SDK against graphmesh's HTTP API: a thread with
// an interrupt answered by Command({resume}), every stream mode of a run,
// a stream joined again from a Last-Event-ID, a stateless run, the store and
// assistants. Prints what it saw as one JSON object for the test to check.
//
//   node sdk_scenarios.mjs http://127.0.0.1:2024
import { Client } from "@langchain/langgraph-sdk";

const client = new Client({ apiUrl: process.argv[2] });

async function collect(parts) {
  const seen = [];
  for await (const part of parts) seen.push([part.event, part.data, part.id ?? null]);
  return seen;
}

const out = {};

// A multi-turn thread with an interrupt.
const thread = await client.threads.create();
out.first = await collect(
  client.runs.stream(thread.thread_id, "hitl", {
    input: { n: 0, trail: [] },
    streamMode: ["values", "updates"],
  }),
);
const paused = await client.threads.getState(thread.thread_id);
out.paused = { next: paused.next, interrupts: paused.interrupts.map((i) => i.value) };
out.second = await collect(
  client.runs.stream(thread.thread_id, "hitl", {
    command: { resume: "yes" },
    streamMode: "values",
  }),
);
out.final = (await client.threads.getState(thread.thread_id)).values;
out.history = (await client.threads.getHistory(thread.thread_id, { limit: 10 })).map((s) => s.next);

// Every stream mode of the agent, in one run.
const question = { messages: [{ role: "user", content: "what is 19 + 23?" }] };
out.modes = await collect(
  client.runs.stream(null, "agent", {
    input: question,
    streamMode: ["values", "updates", "messages-tuple", "custom", "debug", "tasks", "checkpoints"],
  }),
);

// A stream joined again from the middle, by its Last-Event-ID.
const other = await client.threads.create();
const run = await client.runs.create(other.thread_id, "agent", {
  input: question,
  streamMode: ["messages-tuple"],
});
await client.runs.join(other.thread_id, run.run_id);
out.whole = await collect(
  client.runs.joinStream(other.thread_id, run.run_id, { streamMode: ["messages-tuple"] }),
);
const middle = out.whole.findIndex((part, index) => index > 3 && part[2]);
out.cut = middle;
out.rest = await collect(
  client.runs.joinStream(other.thread_id, run.run_id, {
    streamMode: ["messages-tuple"],
    lastEventId: out.whole[middle][2],
  }),
);

// A stateless run, the store, assistants.
out.stateless = await client.runs.wait(null, "chain3", { input: { n: 0, trail: [] } });
const space = ["js", String(Date.now())];
await client.store.putItem(space, "k", { color: "red" });
out.item = (await client.store.getItem(space, "k")).value;
out.found = (await client.store.searchItems(space)).items.map((i) => i.key);
const assistant = await client.assistants.create({ graphId: "chain3", name: `js-${Date.now()}` });
const updated = await client.assistants.update(assistant.assistant_id, { metadata: { v: "2" } });
out.versions = [assistant.version, updated.version];
out.assistantRun = await client.runs.wait(null, assistant.assistant_id, {
  input: { n: 10, trail: [] },
});

// What a refused request raises.
try {
  await client.runs.create(thread.thread_id, "no-such-graph", { input: {} });
  out.refused = null;
} catch (error) {
  out.refused = error.status ?? String(error);
}

console.log(JSON.stringify(out));
