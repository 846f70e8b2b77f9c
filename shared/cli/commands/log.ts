import { Command, InvalidArgumentError } from "commander";
import { zstdDecompressSync } from "node:zlib";
import { ConfigError } from "../../errors.ts";
import type { CliContext } from "../context.ts";

interface DumpOptions {
  config: string;
  tenant: string;
  from: number;
}

/** Decompressed batches are bounded: no stored batch can be larger (ingest.max_batch_bytes is at most 1 GiB). */
const BATCH_BYTES_MAX = 1024 ** 3;

/** `logship log dump --config F [--tenant T] [--from OFFSET]`: the stored events as NDJSON. */
export function logCommand(context: CliContext): Command {
  const dump = new Command("dump")
    .description("print the events stored in the embedded log as NDJSON (one per line, with its tenant); reads the files, safe while the collector runs")
    .requiredOption("-c, --config <file>", "collector config file (YAML); its data_dir holds the log")
    .option("--tenant <tenant>", "tenant whose log to print", "default")
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
      const { logDirectory } = await import("../../../collector/main.ts");
      await dumpTenant(logDirectory(config), options.tenant, options.from, context);
    });
  return new Command("log").description("inspect a collector's embedded log").addCommand(dump);
}

async function dumpTenant(directory: string, tenant: string, fromOffset: number, context: CliContext): Promise<void> {
  const { readTenantLog } = await import("../../../collector/log/reader.ts");
  const { payloadEvents } = await import("../../wire/batch.ts");
  const entries = readTenantLog(directory, tenant, {
    fromOffset,
    onCorrupt: (range) =>
      context.writeErr(`logship: skipped ${range.bytes} unreadable bytes of ${tenant}/${range.segment} at byte ${range.position}: ${range.reason}\n`),
  });
  for await (const entry of entries) {
    let lines = "";
    try {
      let offset = entry.header.baseOffset;
      for (const event of payloadEvents(zstdDecompressSync(entry.batch, { maxOutputLength: BATCH_BYTES_MAX }))) {
        if (offset++ >= fromOffset) lines += JSON.stringify({ tenant, ...event }) + "\n";
      }
    } catch (error) {
      context.writeErr(`logship: cannot decode the batch at offset ${entry.header.baseOffset} of ${tenant}: ${(error as Error).message}\n`);
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
