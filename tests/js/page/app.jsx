// A tiny chat page on LangGraph's React hook, useStream, pointed at the API
// the page's address names (?api=...): it asks the agent the question
// (?q=...) once and shows the messages as they stream in.
import React, { useEffect, useRef, useState } from "react";
import { createRoot } from "react-dom/client";
import { useStream } from "@langchain/langgraph-sdk/react";

const params = new URLSearchParams(window.location.search);

function text(content) {
  return typeof content === "string" ? content : JSON.stringify(content);
}

function Chat() {
  const [threadId, setThreadId] = useState(null);
  const stream = useStream({
    apiUrl: params.get("api"),
    assistantId: params.get("assistant") ?? "agent",
    messagesKey: "messages",
    threadId,
    onThreadId: setThreadId,
  });
  const asked = useRef(false);
  useEffect(() => {
    if (asked.current) return;
    asked.current = true;
    stream.submit({ messages: [{ type: "human", content: params.get("q") }] });
  }, [stream]);
  return (
    <main>
      <ol id="messages">
        {stream.messages.map((message, index) => (
          <li key={message.id ?? index} data-type={message.type}>
            {text(message.content)}
          </li>
        ))}
      </ol>
      <p id="status">{stream.isLoading ? "streaming" : "done"}</p>
      <p id="error">{stream.error ? String(stream.error) : ""}</p>
      <p id="thread">{threadId ?? ""}</p>
    </main>
  );
}

createRoot(document.getElementById("root")).render(<Chat />);
