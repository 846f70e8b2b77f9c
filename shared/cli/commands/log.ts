import { Command, InvalidArgumentError } from "commander";
import { zstdDecompressSync } from "node:zlib";
import { ConfigError } from "../../errors.ts";
import type { CliContext } from "../context.ts";

interface DumpOptions {
  config: string;
  tenant: string;
  stream: string;
  from: number;
}

/** Decompressed batches are bounded: no stored batch can be larger (ingest.max_batch_bytes is at most 1 GiB). */
const BATCH_BYTES_MAX = 1024 ** 3;

/** `logship log dump --config F [--tenant T] [--stream S] [--from OFFSET]`: the stored events as NDJSON. */
export function logCommand(context: CliContext): Command {
  const dump = new Command("dump")
    .description("print the events stored in the embedded log as NDJSON (one per line, with its tenant); reads the files, safe while the collector runs")
    .requiredOption("-c, --config <file>", "collector config file (YAML); its data_dir holds the log")
    .option("--tenant <tenant>", "tenant whose log to print", "default")
    .option("--stream <stream>", "the tenant's stream (collector routes, docs/ROUTING.md)", "default")
    .option("--from <offset>", "first event offset to print", parseOffset, 0)
    .action(async (options: DumpOptions) => {
      const { loadCollectorConfig } = await import("../../../collector/config.ts");
      const { isValidTenant } = await import("../../../collector/log/format.ts");
      const config = loadCollectorConfig(options.config, context.env);
      if (config.log.kafka !== undefined && config.log.backend === "kafka") {
        const { brokers, topic } = config.log.kafka;
        throw new ConfigError(`this collector's log is Kafka topic ${topic} (log.backend: kafka), not files; read it with a Kafka client, e.g. kcat -C -b ${brokers.join(",")} -t ${topic} -f '%k %h\\n' (docs/KAFKA.md)`);
      }
      if (!isValidTenant(options.tenant)) throw new ConfigError(`--tenant ${JSON.stringify(options.tenant)} is not a tenant name`);
      const { isValidStream, logName } = await import("../../../collector/routing/streams.ts");
      if (!isValidStream(options.stream)) throw new ConfigError(`--stream ${JSON.stringify(options.stream)} is not a stream name`);
      const { logDirectory } = await import("../../../collector/main.ts");
      await dumpTenant(logDirectory(config), { tenant: options.tenant, stream: options.stream, log: logName(options.tenant, options.stream) }, options.from, context);
    });
  return new Command("log").description("inspect a collector's embedded log").addCommand(dump);
}

/** The log to print: its name (collector/routing/streams.ts), and what each event line says of it. */
interface DumpedLog {
  tenant: string;
  stream: string;
  log: string;
}

async function dumpTenant(directory: string, dumped: DumpedLog, fromOffset: number, context: CliContext): Promise<void> {
  const { tenant, log } = dumped;
  // As sinks get them: `stream` only for a stream other than the default.
  const origin = dumped.stream === "default" ? { tenant } : { tenant, stream: dumped.stream };
  const { readTenantLog } = await import("../../../collector/log/reader.ts");
  const { payloadEvents } = await import("../../wire/batch.ts");
  const entries = readTenantLog(directory, log, {
    fromOffset,
    onCorrupt: (range) =>
      context.writeErr(`logship: skipped ${range.bytes} unreadable bytes of ${log}/${range.segment} at byte ${range.position}: ${range.reason}\n`),
  });
  for await (const entry of entries) {
    let lines = "";
    try {
      let offset = entry.header.baseOffset;
      for (const event of payloadEvents(zstdDecompressSync(entry.batch, { maxOutputLength: BATCH_BYTES_MAX }))) {
        if (offset++ >= fromOffset) lines += JSON.stringify({ ...origin, ...event }) + "\n";
      }
    } catch (error) {
      context.writeErr(`logship: cannot decode the batch at offset ${entry.header.baseOffset} of ${log}: ${(error as Error).message}\n`);
      continue;
    }
    context.writeOut(lines);
  }
}

function parseOffset(text: string): number {
  const offset = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(offset)) throw new InvalidArgumentError("expected a whole number ≥ 0");
  return offset;
}
