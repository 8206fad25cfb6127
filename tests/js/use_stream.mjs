// React's useStream (from @langchain/langgraph-sdk) in headless Chromium
// against graphmesh's HTTP API: builds page/app.jsx with esbuild, serves it
// on a port of its own (another origin than the API's: CORS is exercised),
// asks the agent a question and prints what the page showed, as JSON: the
// messages as they were rendered while streaming, and at the end.
//
//   node use_stream.mjs http://127.0.0.1:8123 "what is 19 + 23?"
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";

const [api, question] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));

const bundle = await build({
  entryPoints: [join(here, "page", "app.jsx")],
  bundle: true,
  write: false,
  format: "iife",
  jsx: "automatic",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "error",
});
const files = {
  "/": ["text/html", await readFile(join(here, "page", "index.html"))],
  "/app.js": ["text/javascript", bundle.outputFiles[0].contents],
};
const server = createServer((request, response) => {
  const [type, body] = files[new URL(request.url, "http://x").pathname] ?? [];
  response.writeHead(body ? 200 : 404, { "content-type": type ?? "text/plain" });
  response.end(body ?? "not found");
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  const page = await browser.newPage();
  // Every answer of the API that was not a success, to be checked.
  const refused = [];
  page.on("response", (response) => {
    if (response.url().startsWith(api) && response.status() >= 400) {
      refused.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
  // What the page showed of the last message, each time it changed.
  const frames = [];
  await page.exposeFunction("recordFrame", (text) => frames.push(text));
  await page.addInitScript(() => {
    new MutationObserver(() => {
      const items = document.querySelectorAll("#messages li");
      if (items.length) window.recordFrame(items[items.length - 1].textContent);
    }).observe(document, { childList: true, subtree: true, characterData: true });
  });
  const address = `http://127.0.0.1:${server.address().port}/`;
  await page.goto(`${address}?api=${encodeURIComponent(api)}&q=${encodeURIComponent(question)}`);
  await page.waitForFunction(
    () =>
      document.querySelector("#status")?.textContent === "done" &&
      document.querySelectorAll("#messages li").length > 1,
    null,
    { timeout: 60_000 },
  );
  const messages = await page.$$eval("#messages li", (items) =>
    items.map((item) => ({ type: item.dataset.type, content: item.textContent })),
  );
  const error = await page.textContent("#error");
  const thread = await page.textContent("#thread");
  console.log(JSON.stringify({ messages, frames, error, thread, refused }));
} finally {
  await browser.close();
  server.close();
}
