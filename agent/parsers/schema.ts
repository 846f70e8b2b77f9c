/**
 * The config of a parser (`sources[].parser`, and a transform's `parse`
 * step): its own module so agent/config.ts and agent/transforms/schema.ts
 * can both use it without importing each other.
 */
import { z } from "zod";
import { regexSchema } from "../../shared/config/fields.ts";

export const PARSER_TYPES = ["none", "json", "logfmt", "regex", "nginx", "apache", "syslog"] as const;

export const parserConfigSchema = z
  .strictObject({
    type: z.enum(PARSER_TYPES).describe("How to turn a line into fields."),
    pattern: z
      .exactOptional(regexSchema({ namedGroupRequired: true }))
      .describe("regex only: a JavaScript regular expression with named groups; each group becomes a field."),
    message_key: z.exactOptional(z.string().min(1)).describe('json only: key whose value becomes the message (default "message", then "msg").'),
    time_field: z.exactOptional(z.string().min(1)).describe("Field that holds the event time."),
    time_format: z
      .exactOptional(z.string().min(1))
      .describe('How to read time_field: rfc3339 | unix | unix_ms | a strftime pattern like "%d/%b/%Y:%H:%M:%S %z".'),
  })
  .superRefine((parser, ctx) => {
    if (parser.type === "regex" && parser.pattern === undefined) {
      ctx.addIssue({ code: "custom", path: ["pattern"], message: 'parser type "regex" needs a pattern with named groups', input: parser });
    }
    if (parser.type !== "regex" && parser.pattern !== undefined) {
      ctx.addIssue({ code: "custom", path: ["pattern"], message: `pattern is only allowed with parser type "regex", not "${parser.type}"`, input: parser });
    }
    if (parser.type !== "json" && parser.message_key !== undefined) {
      ctx.addIssue({ code: "custom", path: ["message_key"], message: `message_key is only allowed with parser type "json", not "${parser.type}"`, input: parser });
    }
  });

