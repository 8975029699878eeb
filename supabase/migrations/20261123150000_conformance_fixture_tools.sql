-- Fixture tools for the official MCP conformance suite (function code: tools/conformance.ts).
-- Listed so a test tenant can enable them; no tenant has them unless an admin enables them, and
-- the seed never does. A test keeps these rows and the code in step.
insert into public.tool_families (family, description) values
  ('conformance', 'Fixtures for the MCP conformance suite. For test tenants only; never for real ones.')
on conflict (family) do nothing;

insert into public.tool_catalog (name, family, description) values
  ('test_simple_text', 'conformance', 'Conformance fixture: returns a fixed text.'),
  ('test_image_content', 'conformance', 'Conformance fixture: returns a 1x1 PNG image.'),
  ('test_audio_content', 'conformance', 'Conformance fixture: returns a short WAV clip.'),
  ('test_embedded_resource', 'conformance', 'Conformance fixture: returns an embedded text resource.'),
  ('test_multiple_content_types', 'conformance',
   'Conformance fixture: returns text, an image and an embedded resource.'),
  ('test_tool_with_logging', 'conformance',
   'Conformance fixture: sends three info log messages while it runs.'),
  ('test_tool_with_progress', 'conformance',
   'Conformance fixture: reports progress 0, 50 and 100 of 100 while it runs.'),
  ('test_error_handling', 'conformance', 'Conformance fixture: always fails with a tool error.'),
  ('test_missing_capability', 'conformance',
   'Conformance fixture: needs the client''s sampling capability and is refused without it.'),
  ('test_streaming_elicitation', 'conformance',
   'Conformance fixture: streams a progress notification, then its result; it never sends the client a request on the response stream.'),
  ('test_logging_tool', 'conformance',
   'Conformance fixture: logs one info message, only if the caller asked for logs.'),
  ('json_schema_2020_12_tool', 'conformance',
   'Conformance fixture: takes a contact described with JSON Schema 2020-12 keywords.'),
  ('test_mirrored_header', 'conformance',
   'Conformance fixture: returns its region argument, which clients mirror into the Mcp-Param-Region header.')
on conflict (name) do nothing;
