/**
 * Fixture tools for the official MCP conformance suite: the names and behaviours its scenarios
 * call. A deployment lists them in the catalog (family `conformance`) so a test tenant can enable
 * them; no real tenant gets them by default.
 */
import * as z from "zod";
import { defineTool, ToolError } from "./contract.ts";

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

/** JSON Schema 2020-12 keywords a listing must keep intact (`$defs`, `$anchor`, if/then/else). */
const CONTACT_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  $defs: {
    address: {
      $anchor: "addressDef",
      type: "object",
      properties: { street: { type: "string" }, city: { type: "string" } },
    },
  },
  properties: {
    name: { type: "string" },
    address: { $ref: "#/$defs/address" },
    contactMethod: { type: "string", enum: ["phone", "email"] },
    phone: { type: "string" },
    email: { type: "string" },
  },
  allOf: [{ anyOf: [{ required: ["phone"] }, { required: ["email"] }] }],
  if: { properties: { contactMethod: { const: "phone" } }, required: ["contactMethod"] },
  then: { required: ["phone"] },
  else: { required: ["email"] },
  additionalProperties: false,
};

/** The same rules as CONTACT_SCHEMA, for validation. */
const contact = z.strictObject({
  name: z.string().optional(),
  address: z.object({ street: z.string().optional(), city: z.string().optional() }).optional(),
  contactMethod: z.enum(["phone", "email"]).optional(),
  phone: z.string().optional(),
  email: z.string().optional(),
}).superRefine((value, ctx) => {
  if (value.contactMethod === "phone") {
    if (value.phone === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["phone"],
        message: "Required when contactMethod is phone.",
      });
    }
  } else if (value.email === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["email"],
      message: "Required unless contactMethod is phone.",
    });
  }
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
  defineTool({
    name: "json_schema_2020_12_tool",
    family: FAMILY,
    description:
      "Conformance fixture: takes a contact described with JSON Schema 2020-12 keywords.",
    annotations: fixture,
    input: contact,
    inputJsonSchema: CONTACT_SCHEMA,
    run: ({ name, contactMethod }) => ({
      content: [{
        type: "text",
        text: `Contact ${name ?? "(unnamed)"} by ${contactMethod ?? "email"}.`,
      }],
    }),
  }),
  defineTool({
    name: "test_mirrored_header",
    family: FAMILY,
    description:
      "Conformance fixture: returns its region argument, which clients mirror into the " +
      "Mcp-Param-Region header.",
    annotations: fixture,
    input: z.object({
      region: z.string().max(200).meta({ "x-mcp-header": "Region" }).describe("Any region name."),
    }),
    run: ({ region }) => ({ content: [{ type: "text", text: region }] }),
  }),
];
