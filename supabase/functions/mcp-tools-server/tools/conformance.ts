/**
 * Fixture tools for the official MCP conformance suite: the names and behaviours its scenarios
 * call. A deployment lists them in the catalog (family `conformance`) so a test tenant can enable
 * them; no real tenant gets them by default.
 */
import { z } from "zod";
import { defineTool, ToolError } from "./types.ts";

const FAMILY = "conformance";
const noArguments = z.object({});
const fixture = { readOnlyHint: true, idempotentHint: true, openWorldHint: false };

/** A 1×1 red PNG. */
const PNG_1PX =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC";
/** A WAV of eight silent 8 kHz samples. */
const WAV_SILENCE = "UklGRiwAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQgAAACAgICAgICAgA==";

const pause = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

export const conformanceTools = [
  defineTool({
    name: "test_simple_text",
    family: FAMILY,
    description: "Conformance fixture: returns a fixed text.",
    annotations: fixture,
    input: noArguments,
    run: () => ({
      content: [{ type: "text", text: "This is a simple text response for testing." }],
    }),
  }),
  defineTool({
    name: "test_image_content",
    family: FAMILY,
    description: "Conformance fixture: returns a 1x1 PNG image.",
    annotations: fixture,
    input: noArguments,
    run: () => ({ content: [{ type: "image", data: PNG_1PX, mimeType: "image/png" }] }),
  }),
  defineTool({
    name: "test_audio_content",
    family: FAMILY,
    description: "Conformance fixture: returns a short WAV clip.",
    annotations: fixture,
    input: noArguments,
    run: () => ({ content: [{ type: "audio", data: WAV_SILENCE, mimeType: "audio/wav" }] }),
  }),
  defineTool({
    name: "test_embedded_resource",
    family: FAMILY,
    description: "Conformance fixture: returns an embedded text resource.",
    annotations: fixture,
    input: noArguments,
    run: () => ({
      content: [{
        type: "resource",
        resource: {
          uri: "test://embedded-resource",
          mimeType: "text/plain",
          text: "This is an embedded resource content.",
        },
      }],
    }),
  }),
  defineTool({
    name: "test_multiple_content_types",
    family: FAMILY,
    description: "Conformance fixture: returns text, an image and an embedded resource.",
    annotations: fixture,
    input: noArguments,
    run: () => ({
      content: [
        { type: "text", text: "Multiple content types test:" },
        { type: "image", data: PNG_1PX, mimeType: "image/png" },
        {
          type: "resource",
          resource: {
            uri: "test://mixed-content-resource",
            mimeType: "application/json",
            text: JSON.stringify({ test: "data", value: 123 }),
          },
        },
      ],
    }),
  }),
  defineTool({
    name: "test_tool_with_logging",
    family: FAMILY,
    description: "Conformance fixture: sends three info log messages while it runs.",
    annotations: fixture,
    input: noArguments,
    run: async (_args, { log, signal }) => {
      await log("info", "Tool execution started");
      await pause(50, signal);
      await log("info", "Tool processing data");
      await pause(50, signal);
      await log("info", "Tool execution completed");
      return { content: [{ type: "text", text: "Tool with logging executed successfully" }] };
    },
  }),
  defineTool({
    name: "test_tool_with_progress",
    family: FAMILY,
    description: "Conformance fixture: reports progress 0, 50 and 100 of 100 while it runs.",
    annotations: fixture,
    input: noArguments,
    run: async (_args, { progress, signal }) => {
      for (const step of [0, 50, 100]) {
        if (step > 0) await pause(50, signal);
        await progress({ progress: step, total: 100, message: `Completed step ${step} of 100` });
      }
      return { content: [{ type: "text", text: "Progress reported: 0, 50, 100 of 100." }] };
    },
  }),
  defineTool({
    name: "test_error_handling",
    family: FAMILY,
    description: "Conformance fixture: always fails with a tool error.",
    annotations: fixture,
    input: noArguments,
    run: () => {
      throw new ToolError("This tool intentionally returns an error for testing");
    },
  }),
  defineTool({
    name: "test_missing_capability",
    family: FAMILY,
    description:
      "Conformance fixture: needs the client's sampling capability and is refused without it.",
    annotations: fixture,
    input: noArguments,
    requiredClientCapabilities: { sampling: {} },
    run: () => ({ content: [{ type: "text", text: "Success" }] }),
  }),
  defineTool({
    name: "test_streaming_elicitation",
    family: FAMILY,
    description:
      "Conformance fixture: streams a progress notification, then its result; it never sends " +
      "the client a request on the response stream.",
    annotations: fixture,
    input: noArguments,
    run: async (_args, { progress }) => {
      await progress({ progress: 50, total: 100 });
      return { content: [{ type: "text", text: "Streaming complete" }] };
    },
  }),
  defineTool({
    name: "test_logging_tool",
    family: FAMILY,
    description: "Conformance fixture: logs one info message, only if the caller asked for logs.",
    annotations: fixture,
    input: noArguments,
    run: async (_args, { log }) => {
      await log("info", "Diagnostic trace logging activated");
      return { content: [{ type: "text", text: "Logging evaluated" }] };
    },
  }),
];
